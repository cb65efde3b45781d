"""The rule families applied in order: resolve_rows (resolve_file for a whole file) for a
review, recheck_rows for an import."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from credkit.directory import CREDENTIAL_FIELDS, DirectoryLookup
from credkit.rules.builder import FindingsBuilder
from credkit.rules.cards import CardCellShapes, resolve_cards
from credkit.rules.columnar import arrow_text, truth
from credkit.rules.credentials import named_kinds, resolve_entry_codes, resolve_plates
from credkit.rules.duplicates import KeyGroups, first_rows_in
from credkit.rules.fields import (
    CREDENTIAL_CSV_STORED,
    field_findings,
    future_modified_findings,
    parse_modified,
    stored_length_findings,
)
from credkit.rules.keys import resolve_users
from credkit.rules.ownership import check_against_directory, check_users_still_there

#: The columns of the resolved frame: what each row means, once checked.
RESOLVED_COLUMNS = [
    "user_id",
    "credential_key",
    *CREDENTIAL_FIELDS,
    "status",
    "modified",
    "existing_user_id",
    "existing_id",
    "existing_modified",
    "existing_status",
    "replaces_entry_code",  # the key of the user's current entry code this row replaces
]


@dataclass(frozen=True)
class RuleOptions:
    """The operator's choices that change what counts as an error."""

    reassign: bool = False
    overwrite_newer: bool = False


def resolve_rows(
    rows: pd.DataFrame, lookup: DirectoryLookup, options: RuleOptions
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check rows (the 14 columns as text) on their own and against the directory; return the
    findings and what each row resolves to (the resolved frame, on the rows' index).

    The index is each row's number (unique; any order, gaps allowed: one source row may become
    several rows, which the caller maps back). Duplicates within the file are left to
    duplicate_findings, which needs the whole file (see resolve_file).
    """
    findings, resolved, _ = _resolve(rows, lookup, options)
    return findings, resolved


def resolve_file(
    rows: pd.DataFrame, lookup: DirectoryLookup, options: RuleOptions
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """resolve_rows of a whole file, and first_rows_in of its resolved frame (for
    duplicate_findings), from the hash pass that looked its credential keys up."""
    findings, resolved, groups = _resolve(rows, lookup, options)
    return findings, resolved, first_rows_in(resolved, groups)


def _resolve(
    rows: pd.DataFrame, lookup: DirectoryLookup, options: RuleOptions
) -> tuple[pd.DataFrame, pd.DataFrame, KeyGroups]:
    found = FindingsBuilder(rows)
    modified = parse_modified(rows["Modified"])  # parsed once: the field rule and the resolved row
    # Which card cells are digits: found once, for the field rules and the card rules.
    shapes = CardCellShapes.of(rows)
    found.extend(field_findings(rows, modified, shapes))
    columns = ResolvedColumns(rows.index)
    columns["user_id"] = resolve_users(rows, lookup, found)
    kinds = named_kinds(rows, found)  # the rules below take their kind's rows from its codes
    columns["kind"] = kinds.column(rows.index)
    resolve_cards(rows, columns, found, shapes, kinds)
    resolve_plates(rows, columns, found, kinds)
    resolve_entry_codes(rows, columns, kinds)
    columns["status"] = _statuses(rows["Credential Status"])
    columns["modified"] = modified
    found.extend(future_modified_findings(rows, modified))
    found.extend(stored_length_findings(rows, CREDENTIAL_CSV_STORED))
    resolved = columns.frame(written_only=True)  # the directory rules add the existing_* columns
    groups = check_against_directory(
        resolved, lookup, options.reassign, options.overwrite_newer, found
    )
    return found.frame(), _in_order(resolved), groups


def _in_order(resolved: pd.DataFrame) -> pd.DataFrame:
    """The frame with all RESOLVED_COLUMNS in order: the ones no rule wrote added (NaN, in
    the frame itself), and reordered only if the rules added theirs in another order."""
    for name in RESOLVED_COLUMNS:
        if name not in resolved.columns:
            resolved[name] = np.full(len(resolved), np.nan, dtype=object)
    return resolved if list(resolved.columns) == RESOLVED_COLUMNS else resolved[RESOLVED_COLUMNS]


class ResolvedColumns:
    """The resolved frame while the rules fill it: each column kept as the rules wrote it and
    the frame made once at the end (an empty object frame of the 17 columns cost ~35 ms at
    250,000 rows; this ~0.2 ms).

    As a DataFrame's: ``resolved[name]`` reads a column (a Series on the rows' index; NaN
    throughout until written, as in an empty object frame) and ``resolved[name] = values``
    writes one (a Series on the rows' index, or an array in their order, which becomes the
    column: not copied); copy on write, a column read does not change when the column is later
    written. And ``put`` writes some positions of a column in place: a rule that writes a few
    rows as a whole new column copies every row's object and frees the old column (~2 ms).
    """

    def __init__(self, index: pd.Index) -> None:
        self.index = index
        self._columns: dict[str, pd.Series] = {}

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, name: str) -> pd.Series:
        return self._column(name).copy(deep=False)  # shares the values until either is written

    def __setitem__(self, name: str, values: pd.Series | np.ndarray) -> None:
        if isinstance(values, pd.Series):
            if values.index is not self.index and not values.index.equals(self.index):
                values = values.reindex(self.index)  # aligned by label, as a DataFrame's
            values = values.rename(name)  # a Series of its own, sharing the values
        else:
            values = pd.Series(values, index=self.index, dtype=object, copy=False, name=name)
        self._columns[name] = values

    def put(self, name: str, at: np.ndarray, values: np.ndarray) -> None:
        """values at these positions of the column (copied first, by pandas, only while a
        column read or written from elsewhere still shares them)."""
        self._column(name).iloc[at] = values

    def frame(self, written_only: bool = False) -> pd.DataFrame:
        """The resolved frame: RESOLVED_COLUMNS in order (only those written, if asked), object
        columns but for ``modified``. Made of the columns' Series, not copied into one block."""
        names = [n for n in RESOLVED_COLUMNS if not written_only or n in self._columns]
        return pd.DataFrame({name: self._column(name) for name in names}, copy=False)

    def _column(self, name: str) -> pd.Series:
        if name not in self._columns:
            if name not in RESOLVED_COLUMNS:
                raise KeyError(name)
            self[name] = np.full(len(self.index), np.nan, dtype=object)
        return self._columns[name]


def _statuses(cells: pd.Series) -> np.ndarray:
    """Each row's status, "active" or "inactive" (None for anything else), as the resolved
    frame holds it: one shared string per status, not a Python string made for every row.
    Nearly every cell is written "Active" or "Inactive": two Arrow comparisons find those and
    one take makes the objects (4 ms at 250,000 rows, pandas' lower of every cell 7-9 ms);
    only the other cells are lower-cased (by pandas, as before)."""
    text = arrow_text(cells)
    active, inactive = (truth(pc.equal(text, written)) for written in ("Active", "Inactive"))
    at = active.view(np.int8) + 2 * inactive.view(np.int8)  # a position in _STATUS_OF
    others = np.flatnonzero(at == 0)
    if len(others):
        lower = cells.iloc[others].str.lower().to_numpy(dtype=object, na_value=None)
        at[others] = np.select([lower == "active", lower == "inactive"], [1, 2], 0)
    return _STATUS_OF[at]


_STATUS_OF = np.array([None, "active", "inactive"], dtype=object)


def recheck_rows(
    rows: pd.DataFrame, resolved: pd.DataFrame, lookup: DirectoryLookup, options: RuleOptions
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check reviewed rows again against the directory as it is now, before they are written.

    Only the rules that depend on the directory can have changed since the review: whether the
    user still exists, who owns the credential and when it last changed, and the user's entry
    code. The field rules are settled, so they are not run again.
    """
    found = FindingsBuilder(rows)
    resolved = resolved.copy()
    check_users_still_there(resolved, lookup, found)
    check_against_directory(resolved, lookup, options.reassign, options.overwrite_newer, found)
    return found.frame(), resolved
