"""The credential import: plan every row's outcome, apply the plan in batches, report the result."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from credkit.columns import HEADERS
from credkit.defaults import BATCH_SIZE
from credkit.directory import (
    CREDENTIAL_FIELDS,
    Directory,
    DirectoryLookup,
    credential_history,
    credentials,
    finish_run,
    now_utc,
    start_run,
    users,
)
from credkit.reading import add_formula_prefix
from credkit.review import Review
from credkit.rules import recheck_rows

OUTCOMES = ("create", "update", "reassign", "unchanged", "fail")
APPLIED = ("create", "update", "reassign")

Progress = Callable[[int, int], None]


@dataclass
class Plan:
    """Every row's planned outcome, and for failing rows the reason (a dry run: nothing written)."""

    review: Review
    rows: pd.DataFrame  # index: row; columns: outcome, reason

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
        if isinstance(destination, str | Path):
            with open(destination, "w", encoding="utf-8", newline="") as stream:
                return self.write_failed_rows(stream)
        frame = self.failed_rows.astype(str).apply(add_formula_prefix)
        writer = csv.writer(destination, lineterminator="\r\n")
        writer.writerow(frame.columns)
        writer.writerows(frame.itertuples(index=False, name=None))
        return len(frame)


def plan_import(review: Review) -> Plan:
    """The outcome each row would have if imported now: create, update, reassign, unchanged
    or fail (with the reasons)."""
    outcome = _outcomes(review.resolved.reindex(review.table.index))
    reasons = _reasons(review.rows)
    failing = review.table.index.isin(review.failing_rows)
    outcome = outcome.mask(failing, "fail")
    reason = reasons.reindex(outcome.index).astype(object).fillna("")
    return Plan(review, pd.DataFrame({"outcome": outcome, "reason": reason}))


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
    operator: str,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportResult:
    """Apply a plan in batches, each in one transaction, each row completely or not at all.

    Every batch is checked again against the directory as it is at that moment, so a row that
    another operator's change has made invalid fails with its reason instead of being written.
    """
    review = plan.review
    rows = plan.rows.copy()
    if review.rejected:  # a rejected file writes nothing, not even a run record
        return ImportResult(None, rows, _failed_rows(review, rows))
    with directory.engine.begin() as conn:
        run_id = start_run(
            conn,
            kind="credentials",
            operator=operator,
            file_name=review.file_name,
            file_sha256=review.sha256,
            options=_recorded_options(review),
        )
    lookup = DirectoryLookup(directory)
    to_apply = rows.index[rows["outcome"].isin(APPLIED).to_numpy()]
    done = 0
    for start in range(0, len(to_apply), batch_size):
        batch = to_apply[start : start + batch_size]
        findings, fresh = recheck_rows(
            review.table.loc[batch],
            review.resolved.loc[batch],
            lookup,
            review.options.rule_options,
        )
        now_failing = _reasons(findings)
        fresh_outcome = _outcomes(fresh).mask(fresh.index.isin(now_failing.index), "fail")
        rows.loc[batch, "outcome"] = fresh_outcome
        rows.loc[now_failing.index, "reason"] = now_failing
        applicable = fresh.assign(outcome=fresh_outcome)[fresh_outcome.isin(APPLIED)]
        refused = _apply_batch(directory, run_id, applicable)
        for row, reason in refused.items():
            rows.loc[row, ["outcome", "reason"]] = ["fail", reason]
        done += len(batch)
        if progress:
            progress(done, len(to_apply))
    with directory.engine.begin() as conn:
        finish_run(conn, run_id, _counts(rows["outcome"]))
    return ImportResult(run_id, rows, _failed_rows(review, rows))


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
    }


def _apply_batch(directory: Directory, run_id: int, batch: pd.DataFrame) -> dict[int, str]:
    """Write a batch in one transaction; rows the database refuses are retried one by one so
    that only they fail. Returns the refused rows with their reasons."""
    if batch.empty:
        return {}
    refused: dict[int, str] = {}
    with directory.engine.begin() as conn:
        try:
            with conn.begin_nested():
                _write_rows(conn, run_id, batch)
            return refused
        except DBAPIError:
            pass  # someone else's change collides with a row here: find which, row by row
        for row in batch.index:
            try:
                with conn.begin_nested():
                    _write_rows(conn, run_id, batch.loc[[row]])
            except DBAPIError as error:
                refused[row] = (
                    "Row: the directory refused it (changed since the review?): "
                    + str(error.orig).splitlines()[0]
                )
    return refused


def _write_rows(conn: sa.Connection, run_id: int, batch: pd.DataFrame) -> None:
    """The statements that apply rows: replaced entry codes out, moves and updates, inserts."""
    now = now_utc()
    user_pks = dict(
        conn.execute(
            sa.select(users.c.user_id, users.c.id).where(users.c.user_id.in_(set(batch["user_id"])))
        ).all()
    )
    history: list[dict[str, Any]] = []
    replaced = batch[batch["replaces_entry_code"].notna()]
    if len(replaced):
        keys = list(replaced["replaces_entry_code"])
        old = conn.execute(
            sa.select(credentials, users.c.user_id)
            .join_from(credentials, users, credentials.c.user_pk == users.c.id)
            .where(credentials.c.credential_key.in_(keys))
        ).mappings()
        by_key = {record["credential_key"]: _state(record) for record in old}
        conn.execute(credentials.delete().where(credentials.c.credential_key.in_(keys)))
        for row, key in replaced["replaces_entry_code"].items():
            history.append(_history(run_id, row, key, "delete", by_key.get(key), None, now))
    changed = batch[batch["existing_id"].notna()]
    if len(changed):
        updates = [
            {
                "target": int(record.existing_id),
                "new_user_pk": user_pks[record.user_id],
                "new_status": record.status if pd.notna(record.status) else record.existing_status,
                "new_modified": now,
            }
            for record in changed.itertuples()
        ]
        conn.execute(
            credentials.update()
            .where(credentials.c.id == sa.bindparam("target"))
            .values(
                user_pk=sa.bindparam("new_user_pk"),
                status=sa.bindparam("new_status"),
                modified=sa.bindparam("new_modified"),
            ),
            updates,
        )
        for record, update in zip(changed.itertuples(), updates, strict=True):
            before = {
                "user_id": record.existing_user_id,
                "status": record.existing_status,
                "modified": _iso(record.existing_modified),
            }
            after = {
                "user_id": record.user_id,
                "status": update["new_status"],
                "modified": _iso(now),
            }
            action = "reassign" if record.outcome == "reassign" else "update"
            history.append(
                _history(run_id, record.Index, record.credential_key, action, before, after, now)
            )
    created = batch[batch["existing_id"].isna()]
    if len(created):
        values = created[CREDENTIAL_FIELDS].astype(object)
        values = values.where(values.notna(), None).assign(
            user_pk=created["user_id"].map(user_pks),
            credential_key=created["credential_key"],
            status=created["status"].astype(object).fillna("active"),
            modified=now,
        )
        inserts = _records(values)
        conn.execute(credentials.insert(), inserts)
        stamp = _iso(now)
        for row, user_id, record in zip(created.index, created["user_id"], inserts, strict=True):
            after = {name: record[name] for name in (*CREDENTIAL_FIELDS, "status")}
            after |= {"user_id": user_id, "modified": stamp}
            history.append(
                _history(run_id, row, record["credential_key"], "create", None, after, now)
            )
    conn.execute(credential_history.insert(), history)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as dicts; pandas' own to_dict boxes every value one call at a time."""
    columns = list(frame.columns)
    values = zip(*(frame[column].tolist() for column in columns), strict=True)
    return [dict(zip(columns, row, strict=True)) for row in values]


def _state(record: Any) -> dict[str, Any]:
    """A credential as history keeps it: enough to put it back exactly."""
    state = {name: record[name] for name in [*CREDENTIAL_FIELDS, "status", "user_id"]}
    return state | {"modified": _iso(record["modified"])}


def _history(
    run_id: int,
    row: int,
    key: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "row": int(row),
        "credential_key": key,
        "action": action,
        "before": before,
        "after": after,
        "at": now,
    }


def _iso(moment: Any) -> str | None:
    if moment is None or pd.isna(moment):
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _counts(outcomes: pd.Series) -> dict[str, int]:
    counted = outcomes.value_counts()
    return {outcome: int(counted.get(outcome, 0)) for outcome in OUTCOMES}


def _failed_rows(review: Review, rows: pd.DataFrame) -> pd.DataFrame:
    failed = rows[rows["outcome"] == "fail"]
    frame = review.table.loc[failed.index, HEADERS].copy()
    frame.insert(0, "Row", failed.index.astype(str))
    frame["Error"] = failed["reason"]
    return frame.reset_index(drop=True)


def dry_run(plan: Plan) -> ImportResult:
    """A plan presented as a result (nothing written, no run recorded)."""
    return ImportResult(None, plan.rows, _failed_rows(plan.review, plan.rows), dry_run=True)
