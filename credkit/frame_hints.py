"""Review hints from the decoder: the formats a frame without a Card Type can be, and the format a
frame whose parity fails for its stated type belongs to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa

from credkit.decode import Candidate, candidates
from credkit.findings import Code, finding, findings_frame, quoted
from credkit.formats import REGISTRY

#: How many candidates a hint names; `credkit decode` lists them all.
HINT_CANDIDATES = 5
#: How many rows of each kind get a hint: decoding costs far more than a parity check, and a
#: file whose every frame is wrong needs the first few explained, not a million.
HINT_ROWS = 1_000


@lru_cache(maxsize=4_096)
def _valid_frames(hex_value: str) -> tuple[Candidate, ...]:
    return tuple(c for c in candidates(hex_value) if c.parity == "valid")


def _listed(found: list[Candidate]) -> str:
    shown = "; ".join(
        f"{c.card_type} {c.card_number if c.facility_code is None else f'{c.facility_code}/{c.card_number}'}"
        for c in found[:HINT_CANDIDATES]
    )
    more = len(found) - HINT_CANDIDATES
    return shown + (f" and {more} more" if more > 0 else "")


def frame_hints(
    rows: pd.DataFrame,
    is_card: pd.Series,
    canonical: pd.Series,
    hex_clean: pd.Series,
    earlier: Iterable[pd.DataFrame] = (),
) -> pd.DataFrame:
    """Findings for card rows whose Card Number Hex says more than the row does.

    ``card-type-candidates``: a row with a frame and no Card Type, with the formats it can be.
    ``hex-other-format``: a frame whose parity fails for its Card Type (a ``hex-parity`` finding
    among the ``earlier`` findings) but holds for another format written in as many hex digits.
    ``canonical`` is each row's canonical card type (NaN where unknown) and ``hex_clean`` the hex
    without prefix and spaces.
    """
    untyped = is_card & (rows["Card Type"] == "") & (hex_clean != "")
    failed = [part.loc[part["code"] == "hex-parity", "row"] for part in earlier]
    failed_rows = pd.Index(pd.concat(failed).astype(int).unique() if failed else [])
    checked = canonical.notna() & rows.index.isin(failed_rows)
    is_frame = (hex_clean.str.len() <= 16) & hex_clean.str.fullmatch("[0-9A-F]+")
    failed_at = np.flatnonzero((checked & is_frame).to_numpy(dtype=bool, na_value=False))
    return hints_at(
        rows,
        np.flatnonzero((untyped & is_frame).to_numpy(dtype=bool, na_value=False)),
        failed_at,
        canonical.iloc[failed_at].tolist(),
        hex_clean,
    )


def hints_at(
    rows: pd.DataFrame,
    untyped: np.ndarray,
    failed: np.ndarray,
    failed_types: Sequence[str],
    hex_clean: pd.Series | pa.Array,
    hex_written: pa.Array | None = None,
) -> pd.DataFrame:
    """``frame_hints`` for the rows at these positions (ascending), whose hex is a frame (at most
    16 hex digits): ``untyped``, card rows without a Card Type; ``failed``, rows whose parity
    failed for their canonical type, ``failed_types`` (one for each). The caller finds them
    with whole-column masks: a loop over every card row's hex by label cost ~25 ms a file.
    Each row's cells are taken together as lists, not by a scalar .iloc a cell. ``hex_clean``
    and ``hex_written`` (the Card Number Hex cells as written; else read from the rows) may be
    single Arrow arrays of every row, where a take of the few rows' cells costs a fraction of
    pandas' take through the reader's chunks (~1.5 ms a file)."""
    records = []
    index = rows.index
    untyped = untyped[:HINT_ROWS]
    for row, hex_value in zip(index[untyped].tolist(), _cells(hex_clean, untyped), strict=True):
        found = list(_valid_frames(hex_value))
        if found:
            records.append(
                finding(
                    Code.CARD_TYPE_CANDIDATES,
                    row=row,
                    column="Card Type",
                    value=hex_value,
                    hex=quoted(hex_value),
                    candidates=_listed(found),
                    hex_digits=hex_value,
                )
            )
    # Only the rows whose parity already failed are decoded again: the others are fine as typed.
    shown: dict[str, int] = {}
    for row, card_type, hex_value, written in zip(
        index[failed].tolist(), failed_types, _cells(hex_clean, failed),
        _cells(rows["Card Number Hex"] if hex_written is None else hex_written, failed),
        strict=True,
    ):  # fmt: skip
        card_format = REGISTRY.get(card_type)
        if shown.get(card_format.name, 0) >= HINT_ROWS:
            continue
        shown[card_format.name] = shown.get(card_format.name, 0) + 1
        others = [
            c
            for c in _valid_frames(hex_value)
            if c.card_type != card_format.name and len(c.hex) == card_format.hex_digits
        ]
        if others:
            records.append(
                finding(
                    Code.HEX_OTHER_FORMAT,
                    row=row,
                    column="Card Number Hex",
                    value=written,
                    hex=quoted(hex_value),
                    card_type=card_format.name,
                    candidates=_listed(others),
                )
            )
    return findings_frame(records)


def _cells(values: pd.Series | pa.Array, positions: np.ndarray) -> list:
    """The values at these positions, as a list (an Arrow array's missing values as None)."""
    if isinstance(values, pa.Array):
        return values.take(pa.array(positions, pa.int64())).to_pylist() if len(positions) else []
    return values.iloc[positions].tolist()
