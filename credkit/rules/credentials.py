"""Which one credential each row names, and its plate or entry code: no-credential,
multiple-credentials, plate-normalized."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from credkit.findings import Code, quoted
from credkit.rules.builder import FindingsBuilder
from credkit.rules.columnar import arrow_text, byte_lengths, truth
from credkit.rules.fields import normalize_plate, valid_plates

if TYPE_CHECKING:  # resolve_rows' container of the resolved columns (it imports this module)
    from credkit.rules.runner import ResolvedColumns

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
    return named_kinds(rows, found).column(rows.index)


@dataclass(frozen=True)
class CredentialKinds:
    """Which credential each row names, as a position in _KINDS (the last: none). The rules that
    take one kind's rows find them from these small integers (~0.1 ms): comparing the resolved
    kind column's objects cost ~2.7 ms at 250,000 rows, once for each of three rules."""

    code: np.ndarray

    def rows_of(self, kind: str) -> np.ndarray:
        """Which rows are of this kind."""
        return self.code == _KIND_CODE[kind]

    def column(self, index: pd.Index) -> pd.Series:
        """The resolved frame's kind column: one shared string a kind, None for no kind."""
        return pd.Series(_KINDS[self.code], index=index, dtype=object, copy=False)


def named_kinds(rows: pd.DataFrame, found: FindingsBuilder) -> CredentialKinds:
    """credential_kinds as CredentialKinds."""
    named = {
        "card": np.logical_or.reduce([_written(rows[column]) for column in CARD_COLUMNS]),
        "license_plate": _written(rows["License Plate"]),
        "entry_code": _written(rows["Entry Code"]),
    }
    card, plate, code = (named[kind].view(np.int8) for kind in _KINDS[:3])
    count = card + plate + code  # small integers: no stacking of the masks into int64s
    found.add(pd.Series(count == 0, index=rows.index), Code.NO_CREDENTIAL, None, value=None)
    found.add(
        pd.Series(count > 1, index=rows.index), Code.MULTIPLE_CREDENTIALS, None, value=None,
        named=lambda at: pd.Series(
            [_described(named, position) for position in rows.index.get_indexer(at)], index=at
        ),
    )  # fmt: skip
    # Each row's kind as a position in _KINDS (None unless exactly one is named), then one take
    # of objects (no argmax over the stacked masks, no where over objects).
    return CredentialKinds(np.where(count == 1, plate + 2 * code, len(named)).astype(np.int8))


_KINDS = np.array(["card", "license_plate", "entry_code", None], dtype=object)
_KIND_CODE = {kind: code for code, kind in enumerate(_KINDS[:3])}


def kind_is(resolved: pd.DataFrame, kind: str) -> np.ndarray:
    """Which rows of a resolved frame are of this kind. NumPy compares the object column in a
    quarter of the time pandas' == does (2 ms at 250,000 rows)."""
    return resolved["kind"].to_numpy(dtype=object) == kind


def rows_of_kind(resolved: pd.DataFrame, kind: str, kinds: CredentialKinds | None) -> np.ndarray:
    """kind_is, from ``kinds`` (the resolved frame's kinds, named_kinds) when the caller has it."""
    return kind_is(resolved, kind) if kinds is None else kinds.rows_of(kind)


def _written(values: pd.Series) -> np.ndarray:
    """Which cells are not empty (nor missing)."""
    return byte_lengths(arrow_text(values)) > 0


def _described(named: dict[str, np.ndarray], position: int) -> str:
    return " and ".join(label for kind, label in _LABELS.items() if named[kind][position])


def resolve_plates(
    rows: pd.DataFrame,
    resolved: ResolvedColumns,
    found: FindingsBuilder,
    kinds: CredentialKinds | None = None,
) -> None:
    # Only the plate rows are checked (a sixth of the file's rows), as Arrow kernels on their
    # text, and only the plates not valid as written are normalised: a valid one has nothing to
    # normalise (PLATE admits no character normalize_plate removes or changes), so a plate is
    # changed by normalising exactly when it is valid only once normalised. 18 -> 11 ms.
    at = np.flatnonzero(rows_of_kind(resolved, "license_plate", kinds))
    if not len(at):
        return
    written = rows["License Plate"].iloc[at]
    valid = valid_plates(arrow_text(written))
    plates = written.to_numpy(dtype=object)
    others = np.flatnonzero(~valid)
    normalized = normalize_plate(written.iloc[others])
    fixed = valid_plates(arrow_text(normalized))
    valid[others] = fixed
    plates[others[fixed]] = normalized.to_numpy(dtype=object)[fixed]
    changed = np.zeros(len(at), dtype=bool)
    changed[others] = fixed
    found.add(
        pd.Series(changed, index=written.index), Code.PLATE_NORMALIZED, "License Plate",
        written=lambda at: written[at].map(quoted), stored=lambda at: normalized[at].map(quoted),
    )  # fmt: skip
    _write(resolved, at[valid], "license_plate", plates[valid], "license_plate:")


def resolve_entry_codes(
    rows: pd.DataFrame, resolved: ResolvedColumns, kinds: CredentialKinds | None = None
) -> None:
    at = np.flatnonzero(rows_of_kind(resolved, "entry_code", kinds))
    if not len(at):
        return
    code = arrow_text(rows["Entry Code"].iloc[at])
    # [0-9]{4,16} without a regex: ASCII digits are one byte each.
    length = byte_lengths(code)
    valid = truth(pc.ascii_is_decimal(code)) & (length >= 4) & (length <= 16)
    texts = code.filter(valid).to_numpy(zero_copy_only=False).astype(object, copy=False)
    _write(resolved, at[valid], "entry_code", texts, "entry_code:")


def _write(
    resolved: ResolvedColumns, at: np.ndarray, field: str, text: np.ndarray, prefix: str
) -> None:
    """text (objects, none missing) as the field, and prefix + text as the credential key, at
    these positions, written in place (ResolvedColumns.put)."""
    if not len(at):
        return
    resolved.put(field, at, text)
    resolved.put("credential_key", at, prefix + text)
