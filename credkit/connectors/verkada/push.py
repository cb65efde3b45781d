"""The push: a reviewed credential file applied to Command through its API, row by row.

Per planned change, the calls are (reads first, as the guarded write of an HTTP API):

- create or update of a card or license plate: read the user, then one write (add, or
  activate/deactivate naming the user and card_id or plate number): 2 calls;
- a new entry code (or one replacing the user's): read the user, then set it: 2 calls;
- a reassign of a card or plate: read the old owner, remove it there, add it to the new
  owner: 3 calls, the step recorded before the remove so that a re-run finishes the move;
- a reassign of an entry code: read both users, then set it with override: 3 calls;
- a key the directory does not know: 1 lookup, once per user; 1 token per token lifetime.

After a 5xx, a timeout or a dropped connection on a write, the user is read again: a change
that applied counts as done, one that did not is sent again (1 read + 1 write more).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from credkit.connectors.verkada.client import (
    CallStats,
    VerkadaClient,
    VerkadaFatal,
    VerkadaRejected,
    WriteOutcomeUnknown,
)
from credkit.connectors.verkada.config import VerkadaLimits, VerkadaSettings
from credkit.connectors.verkada.state import CommandCredentials
from credkit.directory import (
    Directory,
    NewUser,
    credential_history,
    credentials,
    finish_run,
    now_utc,
    start_run,
    users,
)
from credkit.importer import APPLIED, ImportResult, Plan, failed_rows_frame, plan_import
from credkit.review import Review, ReviewOptions, review_file

Progress = Callable[[int, int], None]
Record = dict[str, Any]  # one row of the review's resolved frame

#: Calls each planned change takes when nothing goes wrong (see the module docstring).
CALLS_PER_CHANGE = {"create": 2, "update": 2, "reassign": 3}
REASSIGN_STARTED = "reassign-started"
_VALUE_FIELDS = ("card_type", "facility_code", "card_number", "card_number_hex", "license_plate",
                 "entry_code")  # fmt: skip


@dataclass(frozen=True)
class PushEstimate:
    """How many calls a push makes and how long they take at the rate limit."""

    changes: int
    lookups: int
    calls: int
    seconds: float

    def text(self) -> str:
        minutes, seconds = divmod(math.ceil(self.seconds), 60)
        return (
            f"{self.changes} changes and {self.lookups} user lookups: about {self.calls} API "
            f"calls, {minutes} min {seconds:02d} s at the rate limit"
        )


@dataclass
class PushResult(ImportResult):
    """An import's result, with what the API calls were."""

    calls: CallStats = field(default_factory=CallStats)
    estimate: PushEstimate | None = None
    rejected: bool = False  # the file or its columns were rejected: nothing was called
    review: Review | None = field(default=None, repr=False)  # the review the plan came from


def estimate_push(plan: Plan, limits: VerkadaLimits, lookups: int = 0) -> PushEstimate:
    """The calls a plan makes (one token included) and their time at the rate limit."""
    outcomes = plan.rows["outcome"]
    changes = int(outcomes.isin(APPLIED).sum())
    calls = (
        1
        + lookups
        + sum(
            int((outcomes == outcome).sum()) * count for outcome, count in CALLS_PER_CHANGE.items()
        )
    )
    return PushEstimate(changes, lookups, calls, calls / limits.requests_per_second)


def look_up_unknown_users(
    path: str | Path,
    review: Review,
    directory: Directory,
    client: VerkadaClient,
) -> Review:
    """Users the file names that the directory does not know (a user with no credential is
    absent from a credentials export) are looked up in Command and added to the directory;
    the file is then reviewed again."""
    added = 0
    for (column, value), row in _unknown_user_keys(review).items():
        answer = client.get_user(**{column: value})
        if answer is not None and _add_user(directory, answer, review.table.loc[row]):
            added += 1
    return review_file(path, directory, review.options) if added else review


def push_to_verkada(
    path: str | Path,
    directory: Directory,
    settings: VerkadaSettings,
    *,
    operator: str,
    options: ReviewOptions | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> PushResult:
    """Review a credential file against the directory (loaded from Command), plan it, and
    (unless dry_run) apply each planned change through Command's API, recording each in the
    run's history and in the local directory as it succeeds.

    A rejected file, or a dry run, makes no call. Raises VerkadaFatal when Command refuses
    the key before anything is done.
    """
    review = review_file(path, directory, options or ReviewOptions())
    plan = plan_import(review)
    lookups = len(_unknown_user_keys(review)) if not review.rejected else 0
    estimate = estimate_push(plan, settings.limits, lookups)
    if review.rejected or dry_run:
        return PushResult(None, plan.rows, failed_rows_frame(review, plan.rows), dry_run,
                          estimate=estimate, rejected=review.rejected, review=review)  # fmt: skip
    with VerkadaClient(settings) as client:
        client.ensure_token()  # a refused key stops here, before anything is recorded
        if lookups:
            review = look_up_unknown_users(path, review, directory, client)
            plan = plan_import(review)
        rows = plan.rows.copy()
        pusher = _Pusher(client, directory, review)
        run_id = pusher.start(operator, settings.base_url)
        to_apply = rows.index[rows["outcome"].isin(APPLIED).to_numpy()]
        stopped: str | None = None
        try:
            for done, row in enumerate(to_apply, start=1):
                if stopped is not None:
                    rows.loc[row, ["outcome", "reason"]] = [
                        "fail",
                        f"Row: not attempted: {stopped}",
                    ]
                    continue
                try:
                    reason = pusher.apply(int(row), rows.at[row, "outcome"])
                except VerkadaFatal as error:
                    stopped = str(error)
                    reason = f"Row: {stopped}"
                if reason is not None:
                    rows.loc[row, ["outcome", "reason"]] = ["fail", reason]
                if progress:
                    progress(done, len(to_apply))
        finally:
            pusher.finish(rows)  # what was applied is recorded, even when interrupted
        return PushResult(run_id, rows, failed_rows_frame(review, rows), calls=client.stats,
                          estimate=estimate_push(plan, settings.limits, lookups),
                          review=review)  # fmt: skip


class _Pusher:
    """Applies one review's planned rows through the client, recording each as it succeeds."""

    #: Applied rows are written to the local directory in groups of this many, or as often as
    #: this many seconds. A crash loses at most that group, and losing it is harmless: the
    #: re-run reads each user from Command first, finds the change made, and records it.
    RECORD_EVERY_ROWS = 200
    RECORD_EVERY_SECONDS = 1.0

    def __init__(self, client: VerkadaClient, directory: Directory, review: Review) -> None:
        self.client = client
        self.directory = directory
        self.review = review
        self.run_id: int | None = None
        self._unrecorded: list[tuple[int, dict[str, Any], str, str]] = []
        # One dict per row: a row of a DataFrame costs 100 times more to take out, each time.
        self._records = review.resolved.astype(object).to_dict("index")
        self._recorded_at = time.monotonic()

    def start(self, operator: str, base_url: str) -> int:
        options = self.review.options
        with self.directory.engine.begin() as conn:
            self.run_id = start_run(
                conn,
                # Not "credentials": undoing it would revert the local copy only, and leave
                # it disagreeing with Command, so `credkit runs undo` refuses it.
                kind="verkada-push",
                operator=operator,
                file_name=self.review.file_name,
                file_sha256=self.review.sha256,
                options={
                    "to": "verkada",
                    "api_url": base_url,  # the key is never recorded
                    "reassign": options.reassign,
                    "overwrite_newer": options.overwrite_newer,
                    "mapping": dict(options.mapping),
                },
            )
        return self.run_id

    def finish(self, rows: pd.DataFrame) -> None:
        self.flush()
        counted = rows["outcome"].value_counts()
        counts = {name: int(counted.get(name, 0)) for name in (*APPLIED, "unchanged", "fail")}
        with self.directory.engine.begin() as conn:
            finish_run(conn, self.run_id, counts)

    # --- one row -------------------------------------------------------------------------

    def apply(self, row: int, outcome: str) -> str | None:
        """Apply one planned row; None when applied (or found applied), else the reason."""
        record = self._records[row]
        wanted = _wanted_status(record)
        if record["kind"] == "entry_code" and record["status"] == "inactive":
            return (
                "Credential Status: Command's entry codes cannot be inactive; leave the status "
                "empty or Active, or remove the code in Command"
            )
        try:
            if outcome == "reassign":
                reason = self._reassign(row, record, wanted)
            elif record["kind"] == "entry_code":
                reason = self._set_entry_code(record)
            elif outcome == "create":
                reason = self._add(record, record["user_id"], wanted)
            else:
                reason = self._set_status(record, wanted)
        except VerkadaRejected as error:
            return f"Row: {error}"
        if reason is None:
            self._record(row, record, outcome, wanted)
        return reason

    def _add(self, record: Record, user_id: str, wanted: str) -> str | None:
        key = record["credential_key"]
        now = self._read(user_id)
        if now.holds(key):
            if now.status(key) == wanted:
                return None  # already there, as wanted: an earlier run's write
            return _stale("this user already has it, with another status")
        self._write(lambda: self._send_add(record, user_id, wanted), user_id,
                    lambda state: state.holds(key))  # fmt: skip
        return None

    def _send_add(self, record: Record, user_id: str, wanted: str) -> None:
        active = wanted == "active"
        if record["kind"] == "card":
            card = {"type": record["card_type"], "card_number": record["card_number"],
                    "active": active}  # fmt: skip
            if _present(record["facility_code"]):
                card["facility_code"] = record["facility_code"]
            self.client.add_card(user_id, card)
        else:
            plate = {"license_plate_number": record["license_plate"], "name": "", "active": active}
            self.client.add_plate(user_id, plate)

    def _set_status(self, record: Record, wanted: str) -> str | None:
        key, user_id = record["credential_key"], record["user_id"]
        now = self._read(user_id)
        if not now.holds(key):
            return _stale("it was removed from this user in Command since the export")
        if now.status(key) == wanted:
            return None
        if now.status(key) != record["existing_status"]:
            return _stale("its status was changed in Command since the export")
        active = wanted == "active"
        if record["kind"] == "card":
            card_id = now.cards[key]["card_id"]
            send = lambda: self.client.set_card_active(user_id, card_id, active)  # noqa: E731
        else:
            number = record["license_plate"]
            send = lambda: self.client.set_plate_active(user_id, number, active)  # noqa: E731
        self._write(send, user_id, lambda state: state.status(key) == wanted)
        return None

    def _set_entry_code(self, record: Record, *, override: bool = False) -> str | None:
        user_id, code = record["user_id"], record["entry_code"]
        now = self._read(user_id)
        if now.entry_code == code:
            return None
        replaced = record["replaces_entry_code"]
        expected = replaced.split(":", 1)[1] if _present(replaced) else None
        if now.entry_code != expected:
            return _stale("this user's entry code was changed in Command since the export")
        send = lambda: self.client.set_entry_code(user_id, code, override=override)  # noqa: E731
        self._write(send, user_id, lambda state: state.entry_code == code)
        return None

    def _reassign(self, row: int, record: Record, wanted: str) -> str | None:
        """Move a credential: two recorded steps for cards and plates (remove from the old
        owner, add to the new), one call with override for entry codes."""
        key, old = record["credential_key"], record["existing_user_id"]
        before = self._read(old)
        pending = self._pending_move(key, record["user_id"])
        if not before.holds(key) and not pending:
            return _stale("Command no longer has it on its previous owner")
        if before.holds(key) and before.status(key) != record["existing_status"] and not pending:
            return _stale("its status was changed in Command since the export")
        if record["kind"] == "entry_code":
            return self._set_entry_code(record, override=True)
        if before.holds(key):
            self._journal(row, record)  # step 1 of 2, recorded before the call
            if record["kind"] == "card":
                card_id = before.cards[key]["card_id"]
                send = lambda: self.client.delete_card(old, card_id)  # noqa: E731
            else:
                number = record["license_plate"]
                send = lambda: self.client.delete_plate(old, number)  # noqa: E731
            self._write(send, old, lambda state: not state.holds(key))
        try:
            return self._add(record, record["user_id"], wanted)
        except VerkadaRejected as error:
            # The card is off its old owner and Command will not give it to the new one:
            # put it back, so that it is not lost, and fail the row.
            self._add(record, old, record["existing_status"])
            return f"Row: {error}; it was put back on its previous owner"

    # --- calls with their guarantees -------------------------------------------------------

    def _read(self, user_id: str) -> CommandCredentials:
        answer = self.client.get_user(user_id=user_id)
        if answer is None:
            raise VerkadaRejected(404, f"Command has no user {user_id}")
        return CommandCredentials.from_api(answer)

    def _write(
        self,
        send: Callable[[], None],
        user_id: str,
        applied: Callable[[CommandCredentials], bool],
    ) -> None:
        """Send a write; when its fate is unknown, read the user again and count it done if it
        applied, else send it again (up to max_attempts)."""
        limits = self.client.limits
        for attempt in range(limits.max_attempts):
            try:
                send()
                return
            except WriteOutcomeUnknown:
                if applied(self._read(user_id)):
                    return
                self.client.stats.retries += 1
                self.client.limiter.pause(
                    min(limits.backoff_initial_seconds * 2**attempt, limits.backoff_max_seconds)
                )
        raise VerkadaFatal(f"a write did not go through after {limits.max_attempts} attempts")

    # --- the local directory -----------------------------------------------------------------

    def _journal(self, row: int, record: Record) -> None:
        """Record that a move starts, so that a re-run after a crash finishes it."""
        self.flush()
        with self.directory.engine.begin() as conn:
            conn.execute(
                credential_history.insert().values(
                    run_id=self.run_id, row=row, credential_key=record["credential_key"],
                    action=REASSIGN_STARTED, before={"user_id": record["existing_user_id"]},
                    after={"user_id": record["user_id"]}, at=now_utc(),
                )
            )  # fmt: skip

    def _pending_move(self, key: str, to_user: str) -> bool:
        """Whether the last recorded change of this credential is a move to to_user that was
        started and never finished (a crash between its two steps)."""
        with self.directory.engine.connect() as conn:
            last = conn.execute(
                sa.select(credential_history.c.action, credential_history.c.after)
                .where(credential_history.c.credential_key == key)
                .order_by(credential_history.c.id.desc())
                .limit(1)
            ).first()
        return (
            last is not None
            and last.action == REASSIGN_STARTED
            and (last.after or {}).get("user_id") == to_user
        )

    def _record(self, row: int, record: Record, outcome: str, wanted: str) -> None:
        """Note a change applied in Command, for the local directory and its history."""
        self._unrecorded.append((row, record, outcome, wanted))
        if (
            len(self._unrecorded) >= self.RECORD_EVERY_ROWS
            or time.monotonic() - self._recorded_at >= self.RECORD_EVERY_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        """Write the noted changes to the local directory and its history, in one
        transaction: replaced entry codes out, then moves and updates, then new credentials."""
        changes, self._unrecorded = self._unrecorded, []
        self._recorded_at = time.monotonic()
        if not changes:
            return
        now = now_utc()
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        with self.directory.engine.begin() as conn:
            owners = {record["user_id"] for _, record, _, _ in changes}
            user_pks = dict(
                conn.execute(
                    sa.select(users.c.user_id, users.c.id).where(users.c.user_id.in_(owners))
                ).all()
            )
            keys = [record["credential_key"] for _, record, _, _ in changes]
            replaced = [record["replaces_entry_code"] for _, record, _, _ in changes
                        if _present(record["replaces_entry_code"])]  # fmt: skip
            if replaced:
                conn.execute(credentials.delete().where(credentials.c.credential_key.in_(replaced)))
            existing = dict(
                conn.execute(
                    sa.select(credentials.c.credential_key, credentials.c.id).where(
                        credentials.c.credential_key.in_(keys)
                    )
                ).all()
            )
            updates, inserts, history = [], [], []
            for row, record, outcome, wanted in changes:
                key = record["credential_key"]
                user_pk = user_pks[record["user_id"]]
                if key in existing:
                    updates.append({"target": existing[key], "new_user_pk": user_pk,
                                    "new_status": wanted})  # fmt: skip
                else:
                    inserts.append({"user_pk": user_pk, "kind": record["kind"],
                                    "credential_key": key, "status": wanted, "modified": now,
                                    **{name: _value(record[name]) for name in _VALUE_FIELDS}})  # fmt: skip
                if _present(record["replaces_entry_code"]):
                    history.append(self._history(row, record["replaces_entry_code"], "delete",
                                                 None, None, now))  # fmt: skip
                before = None
                if _present(record["existing_user_id"]):
                    before = {"user_id": record["existing_user_id"],
                              "status": record["existing_status"]}  # fmt: skip
                after = {"user_id": record["user_id"], "status": wanted, "modified": stamp}
                history.append(self._history(row, key, outcome, before, after, now))
            if updates:
                conn.execute(
                    credentials.update()
                    .where(credentials.c.id == sa.bindparam("target"))
                    .values(user_pk=sa.bindparam("new_user_pk"),
                            status=sa.bindparam("new_status"), modified=now),
                    updates,
                )  # fmt: skip
            if inserts:
                conn.execute(credentials.insert(), inserts)
            conn.execute(credential_history.insert(), history)

    def _history(self, row: int, key: str, action: str, before: Any, after: Any,
                 at: Any) -> dict[str, Any]:  # fmt: skip
        return {"run_id": self.run_id, "row": row, "credential_key": key, "action": action,
                "before": before, "after": after, "at": at}  # fmt: skip


def _wanted_status(record: Record) -> str:
    if _present(record["status"]):
        return record["status"]
    return record["existing_status"] if _present(record["existing_status"]) else "active"


def _stale(why: str) -> str:
    return f"Row: stale: {why}; export from Command and load it again"


def _present(value: Any) -> bool:
    return value is not None and not (not isinstance(value, str) and pd.isna(value)) and value != ""


def _value(value: Any) -> Any:
    return value if _present(value) else None


def _unknown_user_keys(review: Review) -> dict[tuple[str, str], int]:
    """The key (API parameter, value) of each row that fails only because its user is not in
    the directory, first row per key."""
    errors = review.rows[review.rows["severity"] == "error"]
    codes = errors.groupby("row")["code"].agg(set)
    unknown = codes[codes.map(lambda found: found == {"unknown-user"})].index
    wanted: dict[tuple[str, str], int] = {}
    for row in unknown:
        cells = review.table.loc[int(row)]
        for header, parameter in (("User ID", "user_id"), ("External ID", "external_id"),
                                  ("Email", "email")):  # fmt: skip
            if cells[header]:
                wanted.setdefault((parameter, cells[header]), int(row))
                break
    return wanted


def _add_user(directory: Directory, answer: dict[str, Any], cells: Record) -> bool:
    """Add (or bring back) a user Command knows; False when the directory refuses it."""
    user_id = answer["user_id"]
    with directory.engine.begin() as conn:
        known = conn.execute(sa.select(users.c.id).where(users.c.user_id == user_id)).scalar()
        if known is not None:  # marked gone by an export that listed no credential of theirs
            conn.execute(users.update().where(users.c.id == known).values(gone_at=None))
            return True
    user = NewUser(
        first_name=cells["First Name"],
        last_name=cells["Last Name"],
        external_id=answer.get("external_id") or None,
        employee_id=answer.get("employee_id") or cells["Employee ID"] or None,
        email=answer.get("email") or cells["Email"] or None,
        user_id=user_id,
    )
    try:
        directory.add_users([user])
    except sa.exc.IntegrityError:  # a key another local user holds: the row stays unknown
        return False
    return True
