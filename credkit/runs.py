"""Import runs: listing them, showing one with its changes, and undoing one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from credkit.connection import SetupError
from credkit.directory import (
    Directory,
    credential_history,
    credentials,
    finish_run,
    import_runs,
    now_utc,
    start_run,
    users,
)
from credkit.privileges import ADMIN_ROLE, current_login, may_undo_any_run


def list_runs(directory: Directory) -> pd.DataFrame:
    """Every run, newest first, with its counts and whether it was undone."""
    query = sa.select(import_runs).order_by(import_runs.c.id.desc())
    with directory.engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).mappings().all(), columns=import_runs.c.keys())
    return frame


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
    """Revert every change a run made, in one transaction; refuse when a later change would be
    overwritten (naming the rows), or when the run was undone already.

    A login that is not an administrator may undo only its own runs: SetupError otherwise,
    before anything is changed (and the database's row-level security refuses the run's
    update should this check be bypassed). on_behalf_of (``operator`` is its name from
    before) is a note recorded beside the undo's operator.
    """
    with directory.engine.begin() as conn:
        run = (
            conn.execute(sa.select(import_runs).where(import_runs.c.id == run_id))
            .mappings()
            .first()
        )
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
        if run["kind"] != "credentials":
            return UndoResult(
                False,
                refusal=f"Run {run_id} is a {run['kind']} run; only credential imports can be undone",
            )
        changes = conn.execute(
            sa.select(credential_history)
            .where(credential_history.c.run_id == run_id)
            .order_by(credential_history.c.id.desc())
        ).mappings().all()  # fmt: skip
        blocking = [change["row"] for change in changes if not _still_as_left(conn, change)]
        if blocking:
            rows = ", ".join(str(row) for row in sorted(set(blocking)))
            return UndoResult(
                False,
                refusal=f"Credentials changed after run {run_id}; undoing it would overwrite "
                f"those changes (rows {rows})",
                blocking_rows=sorted(set(blocking)),
            )
        undo_id = start_run(
            conn,
            kind="undo",
            on_behalf_of=on_behalf_of or operator,
            file_name=run["file_name"],
            file_sha256=run["file_sha256"],
            options={"undoes": run_id},
        )
        for change in changes:
            _revert(conn, change)
        marked = conn.execute(
            import_runs.update().where(import_runs.c.id == run_id).values(undone_by=undo_id)
        )
        if marked.rowcount != 1:  # row-level security hid the run from this login's update
            raise SetupError(f"the directory refused your login {login} the undo of run {run_id}")
        finish_run(conn, undo_id, {"reverted": len(changes)})
    return UndoResult(True, run_id=undo_id, reverted=len(changes))


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
