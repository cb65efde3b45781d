"""Export of the directory's credentials to the credential CSV, and the blank template."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

import pandas as pd

from credkit.columns import HEADERS
from credkit.defaults import BATCH_SIZE
from credkit.directory import Directory
from credkit.reading import add_formula_prefix

#: The three sample rows of the template: a card, a license plate and an entry code.
TEMPLATE_ROWS = [
    ["Jane", "Doe", "", "EMP-0001", "1001", "jane.doe@example.com", "Standard 26-bit Wiegand",
     "1", "1", "2020002", "", "", "Active", ""],
    ["Jane", "Doe", "", "EMP-0001", "1001", "jane.doe@example.com", "", "", "", "",
     "ABC1234", "", "Active", ""],
    ["John", "Smith", "", "EMP-0002", "1002", "john.smith@example.com", "", "", "", "",
     "", "012345", "Active", ""],
]  # fmt: skip


def format_modified(moment: datetime) -> str:
    """A time as the export writes it: ISO 8601 in UTC, whole seconds, with ``Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def export_frame(batch: pd.DataFrame) -> pd.DataFrame:
    """Directory credentials (as Directory.iter_credentials yields them) as CSV rows."""
    rows = pd.DataFrame(
        {
            "First Name": batch["first_name"],
            "Last Name": batch["last_name"],
            "User ID": batch["user_id"],
            "External ID": batch["external_id"],
            "Employee ID": batch["employee_id"],
            "Email": batch["email"],
            "Card Type": batch["card_type"],
            "Facility Code": batch["facility_code"],
            "Card Number": batch["card_number"],
            "Card Number Hex": batch["card_number_hex"],
            "License Plate": batch["license_plate"],
            "Entry Code": batch["entry_code"],
            "Credential Status": batch["status"].str.capitalize(),
            "Modified": [format_modified(moment) for moment in batch["modified"]],
        },
        columns=HEADERS,
    )
    rows = rows.astype(object).where(rows.notna(), "").astype(str)
    return rows.apply(add_formula_prefix)


RowFilter = Callable[[pd.DataFrame], pd.DataFrame]


@dataclass(frozen=True)
class ExportFilters:
    """Which exported rows to keep; an empty filter keeps everything."""

    status: str = ""  # "Active" or "Inactive"
    card_type: str = ""  # a card type as the export writes it (the registry's name)
    user: str = ""  # part of the user's External ID or Email, in any case

    def apply(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The rows (as credkit.export.iter_export_rows yields them) that pass every filter."""
        keep = pd.Series(True, index=rows.index)
        if self.status:
            keep &= rows["Credential Status"].str.casefold() == self.status.casefold()
        if self.card_type:
            keep &= rows["Card Type"] == self.card_type
        needle = self.user.strip().casefold()
        if needle:
            in_external_id = rows["External ID"].str.casefold().str.contains(needle, regex=False)
            in_email = rows["Email"].str.casefold().str.contains(needle, regex=False)
            keep &= in_external_id | in_email
        return rows[keep]


def iter_export_rows(
    directory: Directory, batch_size: int = BATCH_SIZE, keep: RowFilter | None = None
) -> Iterator[pd.DataFrame]:
    """The export as batches of CSV rows (those keep passes), so memory stays bounded."""
    for batch in directory.iter_credentials(batch_size):
        rows = export_frame(batch)
        if keep is not None:
            rows = keep(rows)
        if len(rows):
            yield rows


def write_export(
    directory: Directory,
    destination: str | Path | IO[str],
    batch_size: int = BATCH_SIZE,
    keep: RowFilter | None = None,
) -> int:
    """Write every credential (or those keep passes) to a CSV file or text stream; returns
    the number of rows."""
    if isinstance(destination, str | Path):
        with open(destination, "w", encoding="utf-8", newline="") as stream:
            return write_export(directory, stream, batch_size, keep)
    writer = csv.writer(destination, lineterminator="\r\n")
    writer.writerow(HEADERS)
    count = 0
    for rows in iter_export_rows(directory, batch_size, keep):
        writer.writerows(rows.itertuples(index=False, name=None))
        count += len(rows)
    return count


def template_csv() -> str:
    """The credential template: the headers and three sample rows."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(TEMPLATE_ROWS)
    return stream.getvalue()
