"""A source system's file converted by its profile into credkit's credential table, with every
value the profile changed and every row it skipped reported."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from credkit.columns import HEADERS
from credkit.findings import CATALOGUE, Code, finding, findings_frame, message, quoted
from credkit.profiles import Profile
from credkit.reading import CsvTable

if TYPE_CHECKING:
    from credkit.directory import Directory
    from credkit.review import Review, ReviewOptions


@dataclass(frozen=True)
class SourcePart:
    """Where an output row came from: the source row, and which of its credentials it is."""

    row: int  # the source file's row (spreadsheet numbering)
    part: int  # 1-based
    parts: int

    def describe(self) -> str:
        if self.parts == 1:
            return f"row {self.row}"
        return f"row {self.row}, credential {self.part} of {self.parts}"


@dataclass
class Conversion:
    """The converted credentials: a table in credkit's 14 headers, one credential a row."""

    table: pd.DataFrame  # columns HEADERS, str; index: output row (spreadsheet numbering)
    sources: dict[int, SourcePart]  # output row -> where it came from
    findings: pd.DataFrame  # warnings: values changed, rows skipped; row = the source row
    source: CsvTable

    def as_csv_table(self) -> CsvTable:
        """The table as ``reading`` would have read a credkit CSV, for ``review_table``."""
        rows = self.table.copy()
        rows.columns = range(len(HEADERS))
        return CsvTable(
            headers=list(HEADERS),
            rows=rows,
            findings=findings_frame(),
            detection=self.source.detection,
            sha256=self.source.sha256,
            size=self.source.size,
            readable=True,
        )

    def csv_text(self) -> str:
        stream = io.StringIO()
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(HEADERS)
        writer.writerows(self.table.itertuples(index=False, name=None))
        return stream.getvalue()

    def in_source_rows(self, findings: pd.DataFrame) -> pd.DataFrame:
        """A review's findings with their rows given as the source file numbers them."""
        if findings.empty:
            return findings
        shown = findings.copy()
        parts = [self.sources.get(int(row)) if pd.notna(row) else None for row in shown["row"]]
        shown["row"] = pd.array([p.row if p else None for p in parts], dtype="Int64")
        suffix = [f" ({p.describe()})" if p and p.parts > 1 else "" for p in parts]
        shown["message"] = shown["message"].astype(str) + pd.Series(suffix, index=shown.index)
        return shown


def _fold(text: str) -> str:
    return text.strip().casefold()


class _Row:
    """One source row being converted: its values by source header, and the findings it makes."""

    def __init__(self, number: int, values: dict[str, str], found: list[dict]) -> None:
        self.number = number
        self.values = values
        self.found = found
        #: The values of this row's profile-no-card finding, to say so again if the row is skipped.
        self.no_card: dict[str, object] | None = None

    def get(self, column: str | None) -> str:
        return self.values.get(column, "").strip() if column else ""

    def column_for(self, profile: Profile, header: str) -> str | None:
        """The source column that becomes credkit's ``header``: the first the file has."""
        named = [source for source, target in profile.columns.items() if target == header]
        return next(
            (source for source in named if source in self.values), named[0] if named else None
        )

    def changed(self, column: str | None, original: str, source: str, result: str) -> None:
        """A profile-value-changed finding: ``source`` (what the file has) is read as ``result``."""
        self.found.append(
            finding(
                Code.PROFILE_VALUE_CHANGED,
                row=self.number,
                column=column,
                value=original,
                source=source,
                result=result,
            )
        )


def convert_table(source: CsvTable, profile: Profile) -> Conversion:
    """Convert a source file, read by ``reading``, with ``profile``."""
    headers = list(source.headers)
    rows = source.rows
    if not profile.header:
        # The first line is data: put it back in front, and name the columns by position.
        first = pd.DataFrame([headers], columns=range(len(headers)))
        rows = pd.concat([first, rows], ignore_index=True)
        rows.index = pd.RangeIndex(1, len(rows) + 1)
        headers = list(profile.positions[: len(headers)]) + [
            f"column {i + 1}" for i in range(len(profile.positions), len(headers))
        ]
    by_fold = {_fold(header): position for position, header in enumerate(headers)}
    wanted = {*profile.columns, *profile.card_columns}
    for rule in profile.skip:
        wanted.add(rule.column)
    if profile.combined_column:
        wanted.add(profile.combined_column)
    found: list[dict] = []
    output: list[dict[str, str]] = []
    sources: dict[int, SourcePart] = {}
    records = rows.fillna("").astype(str).itertuples(name=None)
    for number, *cells in records:
        values = {
            column: cells[by_fold[_fold(column)]]
            for column in wanted
            if _fold(column) in by_fold and by_fold[_fold(column)] < len(cells)
        }
        row = _Row(int(number), values, found)
        credentials = _convert_row(row, profile)
        for part, credential in enumerate(credentials, start=1):
            output_row = len(output) + 2
            output.append(credential)
            sources[output_row] = SourcePart(int(number), part, len(credentials))
        if len(credentials) > 1:
            first = len(output) + 2 - len(credentials)
            found.append(
                finding(
                    Code.PROFILE_ROW_SPLIT,
                    row=int(number),
                    count=len(credentials),
                    first=first,
                    last=first + len(credentials) - 1,
                )
            )
    table = pd.DataFrame(output, columns=HEADERS).fillna("").astype(str)
    table.index = pd.RangeIndex(2, len(table) + 2, name="row")
    return Conversion(table, sources, findings_frame(found), source)


def _convert_row(row: _Row, profile: Profile) -> list[dict[str, str]]:
    for rule in profile.skip:
        written = row.get(rule.column)
        if _fold(written) in {_fold(value) for value in rule.values}:
            row.found.append(
                finding(
                    Code.PROFILE_ROW_SKIPPED,
                    row=row.number,
                    column=rule.column,
                    value=written,
                    written=quoted(written),
                    reason=rule.reason,
                )
            )
            return []
    if not profile.value_rules:
        return [{header: row.get(row.column_for(profile, header)) for header in HEADERS}]
    base = {header: "" for header in HEADERS}
    for target in HEADERS:
        if target not in ("Card Type", "Facility Code", "Card Number", "Card Number Hex"):
            base[target] = row.get(row.column_for(profile, target))
    status_column = row.column_for(profile, "Credential Status")
    status = base["Credential Status"]
    if status and profile.status_codes:
        codes = {_fold(code): target for code, target in profile.status_codes.items()}
        mapped = codes.get(_fold(status))
        if mapped and mapped != status:
            row.changed(status_column, status, f"{status_column} {quoted(status)}", repr(mapped))
            base["Credential Status"] = mapped
    cards = _cards(row, profile)
    others = [header for header in ("License Plate", "Entry Code") if base[header]]
    if not cards and not others:
        if (
            row.found
            and row.found[-1]["row"] == row.number
            and row.found[-1]["code"] == Code.PROFILE_NO_CARD
            and row.no_card is not None
        ):
            rest = "; the row carries no other credential and is skipped"
            row.found[-1]["message"] = message(Code.PROFILE_NO_CARD, **row.no_card, rest=rest)
        return []
    credentials = []
    without = {**base, "License Plate": "", "Entry Code": ""}
    for card in cards:
        credentials.append({**without, **card})
    for header in others:
        credentials.append({**without, header: base[header]})
    return credentials


def _cards(row: _Row, profile: Profile) -> list[dict[str, str]]:
    """The row's cards, each as Card Type, Facility Code, Card Number (and Card Number Hex)."""
    type_column = row.column_for(profile, "Card Type")
    facility_column = row.column_for(profile, "Facility Code")
    number_column = row.column_for(profile, "Card Number")
    hex_column = row.column_for(profile, "Card Number Hex")
    card_type = row.get(type_column)
    if card_type and card_type in profile.card_type_codes:
        mapped = profile.card_type_codes[card_type]
        row.changed(type_column, card_type, f"{type_column} {quoted(card_type)}", repr(mapped))
        card_type = mapped
    facility = row.get(facility_column)
    pieces: list[tuple[str | None, str]] = []  # (column, value) of each card written
    if profile.card_columns:
        for column in profile.card_columns:
            pieces += [(column, value) for value in _split_cells(row.get(column), profile)]
    elif profile.combined_column and row.get(profile.combined_column):
        combined = row.get(profile.combined_column)
        if facility or row.get(number_column):
            row.changed(
                profile.combined_column,
                combined,
                f"{profile.combined_column} {quoted(combined)}",
                f"the card, over {facility_column} {quoted(facility)} and {number_column} "
                f"{quoted(row.get(number_column))}",
            )
        pieces.append((profile.combined_column, combined))
        facility = ""
    else:
        pieces += [
            (number_column, value) for value in _split_cells(row.get(number_column), profile)
        ]
    hex_value = row.get(hex_column)
    if not pieces and hex_value:
        pieces.append((None, ""))
    cards = []
    for column, written in pieces:
        card = _card(row, profile, column, written, facility, facility_column)
        if card is None:
            continue
        if not card_type and profile.card_type:
            card_type_default = profile.card_type
            row.changed(
                type_column or "Card Type",
                "",
                f"The card {quoted(written)}, which has no card type,",
                f"{card_type_default!r}, the profile's default",
            )
            card["Card Type"] = card_type_default
        else:
            card["Card Type"] = card_type
        card["Card Number Hex"] = hex_value if len(pieces) == 1 else ""
        cards.append(card)
    return cards


def _split_cells(value: str, profile: Profile) -> list[str]:
    if not value:
        return []
    if profile.multi_card_separator and profile.multi_card_separator in value:
        return [
            piece.strip() for piece in value.split(profile.multi_card_separator) if piece.strip()
        ]
    return [value]


def _card(
    row: _Row,
    profile: Profile,
    column: str | None,
    written: str,
    facility: str,
    facility_column: str | None,
) -> dict[str, str] | None:
    """One card's Facility Code and Card Number, or None for a value meaning "no card"."""
    number = written
    separator = next((s for s in profile.separators if s in written), None)
    if separator:
        facility, _, number = (part.strip() for part in written.partition(separator))
        facility_column = column
    if number in profile.no_card:
        row.no_card = {"row": row.number, "number": quoted(number), "system": profile.system}
        row.found.append(
            finding(Code.PROFILE_NO_CARD, column=column, value=written, **row.no_card, rest="")
        )
        return None
    if facility and profile.facility_code_hex and re.fullmatch("[0-9A-Fa-f]+", facility):
        decimal = str(int(facility, 16))
        row.changed(
            facility_column,
            facility,
            f"facility code {quoted(facility)}",
            f"{decimal}: it is hexadecimal in {profile.system}",
        )
        facility = decimal
    if not facility and profile.facility_code is not None:
        facility = str(profile.facility_code)
        row.changed(
            facility_column or "Facility Code",
            "",
            f"The card {quoted(written)}, which has no facility code,",
            f"facility code {facility}, the profile's default",
        )
    if profile.card_number_offset and number.isdigit():
        encoded = str(int(number) + profile.card_number_offset)
        row.changed(
            column,
            number,
            f"printed card number {quoted(number)}",
            f"{encoded}, the number encoded on the card (offset {profile.card_number_offset:+d})",
        )
        number = encoded
    if separator:
        row.changed(
            column,
            written,
            f"{column} {quoted(written)}",
            f"facility code {facility} and card number {number}",
        )
    return {"Facility Code": facility, "Card Number": number}


def read_source(
    path: str | Path,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> CsvTable:
    """Read a source file (CSV or Excel workbook) for ``convert_table``, as ``reading`` reads a
    credential CSV."""
    from credkit.reading import read_csv_file

    return read_csv_file(path, encoding=encoding, delimiter=delimiter, sheet=sheet)


def review_source(
    path: str | Path, directory: Directory, options: ReviewOptions, profile: Profile
) -> tuple[Review, Conversion]:
    """Convert a source file with its profile and review the credentials it becomes.

    The review numbers rows as the converted table does (the importer needs that);
    ``Conversion.in_source_rows`` turns its findings back into the source file's rows.
    """
    source = read_source(
        path, encoding=options.encoding, delimiter=options.delimiter, sheet=options.sheet
    )
    return review_source_table(source, directory, options, profile, Path(path).name)


def review_source_table(
    source: CsvTable,
    directory: Directory,
    options: ReviewOptions,
    profile: Profile,
    name: str,
) -> tuple[Review, Conversion]:
    """``review_source`` for a source file already read (an upload held in memory)."""
    from credkit.review import review_table

    conversion = convert_table(source, profile)
    if not source.readable or (source.findings["severity"] == "error").any():
        return review_table(source, directory, options, file_name=name), conversion
    converted = conversion.as_csv_table()
    # The source's file and column findings (a workbook's xlsx-numbers) stay; its row findings
    # number the source's rows, which the converted table does not.
    is_row = source.findings["code"].map(lambda code: CATALOGUE[code].level == "row")
    converted.findings = findings_frame(source.findings[~is_row.astype(bool)])
    return review_table(converted, directory, options, file_name=name), conversion
