"""The user import: add or update directory users from a user CSV, row by row, with findings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from credkit.columns import fold_header
from credkit.directory import (
    Directory,
    email_key,
    email_lookalikes,
    new_user_id,
    record_run,
    users,
)
from credkit.findings import Code, finding, findings_frame, quoted
from credkit.reading import CsvTable, read_csv_file, strip_formula_prefix
from credkit.rules import stored_length_findings

#: The user CSV's headers.
USER_HEADERS = ["First Name", "Last Name", "External ID", "Employee ID", "Email"]
_FIELDS = dict(
    zip(
        USER_HEADERS,
        ["first_name", "last_name", "external_id", "employee_id", "email"],
        strict=True,
    )
)

#: The directory column each user CSV column is stored in (for field-too-long).
USER_CSV_STORED = {header: users.c[name] for header, name in _FIELDS.items()}

# Deliberately loose: one @, no spaces, a dot in the domain. Deliverability is not our job.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class UserImportResult:
    """What a user import did: counts per outcome, the findings, and its run record id."""

    counts: dict[str, int] = field(
        default_factory=lambda: {"create": 0, "update": 0, "unchanged": 0, "fail": 0}
    )
    findings: pd.DataFrame = field(default_factory=findings_frame)
    run_id: int | None = None
    rejected: bool = False


def import_users(
    directory: Directory,
    path: str | Path,
    *,
    on_behalf_of: str | None = None,
    operator: str | None = None,
) -> UserImportResult:
    """Add users, or update them matched by External ID then Email; bad rows are reported.

    The run's operator is the login the directory sees; on_behalf_of (``operator`` is its
    name from before) is a note recorded beside it.
    """
    table = read_csv_file(path)
    result = UserImportResult()
    records: list[dict[str, object]] = table.findings.to_dict("records")
    frame = _user_columns(table, records) if table.readable else None
    if frame is None or any(r["severity"] == "error" and r["row"] in (None, 1) for r in records):
        result.rejected = True
        result.findings = findings_frame(records)
        return result

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
    bad_rows = {r["row"] for r in records if r["severity"] == "error"}

    with directory.engine.begin() as conn:
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
                        text=f"External ID {row['external_id']} and Email {row['email']} belong "
                        "to different users",  # transitional: the rules' template is not written
                    )
                )
            if problems or row_number in bad_rows:
                records.extend(problems)
                result.counts["fail"] += 1
                continue
            outcome = _apply_user(conn, row, user_id, current)
            if isinstance(outcome, dict):
                records.append(outcome | {"row": row_number})
                result.counts["fail"] += 1
            else:
                result.counts[outcome] += 1
        result.run_id = record_run(
            conn,
            kind="users",
            on_behalf_of=on_behalf_of or operator,
            file_name=Path(path).name,
            file_sha256=table.sha256,
            options={},
            counts=result.counts,
        )
    result.findings = findings_frame(records)
    return result


def _user_columns(table: CsvTable, records: list[dict[str, object]]) -> pd.DataFrame | None:
    """The rows as a frame of the five user fields, matched from the headers by folding."""
    wanted = {fold_header(header): header for header in USER_HEADERS}
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
    if len(positions) < len(USER_HEADERS) and any(r["row"] == 1 for r in records):
        return None
    frame = pd.DataFrame(index=table.rows.index)
    for header, name in _FIELDS.items():
        frame[name] = (
            strip_formula_prefix(table.rows[positions[header]].str.strip())
            if header in positions
            else ""
        )
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
    email = row["email"]
    if email and not _EMAIL.match(email):
        problems.append(
            finding(
                Code.EMAIL_INVALID, row=row_number, column="Email", value=email, email=quoted(email)
            )
        )
    if not email and not row["external_id"]:
        problems.append(
            finding(
                Code.MISSING_KEY,
                row=row_number,
                text="The row has neither External ID nor Email",  # transitional (rules' code)
            )
        )
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
                    text=f"{header} {value} is already on row {seen[value]}",  # transitional
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
            text=f"Email {quoted(row['email'])} has look-alike characters ({quoted(lookalikes)}); "
            "it matches only an email written with them",  # transitional: the rules' code
        )
    ]


def _apply_user(
    conn: sa.Connection, row: pd.Series, user_id: str | None, current: pd.DataFrame
) -> str | dict[str, object]:
    """Create or update one user in a savepoint: the outcome, or a finding if the database refuses.

    On an update an empty cell leaves the directory's value as it is: a file that lacks a
    column, or a value, never erases what the directory knows.
    """
    values = {name: row[name] or None for name in _FIELDS.values()}
    if user_id is not None:
        before = current.loc[user_id]
        values = {name: value or before[name] for name, value in values.items()}
        if all((before[name] or None) == values[name] for name in _FIELDS.values()):
            return "unchanged"
    values["email_key"] = email_key(values["email"])
    try:
        with conn.begin_nested():
            if user_id is None:
                conn.execute(users.insert().values(user_id=new_user_id(), **values))
            else:
                conn.execute(users.update().where(users.c.user_id == user_id).values(**values))
    except IntegrityError:
        return finding(Code.USER_CONFLICT, column="Email", value=row["email"])
    return "create" if user_id is None else "update"
