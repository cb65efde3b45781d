"""A row that names several credentials split into one row per credential, and the labels
("row 7, credential 2 of 2") that name those rows in findings, plans and failed-rows files."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import pandas as pd

from credkit.conversion import SourcePart
from credkit.rules.credentials import CARD_COLUMNS

if TYPE_CHECKING:
    from credkit.review import Review

CREDENTIAL_HEADERS = (*CARD_COLUMNS, "License Plate", "Entry Code")


def credential_parts(cells: Mapping[str, str]) -> list[dict[str, str]]:
    """A row's cells once per credential it names (the card, the plate, the entry code, in
    that order), each with the other credentials' cells empty; keys, names, status and
    Modified kept on every one."""
    parts = []
    if any(cells[header] for header in CARD_COLUMNS):
        parts.append({**cells, "License Plate": "", "Entry Code": ""})
    for header in ("License Plate", "Entry Code"):
        if cells[header]:
            parts.append({**cells, **dict.fromkeys(CREDENTIAL_HEADERS, ""), header: cells[header]})
    return parts


def split_rows(review: Review, rows: int | Iterable[int]) -> pd.DataFrame:
    """Split each row into one row per credential it names, and re-review them as an edit
    is re-reviewed; returns the findings of the rows re-checked.

    The first credential keeps the row's number; the others get numbers after the file's
    last row and are placed right after it (``review.parts`` says which row each part comes
    from, ``row_label`` names it). ValueError for a row that names fewer than two credentials.
    """
    if review.rejected or review.lookup is None:
        raise ValueError("a rejected review has no rows to split")  # a programming fault
    chosen = list(dict.fromkeys([rows] if isinstance(rows, int) else [int(r) for r in rows]))
    table = review.table
    next_number = int(max(table.index.max(), max(review.parts, default=0))) + 1
    inserted: dict[int, list[int]] = {}
    cells_of: dict[int, dict[str, str]] = {}  # every part's cells, the row's first part too
    for row in chosen:
        if row not in table.index:
            raise KeyError(f"no row {row} to split")
        cells = {header: str(value) for header, value in table.loc[row].items()}
        parts = credential_parts(cells)
        if len(parts) < 2:
            raise ValueError(f"row {row} names fewer than two credentials: nothing to split")
        numbers = [row, *range(next_number, next_number + len(parts) - 1)]
        next_number += len(parts) - 1
        inserted[row] = numbers[1:]
        cells_of.update(zip(numbers, parts, strict=True))
    # The parts in the table, each placed after the row it comes from (the row itself holds
    # the first); in resolved, copies of their row's until they are re-reviewed below.
    parts_frame = pd.DataFrame.from_dict(cells_of, orient="index", columns=list(table.columns))
    parts_frame = parts_frame.astype(table.dtypes.to_dict())
    new_numbers = [number for numbers in inserted.values() for number in numbers]
    kept = table.drop(index=list(inserted))
    order = [r for row in table.index for r in (row, *inserted.get(int(row), ()))]
    review.table = pd.concat([kept, parts_frame]).loc[order]
    review.table.index.name = table.index.name
    sources = [row for row, numbers in inserted.items() for _ in numbers]
    resolved_copies = review.resolved.loc[sources].copy()
    resolved_copies.index = pd.Index(new_numbers)
    review.resolved = pd.concat([review.resolved, resolved_copies]).reindex(review.table.index)
    review.resolved.index.name = table.index.name
    review._sharing = None  # positional over the rows: made again for the new ones
    _number_parts(review, inserted)
    # Re-reviewed as an edit is: one cell of each part, set to what it holds, names the rows.
    edits = {
        (number, _credential_header(cells)): cells[_credential_header(cells)]
        for number, cells in cells_of.items()
    }
    edited_before = dict(review.edited_cells)
    try:
        return review.edit(edits)
    finally:
        review.edited_cells = edited_before  # a split is recorded as a split, not as edits


def _credential_header(cells: Mapping[str, str]) -> str:
    """The cell that names a part's credential."""
    if cells["License Plate"]:
        return "License Plate"
    if cells["Entry Code"]:
        return "Entry Code"
    return next(header for header in CARD_COLUMNS if cells[header])


def _number_parts(review: Review, inserted: Mapping[int, list[int]]) -> None:
    """Record where every part comes from: part k of n, in the table's order."""
    siblings: dict[int, set[int]] = {}
    for number, part in review.parts.items():
        siblings.setdefault(part.row, set()).add(number)
    for row, numbers in inserted.items():
        source = review.parts[row].row if row in review.parts else row
        siblings.setdefault(source, set()).update({row, *numbers})
    index = review.table.index
    for source in {review.parts[r].row if r in review.parts else r for r in inserted}:
        members = sorted(siblings[source])
        positions = index.get_indexer(members)
        ordered = [member for _, member in sorted(zip(positions, members, strict=True))]
        for part, member in enumerate(ordered, start=1):
            review.parts[member] = SourcePart(source, part, len(ordered))


def split_source_rows(review: Review) -> list[int]:
    """The file's rows that were split, in order (the run record keeps them)."""
    return sorted({part.row for part in review.parts.values()})


def row_label(review: Review, row: int) -> str:
    """A row as the operator reads it: "7", or "7, credential 2 of 2" for a part of a split."""
    part = review.parts.get(int(row))
    if part is None:
        return str(int(row))
    return f"{part.row}, credential {part.part} of {part.parts}"


#: "row N" in a message (duplicate-in-file names the row it repeats).
_ROW_MENTION = re.compile(r"\brow (\d+)\b")


def labelled_text(review: Review, text: str) -> str:
    """A message with every row it names given as row_label gives it."""
    if not review.parts:
        return text

    def label(match: re.Match[str]) -> str:
        number = int(match.group(1))
        return f"row {row_label(review, number)}" if number in review.parts else match.group(0)

    return _ROW_MENTION.sub(label, text)


def labelled_findings(review: Review, findings: pd.DataFrame) -> pd.DataFrame:
    """Findings for display: the row column as row_label gives it (text), messages too.
    Unchanged (the same frame) when no row is split."""
    if not review.parts or findings.empty:
        return findings
    shown = findings.copy()
    shown["row"] = [row_label(review, int(row)) if pd.notna(row) else None for row in shown["row"]]
    shown["message"] = [labelled_text(review, str(text)) for text in shown["message"]]
    return shown


__all__ = [
    "credential_parts",
    "labelled_findings",
    "labelled_text",
    "row_label",
    "split_rows",
    "split_source_rows",
]
