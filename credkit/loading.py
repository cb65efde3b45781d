"""Loading a Verkada Command credentials export as the directory, and refreshing it from a newer one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from credkit.columns import review_columns
from credkit.directory import (
    CREDENTIAL_FIELDS,
    Directory,
    credential_history,
    credentials,
    email_key,
    finish_run,
    now_utc,
    start_run,
    users,
)
from credkit.reading import read_csv_file
from credkit.review import Review, ReviewOptions, expected_columns, review_table

#: What a load counts: users added, updated, gone; credentials by what happened to them.
LOAD_COUNTS = (
    "users_added",
    "users_updated",
    "users_gone",
    "create",
    "update",
    "reassign",
    "unchanged",
    "gone",
    "fail",
)
#: The user columns of an export, and the users table's column each fills.
USER_HEADERS = {
    "First Name": "first_name",
    "Last Name": "last_name",
    "External ID": "external_id",
    "Employee ID": "employee_id",
    "Email": "email",
}
_STATE = [*CREDENTIAL_FIELDS, "status", "user_id"]


@dataclass
class LoadResult:
    """What a load did: its run, its counts, and the export's review (whose failing rows were
    not loaded)."""

    run_id: int | None
    counts: dict[str, int]
    review: Review

    @property
    def rejected(self) -> bool:
        return self.review.rejected

    @property
    def exit_status(self) -> int:
        """0 every row loaded, 1 some rows failed, 2 the file or its columns were rejected."""
        return 2 if self.rejected else 1 if self.counts["fail"] else 0


def load_export(
    path: str | Path,
    directory: Directory,
    *,
    operator: str,
    options: ReviewOptions | None = None,
) -> LoadResult:
    """Make the directory what a Command credentials export says, in one run.

    Users are created (or updated) with the User ID, External ID, Employee ID, Email and names
    of the export; credentials with the status and Modified it gives. What the directory holds
    and the export no longer lists is marked gone: credentials are removed (their last state
    kept in history, action "gone"), users get gone_at and are left out of reviews. Rows with
    errors are not loaded, and the credentials they name are left as they were.
    """
    # The export is the source of truth: its owners and times win over the directory's.
    options = options or ReviewOptions()
    options = ReviewOptions(
        reassign=True,
        overwrite_newer=True,
        encoding=options.encoding,
        delimiter=options.delimiter,
        mapping=options.mapping,
        max_rows=options.max_rows,
    )
    csv_table = read_csv_file(
        path, encoding=options.encoding, delimiter=options.delimiter, max_rows=options.max_rows
    )
    file_name = Path(path).name
    counts = dict.fromkeys(LOAD_COUNTS, 0)
    if csv_table.readable and not (csv_table.findings["severity"] == "error").any():
        column_review = review_columns(csv_table.headers, dict(options.mapping))
        if not column_review.blocking:
            table = expected_columns(csv_table, column_review)
            with directory.engine.begin() as conn:
                counts |= _load_users(conn, table)
    review = review_table(csv_table, directory, options, file_name=file_name)
    if review.rejected:
        return LoadResult(None, counts, review)
    with directory.engine.begin() as conn:
        run_id = start_run(
            conn,
            kind="directory-load",
            operator=operator,
            file_name=file_name,
            file_sha256=review.sha256,
            options={"mapping": dict(options.mapping)},
        )
        counts |= _load_credentials(conn, run_id, review)
        finish_run(conn, run_id, counts)
    return LoadResult(run_id, counts, review)


def _load_users(conn: sa.Connection, table: pd.DataFrame) -> dict[str, int]:
    """Create or update every user the export names (by User ID, first row wins), free the
    keys they take from others, and mark gone the users it no longer names."""
    named = table[table["User ID"] != ""].drop_duplicates("User ID")
    incoming: dict[str, dict[str, Any]] = {}
    claimed_external: dict[str, str] = {}
    claimed_email: dict[str, str] = {}
    for record in named.itertuples(index=False):
        row = dict(zip(table.columns, record, strict=True))
        user_id = row["User ID"]
        values = {column: row[header] or None for header, column in USER_HEADERS.items()}
        values["first_name"] = values["first_name"] or ""
        values["last_name"] = values["last_name"] or ""
        values["email_key"] = email_key(values["email"])
        # Command keeps these unique; a file that repeats one gives it to its first user only,
        # and the review then fails the later user's rows (keys-disagree).
        external, key = values["external_id"], values["email_key"]
        if external and claimed_external.setdefault(external, user_id) != user_id:
            values["external_id"] = None
        if key and claimed_email.setdefault(key, user_id) != user_id:
            values["email_key"] = None
        incoming[user_id] = values
    local = {
        record.user_id: record
        for record in conn.execute(
            sa.select(users.c.user_id, users.c.external_id, users.c.email_key, users.c.gone_at)
        )
    }
    # Keys that move between users: freed first, so that no update meets a taken key.
    for user_id, record in local.items():
        freed = {}
        if record.external_id and claimed_external.get(record.external_id, user_id) != user_id:
            freed["external_id"] = None
        if record.email_key and claimed_email.get(record.email_key, user_id) != user_id:
            freed["email_key"] = None
        if freed:
            conn.execute(users.update().where(users.c.user_id == user_id).values(**freed))
    now = now_utc()
    added = [
        {"user_id": user_id, **values, "status": "active"}
        for user_id, values in incoming.items()
        if user_id not in local
    ]
    if added:
        conn.execute(users.insert(), added)
    updated = [
        {"target": user_id, **{"new_" + name: value for name, value in values.items()}}
        for user_id, values in incoming.items()
        if user_id in local
    ]
    if updated:
        columns = [*USER_HEADERS.values(), "email_key"]
        conn.execute(
            users.update()
            .where(users.c.user_id == sa.bindparam("target"))
            .values({**{name: sa.bindparam("new_" + name) for name in columns}, "gone_at": None}),
            updated,
        )
    vanished = [
        user_id
        for user_id, record in local.items()
        if user_id not in incoming and record.gone_at is None
    ]
    if vanished:
        conn.execute(users.update().where(users.c.user_id.in_(vanished)).values(gone_at=now))
    return {"users_added": len(added), "users_updated": len(updated), "users_gone": len(vanished)}


def _load_credentials(conn: sa.Connection, run_id: int, review: Review) -> dict[str, int]:
    """Make the credentials what the export's passing rows say; return the counts."""
    now = now_utc()
    passing = review.resolved.loc[review.passing_rows]
    failing = review.resolved.loc[review.failing_rows]
    current = {
        record["credential_key"]: dict(record)
        for record in conn.execute(
            sa.select(credentials, users.c.user_id).join_from(
                credentials, users, credentials.c.user_pk == users.c.id
            )
        ).mappings()
    }
    user_pks = dict(conn.execute(sa.select(users.c.user_id, users.c.id)).all())
    # A row that failed still names a credential Command holds: it is not gone.
    kept = set(passing["credential_key"]) | set(failing["credential_key"].dropna())
    history: list[dict[str, Any]] = []
    gone = [key for key in current if key not in kept]
    for key in gone:
        history.append(_change(run_id, None, key, "gone", _state(current[key]), None, now))
    counts = dict.fromkeys(("create", "update", "reassign", "unchanged"), 0)
    inserts, updates, moved = [], [], []
    for row, record in passing.iterrows():
        key = record["credential_key"]
        wanted = _wanted(record, now)
        before = current.get(key)
        if before is not None and _value(record["modified"]) is None:
            wanted["modified"] = before["modified"]  # no time given: the one known stands
        if before is None:
            action = "create"
        elif before["user_id"] != record["user_id"]:
            action = "reassign"
        elif any(before[name] != wanted[name] for name in wanted):
            action = "update"
        else:
            counts["unchanged"] += 1
            continue
        counts[action] += 1
        after = {**wanted, "user_id": record["user_id"]}
        state = _state(before) if before else None
        history.append(_change(run_id, int(row), key, action, state, _jsonable(after), now))
        values = {"user_pk": user_pks[record["user_id"]], "credential_key": key, **wanted}
        if action == "update":
            updates.append({"target": before["id"], **{"new_" + k: v for k, v in values.items()}})
        else:
            inserts.append(values)
            if action == "reassign":
                moved.append(key)
    # Deletes before inserts: an entry code or card moving between users never meets itself.
    if gone or moved:
        conn.execute(credentials.delete().where(credentials.c.credential_key.in_(gone + moved)))
    if updates:
        conn.execute(
            credentials.update()
            .where(credentials.c.id == sa.bindparam("target"))
            .values({name[4:]: sa.bindparam(name) for name in updates[0] if name != "target"}),
            updates,
        )
    if inserts:
        conn.execute(credentials.insert(), inserts)
    if history:
        conn.execute(credential_history.insert(), history)
    return counts | {"gone": len(gone), "fail": len(review.failing_rows)}


def _wanted(record: pd.Series, now: Any) -> dict[str, Any]:
    """A passing row's credential as the credentials table stores it."""
    values = {name: _value(record[name]) for name in CREDENTIAL_FIELDS}
    values["status"] = _value(record["status"]) or "active"
    modified = record["modified"]
    values["modified"] = now if modified is None or pd.isna(modified) else _utc(modified)
    return values


def _value(value: Any) -> Any:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _utc(moment: Any) -> Any:
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.floor("s").to_pydatetime()


def _state(record: dict[str, Any]) -> dict[str, Any]:
    return _jsonable({name: record[name] for name in [*_STATE, "modified"]})


def _jsonable(state: dict[str, Any]) -> dict[str, Any]:
    moment = state.get("modified")
    if moment is not None and not isinstance(moment, str):
        state = {**state, "modified": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return state


def _change(
    run_id: int,
    row: int | None,
    key: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: Any,
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "row": row,
        "credential_key": key,
        "action": action,
        "before": before,
        "after": after,
        "at": at,
    }
