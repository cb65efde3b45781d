"""Excel workbooks read as credkit reads a CSV: one sheet, text as written, numbers as plain digits.

A cell Excel stored as a number is written back as the digits it holds (``123457000000``, never
``1.23457E+11`` or ``1603.0``), and every column holding such cells gets ``xlsx-numbers``: Excel
may already have dropped its leading zeros and the digits past the 15th.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from decimal import Decimal
from pathlib import Path

import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook

from credkit.defaults import MAX_ROWS
from credkit.findings import Code, finding, findings_frame, quoted
from credkit.reading import CsvTable

#: File name endings read as workbooks rather than CSV.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")


def is_workbook(path: str | os.PathLike[str]) -> bool:
    """Whether a path names a workbook (by its ending) rather than a CSV file."""
    return Path(path).suffix.lower() in WORKBOOK_SUFFIXES


def cell_text(value: object) -> str:
    """A cell's value as credkit reads it: text as written, numbers as plain digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def sheet_names(path: str | os.PathLike[str]) -> list[str]:
    """The workbook's sheet names, in order."""
    with open(path, "rb") as stream:
        return list(CalamineWorkbook.from_filelike(stream).sheet_names)


def read_workbook(
    path: str | os.PathLike[str], *, sheet: str | None = None, max_rows: int = MAX_ROWS
) -> CsvTable:
    """Read one sheet of a workbook (the first unless ``sheet`` names one) as a CsvTable.

    The first row is the header. Problems are findings: a file that is not a workbook or cannot
    be opened (``unreadable``), a sheet that does not exist (``sheet-not-found``), an empty sheet,
    one with a header only, too many rows.
    """
    name = Path(path).name
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        refused = finding(
            Code.UNREADABLE,
            problem=f"{quoted(name)} cannot be opened ({error.strerror})",
            todo="check that it exists and that you may read it",
        )
        return _refused(refused, "", 0)
    return read_workbook_bytes(data, name, sheet=sheet, max_rows=max_rows)


def read_workbook_bytes(
    data: bytes, name: str, *, sheet: str | None = None, max_rows: int = MAX_ROWS
) -> CsvTable:
    """read_workbook for a workbook held in memory (an upload); name is its file name."""
    digest, size = hashlib.sha256(data).hexdigest(), len(data)
    try:
        with io.BytesIO(data) as stream:
            workbook = CalamineWorkbook.from_filelike(stream)
            names = list(workbook.sheet_names)
            if sheet is not None and sheet not in names:
                sheets = ", ".join(quoted(n) for n in names)
                refused = finding(Code.SHEET_NOT_FOUND, sheet=quoted(sheet), sheets=sheets)
                return _refused(refused, digest, size)
            if not names:
                what = f"The workbook {quoted(name)} (it has no sheets)"
                return _refused(finding(Code.EMPTY_FILE, what=what), digest, size)
            cells = workbook.get_sheet_by_name(sheet or names[0]).to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError) as error:
        refused = finding(
            Code.UNREADABLE,
            problem=f"{quoted(name)} is not an Excel workbook credkit can read ({error})",
            todo='check that it is the right file, or save it again as "CSV UTF-8" and read that',
        )
        return _refused(refused, digest, size)
    return _table(cells, digest, size, max_rows)


def _refused(refused: dict[str, object], digest: str, size: int) -> CsvTable:
    return CsvTable(
        headers=[],
        rows=pd.DataFrame(),
        findings=findings_frame([refused]),
        detection=None,
        sha256=digest,
        size=size,
        readable=False,
    )


def _table(cells: list[list[object]], digest: str, size: int, max_rows: int) -> CsvTable:
    # Trailing blank rows and columns are the sheet's used range, not data.
    while cells and all(cell_text(value) == "" for value in cells[-1]):
        cells.pop()
    if not cells:
        return _refused(finding(Code.EMPTY_FILE, what="The sheet"), digest, size)
    width = max(len(row) for row in cells)
    while width and all(len(row) < width or cell_text(row[width - 1]) == "" for row in cells):
        width -= 1
    headers = [cell_text(value).strip() for value in cells[0][:width]]
    headers += [""] * (width - len(headers))
    data = cells[1:]
    if not data:
        refused = finding(Code.NO_ROWS, what="The sheet", rows="no data rows")
        return _refused(refused, digest, size)
    if len(data) > max_rows:
        refused = finding(
            Code.TOO_MANY_ROWS, what="The sheet", count=f"{len(data):,}", max_rows=max_rows
        )
        return _refused(refused, digest, size)
    found = []
    numeric_rows: dict[int, list[int]] = {}
    texts = []
    index = []
    for offset, row in enumerate(data):
        number = offset + 2  # spreadsheet numbering: the header is row 1
        values = list(row[:width]) + [None] * (width - len(row))
        text = [cell_text(value) for value in values]
        if all(value == "" for value in text):
            found.append(finding(Code.BLANK_ROW, row=number))
            continue
        for position, value in enumerate(values):
            if _is_number(value):
                numeric_rows.setdefault(position, []).append(number)
        texts.append(text)
        index.append(number)
    for position, rows in sorted(numeric_rows.items()):
        column = headers[position] or f"column {position + 1}"
        where = f"row {rows[0]}" if len(rows) == 1 else f"{len(rows)} rows, the first row {rows[0]}"
        found.append(finding(Code.XLSX_NUMBERS, column=column, written=quoted(column), where=where))
    frame = pd.DataFrame(texts, columns=range(width), index=pd.Index(index, name="row"), dtype=str)
    return CsvTable(
        headers=headers,
        rows=frame,
        findings=findings_frame(found),
        detection=None,
        sha256=digest,
        size=size,
        readable=True,
    )
