"""Credentials repeated within one file, which needs the whole file: duplicate-in-file."""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from credkit.findings import Code, mask_entry_code
from credkit.rules.builder import FindingsBuilder, template
from credkit.rules.columnar import arrow_strings, first_occurrences
from credkit.rules.credentials import CREDENTIAL_COLUMN, kind_is

SECOND_ENTRY_CODE = template(f"{Code.DUPLICATE_IN_FILE}:entry-code")


def duplicate_findings(resolved: pd.DataFrame, first_rows: pd.DataFrame) -> pd.DataFrame:
    """duplicate-in-file for each row whose credential, or whose user's entry code, is on an
    earlier row; first_rows gives, per row, the first row of its credential_key and of its
    user's entry codes (columns "credential", "user_entry_code")."""
    row = resolved.index.to_numpy()
    first = first_rows["credential"].to_numpy(dtype=float, na_value=np.nan)
    first_code = first_rows["user_entry_code"].to_numpy(dtype=float, na_value=np.nan)
    repeated = ~np.isnan(first) & (first != row)
    second_code = ~repeated & ~np.isnan(first_code) & (first_code != row)
    # Only the flagged rows are looked at again, in the file's order (as the findings were).
    flagged = resolved[repeated | second_code]
    found = FindingsBuilder(pd.DataFrame(index=flagged.index))
    if flagged.empty:
        return found.frame()
    repeated = pd.Series(repeated, index=resolved.index)[flagged.index]
    second_code = pd.Series(second_code, index=resolved.index)[flagged.index]
    first = first_rows["credential"][flagged.index]
    first_code = first_rows["user_entry_code"][flagged.index]
    column = flagged["kind"].map(CREDENTIAL_COLUMN)
    shown = _shown_values(flagged)
    # The message parts for all flagged rows at once (they are few), not once per column.
    described, first_row = _describe(flagged), _numbers(first)
    for header in CREDENTIAL_COLUMN.values():
        found.add(
            repeated & (column == header), Code.DUPLICATE_IN_FILE, header, value=shown,
            credential=described, first=first_row,
        )  # fmt: skip
    found.add(
        second_code, SECOND_ENTRY_CODE, "Entry Code", value=shown, first=_numbers(first_code)
    )  # fmt: skip
    return found.frame()


def _shown_values(resolved: pd.DataFrame) -> pd.Series:
    """Each row's credential value as a finding shows it (entry codes masked)."""
    resolved = resolved.astype(object)
    shown = resolved["card_number"].where(resolved["kind"] == "card")
    shown = shown.fillna(resolved["license_plate"].where(resolved["kind"] == "license_plate"))
    codes = resolved["entry_code"].where(resolved["kind"] == "entry_code")
    return shown.fillna(codes.map(mask_entry_code, na_action="ignore").astype(object))


def _describe(resolved: pd.DataFrame) -> pd.Series:
    """The credential of each row in words, for messages (entry codes masked)."""
    resolved = resolved.astype(object)
    card = (
        "Card " + resolved["card_type"].fillna("") + " "
        + resolved["facility_code"].fillna("").map(lambda code: f"{code}/" if code else "")
        + resolved["card_number"].fillna("")
    )  # fmt: skip
    plate = "License Plate " + resolved["license_plate"].fillna("")
    masked = resolved["entry_code"].map(mask_entry_code, na_action="ignore").astype(object)
    code = "Entry Code " + masked.fillna("")
    kind = resolved["kind"]
    return card.where(kind == "card", plate.where(kind == "license_plate", code))


def _numbers(values: pd.Series) -> pd.Series:
    """Row numbers as decimal text for messages, "" where missing."""
    return values.map(lambda value: str(int(value)), na_action="ignore").astype(object).fillna("")


def first_rows_in(resolved: pd.DataFrame) -> pd.DataFrame:
    """For each row of a whole file, the first row with its credential and its user's entry code."""
    kept = _kept_first_rows(resolved)
    if kept is None:
        firsts = first_occurrences(arrow_strings(resolved["credential_key"]))
        codes = np.flatnonzero(kind_is(resolved, "entry_code"))
    else:
        firsts, codes = kept
    # A key that is there is its own first occurrence at the latest: -1 only where missing.
    codes = codes[firsts[codes] >= 0]
    code_owner = np.full(len(resolved), -1, dtype=np.int64)
    first_code = first_occurrences(arrow_strings(resolved["user_id"].to_numpy()[codes]))
    code_owner[codes] = np.where(first_code >= 0, codes[first_code], -1)
    return pd.DataFrame(
        {
            "credential": _rows_at(resolved.index, firsts),
            "user_entry_code": _rows_at(resolved.index, code_owner),
        },
        index=resolved.index,
    )


#: What check_against_directory found of the frame it checked last, as (the frame, its key
#: column's place in memory, first_occurrences of its credential keys, the positions of its
#: entry-code rows): its lookup of the keys in the snapshot found their first occurrences in
#: the same hash pass, which first_rows_in of that frame then need not make again (with the
#: keys' conversion to Arrow and the rows' kinds compared again: ~40 ms at 250,000 rows).
_kept: tuple[weakref.ref[pd.DataFrame], dict, np.ndarray, np.ndarray] | None = None


def keep_first_rows(resolved: pd.DataFrame, firsts: np.ndarray, entry_codes: np.ndarray) -> None:
    """Keep first_occurrences of resolved's credential keys, and the positions of its entry-code
    rows, for first_rows_in(resolved): the next call takes them if it is of the same frame,
    holding the same key column."""
    global _kept
    place = _key_column_place(resolved)
    _kept = None if place is None else (weakref.ref(resolved), place, firsts, entry_codes)


def _kept_first_rows(resolved: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    global _kept
    kept, _kept = _kept, None
    if kept is None or kept[0]() is not resolved or _key_column_place(resolved) != kept[1]:
        return None
    return kept[2], kept[3]


def _key_column_place(resolved: pd.DataFrame) -> dict | None:
    """Where the credential_key column's values are in memory (None: not a NumPy column)."""
    column = resolved["credential_key"]
    return dict(column.to_numpy().__array_interface__) if column.dtype == object else None


def _rows_at(index: pd.Index, first: np.ndarray) -> np.ndarray:
    """The row number at each position (in the frame's order); NaN where the position is -1
    (as numbers, not a Series each: the frame is built once)."""
    rows = index.to_numpy()[np.maximum(first, 0)]
    missing = first < 0
    return np.where(missing, np.nan, rows) if missing.any() else rows
