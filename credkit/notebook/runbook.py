"""What an operator runbook works on: its directory, the folder its paths are relative to, and
the header that names both."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from credkit.connection import SetupError, display_url
from credkit.defaults import DATABASE_URL_ENV
from credkit.demo import create_demo
from credkit.directory import Directory, users

#: The folder relative paths are taken from; `make lab` and `make app` set it to the
#: repository root, so that `demo/credentials-messy.csv` works as typed wherever the kernel runs.
BASE_DIR_ENV = "CREDKIT_BASE_DIR"
#: The throwaway directory of a runbook started without one: small, and stamped with a fixed
#: time so that what the runbook prints is the same on every run.
THROWAWAY_USERS = 200
THROWAWAY_TIME = datetime(2026, 1, 1, tzinfo=UTC)


def base_dir() -> Path:
    """CREDKIT_BASE_DIR when set, else the kernel's working folder."""
    configured = os.environ.get(BASE_DIR_ENV)
    return Path(configured).expanduser() if configured else Path.cwd()


def resolve_path(path: str | Path) -> Path:
    """A path as the operator typed it, relative paths taken from base_dir()."""
    typed = Path(path).expanduser()
    return typed if typed.is_absolute() else base_dir() / typed


def resolve_url(url: str) -> str:
    """A directory URL with a relative SQLite path made absolute against base_dir()."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as error:
        raise SetupError(f"{display_url(url)} is not a database URL: {error}") from None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return url
    if database.startswith("file:") or Path(database).is_absolute():
        return url
    return parsed.set(database=str(resolve_path(database))).render_as_string(hide_password=False)


def shown_path(path: Path) -> str:
    """A path as the header shows it: relative to base_dir() when inside it."""
    try:
        return str(path.relative_to(base_dir()))
    except ValueError:
        return str(path)


@dataclass
class RunbookDirectory:
    """The directory a runbook is connected to, and how it was chosen."""

    directory: Directory
    url: str  # as given (relative SQLite paths as written), for the header
    location: str  # the SQLite file (relative to base_dir() when inside it), or host/database
    throwaway: bool  # a demo made for this run in a temporary folder

    def counts(self) -> tuple[int, int]:
        """The directory's users and credentials, counted now."""
        with self.directory.engine.connect() as conn:
            user_count = conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()
        return int(user_count), self.directory.credential_count()

    def header(self) -> str:
        """Which directory this is, in plain text (no password, no temporary path)."""
        user_count, credential_count = self.counts()
        holds = f"{user_count:,} users and {credential_count:,} credentials"
        if self.throwaway:
            return (
                f"Directory: a throwaway demo directory in a temporary folder ({holds}).\n"
                f"{DATABASE_URL_ENV} is not set and no directory_url was given: nothing you do "
                "here reaches a real directory. `make lab` sets it to the demo directory."
            )
        return f"Directory: {display_url(self.url)}\nLocation: {self.location}\nHolds {holds}."


def connect_runbook(directory_url: str | None = None) -> RunbookDirectory:
    """The runbook's directory: the parameter, else CREDKIT_DATABASE_URL, else a throwaway demo.

    A SQLite file must exist already (SetupError otherwise): a mistyped path would otherwise
    become a new, empty directory that every row of the file fails against.
    """
    url = directory_url or os.environ.get(DATABASE_URL_ENV)
    if not url:
        return throwaway_demo()
    resolved = resolve_url(url)
    parsed = sa.engine.make_url(resolved)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_file():
            raise SetupError(
                f"There is no directory at {shown_path(path)} (from {display_url(url)}): "
                "check the path, or create the demo with `make demo`."
            )
        location = shown_path(path)
    else:
        location = f"{parsed.database or '(default database)'} on {parsed.host or 'localhost'}"
    return RunbookDirectory(Directory(resolved), url, location, throwaway=False)


def throwaway_demo(user_count: int = THROWAWAY_USERS) -> RunbookDirectory:
    """A new demo directory, with its sample CSVs, in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="credkit-runbook-"))
    url = f"sqlite:///{folder / 'credkit.db'}"
    directory = Directory(url)
    create_demo(directory, folder, user_count=user_count, modified=THROWAWAY_TIME)
    return RunbookDirectory(directory, url, str(folder), throwaway=True)
