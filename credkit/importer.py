"""The credential import: plan every row's outcome, apply the plan in batches, report the result."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from credkit.columns import HEADERS
from credkit.connection import SetupError
from credkit.defaults import BATCH_SIZE
from credkit.directory import (
    CREDENTIAL_FIELDS,
    Directory,
    DirectoryLookup,
    begin_immediate,
    bind_value,
    bulk_write_cache,
    credential_history,
    credentials,
    finish_run,
    heartbeat,
    insert_many,
    now_utc,
    release_run,
    start_run,
    user_primary_keys,
    users,
    write_transaction,
)
from credkit.reading import add_formula_prefix
from credkit.review import Review
from credkit.rules import recheck_rows
from credkit.splits import labelled_text, split_source_rows

OUTCOMES = ("create", "update", "reassign", "unchanged", "fail")
APPLIED = ("create", "update", "reassign")

Progress = Callable[[int, int], None]

#: The columns an insert of a new credential fills, and those of a history row.
INSERT_COLUMNS = ["user_pk", *CREDENTIAL_FIELDS, "credential_key", "status", "modified"]
HISTORY_COLUMNS = ["run_id", "row", "credential_key", "action", "before", "after", "at"]
#: A created credential's state in its history row: enough to undo it and to see a later change.
CREATED_STATE = [*CREDENTIAL_FIELDS, "status", "user_id", "modified"]


#: The findings that reassigning a credential answers (the global option, or one row's choice).
REASSIGNABLE_CODES = ("assigned-to-other-user", "entry-code-in-use")
#: A skipped row's outcome is ``fail`` with this reason (plan, result, run, failed rows).
SKIPPED_REASON = "skipped by the operator"


@dataclass(frozen=True)
class ImportChoices:
    """The operator's choices for single rows: rows to skip (not imported), and rows whose
    credential is reassigned to the row's user although the reassign option is off."""

    skipped: frozenset[int] = frozenset()
    reassigned: frozenset[int] = frozenset()

    def recorded(self) -> dict[str, list[int]]:
        """The choices as a run's options keep them."""
        return {"skipped_rows": sorted(self.skipped), "reassigned_rows": sorted(self.reassigned)}


@dataclass
class Plan:
    """Every row's planned outcome, and for failing rows the reason (a dry run: nothing written)."""

    review: Review
    rows: pd.DataFrame  # index: row; columns: outcome, reason
    choices: ImportChoices = field(default_factory=ImportChoices)

    def counts(self) -> dict[str, int]:
        return _counts(self.rows["outcome"])


@dataclass
class ImportResult:
    """What an import did: each row's outcome, the counts, and the run that recorded it."""

    run_id: int | None
    rows: pd.DataFrame  # index: row; columns: outcome, reason
    failed_rows: pd.DataFrame = field(repr=False)  # the 14 columns plus Row and Error
    dry_run: bool = False

    def counts(self) -> dict[str, int]:
        return _counts(self.rows["outcome"])

    def write_failed_rows(self, destination: str | Path | IO[str]) -> int:
        """Write the failed rows as a CSV the operator can fix and import again."""
        return write_failed_rows_csv(self.failed_rows, destination)


def plan_import(review: Review, choices: ImportChoices | None = None) -> Plan:
    """The outcome each row would have if imported now: create, update, reassign, unchanged
    or fail (with the reasons); choices skip rows or reassign single rows."""
    choices = choices or ImportChoices()
    findings = _answered(review.rows, choices)
    outcome = _outcomes(review.resolved.reindex(review.table.index))
    reasons = _reasons(findings)
    errors = findings.loc[findings["severity"] == "error", "row"].dropna().astype(int)
    outcome = outcome.mask(review.table.index.isin(errors), "fail")
    reason = reasons.reindex(outcome.index).astype(object).fillna("")
    skipped = review.table.index.isin(list(choices.skipped))
    outcome = outcome.mask(skipped, "fail")
    reason = reason.mask(skipped, SKIPPED_REASON)
    return Plan(review, pd.DataFrame({"outcome": outcome, "reason": reason}), choices)


def _answered(findings: pd.DataFrame, choices: ImportChoices) -> pd.DataFrame:
    """The findings less those a row's reassign choice answers."""
    if not choices.reassigned or findings.empty:
        return findings
    answered = findings["code"].isin(REASSIGNABLE_CODES) & findings["row"].isin(
        list(choices.reassigned)
    )
    return findings[~answered]


def _outcomes(resolved: pd.DataFrame) -> pd.Series:
    owner = resolved["existing_user_id"]
    status_changes = resolved["status"].notna() & (
        resolved["status"] != resolved["existing_status"]
    )
    outcome = pd.Series("unchanged", index=resolved.index, dtype=object)
    outcome = outcome.mask(owner.notna() & status_changes, "update")
    outcome = outcome.mask(owner.notna() & (owner != resolved["user_id"]), "reassign")
    outcome = outcome.mask(owner.isna(), "create")
    # A new entry code replaces the user's old one: reported as an update.
    return outcome.mask(owner.isna() & resolved["replaces_entry_code"].notna(), "update")


def _reasons(findings: pd.DataFrame) -> pd.Series:
    errors = findings[findings["severity"] == "error"]
    if errors.empty:
        return pd.Series(dtype=object)
    labelled = errors["column"].fillna("Row") + ": " + errors["message"]
    return labelled.groupby(errors["row"].astype(int)).agg("; ".join)


def execute_import(
    plan: Plan,
    directory: Directory,
    *,
    on_behalf_of: str | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    operator: str | None = None,
) -> ImportResult:
    """Apply a plan in batches, each in one transaction, each row completely or not at all.

    The run records its operator as the directory sees them (see credkit.privileges);
    on_behalf_of (``operator`` is its name from before) is a note recorded beside it.

    Every batch is written on the condition that the directory still holds what the review
    saw: new credentials are guarded by the database's own constraints (no one took the key,
    the user still exists, the user has no other entry code), updates and moves by the owner
    and time the review read. If any condition fails, the batch is rolled back, checked again
    against the directory as it is at that moment, and what is still valid is written; a row
    that another operator's change has made invalid fails with its reason.
    """
    review = plan.review
    rows = plan.rows.copy()
    if review.rejected:  # a rejected file writes nothing, not even a run record
        return ImportResult(None, rows, failed_rows_frame(review, rows))
    lookup = DirectoryLookup(directory)
    to_apply = rows.index[rows["outcome"].isin(APPLIED).to_numpy()]
    in_file = file_rows(review)
    done = 0
    # One connection records the run, writes every batch (each in a transaction of its own)
    # and holds the run's liveness mark until the run is finished (see credkit.runs).
    with directory.engine.connect() as conn, bulk_write_cache(conn):
        with write_transaction(conn):
            run_id = start_run(
                conn,
                kind="credentials",
                on_behalf_of=on_behalf_of or operator,
                file_name=review.file_name,
                file_sha256=review.sha256,
                options=_recorded_options(review) | plan.choices.recorded(),
                live=True,
            )
        try:
            for start in range(0, len(to_apply), batch_size):
                batch = to_apply[start : start + batch_size]
                planned = review.resolved.loc[batch].assign(outcome=rows.loc[batch, "outcome"])
                if not _write_as_planned(conn, run_id, planned, in_file):
                    _recheck_and_write(
                        review, rows, batch, conn, lookup, run_id, plan.choices, in_file
                    )
                done += len(batch)
                if progress:
                    progress(done, len(to_apply))
            with write_transaction(conn):
                finish_run(conn, run_id, _counts(rows["outcome"]))
        finally:  # a broken connection is discarded by the pool, and its lock with it
            with suppress(DBAPIError):
                release_run(conn, run_id)
    return ImportResult(run_id, rows, failed_rows_frame(review, rows))


class RunUndone(SetupError):
    """The run was undone while it imported: another operator took it for interrupted (its
    heartbeat had gone stale). Nothing more is written."""


def file_rows(review: Review) -> dict[int, int]:
    """The file's row of every part of a split row (its history names the file's row)."""
    return {number: part.row for number, part in review.parts.items()}


def _write_as_planned(
    conn: sa.Connection, run_id: int, planned: pd.DataFrame, in_file: dict[int, int]
) -> bool:
    """Write a batch as the review planned it, in one transaction; False, with nothing
    written, when the directory no longer holds what the review saw."""
    transaction = conn.begin()
    try:
        begin_immediate(conn)  # see write_transaction
        _beat(conn, run_id)
        _write_rows(conn, run_id, planned, in_file)
    except (DBAPIError, DirectoryChanged):
        transaction.rollback()
        return False
    except BaseException:
        transaction.rollback()
        raise
    transaction.commit()
    return True


def _beat(conn: sa.Connection, run_id: int) -> None:
    if not heartbeat(conn, run_id):
        raise RunUndone(
            f"run {run_id} was undone by another operator while it imported (its heartbeat "
            "had gone stale); nothing more was written. Review the file and import it again"
        )


def _recheck_and_write(
    review: Review,
    rows: pd.DataFrame,
    batch: pd.Index,
    conn: sa.Connection,
    lookup: DirectoryLookup,
    run_id: int,
    choices: ImportChoices,
    in_file: dict[int, int],
) -> None:
    """Check a batch again against the directory as it is now, write the rows that are still
    valid, and record every row's fresh outcome (and reason) in rows."""
    findings, fresh = recheck_rows(
        review.table.loc[batch], review.resolved.loc[batch], lookup, review.options.rule_options
    )
    findings = _answered(findings, choices)
    now_failing = _reasons(findings)
    fresh_outcome = _outcomes(fresh).mask(fresh.index.isin(now_failing.index), "fail")
    rows.loc[batch, "outcome"] = fresh_outcome
    rows.loc[now_failing.index, "reason"] = now_failing
    applicable = fresh.assign(outcome=fresh_outcome)[fresh_outcome.isin(APPLIED)]
    for row, reason in _apply_batch(conn, run_id, applicable, in_file).items():
        rows.loc[row, ["outcome", "reason"]] = ["fail", reason]


def _recorded_options(review: Review) -> dict[str, Any]:
    """The choices that shaped the run, as its record keeps them."""
    options = review.options
    return {
        "reassign": options.reassign,
        "overwrite_newer": options.overwrite_newer,
        "encoding": options.encoding,
        "delimiter": options.delimiter,
        "mapping": dict(options.mapping),
        "edited_cells": len(review.edited_cells),
        "split_rows": split_source_rows(review),
    }


def _apply_batch(
    conn: sa.Connection, run_id: int, batch: pd.DataFrame, in_file: dict[int, int]
) -> dict[int, str]:
    """Write a batch in one transaction; rows the database refuses are retried one by one so
    that only they fail. Returns the refused rows with their reasons."""
    if batch.empty:
        return {}
    refused: dict[int, str] = {}
    with write_transaction(conn):
        _beat(conn, run_id)
        try:
            with conn.begin_nested():
                _write_rows(conn, run_id, batch, in_file)
            return refused
        except (DBAPIError, DirectoryChanged):
            pass  # someone else's change collides with a row here: find which, row by row
        for row in batch.index:
            try:
                with conn.begin_nested():
                    _write_rows(conn, run_id, batch.loc[[row]], in_file)
            except DBAPIError as error:
                refused[row] = (
                    "Row: the directory refused it (changed since the review?): "
                    + str(error.orig).splitlines()[0]
                )
            except DirectoryChanged as change:
                refused[row] = f"Row: {change}"
    return refused


class DirectoryChanged(Exception):
    """A guarded write found the directory other than the review saw it (raised inside a
    savepoint to roll it back; never reaches the caller of execute_import)."""


def _write_rows(
    conn: sa.Connection,
    run_id: int,
    batch: pd.DataFrame,
    in_file: dict[int, int] | None = None,
) -> None:
    """The statements that apply rows: replaced entry codes out, moves and updates, inserts,
    then one history row per credential changed (naming the file's row: in_file maps the
    parts of split rows to it). Raises DirectoryChanged (or the database's own error) when
    the directory no longer holds what the rows were planned against."""
    now = now_utc()
    user_pks = user_primary_keys(
        conn, pd.concat([batch["user_id"], batch["existing_user_id"].dropna()])
    )
    if not batch["user_id"].isin(user_pks).all():
        raise DirectoryChanged("the user was removed from the directory during the import")
    history: list[tuple[Any, ...]] = []
    at = bind_value(conn, credential_history.c.at, now)
    replaced = batch[batch["replaces_entry_code"].notna()]
    if len(replaced):
        history.extend(_delete_replaced(conn, run_id, replaced, user_pks, at))
    changed = batch[batch["existing_id"].notna()]
    if len(changed):
        history.extend(_update_changed(conn, run_id, changed, user_pks, now, at))
    created = batch[batch["existing_id"].isna()]
    if len(created):
        history.extend(_insert_created(conn, run_id, created, user_pks, now, at))
    if in_file:
        history = [(run, in_file.get(row, row), *rest) for run, row, *rest in history]
    insert_many(conn, credential_history, HISTORY_COLUMNS, history)


def _delete_replaced(
    conn: sa.Connection,
    run_id: int,
    replaced: pd.DataFrame,
    user_pks: dict[str, int],
    at: Any,
) -> list[tuple[Any, ...]]:
    """Delete the entry codes that the rows' new ones replace, if their users still hold
    them; return their history rows."""
    keys = list(replaced["replaces_entry_code"])
    old = conn.execute(
        sa.select(credentials, users.c.user_id)
        .join_from(credentials, users, credentials.c.user_pk == users.c.id)
        .where(credentials.c.credential_key.in_(keys))
    ).mappings()
    by_key = {record["credential_key"]: _state(record) for record in old}
    deleted = conn.execute(
        credentials.delete().where(
            credentials.c.credential_key == sa.bindparam("key"),
            credentials.c.user_pk == sa.bindparam("owner"),
        ),
        [
            {"key": key, "owner": user_pks[user_id]}
            for key, user_id in zip(keys, replaced["user_id"], strict=True)
        ],
    )
    if deleted.rowcount != len(keys):
        raise DirectoryChanged("the user's entry code changed during the import")
    return [
        (run_id, int(row), key, "delete", _json(by_key.get(key)), None, at)
        for row, key in replaced["replaces_entry_code"].items()
    ]


def _update_changed(
    conn: sa.Connection,
    run_id: int,
    changed: pd.DataFrame,
    user_pks: dict[str, int],
    now: datetime,
    at: Any,
) -> list[tuple[Any, ...]]:
    """Update and move existing credentials, each only if it still has the owner and time
    the review read (compare and set); return their history rows."""
    updates = [
        {
            "target": int(record.existing_id),
            "owner": user_pks.get(record.existing_user_id),
            "read_at": record.existing_modified.to_pydatetime(),
            "new_user_pk": user_pks[record.user_id],
            "new_status": record.status if pd.notna(record.status) else record.existing_status,
            "new_modified": now,
        }
        for record in changed.itertuples()
    ]
    result = conn.execute(
        credentials.update()
        .where(
            credentials.c.id == sa.bindparam("target"),
            credentials.c.user_pk == sa.bindparam("owner"),
            credentials.c.modified == sa.bindparam("read_at", type_=credentials.c.modified.type),
        )
        .values(
            user_pk=sa.bindparam("new_user_pk"),
            status=sa.bindparam("new_status"),
            modified=sa.bindparam("new_modified"),
        ),
        updates,
    )
    if result.rowcount != len(updates):
        raise DirectoryChanged("the credential was changed by someone else during the import")
    history = []
    for record, update in zip(changed.itertuples(), updates, strict=True):
        before = {
            "user_id": record.existing_user_id,
            "status": record.existing_status,
            "modified": _iso(record.existing_modified),
        }
        after = {"user_id": record.user_id, "status": update["new_status"], "modified": _iso(now)}
        action = "reassign" if record.outcome == "reassign" else "update"
        history.append(
            (run_id, int(record.Index), record.credential_key, action, _json(before),
             _json(after), at)
        )  # fmt: skip
    return history


def _insert_created(
    conn: sa.Connection,
    run_id: int,
    created: pd.DataFrame,
    user_pks: dict[str, int],
    now: datetime,
    at: Any,
) -> list[tuple[Any, ...]]:
    """Insert the batch's new credentials; return their history rows.

    Built column by column from plain lists: at 250,000 rows, per-row pandas access or
    per-row dicts cost more than the inserts themselves.
    """
    fields = [_nullable(created[name]) for name in CREDENTIAL_FIELDS]
    keys = created["credential_key"].tolist()
    status = created["status"].astype(object).fillna("active").tolist()
    owners = created["user_id"].tolist()
    modified = bind_value(conn, credentials.c.modified, now)
    rows = zip([user_pks[owner] for owner in owners], *fields, keys, status, strict=True)
    insert_many(conn, credentials, INSERT_COLUMNS, [(*row, modified) for row in rows])
    stamp = _iso(now)
    states = zip(*fields, status, owners, strict=True)
    return [
        (
            run_id,
            row,
            key,
            "create",
            None,
            _json(dict(zip(CREATED_STATE, (*state, stamp), strict=True))),
            at,
        )
        for row, key, state in zip(created.index.tolist(), keys, states, strict=True)
    ]


def _nullable(values: pd.Series) -> list[Any]:
    """A column's values as a list, missing values as None."""
    values = values.astype(object)
    return values.where(values.notna(), None).tolist()


def _json(state: dict[str, Any] | None) -> str | None:
    """A history state as the JSON column stores it; None stays SQL NULL."""
    return None if state is None else json.dumps(state)


def _state(record: Any) -> dict[str, Any]:
    """A credential as history keeps it: enough to put it back exactly."""
    state = {name: record[name] for name in [*CREDENTIAL_FIELDS, "status", "user_id"]}
    return state | {"modified": _iso(record["modified"])}


def _iso(moment: Any) -> str | None:
    if moment is None or pd.isna(moment):
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _counts(outcomes: pd.Series) -> dict[str, int]:
    counted = outcomes.value_counts()
    return {outcome: int(counted.get(outcome, 0)) for outcome in OUTCOMES}


def failed_rows_frame(review: Review, rows: pd.DataFrame) -> pd.DataFrame:
    """The failed rows as the operator fixes them: Row, the file's columns, and Error."""
    failed = rows[rows["outcome"] == "fail"]
    frame = review.table.loc[failed.index, HEADERS].copy()
    if review.parts:  # "7, credential 2 of 2" for the parts of a split row
        frame.insert(0, "Row", [review.row_label(row) for row in failed.index])
        frame["Error"] = [labelled_text(review, str(reason)) for reason in failed["reason"]]
    else:
        frame.insert(0, "Row", failed.index.astype(str))
        frame["Error"] = failed["reason"]
    return frame.reset_index(drop=True)


def dry_run(plan: Plan) -> ImportResult:
    """A plan presented as a result (nothing written, no run recorded)."""
    return ImportResult(None, plan.rows, failed_rows_frame(plan.review, plan.rows), dry_run=True)


def write_planned_rows(conn: sa.Connection, run_id: int, planned: pd.DataFrame) -> None:
    """Write reviewed rows (resolved, with their outcome) in the caller's transaction, with
    the guards of an import's batches: DirectoryChanged or the database's error when the
    directory no longer holds what the review saw. The user import writes a row's
    credentials with its user this way, in the row's savepoint."""
    _write_rows(conn, run_id, planned)


def write_failed_rows_csv(failed_rows: pd.DataFrame, destination: str | Path | IO[str]) -> int:
    """Write failed rows (Row, the file's columns, Error) as a CSV to fix and import again,
    with spreadsheet formulas defused; the credential and the user import share it."""
    if isinstance(destination, str | Path):
        with open(destination, "w", encoding="utf-8", newline="") as stream:
            return write_failed_rows_csv(failed_rows, stream)
    frame = failed_rows.astype(str).apply(add_formula_prefix)
    writer = csv.writer(destination, lineterminator="\r\n")
    writer.writerow(frame.columns)
    writer.writerows(frame.itertuples(index=False, name=None))
    return len(frame)
