"""Credentials repeated within one file, which needs the whole file: duplicate-in-file."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class KeyGroups:
    """How a whole file's rows group by credential key, as check_against_directory finds it in
    the hash pass that looks the keys up in the directory (KeyIndex.positions_and_firsts):
    each row's first row with the same key (first_occurrences, by position; -1 where it has
    none), and the positions of the entry-code rows. Handed to first_rows_in, it spares
    converting and hashing the keys again (~40 ms at 250,000 rows)."""

    firsts: np.ndarray
    entry_codes: np.ndarray


def first_rows_in(resolved: pd.DataFrame, groups: KeyGroups | None = None) -> pd.DataFrame:
    """For each row of a whole file, the first row with its credential and its user's entry
    code; ``groups``, where the directory rules found them for this very frame."""
    if groups is None:
        groups = KeyGroups(
            first_occurrences(arrow_strings(resolved["credential_key"])),
            np.flatnonzero(kind_is(resolved, "entry_code")),
        )
    firsts = groups.firsts
    # A key that is there is its own first occurrence at the latest: -1 only where missing.
    codes = groups.entry_codes[firsts[groups.entry_codes] >= 0]
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


def _rows_at(index: pd.Index, first: np.ndarray) -> np.ndarray:
    """The row number at each position (in the frame's order); NaN where the position is -1
    (as numbers, not a Series each: the frame is built once)."""
    rows = index.to_numpy()[np.maximum(first, 0)]
    missing = first < 0
    return np.where(missing, np.nan, rows) if missing.any() else rows
