"""The user import: add or update directory users from a user CSV, each row's user with its
card, license plate and entry code, planned first, applied row by row, with findings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from credkit.columns import HEADERS, fold_header
from credkit.conversion import Conversion, SourcePart
from credkit.directory import (
    Directory,
    DirectoryLookup,
    email_key,
    email_lookalikes,
    finish_run,
    new_user_id,
    now_utc,
    start_run,
    user_history,
    users,
    write_transaction,
)
from credkit.findings import Code, finding, findings_frame, quoted
from credkit.importer import (
    APPLIED,
    DirectoryChanged,
    Plan,
    plan_import,
    write_failed_rows_csv,
    write_planned_rows,
)
from credkit.reading import CsvTable, read_csv_file, strip_formula_prefix
from credkit.review import ReviewOptions, review_table
from credkit.rules import CARD_COLUMNS, stored_length_findings
from credkit.splits import credential_parts

#: The user CSV's headers.
USER_HEADERS = ["First Name", "Last Name", "External ID", "Employee ID", "Email"]
_FIELDS = dict(
    zip(
        USER_HEADERS,
        ["first_name", "last_name", "external_id", "employee_id", "email"],
        strict=True,
    )
)
#: Active or Suspended, any case; empty: Active for a new user, as it is for an existing one.
STATUS_HEADER = "User Status"
_STATUSES = {"active": "active", "suspended": "suspended"}
#: The optional credential columns of a user row, as the credential CSV names them: they
#: become up to three credentials of the row's user (a card, a license plate, an entry code).
CREDENTIAL_HEADERS = [*CARD_COLUMNS, "License Plate", "Entry Code", "Credential Status"]
#: Every column a user CSV may have, in the order the failed-rows CSV and the runbook show.
ALL_USER_HEADERS = [*USER_HEADERS, STATUS_HEADER, *CREDENTIAL_HEADERS]

#: The directory column each user CSV column is stored in (for field-too-long).
USER_CSV_STORED = {header: users.c[name] for header, name in _FIELDS.items()}
#: A user as its history keeps it: enough to put it back exactly.
USER_STATE = [*_FIELDS.values(), "email_key", "status"]
OUTCOMES = ("create", "update", "unchanged", "fail")
#: The row outcomes that write.
APPLIED_ROWS = ("create", "update")
#: Rows written in one savepoint; a batch the database refuses is written again row by row.
USER_BATCH_SIZE = 500

# Deliberately loose: one @, no spaces, a dot in the domain. Deliverability is not our job.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class PlannedUser:
    """What one row does to its user: create, update or leave unchanged, and the fields after."""

    row: int
    user_id: str
    outcome: str  # create, update or unchanged
    before: dict[str, Any] | None  # None: the row creates the user
    after: dict[str, Any]


@dataclass
class UserPlan:
    """Every row's planned outcome (a dry run: nothing written): its user, its credentials
    (reviewed by the credential review itself), and for failing rows the reasons."""

    file_name: str
    sha256: str
    source: CsvTable
    rejected: bool
    findings: pd.DataFrame  # rows numbered as the user file numbers them
    rows: pd.DataFrame  # index: row; columns: outcome, reason, user, credentials
    users: dict[int, PlannedUser] = field(default_factory=dict)
    conversion: Conversion | None = None  # the rows' credentials, one a row, and their sources
    credential_plan: Plan | None = None  # the credential review's plan of that table

    def counts(self) -> dict[str, int]:
        """Rows per outcome: create (a new user), update, unchanged, fail."""
        counted = self.rows["outcome"].value_counts()
        return {outcome: int(counted.get(outcome, 0)) for outcome in OUTCOMES}

    def credential_counts(self) -> dict[str, int]:
        """Credentials per outcome, those of failing rows as fail (see credkit.importer)."""
        outcomes = self.credential_outcomes()["outcome"]
        counted = outcomes.value_counts()
        names = ("create", "update", "reassign", "unchanged", "fail")
        return {outcome: int(counted.get(outcome, 0)) for outcome in names}

    def credential_outcomes(self) -> pd.DataFrame:
        """One line per credential: its source row, part, what it is, and its outcome."""
        columns = ["row", "part", "credential", "outcome"]
        if self.credential_plan is None or self.conversion is None:
            return pd.DataFrame(columns=columns)
        table = self.credential_plan.review.table
        outcomes = self.credential_plan.rows["outcome"].reindex(table.index)
        failing = set(self.rows.index[self.rows["outcome"] == "fail"])
        lines = []
        # One pass over plain tuples: per-row pandas access costs seconds at 10,000 rows.
        for (output_row, *cells), outcome in zip(
            table.itertuples(name=None), outcomes.tolist(), strict=True
        ):
            source = self.conversion.sources[int(output_row)]
            words = _credential_words(dict(zip(table.columns, cells, strict=True)))
            lines.append(
                (source.row, source.part, words, "fail" if source.row in failing else outcome)
            )
        return pd.DataFrame(lines, columns=columns)

    def credentials_by_row(self) -> dict[int, list[tuple[str, str]]]:
        """Per row, its credentials in words with their outcomes, in part order."""
        grouped: dict[int, list[tuple[str, str]]] = {}
        for row, words, outcome in self.credential_outcomes()[
            ["row", "credential", "outcome"]
        ].itertuples(index=False, name=None):
            grouped.setdefault(int(row), []).append((words, outcome))
        return grouped


@dataclass
class UserImportResult:
    """What a user import did: counts per outcome, the findings, and its run record id."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    findings: pd.DataFrame = field(default_factory=findings_frame)
    run_id: int | None = None
    rejected: bool = False
    credential_counts: dict[str, int] = field(default_factory=dict)
    rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["outcome", "reason"]))
    failed_rows: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    dry_run: bool = False

    def write_failed_rows(self, destination: str | Path | IO[str]) -> int:
        """Write the failed rows (Row, the file's columns, Error) as a CSV to fix and import."""
        return write_failed_rows_csv(self.failed_rows, destination)


def import_users(
    directory: Directory,
    path: str | Path,
    *,
    on_behalf_of: str | None = None,
    operator: str | None = None,
    dry_run: bool = False,
    reassign: bool = False,
) -> UserImportResult:
    """Plan a user file, then (unless dry_run) apply it: see plan_users and execute_users.

    The run's operator is the login the directory sees; on_behalf_of (``operator`` is its
    name from before) is a note recorded beside it.
    """
    plan = plan_users(directory, path, reassign=reassign)
    if dry_run or plan.rejected:
        return planned_result(plan)
    return execute_users(plan, directory, on_behalf_of=on_behalf_of or operator)


def plan_users(directory: Directory, path: str | Path, *, reassign: bool = False) -> UserPlan:
    """Every row's outcome if the file were imported now; nothing is written.

    Users are matched by External ID, then Email. A row's card, license plate and entry code
    become credentials of its user (one source row, several parts) in a credential table that
    the credential review reviews with its own rules, the users this file creates counted as
    known; their findings name the user file's row and the part ("row 7, credential 2 of 3").
    A row fails whole when its user or any of its credentials has an error.
    """
    table = read_csv_file(path)
    records: list[dict[str, object]] = table.findings.to_dict("records")
    frame = _user_columns(table, records) if table.readable else None
    name = Path(path).name
    if frame is None or any(r["severity"] == "error" and r["row"] in (None, 1) for r in records):
        return UserPlan(name, table.sha256, table, True, findings_frame(records),
                        pd.DataFrame(columns=["outcome", "reason", "user", "credentials"]))  # fmt: skip

    existing = directory.users_frame()
    by_external = {
        v: u for v, u in zip(existing["external_id"], existing["user_id"], strict=True) if v
    }
    by_email = {
        email_key(v): u for v, u in zip(existing["email"], existing["user_id"], strict=True) if v
    }
    current = existing.set_index("user_id")
    seen_emails: dict[str, int] = {}
    seen_external: dict[str, int] = {}
    # Checked before the database sees them: PostgreSQL refuses a longer value (and would
    # roll the whole import back), SQLite would store it; both must fail the row alike.
    headed = frame.rename(columns={name: header for header, name in _FIELDS.items()})
    records.extend(stored_length_findings(headed, USER_CSV_STORED).to_dict("records"))
    planned: dict[int, PlannedUser] = {}
    for row_number, row in frame.iterrows():
        problems = _row_problems(row_number, row, seen_emails, seen_external)
        records.extend(_row_warnings(row_number, row))
        user_id = by_external.get(row["external_id"]) or by_email.get(email_key(row["email"]))
        other = by_email.get(email_key(row["email"]))
        if user_id and other and other != user_id:
            problems.append(
                finding(
                    Code.KEYS_DISAGREE,
                    row=row_number,
                    column="Email",
                    value=row["email"],
                    key="Email",
                    written=quoted(row["email"]),
                    chosen="External ID",
                )
            )
        records.extend(problems)
        planned[int(row_number)] = _planned_user(int(row_number), row, user_id, current)

    failing = {r["row"] for r in records if r["severity"] == "error"}
    # Only rows whose user can be applied get their credentials reviewed: a row that fails
    # already has no user to give them to.
    with_user = {row: user for row, user in planned.items() if row not in failing}
    conversion = _credential_table(table, frame, with_user)
    credential_plan = None
    if conversion is not None:
        lookup = PlannedUsersLookup(directory, list(with_user.values()))
        review = review_table(
            conversion.as_csv_table(),
            directory,
            ReviewOptions(reassign=reassign),
            file_name=name,
            lookup=lookup,
        )
        credential_plan = plan_import(review)
        records.extend(_in_source_rows(conversion, review.rows).to_dict("records"))
    findings = _in_row_order(findings_frame(records))
    reasons = _reasons(findings)
    rows = pd.DataFrame(index=pd.Index(list(planned), name="row"))
    rows["user"] = [user.outcome for user in planned.values()]
    parts = pd.Series(0, index=rows.index)
    changes = pd.Series(False, index=rows.index)
    if conversion is not None and credential_plan is not None:
        sources = pd.Series({out: src.row for out, src in conversion.sources.items()})
        outcomes = credential_plan.rows["outcome"]
        parts = sources.value_counts().reindex(rows.index, fill_value=0)
        applied = sources[outcomes.reindex(sources.index).isin(APPLIED).to_numpy()]
        changes = pd.Series(rows.index.isin(applied.to_numpy()), index=rows.index)
    rows["credentials"] = parts.astype(int)
    outcome = rows["user"].mask((rows["user"] == "unchanged") & changes, "update")
    rows["reason"] = reasons.reindex(rows.index).fillna("").astype(str)
    rows["outcome"] = outcome.mask(rows["reason"] != "", "fail")
    return UserPlan(
        name,
        table.sha256,
        table,
        False,
        findings,
        rows[["outcome", "reason", "user", "credentials"]],
        planned,
        conversion,
        credential_plan,
    )


def planned_result(plan: UserPlan) -> UserImportResult:
    """A plan presented as a result (nothing written, no run recorded)."""
    return UserImportResult(
        counts=plan.counts() if not plan.rejected else dict.fromkeys(OUTCOMES, 0),
        findings=plan.findings,
        rejected=plan.rejected,
        credential_counts=plan.credential_counts(),
        rows=plan.rows[["outcome", "reason"]],
        failed_rows=failed_user_rows(plan, plan.rows),
        dry_run=True,
    )


def execute_users(
    plan: UserPlan, directory: Directory, *, on_behalf_of: str | None = None
) -> UserImportResult:
    """Apply a plan in one transaction, each row in a savepoint of its own: a row's user and
    its credentials are written together or not at all, and a row the database refuses
    (another operator's change since the plan) fails alone, with its reason."""
    if plan.rejected:
        return planned_result(plan)
    rows = plan.rows[["outcome", "reason"]].copy()
    extra: list[dict[str, object]] = []
    credentials_by_row = _applied_credentials(plan)
    with directory.engine.connect() as conn, write_transaction(conn):
        run_id = start_run(
            conn,
            kind="users",
            on_behalf_of=on_behalf_of,
            file_name=plan.file_name,
            file_sha256=plan.sha256,
            options={"reassign": bool(plan.credential_plan
                                      and plan.credential_plan.review.options.reassign)},
        )  # fmt: skip
        at = now_utc()
        to_apply = [int(row) for row in rows.index[rows["outcome"].isin(APPLIED_ROWS).to_numpy()]]
        for start in range(0, len(to_apply), USER_BATCH_SIZE):
            batch = [plan.users[row] for row in to_apply[start : start + USER_BATCH_SIZE]]
            if _apply_batch(conn, run_id, batch, credentials_by_row, at):
                continue
            # Someone else's change collides with a row here: find which, row by row.
            for user in batch:
                refused = _apply_row(conn, run_id, user, credentials_by_row.get(user.row), at)
                if refused is not None:
                    extra.append(refused | {"row": user.row})
                    rows.loc[user.row, ["outcome", "reason"]] = [
                        "fail",
                        f"{refused['column'] or 'Row'}: {refused['message']}",
                    ]
        counts = {o: int((rows["outcome"] == o).sum()) for o in OUTCOMES}
        credential_counts = plan.credential_counts()
        recorded = counts | {f"credentials_{o}": n for o, n in credential_counts.items()}
        finish_run(conn, run_id, recorded)
    findings = _in_row_order(findings_frame([*plan.findings.to_dict("records"), *extra]))
    return UserImportResult(
        counts=counts,
        findings=findings,
        run_id=run_id,
        credential_counts=credential_counts,
        rows=rows,
        failed_rows=failed_user_rows(plan, rows),
    )


def plan_text(plan: UserPlan) -> str:
    """The plan as text, a line per row: its outcome, its user, and each credential's outcome
    (entry codes masked, control characters escaped)."""
    from credkit.render import printable

    lines = ["Plan:"]
    parts = plan.credentials_by_row()
    for row, outcome, user_outcome in plan.rows[["outcome", "user"]].itertuples(name=None):
        user = plan.users[int(row)].after
        name = printable(f"{user['first_name'] or ''} {user['last_name'] or ''}".strip())
        credentials = "; ".join(
            f"{printable(words)} {part_outcome}" for words, part_outcome in parts.get(row, [])
        )
        line = f"  row {row}: {outcome} {name} (user {user_outcome})"
        lines.append(line + (f"; {credentials}" if credentials else ""))
    return "\n".join(lines)


def failed_user_rows(plan: UserPlan, rows: pd.DataFrame) -> pd.DataFrame:
    """The failed rows as the operator fixes them: Row, the file's own columns, and Error."""
    headers = [str(header) for header in plan.source.headers]
    if plan.rejected or rows.empty:
        return pd.DataFrame(columns=["Row", "Error"])
    failed = rows[rows["outcome"] == "fail"]
    frame = plan.source.rows.loc[failed.index].copy()
    frame = frame.reindex(columns=range(len(headers))).fillna("").astype(str)
    frame.columns = headers
    # A failed-rows file imported again: its Row and Error are the last run's, not data.
    frame = frame.loc[:, [fold_header(h) not in ("row", "error") for h in headers]]
    frame.insert(0, "Row", failed.index.astype(str))
    frame["Error"] = failed["reason"].to_numpy()
    return frame.reset_index(drop=True)


class PlannedUsersLookup(DirectoryLookup):
    """The directory as the credential review sees it during a user import: the users the
    file creates exist already, and those it updates have their new keys and names."""

    def __init__(self, directory: Directory, planned: list[PlannedUser]) -> None:
        super().__init__(directory)
        columns = ["user_id", "external_id", "email_key", "first_name", "last_name"]
        self.planned = pd.DataFrame(
            [[user.user_id, *(user.after[name] for name in columns[1:])] for user in planned],
            columns=columns,
            dtype=object,
        )

    def users(self, keys: dict[str, pd.Series]) -> pd.DataFrame:
        found = super().users(keys)
        found = found[~found["user_id"].isin(self.planned["user_id"])]
        match = pd.Series(False, index=self.planned.index)
        for name, values in keys.items():
            wanted = set(values[values.notna() & (values != "")].tolist())
            match |= self.planned[name].isin(wanted)
        return pd.concat([found, self.planned[match]], ignore_index=True)


def _planned_user(
    row_number: int, row: pd.Series, user_id: str | None, current: pd.DataFrame
) -> PlannedUser:
    """The row's user after the import. On an update an empty cell leaves the directory's
    value as it is: a file that lacks a column, or a value, never erases what it knows."""
    values = {name: row[name] or None for name in _FIELDS.values()}
    status = _STATUSES.get(row["status"].casefold()) if row["status"] else None
    if user_id is None:
        after = values | {"status": status or "active"}
        after["email_key"] = email_key(after["email"])
        return PlannedUser(row_number, new_user_id(), "create", None, after)
    before_row = current.loc[user_id]
    before = {name: before_row[name] or None for name in [*_FIELDS.values(), "status"]}
    before["email_key"] = email_key(before["email"])
    after = {name: value or before[name] for name, value in values.items()}
    after["status"] = status or before["status"]
    after["email_key"] = email_key(after["email"])
    outcome = "unchanged" if after == before else "update"
    return PlannedUser(row_number, user_id, outcome, before, after)


def _credential_table(
    table: CsvTable, frame: pd.DataFrame, planned: dict[int, PlannedUser]
) -> Conversion | None:
    """The rows' credentials in the credential CSV's columns, one a row, each keyed to its
    row's user by User ID, External ID and Email as they will be; None when there are none."""
    present = [header for header in CREDENTIAL_HEADERS if header in frame.columns]
    if not any(header in present for header in (*CARD_COLUMNS, "License Plate", "Entry Code")):
        return None
    output: list[dict[str, str]] = []
    sources: dict[int, SourcePart] = {}
    for row_number, user in planned.items():
        row = frame.loc[row_number]
        cells = {header: row[header] if header in present else "" for header in HEADERS}
        parts = credential_parts(cells)
        after = user.after
        keys = {
            "First Name": after["first_name"] or "",
            "Last Name": after["last_name"] or "",
            "User ID": user.user_id,
            "External ID": after["external_id"] or "",
            "Employee ID": "",
            "Email": after["email"] or "",
            "Modified": "",
        }
        for number, part in enumerate(parts, start=1):
            sources[len(output) + 2] = SourcePart(row_number, number, len(parts))
            output.append(part | keys)
    if not output:
        return None
    credential_table = pd.DataFrame(output, columns=HEADERS).fillna("").astype(str)
    credential_table.index = pd.RangeIndex(2, len(output) + 2, name="row")
    return Conversion(credential_table, sources, findings_frame(), table)


#: "on row N" in the credential review's messages (duplicate-in-file names the first row).
_ON_ROW = re.compile(r"\bon row (\d+)\b")


def _in_source_rows(conversion: Conversion, findings: pd.DataFrame) -> pd.DataFrame:
    """The credential review's findings with the user file's rows and parts: in the row
    column (as Conversion.in_source_rows gives them) and where a message names a row."""
    shown = conversion.in_source_rows(findings)
    if shown.empty:
        return shown

    def source_of(match: re.Match[str]) -> str:
        part = conversion.sources.get(int(match.group(1)))
        return f"on {part.describe()}" if part else match.group(0)

    shown["message"] = [_ON_ROW.sub(source_of, str(text)) for text in shown["message"]]
    return shown


def _credential_words(cells: dict[str, str]) -> str:
    """A credential of the table in words, for the plan (entry codes masked)."""
    from credkit.findings import mask_entry_code

    if cells["Entry Code"]:
        return f"Entry Code {mask_entry_code(cells['Entry Code'])}"
    if cells["License Plate"]:
        return f"License Plate {cells['License Plate']}"
    facility = f"{cells['Facility Code']}/" if cells["Facility Code"] else ""
    number = cells["Card Number"] or cells["Card Number Hex"]
    return f"Card {cells['Card Type']} {facility}{number}".replace("  ", " ")


def _applied_credentials(plan: UserPlan) -> dict[int, pd.DataFrame]:
    """Per source row, the credentials to write, as the importer's guarded writes take them
    (indexed by the user file's row, which their history records)."""
    if plan.credential_plan is None or plan.conversion is None:
        return {}
    review = plan.credential_plan.review
    outcome = plan.credential_plan.rows["outcome"]
    applied = outcome.index[outcome.isin(APPLIED).to_numpy()]
    planned = review.resolved.loc[applied].assign(outcome=outcome.loc[applied])
    planned.index = pd.Index([plan.conversion.sources[int(r)].row for r in applied], name="row")
    return {int(row): group for row, group in planned.groupby(level=0, sort=False)}


def _apply_batch(
    conn: sa.Connection,
    run_id: int,
    batch: list[PlannedUser],
    credentials_by_row: dict[int, pd.DataFrame],
    at: Any,
) -> bool:
    """Write a batch of rows in one savepoint (the credential writes cost per call, not per
    row); False, with nothing written, when the database refuses any of them."""
    try:
        with conn.begin_nested():
            created = [user for user in batch if user.outcome == "create"]
            if created:
                conn.execute(
                    users.insert(),
                    [{"user_id": u.user_id} | {n: u.after[n] for n in USER_STATE} for u in created],
                )
            changed = [
                user for user in batch if user.outcome == "create" or user.after != user.before
            ]
            for user in changed:
                if user.outcome != "create":
                    done = conn.execute(
                        users.update()
                        .where(users.c.user_id == user.user_id)
                        .values(**{name: user.after[name] for name in USER_STATE})
                    )
                    if done.rowcount != 1:
                        raise DirectoryChanged("the user was removed from the directory meanwhile")
            if changed:
                conn.execute(
                    user_history.insert(),
                    [
                        {"run_id": run_id, "row": u.row, "user_id": u.user_id,
                         "action": u.outcome, "before": u.before, "after": u.after, "at": at}
                        for u in changed
                    ],
                )  # fmt: skip
            planned = [credentials_by_row[u.row] for u in batch if u.row in credentials_by_row]
            if planned:
                write_planned_rows(conn, run_id, pd.concat(planned))
    except (DBAPIError, DirectoryChanged):
        return False
    return True


def _apply_row(
    conn: sa.Connection,
    run_id: int,
    user: PlannedUser,
    planned: pd.DataFrame | None,
    at: Any,
) -> dict[str, object] | None:
    """Write one row's user and credentials in a savepoint; a finding when the database refuses."""
    stage = "user"
    try:
        with conn.begin_nested():
            values = {name: user.after[name] for name in USER_STATE}
            if user.outcome == "create":
                conn.execute(users.insert().values(user_id=user.user_id, **values))
            elif user.after != user.before:
                done = conn.execute(
                    users.update().where(users.c.user_id == user.user_id).values(**values)
                )
                if done.rowcount != 1:
                    raise DirectoryChanged("the user was removed from the directory meanwhile")
            if user.outcome == "create" or user.after != user.before:
                conn.execute(
                    user_history.insert().values(
                        run_id=run_id,
                        row=user.row,
                        user_id=user.user_id,
                        action=user.outcome,
                        before=user.before,
                        after=user.after,
                        at=at,
                    )
                )
            stage = "credentials"
            if planned is not None and len(planned):
                write_planned_rows(conn, run_id, planned)
    except IntegrityError as error:
        if stage == "user":
            return finding(Code.USER_CONFLICT, column="Email", value=user.after["email"])
        return _refused(error)
    except (DBAPIError, DirectoryChanged) as error:
        return _refused(error)
    return None


def _refused(error: Exception) -> dict[str, object]:
    detail = error.orig if isinstance(error, DBAPIError) else error
    return finding(Code.WRITE_REFUSED, detail=str(detail).splitlines()[0])


def _reasons(findings: pd.DataFrame) -> pd.Series:
    """Per row, its errors as one text ("Column: message; ...")."""
    errors = findings[(findings["severity"] == "error") & findings["row"].notna()]
    if errors.empty:
        return pd.Series(dtype=object)
    labelled = errors["column"].fillna("Row").astype(str) + ": " + errors["message"].astype(str)
    return labelled.groupby(errors["row"].astype(int)).agg("; ".join)


def _in_row_order(findings: pd.DataFrame) -> pd.DataFrame:
    """File and column findings first, then by row (stable: each row's in the order found)."""
    order = findings["row"].astype("Float64").fillna(0)
    return findings.iloc[order.argsort(kind="stable")].reset_index(drop=True)


def _user_columns(table: CsvTable, records: list[dict[str, object]]) -> pd.DataFrame | None:
    """The rows as a frame of the user fields (by field name), the User Status (``status``)
    and the credential columns the file has (by header), matched from the headers by folding."""
    wanted = {fold_header(header): header for header in ALL_USER_HEADERS}
    positions: dict[str, int] = {}
    for position, header in enumerate(table.headers):
        expected = wanted.get(fold_header(header))
        if expected and expected not in positions:
            positions[expected] = position
    for header in ("First Name", "Last Name"):
        if header not in positions:
            records.append(finding(Code.MISSING_NAME_COLUMN, row=1, header=header))
    if "External ID" not in positions and "Email" not in positions:
        records.append(finding(Code.MISSING_KEY_COLUMN, row=1, keys="External ID, Email"))
    if any(r["row"] == 1 for r in records):
        return None
    frame = pd.DataFrame(index=table.rows.index)

    def column(header: str) -> pd.Series | str:
        if header not in positions:
            return ""
        return strip_formula_prefix(table.rows[positions[header]].fillna("").str.strip())

    for header, name in _FIELDS.items():
        frame[name] = column(header)
    frame["status"] = column(STATUS_HEADER)
    for header in CREDENTIAL_HEADERS:
        if header in positions:
            frame[header] = column(header)
    return frame


def _row_problems(
    row_number: int, row: pd.Series, seen_emails: dict[str, int], seen_external: dict[str, int]
) -> list[dict[str, object]]:
    problems = []
    for header in ("First Name", "Last Name"):
        if not row[_FIELDS[header]]:
            problems.append(
                finding(Code.MISSING_NAME, row=row_number, column=header, header=header)
            )
    if row["status"] and row["status"].casefold() not in _STATUSES:
        problems.append(
            finding(
                Code.USER_STATUS_INVALID,
                row=row_number,
                column=STATUS_HEADER,
                value=row["status"],
                written=quoted(row["status"]),
            )
        )
    email = row["email"]
    if email and not _EMAIL.match(email):
        problems.append(
            finding(
                Code.EMAIL_INVALID, row=row_number, column="Email", value=email, email=quoted(email)
            )
        )
    if not email and not row["external_id"]:
        problems.append(finding(Code.MISSING_KEY, row=row_number))
    for value, seen, header in (
        (email_key(email), seen_emails, "Email"),
        (row["external_id"], seen_external, "External ID"),
    ):
        if not value:
            continue
        if value in seen:
            problems.append(
                finding(
                    Code.DUPLICATE_IN_FILE,
                    row=row_number,
                    column=header,
                    value=value,
                    credential=f"{header} {value}",
                    first=seen[value],
                )
            )
        else:
            seen[value] = row_number
    return problems


def _row_warnings(row_number: int, row: pd.Series) -> list[dict[str, object]]:
    """email-lookalike: the email matches only one written with the same characters."""
    lookalikes = email_lookalikes(row["email"])
    if not lookalikes:
        return []
    return [
        finding(
            Code.EMAIL_LOOKALIKE,
            row=row_number,
            column="Email",
            value=row["email"],
            written=quoted(row["email"]),
            characters=quoted(lookalikes),
        )
    ]
