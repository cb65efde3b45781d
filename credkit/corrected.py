"""The corrected file: a review's passing rows as a canonical credential CSV, the rest as failed rows."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pandas as pd
import sqlalchemy as sa

from credkit.columns import HEADERS
from credkit.directory import Directory, one_of, users
from credkit.export import format_modified
from credkit.importer import dry_run, plan_import
from credkit.reading import add_formula_prefix
from credkit.review import Review

_USER_HEADERS = {
    "First Name": "first_name",
    "Last Name": "last_name",
    "User ID": "user_id",
    "External ID": "external_id",
    "Employee ID": "employee_id",
    "Email": "email",
}


@dataclass(frozen=True)
class CorrectedFiles:
    """How many rows went where."""

    corrected_rows: int
    failed_rows: int
    failed_path: Path | None


def corrected_frame(
    review: Review, directory: Directory, rows: Sequence[int] | None = None
) -> pd.DataFrame:
    """The review's passing rows (after the operator's edits) in SPEC's export form: the user's
    keys and names as the directory holds them, canonical card type, both card number forms,
    normalised plates, Active/Inactive, Modified in ISO 8601 UTC.

    rows, when given, are the rows to write instead (a plan's rows that do not fail, after the
    operator's skips and reassigns)."""
    resolved = review.resolved.loc[review.passing_rows if rows is None else list(rows)]
    owners = _users(directory, resolved["user_id"])
    frame = pd.DataFrame(index=resolved.index)
    for header, column in _USER_HEADERS.items():
        frame[header] = resolved["user_id"].map(owners[column])
    frame["Card Type"] = resolved["card_type"]
    frame["Facility Code"] = resolved["facility_code"]
    frame["Card Number"] = resolved["card_number"]
    frame["Card Number Hex"] = resolved["card_number_hex"]
    frame["License Plate"] = resolved["license_plate"]
    frame["Entry Code"] = resolved["entry_code"]
    # An empty status stays empty: for an existing credential it means "leave as is".
    frame["Credential Status"] = resolved["status"].map(
        {"active": "Active", "inactive": "Inactive"}
    )
    frame["Modified"] = [
        "" if moment is None or pd.isna(moment) else format_modified(pd.Timestamp(moment))
        for moment in resolved["modified"]
    ]
    frame = frame[HEADERS].astype(object)
    frame = frame.where(frame.notna(), "").astype(str)
    return frame.apply(add_formula_prefix)


def write_corrected(
    review: Review,
    directory: Directory,
    corrected: str | Path,
    failed: str | Path | None = None,
) -> CorrectedFiles:
    """Write the passing rows to corrected and, when some rows fail, those rows (with Row and
    Error) to failed (default: beside corrected, ``NAME.failed.csv``). Each file is written
    whole or not at all."""
    corrected = Path(corrected)
    frame = corrected_frame(review, directory)
    result = dry_run(plan_import(review))
    failed_count = len(result.failed_rows)
    failed_path = None
    if failed_count:
        failed_path = Path(failed) if failed else corrected.with_suffix(".failed.csv")
    _write_whole(corrected, lambda stream: _write_rows(stream, frame))
    if failed_path is not None:
        _write_whole(failed_path, result.write_failed_rows)
    return CorrectedFiles(len(frame), failed_count, failed_path)


def _write_rows(stream: IO[str], frame: pd.DataFrame) -> None:
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(frame.itertuples(index=False, name=None))


def _write_whole(path: Path, write: Callable[[IO[str]], object]) -> None:
    """Write a file through a temporary one beside it, renamed into place when complete."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            write(stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _users(directory: Directory, user_ids: pd.Series) -> pd.DataFrame:
    """The rows' users, indexed by user_id."""
    columns = list(_USER_HEADERS.values())
    wanted = list(pd.unique(user_ids.dropna()))
    if not wanted:
        return pd.DataFrame(columns=columns).set_index("user_id", drop=False)
    with directory.engine.connect() as conn:
        query = sa.select(*(users.c[name] for name in columns)).where(
            one_of(conn, users.c.user_id, wanted)
        )
        frame = pd.DataFrame(conn.execute(query).all(), columns=columns, dtype=object)
    return frame.set_index("user_id", drop=False)
