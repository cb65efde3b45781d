"""Review of a credential CSV: the file, column and row reports, and re-review after edits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from credkit.columns import HEADERS, ColumnReview, review_columns
from credkit.defaults import MAX_ROWS
from credkit.directory import Directory, DirectoryLookup
from credkit.findings import CATALOGUE, FINDING_COLUMNS, Code, findings_frame
from credkit.privileges import reads_entry_codes
from credkit.reading import CsvTable, read_csv_bytes, read_csv_file, trimmed_values
from credkit.rules import (
    RESOLVED_COLUMNS,
    FindingsBuilder,
    RuleOptions,
    duplicate_findings,
    first_rows_in,
    resolve_file,
    resolve_rows,
)
from credkit.snapshot import directory_lookup

if TYPE_CHECKING:
    from credkit.conversion import SourcePart


@dataclass(frozen=True)
class ReviewOptions:
    """How to read the file and which rows the operator allows."""

    reassign: bool = False
    overwrite_newer: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    mapping: tuple[tuple[str, str], ...] = ()  # accepted header mappings, as written -> expected
    max_rows: int = MAX_ROWS
    sheet: str | None = None  # the sheet of an Excel workbook (None: its first)

    @property
    def rule_options(self) -> RuleOptions:
        return RuleOptions(reassign=self.reassign, overwrite_newer=self.overwrite_newer)


@dataclass
class Review:
    """The three reports of a file (file, columns, rows) and what its rows resolve to."""

    file_name: str
    sha256: str
    file: pd.DataFrame
    columns: pd.DataFrame
    rows: pd.DataFrame
    table: pd.DataFrame  # the file's rows in the 14 expected columns, as text
    resolved: pd.DataFrame  # per row: user, credential kind and key, normalised values
    options: ReviewOptions
    column_review: ColumnReview | None = None
    lookup: DirectoryLookup | None = field(default=None, repr=False)
    edited_cells: dict[tuple[int, str], str] = field(default_factory=dict)  # by edit()
    # The directory hides its entry codes from this login (a credkit_viewer): entry-code rows
    # could not be checked against it, and say so.
    entry_codes_withheld: bool = False
    _sharing: tuple[ValueCodes, ValueCodes, np.ndarray] | None = field(default=None, repr=False)
    # Rows split into one row per credential (by split()): each part's row and number.
    parts: dict[int, SourcePart] = field(default_factory=dict)

    @property
    def rejected(self) -> bool:
        """Whether a file or column error stops the whole file (nothing can be imported)."""
        return _any_error(self.file) or _any_error(self.columns)

    @property
    def findings(self) -> pd.DataFrame:
        """Every finding of the three reports, in one frame."""
        parts = [frame for frame in (self.file, self.columns, self.rows) if len(frame)]
        return findings_frame(pd.concat(parts, ignore_index=True) if parts else None)

    @property
    def failing_rows(self) -> pd.Index:
        """Row numbers with at least one error."""
        errors = self.rows[self.rows["severity"] == "error"]["row"]
        return pd.Index(sorted(set(errors.dropna().astype(int))), name="row")

    @property
    def passing_rows(self) -> pd.Index:
        """Row numbers without errors (none when the file is rejected)."""
        if self.rejected:
            return pd.Index([], name="row", dtype=int)
        return self.table.index.difference(self.failing_rows)

    @property
    def exit_status(self) -> int:
        """The CLI's exit status: 0 no errors, 1 row errors, 2 file or column errors."""
        return 2 if self.rejected else 1 if len(self.failing_rows) else 0

    def summary(self) -> dict[str, Any]:
        """Counts: rows, failing and passing rows, findings per severity, per code, per column."""
        findings = self.findings
        return {
            "rows": len(self.table),
            "rows_with_errors": len(self.failing_rows),
            "rows_passing": len(self.passing_rows),
            "errors": int((findings["severity"] == "error").sum()),
            "warnings": int((findings["severity"] == "warning").sum()),
            "by_code": {k: int(v) for k, v in findings["code"].value_counts().sort_index().items()},
            "by_column": {
                k: int(v)
                for k, v in findings["column"].dropna().value_counts().sort_index().items()
            },
        }

    def to_json(self) -> dict[str, Any]:
        """The review as the CLI's --json prints it."""
        return {
            "file": _records(self.file),
            "columns": _records(self.columns),
            "rows": _records(self.rows),
            "summary": self.summary(),
        }

    def edit(self, edits: Mapping[tuple[int, str], str]) -> pd.DataFrame:
        """Apply cell edits ((row, header) -> new text) and re-review only what they touch.

        Re-checked: the edited rows, against the file and the directory, and every row whose
        duplicate status they change. Returns the findings of the re-checked rows.
        """
        if self.rejected or self.lookup is None:
            raise ValueError("a rejected review has no rows to edit")  # a programming fault
        for (row, header), value in edits.items():
            if header not in HEADERS or row not in self.table.index:
                raise KeyError(f"no cell at row {row}, column {header!r}")
            self.table.at[row, header] = value.strip()
            self.edited_cells[(row, header)] = value.strip()
        edited = pd.Index(sorted({row for row, _ in edits}), name="row")
        positions = self.table.index.get_indexer(edited)
        self.lookup = directory_lookup(self.lookup.directory)  # the directory as it is now
        old = self.resolved.iloc[positions][["credential_key", "user_id"]]
        rows = _rows_at(self.table, positions)
        findings, resolved = resolve_rows(rows, self.lookup, self.options.rule_options)
        self._write_resolved(positions, resolved)
        self._update_sharing_arrays(edited)
        touched = self._rows_sharing(
            keys=set(old["credential_key"].dropna()) | set(resolved["credential_key"].dropna()),
            users=set(old["user_id"].dropna()) | set(resolved["user_id"].dropna()),
        ).union(edited)
        subset = self.resolved.iloc[self.resolved.index.get_indexer(touched)]
        duplicates = duplicate_findings(subset, self._first_rows(subset))
        numbers = self.rows["row"]
        keep = ~numbers.isin(edited) & ~(
            numbers.isin(touched) & (self.rows["code"] == "duplicate-in-file")
        )
        withheld = self._withheld(rows, resolved)
        changed = findings_frame(pd.concat([findings, duplicates, withheld], ignore_index=True))
        self.rows = _merged_findings(self.rows[keep], changed)
        return changed

    def split(self, rows: int | Iterable[int]) -> pd.DataFrame:
        """Split rows that name several credentials into one row per credential and re-review
        them (see credkit.splits); returns the findings of the rows re-checked."""
        from credkit.splits import split_rows

        return split_rows(self, rows)

    def row_label(self, row: int) -> str:
        """A row as the operator reads it: "7", or "7, credential 2 of 2" once split."""
        from credkit.splits import row_label

        return row_label(self, row)

    def _write_resolved(self, positions: np.ndarray, resolved: pd.DataFrame) -> None:
        """Write re-reviewed rows into the resolved frame cell by cell, at their positions: a
        .loc write of whole rows copied every column of the whole frame."""
        frame = self.resolved
        values = resolved.reindex(columns=frame.columns).to_numpy(dtype=object)
        for at, position in enumerate(positions):
            for column in range(frame.shape[1]):
                frame.iat[position, column] = values[at, column]

    def _withheld(self, rows: pd.DataFrame, resolved: pd.DataFrame) -> pd.DataFrame:
        """A warning on each entry-code row when the directory withholds entry codes."""
        found = FindingsBuilder(rows)
        if self.entry_codes_withheld:
            found.add(
                resolved["kind"] == "entry_code",
                Code.ENTRY_CODE_WITHHELD,
                "Entry Code",
            )
        return found.frame()

    def _rows_sharing(self, keys: set[str], users: set[str]) -> pd.Index:
        """Rows whose credential is one of keys, or whose entry code belongs to one of users."""
        credential_keys, owners, is_code = self._sharing_arrays()
        shares = credential_keys.rows_holding(keys) | (is_code & owners.rows_holding(users))
        return self.resolved.index[shares]

    def _sharing_arrays(self) -> tuple[ValueCodes, ValueCodes, np.ndarray]:
        """The credential key, owner and is-entry-code of every row (cached, kept up to date)."""
        if self._sharing is None:
            resolved = self.resolved
            self._sharing = (
                ValueCodes(resolved["credential_key"]),
                ValueCodes(resolved["user_id"]),
                (resolved["kind"] == "entry_code").to_numpy(copy=True),
            )
        return self._sharing

    def _update_sharing_arrays(self, rows: pd.Index) -> None:
        if self._sharing is None:
            return
        credential_keys, owners, is_code = self._sharing
        positions = self.resolved.index.get_indexer(rows)
        changed = self.resolved.loc[rows]
        credential_keys.assign(positions, changed["credential_key"])
        owners.assign(positions, changed["user_id"])
        is_code[positions] = (changed["kind"] == "entry_code").to_numpy()

    def _first_rows(self, subset: pd.DataFrame) -> pd.DataFrame:
        """first_rows_in for a subset, computed from the whole file's rows that share its keys."""
        related = self.resolved.loc[
            self._rows_sharing(
                set(subset["credential_key"].dropna()), set(subset["user_id"].dropna())
            )
        ]
        return first_rows_in(related).reindex(subset.index)


class ValueCodes:
    """A column's values as integer codes (pandas.factorize), for re-review after an edit.

    Finding the rows that hold a value is then one hash lookup and one comparison of integers,
    where comparing the value with every row's text took tens of milliseconds at 250,000 rows;
    an edit changes the codes of its rows only. Missing values have code -1.
    """

    def __init__(self, values: pd.Series) -> None:
        codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
        self.codes = codes.astype(np.int64, copy=False)
        self.known = pd.Index(uniques, dtype=object)
        self.added: dict[object, int] = {}  # values that first appeared in an edit

    def code(self, value: object, *, add: bool = False) -> int:
        """The value's code; -1 when missing, or unknown and not added."""
        if value is None or pd.isna(value):
            return -1
        if value in self.added:
            return self.added[value]
        found = int(self.known.get_indexer([value])[0])
        if found < 0 and add:
            found = self.added[value] = len(self.known) + len(self.added)
        return found

    def assign(self, positions: np.ndarray, values: pd.Series) -> None:
        """The rows at positions now hold values."""
        for position, value in zip(positions, values.tolist(), strict=True):
            self.codes[position] = self.code(value, add=True)

    def rows_holding(self, values: set[str]) -> np.ndarray:
        """A mask of the rows that hold any of values."""
        mask = np.zeros(len(self.codes), dtype=bool)
        for value in values:
            code = self.code(value)
            if code >= 0:
                mask |= self.codes == code
        return mask


#: Up to this many rows, _rows_at slices them out one by one: taking from a column of Arrow
#: strings in many chunks joins the chunks first (milliseconds per column at 250,000 rows).
_SLICED_ROWS = 32


def _rows_at(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """The frame's rows at these positions, in their order (the few rows an edit re-checks)."""
    if len(positions) == 1:
        return frame.iloc[positions[0] : positions[0] + 1]
    if 1 < len(positions) <= _SLICED_ROWS:
        return pd.concat([frame.iloc[at : at + 1] for at in positions])
    return frame.iloc[positions]


def _merged_findings(kept: pd.DataFrame, changed: pd.DataFrame) -> pd.DataFrame:
    """Two findings frames (each as findings_frame makes them) as one, sorted by row as
    findings_frame sorts (stable, missing rows first), without normalising the kept findings
    again: an edit adds a few findings to a table that may hold hundreds of thousands."""
    if not len(changed):
        return kept.reset_index(drop=True)
    both = pd.concat([kept, changed], ignore_index=True)
    order = np.argsort(both["row"].to_numpy(dtype="float64", na_value=-np.inf), kind="stable")
    return both.take(order).reset_index(drop=True)


def review_file(
    path: str | Path, directory: Directory, options: ReviewOptions | None = None
) -> Review:
    """Review a credential CSV on disk against a directory."""
    options = options or ReviewOptions()
    table = read_csv_file(
        path,
        encoding=options.encoding,
        delimiter=options.delimiter,
        max_rows=options.max_rows,
        sheet=options.sheet,
    )
    return review_table(table, directory, options, file_name=Path(path).name)


def review_bytes(
    data: bytes,
    directory: Directory,
    options: ReviewOptions | None = None,
    file_name: str = "upload.csv",
) -> Review:
    """Review a credential CSV held in memory (an upload) against a directory."""
    options = options or ReviewOptions()
    table = read_csv_bytes(
        data, encoding=options.encoding, delimiter=options.delimiter, max_rows=options.max_rows
    )
    return review_table(table, directory, options, file_name=file_name)


def review_table(
    csv_table: CsvTable,
    directory: Directory,
    options: ReviewOptions,
    file_name: str,
    lookup: DirectoryLookup | None = None,
) -> Review:
    """Review a file already read: columns first, then (unless they block) every row.

    lookup answers the rules' questions about the directory (default: the directory as it
    is); the user import passes one that also knows the users its own file creates.
    """
    file_findings, shape_findings = _split_by_level(csv_table.findings)
    review = Review(
        file_name=file_name,
        sha256=csv_table.sha256,
        file=file_findings,
        columns=findings_frame(),
        rows=shape_findings,
        table=pd.DataFrame(columns=HEADERS, dtype=str),
        resolved=pd.DataFrame(columns=RESOLVED_COLUMNS, dtype=object),
        options=options,
    )
    if not csv_table.readable or _any_error(file_findings):
        return review
    column_review = review_columns(csv_table.headers, dict(options.mapping))
    review.column_review = column_review
    review.columns = column_review.findings
    if column_review.blocking:
        return review
    table = expected_columns(csv_table, column_review)
    review.table = table
    review.lookup = lookup or directory_lookup(directory)
    with directory.engine.connect() as conn:
        review.entry_codes_withheld = not reads_entry_codes(conn)
    findings, resolved, first_rows = resolve_file(table, review.lookup, options.rule_options)
    duplicates = duplicate_findings(resolved, first_rows)
    withheld = review._withheld(table, resolved)
    review.resolved = resolved  # object columns but for the times (ResolvedColumns.frame)
    review.rows = findings_frame(
        pd.concat([shape_findings, findings, duplicates, withheld], ignore_index=True)
    )
    return review


def expected_columns(csv_table: CsvTable, column_review: ColumnReview) -> pd.DataFrame:
    """The file's rows in the 14 expected columns (absent ones empty), trimmed, prefix removed."""
    rows = csv_table.rows
    columns = {}
    for header in HEADERS:
        position = column_review.positions.get(header)
        if position is None:
            columns[header] = pd.Series("", index=rows.index, dtype="str")
        else:
            columns[header] = trimmed_values(rows[position])
    return pd.DataFrame(columns, index=rows.index)


def _split_by_level(findings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    is_row = findings["code"].map(lambda code: CATALOGUE[code].level == "row").astype(bool)
    return findings_frame(findings[~is_row]), findings_frame(findings[is_row])


def _any_error(findings: pd.DataFrame) -> bool:
    return bool((findings["severity"] == "error").any())


def _records(findings: pd.DataFrame) -> list[dict[str, Any]]:
    frame = findings[FINDING_COLUMNS].astype(object)
    frame = frame.where(frame.notna(), None)
    return [
        {name: (int(v) if name == "row" and v is not None else v) for name, v in record.items()}
        for record in frame.to_dict("records")
    ]


__all__ = ["Review", "ReviewOptions", "review_file", "review_bytes", "review_table"]
