"""Opening a directory's database: the URL, its engine, and the setup errors that stop a command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine


class SetupError(Exception):
    """The directory or an output cannot be opened or written (the command line's exit status 3).

    Its message is one or two lines for the operator: what is wrong and what to do.
    """


def display_url(url: str) -> str:
    """The URL as it may be shown to anyone: any password replaced by ``***``."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: show nothing of it that could be a secret
        return "<not a database URL>"


def create_engine_for(url: str) -> Engine:
    """The SQLAlchemy engine of a directory URL, with the settings credkit needs on each backend."""
    _make_sqlite_folder(url)
    # hide_parameters: SQL logging must never print entry codes.
    engine = sa.create_engine(url, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _make_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite file, so that `--db sqlite:///demo/credkit.db` just works."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets a reader run beside an import.
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()
