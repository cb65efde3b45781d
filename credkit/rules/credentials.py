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
    named = pd.DataFrame(
        {
            "card": (rows[CARD_COLUMNS] != "").any(axis=1),
            "license_plate": rows["License Plate"] != "",
            "entry_code": rows["Entry Code"] != "",
        }
    )
    count = named.sum(axis=1)
    found.add(count == 0, Code.NO_CREDENTIAL, None, value=None)
    found.add(
        count > 1, Code.MULTIPLE_CREDENTIALS, None, value=None,
        named=lambda at: named.loc[at].apply(_described, axis=1),
    )  # fmt: skip
    kind = pd.Series(
        np.array(list(named.columns), dtype=object)[named.to_numpy().argmax(axis=1)],
        index=rows.index,
        dtype=object,
    )
    return kind.where(count == 1, None)


def _described(named: pd.Series) -> str:
    return " and ".join(label for kind, label in _LABELS.items() if named[kind])


def resolve_plates(rows: pd.DataFrame, resolved: pd.DataFrame, found: FindingsBuilder) -> None:
    is_plate = resolved["kind"] == "license_plate"
    written = rows["License Plate"]
    plate = normalize_plate(written)
    valid = is_plate & plate.str.fullmatch("[A-Z0-9]{2,10}")
    found.add(
        valid & (plate != written), Code.PLATE_NORMALIZED, "License Plate",
        written=lambda at: written[at].map(quoted), stored=lambda at: plate[at].map(quoted),
    )  # fmt: skip
    resolved.loc[valid, "license_plate"] = plate[valid]
    resolved.loc[valid, "credential_key"] = "license_plate:" + plate[valid]


def resolve_entry_codes(rows: pd.DataFrame, resolved: pd.DataFrame) -> None:
    code = rows["Entry Code"]
    valid = (resolved["kind"] == "entry_code") & code.str.fullmatch("[0-9]{4,16}")
    resolved.loc[valid, "entry_code"] = code[valid]
    resolved.loc[valid, "credential_key"] = "entry_code:" + code[valid]
