"""The directory's schema versions: which revision a database is at, creating and upgrading it.

The revisions are Alembic scripts in ``versions/``, run through Alembic's command API on a
connection credkit opens, so no alembic.ini is needed. Every upgrade, and the creation of a
new directory, runs in one transaction that also keeps other credkit processes out until it
commits: a directory is at one revision or the next, never between.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from credkit.connection import SetupError, display_url

#: Where the revision scripts live, inside the installed package.
SCRIPT_LOCATION = str(Path(__file__).parent)

#: Every revision, oldest first; the last is the one this code reads and writes (the head).
#: Kept here so that opening a directory needs no reading of the scripts (a test keeps the two
#: in step).
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008")
HEAD = REVISIONS[-1]
#: The first release's revision: what a directory made before Alembic counts as.
BEFORE_ALEMBIC = "0001"

#: Alembic's own bookkeeping table, created exactly as Alembic creates it.
_version_metadata = sa.MetaData()
alembic_version = sa.Table(
    "alembic_version",
    _version_metadata,
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)

#: The PostgreSQL advisory lock (two int4 keys) that serialises schema changes.
_SCHEMA_LOCK = (0x43524B53, 0)  # "CRKS"


def current_revision(conn: Connection) -> str | None:
    """The revision a database is at; None when it holds no credkit directory at all."""
    inspector = sa.inspect(conn)
    if not inspector.has_table("users"):  # a version table alone (tables dropped) is no directory
        return None
    if inspector.has_table("alembic_version"):
        versions = conn.execute(sa.select(alembic_version.c.version_num)).scalars().all()
        return versions[0] if len(versions) == 1 else ",".join(sorted(versions)) or None
    return BEFORE_ALEMBIC


def check_revision(revision: str, url: str) -> None:
    """Refuse a directory this code cannot read: an older one (upgrade it) or a newer one."""
    if revision == HEAD:
        return
    if revision in REVISIONS:
        raise SetupError(
            f"the directory at {display_url(url)} has schema revision {revision}, older than "
            f"this credkit's {HEAD}; run `credkit db upgrade --db URL` first"
        )
    raise SetupError(
        f"the directory at {display_url(url)} has schema revision {revision}, made by a newer "
        "credkit; upgrade credkit"
    )


def open_directory(engine: Engine, metadata: sa.MetaData, url: str, *, create: bool) -> None:
    """Make sure the database holds a directory at the head revision, creating it if allowed.

    A brand new directory is made with metadata.create_all and stamped with the head: the same
    schema as upgrading from the first revision (tests/test_migrations.py holds them together),
    at a fraction of the cost, since tests and scripts open hundreds of directories.
    """
    with engine.connect() as conn:
        revision = current_revision(conn)
    if revision is None:
        if not create:
            raise SetupError(
                f"no credkit directory at {display_url(url)}; create one with `credkit demo` "
                "or `credkit users import`"
            )
        with schema_transaction(engine) as conn:
            revision = current_revision(conn)  # again: another process may have made it
            if revision is None:
                metadata.create_all(conn)
                _version_metadata.create_all(conn)
                conn.execute(alembic_version.delete())  # what an earlier directory left behind
                conn.execute(alembic_version.insert().values(version_num=HEAD))
                return
    check_revision(revision, url)


def upgrade(engine: Engine, url: str) -> tuple[str, str]:
    """Upgrade a directory to the head revision in one transaction: (revision before, after)."""
    from alembic import command
    from alembic.config import Config

    with schema_transaction(engine) as conn:
        before = current_revision(conn)
        if before is None:
            raise SetupError(
                f"no credkit directory at {display_url(url)}; there is nothing to upgrade"
            )
        if before not in REVISIONS:
            check_revision(before, url)  # newer than this code: refused
        if before == HEAD:
            return before, before
        if not sa.inspect(conn).has_table("alembic_version"):  # made before Alembic
            _version_metadata.create_all(conn)
            conn.execute(alembic_version.insert().values(version_num=BEFORE_ALEMBIC))
        config = Config()
        config.set_main_option("script_location", SCRIPT_LOCATION)
        config.attributes["connection"] = conn
        command.upgrade(config, HEAD)
        return before, current_revision(conn) or HEAD


def create_at(engine: Engine, revision: str) -> None:
    """Create a new directory at an older revision (for tests of upgrades): the scripts up to
    and including revision, run as an upgrade would run them."""
    from alembic import command
    from alembic.config import Config

    with schema_transaction(engine) as conn:
        config = Config()
        config.set_main_option("script_location", SCRIPT_LOCATION)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


@contextmanager
def schema_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that no other credkit process can change the schema beside.

    On SQLite it is BEGIN IMMEDIATE, issued to the driver, because Python's sqlite3 would
    otherwise run each CREATE and ALTER outside any transaction; on PostgreSQL, whose DDL is
    transactional, an advisory lock held until commit.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(*_SCHEMA_LOCK)))
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
