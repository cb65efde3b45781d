"""Opening a directory's database: the URL, its engine, and the setup errors that stop a command."""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from credkit.lazy import lazy_module

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Engine
else:  # SQLAlchemy on first use: SetupError and the URL helpers are needed before it is
    sa = lazy_module("sqlalchemy")

#: The tables every credkit directory has; a database without them holds no directory.
DIRECTORY_TABLES = ("users", "credentials", "import_runs", "credential_history")

#: The drivers credkit is tested with, per backend (the first is the one to recommend).
SUPPORTED_DRIVERS = {"sqlite": ("pysqlite",), "postgresql": ("psycopg", "psycopg2", "pg8000")}

_EXAMPLES = "sqlite:///credkit.db for a SQLite file, postgresql+psycopg://USER@HOST/DATABASE"
_SQLITE_HEADER = b"SQLite format 3\x00"
# SQLite's own URI parameters: SQLAlchemy drops them silently unless the URL also says uri=true.
_SQLITE_URI_PARAMETERS = ("mode", "immutable", "cache", "vfs", "nolock", "psow", "modeof")


class SetupError(Exception):
    """The directory or an output cannot be opened or written (the command line's exit status 3).

    Its message is one or two lines for the operator: what is wrong and what to do.
    """


def display_url(url: str | sa.URL) -> str:
    """The URL as it may be shown to anyone: any password replaced by ``***``."""
    try:
        parsed = sa.engine.make_url(url)
    except Exception:  # not a URL at all: show nothing of it that could be a secret
        return "<not a database URL>"
    if parsed.password is None and isinstance(url, str):
        return url  # as the operator wrote it (rendering would re-quote a SQLite URI's path)
    return parsed.render_as_string(hide_password=True)


def no_directory_message(url: str) -> str:
    """What a reading command says where the URL holds no credkit directory."""
    return (
        f"no credkit directory at {display_url(url)}; "
        "create one with `credkit demo` or `credkit users import`"
    )


def parse_url(url: str) -> sa.URL:
    """The parsed directory URL, its backend and driver checked; SetupError says how to fix it."""
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        if "://" not in url and ("/" in url or url.endswith((".db", ".sqlite", ".sqlite3"))):
            raise SetupError(
                f"--db {url!r} is not a database URL; for a SQLite file write "
                f"sqlite:///{url.strip()}"
            ) from None
        raise SetupError(
            f"--db is not a database URL; write one like {_EXAMPLES}"
        ) from None  # the text may hold a password: it is not repeated
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DRIVERS:
        raise SetupError(
            f"credkit keeps its directory in SQLite or PostgreSQL, not {backend!r}; "
            f"use a URL like {_EXAMPLES}"
        )
    driver = parsed.get_driver_name()
    if driver not in SUPPORTED_DRIVERS[backend]:
        raise SetupError(
            f"credkit does not work with the driver {driver!r}; write "
            f"{backend}+{SUPPORTED_DRIVERS[backend][0]}://… (or {backend}://…)"
        )
    try:
        parsed.get_dialect().import_dbapi()
    except ImportError as error:
        raise SetupError(
            f"the {backend} driver {error.name or driver} is not installed; install it with "
            "pip install 'credkit[postgres]' and use postgresql+psycopg://USER@HOST/DATABASE"
        ) from None
    if backend == "sqlite":
        _check_sqlite_query(parsed)
    return parsed


def sqlite_path(url: str | sa.URL) -> Path | None:
    """The file a SQLite directory URL names (None for other backends, memory, or no URL)."""
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    database = parsed.database
    if _is_uri(parsed):
        path = urllib.parse.urlparse(database).path
        if not path or path == ":memory:" or parsed.query.get("mode") == "memory":
            return None
        return Path(urllib.parse.unquote(path))
    return Path(database)


def create_engine_for(url: str, *, create: bool = True) -> Engine:
    """The SQLAlchemy engine of a directory URL, with the settings credkit needs on each backend.

    Checks the URL and the driver, and connects once, so that every setup problem is a
    SetupError before a command starts. With ``create=False`` nothing is created on disk: a
    missing SQLite file is "no credkit directory". A SQLite file the process may not write
    (a read-only file, folder or file system) is opened read-only, so that reading works.
    """
    parsed = parse_url(url)
    read_only = False
    if parsed.get_backend_name() == "sqlite":
        parsed, read_only = _sqlite_url(parsed, url, create=create)
    # hide_parameters: SQL logging must never print entry codes.
    engine = sa.create_engine(parsed, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas(read_only))
    try:
        with engine.connect():
            pass
    except sa.exc.DBAPIError as error:
        engine.dispose()
        raise SetupError(database_error_message(error, url)) from None
    return engine


def database_error_message(error: sa.exc.DBAPIError, url: str) -> str:
    """One or two lines for a database error: what went wrong and what to do (no password)."""
    original = error.orig if error.orig is not None else error
    detail = " ".join(str(original).split()) or type(original).__name__
    where = display_url(url)
    lowered = detail.lower()
    parsed = _parsed_or_none(url)
    if parsed is not None and parsed.password:
        detail = detail.replace(str(parsed.password), "***")
    host = f"{parsed.host or 'localhost'}:{parsed.port or 5432}" if parsed is not None else where
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        user = parsed.username if parsed is not None else "?"
        return (
            f"PostgreSQL at {host} refused the login of {user!r}; check the user and password "
            "of the --db URL (or CREDKIT_DATABASE_URL)"
        )
    if "does not exist" in lowered and "database" in lowered:
        name = parsed.database if parsed is not None else "?"
        return (
            f"PostgreSQL at {host} has no database {name!r}; create it (createdb {name}) "
            "or name an existing one in --db"
        )
    if any(
        text in lowered
        for text in ("connection refused", "could not translate host", "timeout", "timed out",
                     "no route to host", "network is unreachable", "could not connect")
    ):  # fmt: skip
        return (
            f"cannot reach the database server at {host}; check that it is running and that "
            f"the --db URL names the right host and port ({detail})"
        )
    if "permission denied" in lowered or "insufficient privilege" in lowered:
        return (
            f"the directory at {where} refused this command: {detail}; "
            "ask its administrator for the privilege, or use a login that has it"
        )
    if "readonly database" in lowered or "read-only" in lowered:
        return (
            f"the directory at {where} is read-only, and this command writes to it; "
            "run it where the database file and its folder are writable"
        )
    if "disk is full" in lowered or "no space left" in lowered or "disk full" in lowered:
        return (
            f"the disk holding the directory at {where} is full; nothing half-written (the "
            "batch in progress was rolled back); free some space and run the command again"
        )
    if "database is locked" in lowered:
        return (
            f"the directory at {where} is busy (another program holds a write lock); "
            "try again when it has finished"
        )
    if "file is not a database" in lowered:
        return f"{where} is not a SQLite database; name the directory's database file in --db"
    if "unable to open database file" in lowered:
        return (
            f"cannot open the SQLite file of {where}; check that the file and its folder "
            "exist and are readable"
        )
    return f"the directory at {where} failed ({type(original).__name__}: {detail})"


def _parsed_or_none(url: str) -> sa.URL | None:
    try:
        return sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        return None


def _is_uri(parsed: sa.URL) -> bool:
    return str(parsed.query.get("uri", "")).lower() in ("true", "1")


def _check_sqlite_query(parsed: sa.URL) -> None:
    ignored = [name for name in parsed.query if name in _SQLITE_URI_PARAMETERS]
    if ignored and not _is_uri(parsed):
        raise SetupError(
            f"SQLite reads {', '.join(ignored)} only in a URI: write "
            f"sqlite:///file:PATH?{ignored[0]}=…&uri=true (e.g. "
            "sqlite:///file:credkit.db?mode=ro&uri=true)"
        )


def _sqlite_url(parsed: sa.URL, url: str, *, create: bool) -> tuple[sa.URL, bool]:
    """The URL to connect with, and whether it opens read-only; checks the file first."""
    path = sqlite_path(parsed)
    read_only = _is_uri(parsed) and parsed.query.get("mode") == "ro"
    if path is None:  # in memory: nothing on disk
        if not create:
            raise SetupError(no_directory_message(url))
        return parsed, read_only
    if path.is_dir():
        raise SetupError(
            f"--db names the folder {path}; name a database file in it, "
            f"e.g. sqlite:///{path / 'credkit.db'}"
        )
    if path.exists():
        _check_sqlite_file(path)
        if _is_uri(parsed) or _writable(path):
            return parsed, read_only
        return _read_only_url(path), True
    if not create:
        raise SetupError(no_directory_message(url))
    folder = path.parent
    try:  # so that `--db sqlite:///demo/credkit.db` just works
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SetupError(
            f"cannot create the folder {folder} for the directory: {error.strerror}; "
            "create it yourself or name another path in --db"
        ) from None
    if not os.access(folder, os.W_OK):
        raise SetupError(
            f"cannot create the directory {path}: the folder {folder} is not writable; "
            "name a writable path in --db"
        )
    return parsed, read_only


def _check_sqlite_file(path: Path) -> None:
    if not path.is_file():
        raise SetupError(f"--db names {path}, which is not a regular file; name a database file")
    try:
        with open(path, "rb") as stream:
            header = stream.read(len(_SQLITE_HEADER))
    except OSError as error:
        raise SetupError(
            f"cannot read the directory {path}: {error.strerror}; check its permissions"
        ) from None
    if header and header != _SQLITE_HEADER:  # an empty file is a new, empty SQLite database
        raise SetupError(
            f"{path} is not a SQLite database (a CSV file?); name the directory's "
            "database file in --db"
        )


def is_sqlite_file(path: Path) -> bool:
    """Whether path is a regular file that starts as a SQLite database does."""
    try:
        if not path.is_file():
            return False
        with open(path, "rb") as stream:
            return stream.read(len(_SQLITE_HEADER)) == _SQLITE_HEADER
    except OSError:
        return False


def _writable(path: Path) -> bool:
    """Whether SQLite may write the file: the file itself and its folder (for the journal)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _read_only_url(path: Path) -> sa.URL:
    """A read-only URI for a file this process may not write.

    A write-ahead-log database needs its shared-memory file to be read; in a folder that cannot
    hold one, the file is opened immutable (nothing can write there while this command reads).
    """
    query = {"mode": "ro", "uri": "true"}
    if not Path(f"{path}-shm").exists() and not os.access(path.parent, os.W_OK):
        query["immutable"] = "1"
    location = "file:" + urllib.parse.quote(str(path.resolve()))
    return sa.engine.URL.create("sqlite", database=location, query=query)


def _sqlite_pragmas(read_only: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # Foreign keys are off by default in SQLite; WAL lets a reader run beside an import.
            cursor.execute("PRAGMA foreign_keys = ON")
            if not read_only:
                try:
                    cursor.execute("PRAGMA journal_mode = WAL")
                except sqlite3.OperationalError as error:
                    # A file only this connection cannot write keeps its journal mode; reading
                    # works, and a write reports the read-only directory itself.
                    if "readonly" not in str(error):
                        raise
        finally:
            cursor.close()

    return on_connect
