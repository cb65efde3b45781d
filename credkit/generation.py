"""The directory's generation: a number the database itself moves on every change to its users
or credentials, so that a cached read of them (credkit.snapshot) knows when it is stale.

On PostgreSQL, statement-level triggers take the next value of the sequence
``credkit_generation``: sequences are not transactional and lock no row, so concurrent imports
never wait on one counter. On SQLite (row-level triggers only) each inserted or updated row adds one
to the single row of ``directory_generation``, and deletes show in the tables' row counts. Either way ``directory_generation.generation_id`` is
random: on SQLite drawn again with every change, on PostgreSQL drawn once, with the row's xmin
(new after a logical restore) and the server's start time (new after a physical restore) read
beside it, so that a restored backup never matches a snapshot of what came after it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

#: The tables whose changes a review's snapshot depends on.
WATCHED_TABLES = ("users", "credentials")

SEQUENCE = "credkit_generation"

#: The SQLite events with a trigger. Not DELETE: with a delete trigger on credentials the file
#: was corrupted ("database disk image is malformed") when a run was undone while another
#: process's import was paused (tests/test_faults.py), under SQLite 3.40.1; the cause is not
#: known. A delete changes the tables' row counts instead, which the state query reads.
SQLITE_EVENTS = ("INSERT", "UPDATE")

POSTGRES_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION credkit_bump_generation() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    PERFORM nextval('{SEQUENCE}');
    RETURN NULL;
END
$body$
"""


def table(metadata: sa.MetaData) -> sa.Table:
    """The one-row generation table, in the directory's metadata."""
    return sa.Table(
        "directory_generation",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        # SQLite counts here; PostgreSQL counts in the sequence (no row lock) and leaves it 0.
        sa.Column("generation", sa.BigInteger, nullable=False, default=0),
        sa.Column("generation_id", sa.String(36), nullable=False),
        sa.CheckConstraint("id = 1", name="one_generation"),
    )


def install(conn: Connection) -> None:
    """Create the generation's row, sequence and triggers (after the tables exist)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "INSERT INTO directory_generation (id, generation, generation_id) "
            "VALUES (1, 0, gen_random_uuid()::text)"
        )
        conn.exec_driver_sql(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}")
        conn.exec_driver_sql(POSTGRES_FUNCTION_SQL)
        for watched in WATCHED_TABLES:
            conn.exec_driver_sql(
                f"CREATE TRIGGER {watched}_generation AFTER INSERT OR UPDATE OR DELETE OR "
                f"TRUNCATE ON {watched} FOR EACH STATEMENT EXECUTE FUNCTION "
                "credkit_bump_generation()"
            )
        return
    conn.exec_driver_sql(
        "INSERT INTO directory_generation (id, generation, generation_id) "
        "VALUES (1, 0, lower(hex(randomblob(16))))"
    )
    for watched in WATCHED_TABLES:
        for event in SQLITE_EVENTS:
            conn.exec_driver_sql(
                f"CREATE TRIGGER {watched}_{event.lower()}_generation AFTER {event} ON {watched} "
                "BEGIN UPDATE directory_generation SET generation = generation + 1, "
                "generation_id = lower(hex(randomblob(16))) WHERE id = 1; END"
            )


def grant(conn: Connection, admin: str, manager: str, viewer: str) -> None:
    """PostgreSQL: managers move the sequence through their writes, viewers read it."""
    conn.exec_driver_sql(
        f"REVOKE ALL ON SEQUENCE {SEQUENCE} FROM PUBLIC, {admin}, {manager}, {viewer}"
    )
    conn.exec_driver_sql(f"GRANT USAGE, SELECT, UPDATE ON SEQUENCE {SEQUENCE} TO {admin}")
    conn.exec_driver_sql(f"GRANT USAGE, SELECT ON SEQUENCE {SEQUENCE} TO {manager}")
    conn.exec_driver_sql(f"GRANT SELECT ON SEQUENCE {SEQUENCE} TO {viewer}")


_STATE_SQL = {
    # Writers that hold a lock on a watched table may have moved the sequence already and not
    # committed yet: a snapshot read now must not be kept (see credkit.snapshot).
    "postgresql": (
        "SELECT s.last_value::text || CASE WHEN s.is_called THEN '' ELSE '-' END, "
        "g.generation_id || ':' || g.xmin::text || ':' || "
        "pg_postmaster_start_time()::text || ':' || current_database(), "
        "(SELECT version_num FROM alembic_version), current_user, "
        "(SELECT count(*) FROM pg_locks l WHERE l.pid <> pg_backend_pid() AND l.granted "
        "AND l.mode = 'RowExclusiveLock' AND l.relation IN "
        "('users'::regclass, 'credentials'::regclass)) "
        f"FROM directory_generation g, {SEQUENCE} s"
    ),
    "sqlite": (
        "SELECT g.generation || ':' || (SELECT count(*) FROM users) || ':' || "
        "(SELECT count(*) FROM credentials), g.generation_id, "
        "(SELECT version_num FROM alembic_version), NULL, 0 FROM directory_generation g"
    ),
}


def state(conn: Connection) -> tuple[Any, ...]:
    """(generation, generation id, schema revision, login or None, writers in flight), in one
    query."""
    return tuple(conn.exec_driver_sql(_STATE_SQL[conn.dialect.name]).one())
