"""Review hints from the decoder: the formats a frame without a Card Type can be, and the format a
frame whose parity fails for its stated type belongs to."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from credkit.decode import Candidate, candidates
from credkit.findings import finding, findings_frame, quoted
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
    rows: pd.DataFrame, is_card: pd.Series, canonical: pd.Series, hex_clean: pd.Series
) -> pd.DataFrame:
    """Findings for card rows whose Card Number Hex says more than the row does.

    ``card-type-candidates``: a row with a frame and no Card Type, with the formats it can be.
    ``hex-other-format``: a frame whose parity fails for its Card Type but holds for another
    format written in as many hex digits. ``canonical`` is each row's canonical card type (NaN
    where unknown) and ``hex_clean`` the hex without prefix and spaces.
    """
    records = []
    is_hex = hex_clean.str.fullmatch("[0-9A-F]+") & (hex_clean.str.len() <= 16)
    untyped = is_card & (rows["Card Type"] == "") & is_hex
    for at in untyped.index[untyped.to_numpy()][:HINT_ROWS]:
        found = list(_valid_frames(hex_clean[at]))
        if found:
            message = (
                f"Card Number Hex {quoted(hex_clean[at])} can be a frame of: {_listed(found)} "
                f"(best first; see `credkit decode {hex_clean[at]}`)"
            )
            records.append(
                finding(
                    "card-type-candidates",
                    message,
                    row=at,
                    column="Card Type",
                    value=hex_clean[at],
                )
            )
    typed = is_card & canonical.notna() & is_hex
    for name in pd.unique(canonical[typed]):
        card_format = REGISTRY.get(name)
        if card_format.layout is None or not card_format.layout.parity:
            continue
        in_format = typed & (canonical == name) & (hex_clean.str.len() <= card_format.hex_digits)
        index = in_format.index[in_format.to_numpy()]
        frames = [int(value, 16) for value in hex_clean[index]]
        fits = np.array([frame >> card_format.bits == 0 for frame in frames], dtype=bool)
        index, frames = index[fits], [frame for frame, ok in zip(frames, fits, strict=True) if ok]
        if not frames:
            continue
        _, _, parity_valid = card_format.decode_many(np.array(frames, dtype=np.uint64))
        for at in index[~parity_valid][:HINT_ROWS]:
            others = [
                c
                for c in _valid_frames(hex_clean[at])
                if c.card_type != card_format.name and len(c.hex) == card_format.hex_digits
            ]
            if others:
                message = (
                    f"Card Number Hex {quoted(hex_clean[at])} fails {card_format.name}'s parity "
                    f"but is a valid frame of: {_listed(others)}; is the Card Type right?"
                )
                records.append(
                    finding(
                        "hex-other-format",
                        message,
                        row=at,
                        column="Card Number Hex",
                        value=rows.at[at, "Card Number Hex"],
                    )
                )
    return findings_frame(records)
