"""Import runs: listing them (running, interrupted or finished), showing one, and undoing one."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from credkit.connection import SetupError
from credkit.directory import (
    HOST,
    RUN_LOCK_CLASS,
    Directory,
    credential_history,
    credentials,
    finish_run,
    import_runs,
    now_utc,
    start_run,
    user_history,
    users,
    write_transaction,
)
from credkit.privileges import ADMIN_ROLE, current_login, may_undo_any_run

#: How long a SQLite run's heartbeat (one per batch) may be silent before the run counts as
#: interrupted, when its process cannot be asked (another host) or its id may have been reused.
RUN_STALE_AFTER = timedelta(minutes=5)

#: A run's state as listed: still importing, stopped before it finished, or finished.
RUNNING, INTERRUPTED, FINISHED = "running", "interrupted", "finished"


def list_runs(directory: Directory) -> pd.DataFrame:
    """Every run, newest first, with its counts, whether it was undone, its state (running,
    interrupted or finished) and, for a run that did not finish, the changes it wrote."""
    query = sa.select(import_runs).order_by(import_runs.c.id.desc())
    with directory.engine.connect() as conn:
        records = conn.execute(query).mappings().all()
        live = live_runs(conn, records)
        unfinished = [run["id"] for run in records if run["finished_at"] is None]
        written = dict(
            conn.execute(
                sa.select(credential_history.c.run_id, sa.func.count())
                .where(credential_history.c.run_id.in_(unfinished))
                .group_by(credential_history.c.run_id)
            ).all()
        ) if unfinished else {}  # fmt: skip
    frame = pd.DataFrame(records, columns=import_runs.c.keys())
    frame["state"] = [
        FINISHED if run["finished_at"] is not None else RUNNING if run["id"] in live
        else INTERRUPTED
        for run in records
    ]  # fmt: skip
    frame["written"] = pd.Series(
        [None if run["finished_at"] is not None else written.get(run["id"], 0) for run in records],
        index=frame.index,
        dtype=object,
    )
    return frame


def live_runs(conn: sa.Connection, runs: Any) -> set[int]:
    """The ids of the runs (records of import_runs) that are still importing.

    On PostgreSQL a live run's session holds its advisory lock, which the server drops the
    moment that session ends, however it ends. On SQLite the run records its process and
    host and a heartbeat per batch: it is live while the process exists (on this host) and
    the heartbeat is younger than RUN_STALE_AFTER.
    """
    unfinished = [run for run in runs if run["finished_at"] is None]
    if not unfinished:
        return set()
    if conn.dialect.name == "postgresql":
        locked = conn.execute(
            sa.text(
                "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND objsubid = 2 AND classid::bigint = :lock_class AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"lock_class": RUN_LOCK_CLASS},
        ).scalars()
        return {run["id"] for run in unfinished} & set(locked)
    return {run["id"] for run in unfinished if _marked_live(run)}


def _marked_live(run: Any) -> bool:
    """Whether a SQLite run's liveness mark says it is still importing."""
    if run["owner_pid"] is None or run["heartbeat_at"] is None:
        return False  # made before runs carried a mark, or finished
    if datetime.now(UTC) - run["heartbeat_at"] > RUN_STALE_AFTER:
        return False
    return run["owner_host"] != HOST or process_exists(run["owner_pid"])


def process_exists(pid: int) -> bool:
    """Whether a process with this id runs on this machine (a zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _is_live(conn: sa.Connection, run: Any) -> bool:
    """Whether a run is still importing, asked inside the transaction of an undo. On
    PostgreSQL the undo takes the run's lock itself, until it commits: a run it finds dead
    stays dead."""
    if run["finished_at"] is not None:
        return False
    if conn.dialect.name == "postgresql":
        taken = conn.execute(
            sa.select(sa.func.pg_try_advisory_xact_lock(RUN_LOCK_CLASS, run["id"]))
        ).scalar_one()
        return not taken
    return _marked_live(run)


def run_changes(directory: Directory, run_id: int) -> pd.DataFrame:
    """The credential changes a run made, in order, with the before and after states."""
    query = (
        sa.select(credential_history)
        .where(credential_history.c.run_id == run_id)
        .order_by(credential_history.c.id)
    )
    with directory.engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(query).mappings().all(), columns=credential_history.c.keys()
        )


@dataclass
class UndoResult:
    """What an undo did, or why it was refused (with the rows whose changes stand in the way)."""

    undone: bool
    run_id: int | None = None
    reverted: int = 0
    refusal: str | None = None
    blocking_rows: list[int] = field(default_factory=list)


def undo_run(
    directory: Directory,
    run_id: int,
    *,
    on_behalf_of: str | None = None,
    operator: str | None = None,
) -> UndoResult:
    """Revert every change a run made, in one transaction; refuse when the run is still
    importing, when a later change would be overwritten (naming the rows), or when the run
    was undone already. A run that was interrupted (its process gone) may be undone.

    A login that is not an administrator may undo only its own runs: SetupError otherwise,
    before anything is changed (and the database's row-level security refuses the run's
    update should this check be bypassed). on_behalf_of (``operator`` is its name from
    before) is a note recorded beside the undo's operator.
    """
    with directory.engine.connect() as conn:
        with write_transaction(conn):
            result = _undo(conn, run_id, on_behalf_of or operator)
            if not result.undone:
                conn.rollback()
        return result


def _undo(conn: sa.Connection, run_id: int, on_behalf_of: str | None) -> UndoResult:
    run = conn.execute(sa.select(import_runs).where(import_runs.c.id == run_id)).mappings().first()
    if run is None:
        return UndoResult(False, refusal=f"There is no run {run_id}")
    login = current_login(conn)
    if run["operator"] != login and not may_undo_any_run(conn):
        raise SetupError(
            f"run {run_id} was recorded by {run['operator']}; your login {login} may undo "
            f"only its own runs (another's needs {ADMIN_ROLE})"
        )
    if run["undone_by"] is not None:
        return UndoResult(
            False, refusal=f"Run {run_id} was undone already by run {run['undone_by']}"
        )
    if run["kind"] not in ("credentials", "users"):
        return UndoResult(
            False,
            refusal=f"Run {run_id} is a {run['kind']} run; only credential and user imports "
            "can be undone",
        )
    if _is_live(conn, run):
        return UndoResult(
            False,
            refusal=f"Run {run_id} is still importing (process {run['owner_pid']} on "
            f"{run['owner_host']}); undo it once it has finished",
        )
    changes = conn.execute(
        sa.select(credential_history)
        .where(credential_history.c.run_id == run_id)
        .order_by(credential_history.c.id.desc())
    ).mappings().all()  # fmt: skip
    user_changes = conn.execute(
        sa.select(user_history)
        .where(user_history.c.run_id == run_id)
        .order_by(user_history.c.id.desc())
    ).mappings().all()  # fmt: skip
    blocking = [change["row"] for change in changes if not _still_as_left(conn, change)]
    created_keys = {change["credential_key"] for change in changes if change["before"] is None}
    blocking += [
        change["row"]
        for change in user_changes
        if not _user_still_as_left(conn, change, created_keys)
    ]
    if blocking:
        rows = ", ".join(str(row) for row in sorted(set(blocking)))
        return UndoResult(
            False,
            refusal=f"{'Credentials or users' if user_changes else 'Credentials'} changed "
            f"after run {run_id}; undoing it would overwrite "
            f"those changes (rows {rows})",
            blocking_rows=sorted(set(blocking)),
        )
    undo_id = start_run(
        conn,
        kind="undo",
        on_behalf_of=on_behalf_of,
        file_name=run["file_name"],
        file_sha256=run["file_sha256"],
        options={"undoes": run_id},
    )
    claimed = conn.execute(
        import_runs.update()
        .where(import_runs.c.id == run_id, import_runs.c.undone_by.is_(None))
        .values(undone_by=undo_id)
    )
    if claimed.rowcount != 1:  # another undo committed first, or row-level security hid the run
        if not may_undo_any_run(conn) and run["operator"] != login:
            raise SetupError(f"the directory refused your login {login} the undo of run {run_id}")
        return UndoResult(False, refusal=f"Run {run_id} was undone already, just now")
    for change in changes:
        _revert(conn, change)
    for change in user_changes:  # after the credentials: a created user goes without any
        _revert_user(conn, change)
    reverted = len(changes) + len(user_changes)
    finish_run(conn, undo_id, {"reverted": reverted})
    return UndoResult(True, run_id=undo_id, reverted=reverted)


def _current(conn: sa.Connection, key: str) -> dict[str, Any] | None:
    record = (
        conn.execute(
            sa.select(credentials, users.c.user_id)
            .join_from(credentials, users, credentials.c.user_pk == users.c.id)
            .where(credentials.c.credential_key == key)
        )
        .mappings()
        .first()
    )
    return None if record is None else dict(record)


def _still_as_left(conn: sa.Connection, change: Any) -> bool:
    """Whether the credential is still as the run left it."""
    current = _current(conn, change["credential_key"])
    after = change["after"]
    if after is None:  # the run deleted it: nothing may have taken its key since
        return current is None
    return (
        current is not None
        and current["user_id"] == after["user_id"]
        and current["status"] == after["status"]
        and _iso(current["modified"]) == after["modified"]
    )


#: The fields of a user that a user import writes and its undo puts back.
_USER_FIELDS = (
    "first_name", "last_name", "external_id", "employee_id", "email", "email_key", "status",
)  # fmt: skip


def _user_still_as_left(conn: sa.Connection, change: Any, created_keys: set[str]) -> bool:
    """Whether a user is as the user import left it: the same fields and, for a user it
    created, no credential but those the run gave it (undo would delete the user)."""
    current = conn.execute(
        sa.select(users).where(users.c.user_id == change["user_id"])
    ).mappings().first()  # fmt: skip
    after = change["after"] or {}
    if current is None or any((current[name] or None) != after.get(name) for name in _USER_FIELDS):
        return False
    if change["before"] is not None:
        return True
    keys = conn.execute(
        sa.select(credentials.c.credential_key).where(credentials.c.user_pk == current["id"])
    ).scalars()
    return set(keys) <= created_keys


def _revert_user(conn: sa.Connection, change: Any) -> None:
    before = change["before"]
    where = users.c.user_id == change["user_id"]
    if before is None:  # created by the run; its credentials were reverted first
        conn.execute(users.delete().where(where))
        return
    conn.execute(users.update().where(where).values(**{n: before.get(n) for n in _USER_FIELDS}))


def _revert(conn: sa.Connection, change: Any) -> None:
    key, before = change["credential_key"], change["before"]
    if before is None:  # created by the run
        conn.execute(credentials.delete().where(credentials.c.credential_key == key))
        return
    user_pk = conn.execute(
        sa.select(users.c.id).where(users.c.user_id == before["user_id"])
    ).scalar_one()
    modified = _parse_iso(before["modified"])
    if change["after"] is None:  # deleted by the run (a replaced entry code)
        values = {name: before.get(name) for name in (
            "kind", "card_type", "facility_code", "card_number", "card_number_hex",
            "license_plate", "entry_code", "status")}  # fmt: skip
        conn.execute(
            credentials.insert().values(
                user_pk=user_pk, credential_key=key, modified=modified, **values
            )
        )
        return
    conn.execute(
        credentials.update()
        .where(credentials.c.credential_key == key)
        .values(user_pk=user_pk, status=before["status"], modified=modified)
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: str | None) -> datetime:
    if text is None:
        return now_utc()
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
