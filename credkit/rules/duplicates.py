"""Credentials repeated within one file, which needs the whole file: duplicate-in-file."""

from __future__ import annotations

import numpy as np
import pandas as pd

from credkit.findings import Code, mask_entry_code
from credkit.rules.builder import FindingsBuilder, template
from credkit.rules.columnar import first_positions
from credkit.rules.credentials import CREDENTIAL_COLUMN

SECOND_ENTRY_CODE = template(f"{Code.DUPLICATE_IN_FILE}:entry-code")


def duplicate_findings(resolved: pd.DataFrame, first_rows: pd.DataFrame) -> pd.DataFrame:
    """duplicate-in-file for each row whose credential, or whose user's entry code, is on an
    earlier row; first_rows gives, per row, the first row of its credential_key and of its
    user's entry codes (columns "credential", "user_entry_code")."""
    found = FindingsBuilder(pd.DataFrame(index=resolved.index))
    column = resolved["kind"].map(CREDENTIAL_COLUMN)
    row = resolved.index.to_series()
    first = first_rows["credential"]
    repeated = first.notna() & (first != row)
    first_code = first_rows["user_entry_code"]
    second_code = ~repeated & first_code.notna() & (first_code != row)
    shown = _shown_values(resolved[repeated | second_code]).reindex(resolved.index)
    for header in CREDENTIAL_COLUMN.values():
        found.add(
            repeated & (column == header), Code.DUPLICATE_IN_FILE, header, value=shown,
            credential=lambda at: _describe(resolved.loc[at]), first=lambda at: _numbers(first[at]),
        )  # fmt: skip
    found.add(
        second_code, SECOND_ENTRY_CODE, "Entry Code", value=shown,
        first=lambda at: _numbers(first_code[at]),
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
    codes = resolved["kind"] == "entry_code"
    code_owner = resolved["user_id"].where(codes & resolved["credential_key"].notna())
    return pd.DataFrame(
        {
            "credential": _first_row_of(resolved["credential_key"]),
            "user_entry_code": _first_row_of(code_owner),
        }
    )


def _first_row_of(keys: pd.Series) -> pd.Series:
    """For each row, the first row (in the frame's order) with the same key; NaN where no key."""
    first = first_positions(keys)
    rows = pd.Series(keys.index.to_numpy()[np.maximum(first, 0)], index=keys.index)
    return rows.where(first >= 0)
