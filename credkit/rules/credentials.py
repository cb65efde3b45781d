"""Which one credential each row names, and its plate or entry code: no-credential,
multiple-credentials, plate-normalized."""

from __future__ import annotations

import numpy as np
import pandas as pd

from credkit.findings import Code, quoted
from credkit.rules.builder import FindingsBuilder
from credkit.rules.fields import normalize_plate

CARD_COLUMNS = ["Card Type", "Facility Code", "Card Number", "Card Number Hex"]
#: The column that names each kind of credential, as findings about the credential cite it.
CREDENTIAL_COLUMN = {
    "card": "Card Number",
    "license_plate": "License Plate",
    "entry_code": "Entry Code",
}
_LABELS = {"card": "a card", "license_plate": "a License Plate", "entry_code": "an Entry Code"}


def credential_kinds(rows: pd.DataFrame, found: FindingsBuilder) -> pd.Series:
    """Which credential each row names: exactly one of a card, a plate or an entry code."""
    named = {
        "card": np.logical_or.reduce([_written(rows[column]) for column in CARD_COLUMNS]),
        "license_plate": _written(rows["License Plate"]),
        "entry_code": _written(rows["Entry Code"]),
    }
    count = pd.Series(np.sum(list(named.values()), axis=0), index=rows.index)
    found.add(count == 0, Code.NO_CREDENTIAL, None, value=None)
    found.add(
        count > 1, Code.MULTIPLE_CREDENTIALS, None, value=None,
        named=lambda at: pd.Series(
            [_described(named, position) for position in rows.index.get_indexer(at)], index=at
        ),
    )  # fmt: skip
    kinds = np.array(list(named), dtype=object)[np.argmax(list(named.values()), axis=0)]
    return pd.Series(np.where(count == 1, kinds, None), index=rows.index, dtype=object)


def _written(values: pd.Series) -> np.ndarray:
    """Which cells are not empty."""
    return (values != "").to_numpy(dtype=bool, na_value=False)


def _described(named: dict[str, np.ndarray], position: int) -> str:
    return " and ".join(label for kind, label in _LABELS.items() if named[kind][position])


def resolve_plates(rows: pd.DataFrame, resolved: pd.DataFrame, found: FindingsBuilder) -> None:
    is_plate = resolved["kind"] == "license_plate"
    written = rows["License Plate"]
    if not is_plate.any():
        return
    plate = normalize_plate(written)
    valid = is_plate & plate.str.fullmatch("[A-Z0-9]{2,10}")
    found.add(
        valid & (plate != written), Code.PLATE_NORMALIZED, "License Plate",
        written=lambda at: written[at].map(quoted), stored=lambda at: plate[at].map(quoted),
    )  # fmt: skip
    _write(resolved, valid, "license_plate", plate, "license_plate:")


def resolve_entry_codes(rows: pd.DataFrame, resolved: pd.DataFrame) -> None:
    is_code = resolved["kind"] == "entry_code"
    if not is_code.any():
        return
    code = rows["Entry Code"]
    _write(resolved, is_code & code.str.fullmatch("[0-9]{4,16}"), "entry_code", code, "entry_code:")


def _write(
    resolved: pd.DataFrame, valid: pd.Series, field: str, values: pd.Series, prefix: str
) -> None:
    """values as the field, and prefix + value as the credential key, where valid (whole columns
    at once: a write by label costs more than the rule)."""
    valid = valid.to_numpy(dtype=bool, na_value=False)
    if not valid.any():
        return
    text = values.to_numpy(dtype=object, na_value=None)[valid]
    for column, new in ((field, text), ("credential_key", prefix + text)):
        merged = resolved[column].to_numpy(dtype=object, copy=True)
        merged[valid] = new
        resolved[column] = pd.Series(merged, index=resolved.index, dtype=object)
