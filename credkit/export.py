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
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from credkit.columns import HEADERS
from credkit.defaults import BATCH_SIZE
from credkit.directory import Directory
from credkit.reading import FORMULA_TRIGGERS

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


# The export's join, each column already as the CSV writes it except for the spreadsheet
# prefix and the quoting (done on Arrow arrays below): the status capitalised, the time as
# ISO 8601 in UTC with whole seconds (the stored times are UTC without a zone).
_COLUMNS = ", ".join(
    f"coalesce({column}, '')"  # NULL as "": every cell is text
    for column in (
        "u.first_name", "u.last_name", "u.user_id", "u.external_id", "u.employee_id",
        "u.email", "c.card_type", "c.facility_code", "c.card_number", "c.card_number_hex",
        "c.license_plate", "c.entry_code", "upper(substr(c.status, 1, 1)) || substr(c.status, 2)",
        "{modified}",
    )
)  # fmt: skip
_MODIFIED = {
    "sqlite": "strftime('%Y-%m-%dT%H:%M:%SZ', c.modified)",
    "postgresql": 'to_char(c.modified, \'YYYY-MM-DD"T"HH24:MI:SS"Z"\')',
}
_JOIN = "FROM credentials AS c JOIN users AS u ON u.id = c.user_pk"

#: A value a spreadsheet would run as a formula (export protects it with a ``'``).
_TRIGGER = "^[" + "".join("\\-" if c == "-" else c for c in FORMULA_TRIGGERS) + "]"
#: A value csv.writer quotes (QUOTE_MINIMAL with the comma, ``"`` and CRLF line ends).
_NEEDS_QUOTES = '[,"\r\n]'
_EMPTY = pa.array([], pa.string())


def _join_sql(dialect: str, extra: str = "") -> str:
    return f"SELECT {_COLUMNS.format(modified=_MODIFIED[dialect])}{extra} {_JOIN}"


def _as_text(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A column as non-null text ("" for NULL), whatever type the driver gave it."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else _EMPTY
    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    return column.fill_null("") if column.null_count else column


def _protected(column: pa.Array) -> pa.Array:
    """Text as the export writes it: a ``'`` before a leading formula character."""
    triggered = pc.match_substring_regex(column, _TRIGGER)
    if not pc.any(triggered).as_py():
        return column
    return pc.if_else(triggered, pc.binary_join_element_wise("'", column, ""), column)


def _quoted(column: pa.Array) -> pa.Array:
    """Text as csv.writer writes a cell: in quotes, quotes doubled, where it needs them."""
    needs = pc.match_substring_regex(column, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return column
    wrapped = pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', "")
    return pc.if_else(needs, wrapped, column)


def export_table(batch: pa.Table | pa.RecordBatch) -> pa.Table:
    """Rows of the export's join (the CSV's columns, in order) as the CSV's text cells, before
    quoting: NULL as "", formula characters protected."""
    return pa.table(
        [_protected(_as_text(batch.column(index))) for index in range(len(HEADERS))],
        names=HEADERS,
    )


def csv_lines(table: pa.Table) -> bytes:
    """Rows of text cells as csv.writer would write them (UTF-8, CRLF line ends)."""
    if not table.num_rows:
        return b""
    cells = [_quoted(_as_text(table.column(name))) for name in HEADERS]
    # Each line with its end ("\r\n" as the separator before an empty last part), then every
    # line joined into one string: the batch's bytes, written with a single call.
    lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*cells, ","), "", "\r\n")
    whole = pa.ListArray.from_arrays(pa.array([0, len(lines)], pa.int32()), lines)
    return pc.binary_join(whole, "")[0].as_buffer().to_pybytes()


def iter_export_tables(directory: Directory, batch_size: int = BATCH_SIZE) -> Iterator[pa.Table]:
    """The export as Arrow tables of at most batch_size text rows (see export_table), in
    credential order, read in batches so that memory stays bounded."""
    # Not through ADBC on SQLite, although it reads faster: adbc-driver-sqlite links its own
    # copy of SQLite, and two copies in one process release each other's POSIX locks when
    # either closes the file (sqlite.org/howtocorrupt.html, 2.2.1), which can corrupt a
    # directory that this process (a notebook's kernel) also writes.
    for batch in _keyset_batches(directory, batch_size):
        if batch.num_rows:
            yield export_table(batch)


def _keyset_batches(directory: Directory, batch_size: int) -> Iterator[pa.RecordBatch]:
    """The join in batches keyed on the credential id (keyset pagination), through the
    directory's own engine: any backend, any driver."""
    dialect = directory.engine.dialect.name
    query = sa.text(
        f"{_join_sql(dialect, ', c.id')} WHERE c.id > :last ORDER BY c.id LIMIT :size"
    ).bindparams(size=batch_size)
    last = 0
    with directory.engine.connect() as conn:
        while rows := conn.execute(query, {"last": last}).all():
            last = rows[-1][-1]
            columns = list(zip(*rows, strict=True))[: len(HEADERS)]
            yield pa.record_batch([pa.array(column, pa.string()) for column in columns], HEADERS)


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


def export_frame(table: pa.Table) -> pd.DataFrame:
    """Export rows (as iter_export_tables yields them) as a DataFrame of text columns."""
    return pd.DataFrame({name: table.column(name).to_pylist() for name in HEADERS}, dtype=str)


def iter_export_rows(
    directory: Directory, batch_size: int = BATCH_SIZE, keep: RowFilter | None = None
) -> Iterator[pd.DataFrame]:
    """The export as batches of CSV rows (those keep passes), so memory stays bounded."""
    for table in iter_export_tables(directory, batch_size):
        rows = export_frame(table)
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
        with open(destination, "wb") as binary:
            return _write(directory, binary.write, batch_size, keep)
    return _write(directory, lambda data: destination.write(data.decode("utf-8")), batch_size, keep)


def _write(
    directory: Directory,
    write: Callable[[bytes], object],
    batch_size: int,
    keep: RowFilter | None,
) -> int:
    header = io.StringIO()
    csv.writer(header, lineterminator="\r\n").writerow(HEADERS)
    write(header.getvalue().encode("utf-8"))
    count = 0
    for table in iter_export_tables(directory, batch_size):
        if keep is not None:
            rows = keep(export_frame(table))
            table = pa.table({name: pa.array(rows[name].tolist(), pa.string()) for name in HEADERS})
        if table.num_rows:
            write(csv_lines(table))
            count += table.num_rows
    return count


def template_csv() -> str:
    """The credential template: the headers and three sample rows."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(TEMPLATE_ROWS)
    return stream.getvalue()
