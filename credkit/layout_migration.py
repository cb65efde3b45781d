"""The formats that gained a layout: their old Card Number Hex found in files and recomputed in the directory.

Until credkit knew their layouts, AWID 34-bit, PointGuard MDI 37-bit, Casi Rusco 40-Bit and
Guardall G-Prox II 36-bit were accepted by name only and their Card Number Hex was the card number
written in hexadecimal. It is now the whole frame, as for every format with a layout. A file that
still writes the old form gets ``hex-old-form`` with the frame as its fix; values stored in the
directory the old way are recomputed by ``recompute_stored_hex`` (run once, by a schema migration).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from credkit.directory import credentials
from credkit.formats import REGISTRY, CardFormat

#: The formats whose Card Number Hex changed meaning when their layout was added.
LAYOUTS_ADDED = (
    "AWID 34-bit",
    "PointGuard MDI 37-bit",
    "Casi Rusco 40-Bit",
    "Guardall G-Prox II 36-bit",
)


def _frame_or_reason(
    card_format: CardFormat, facility_code: int | None, card_number: int
) -> tuple[str | None, str]:
    """The frame of a credential, or None and why it cannot be computed."""
    if card_format.has_facility_code and facility_code is None:
        return None, f"{card_format.name} cards need a Facility Code to make the frame"
    try:
        return card_format.encode(facility_code, card_number), ""
    except ValueError as error:
        return None, str(error)


def old_forms(
    card_format: CardFormat, frame: pd.Series, facility: pd.Series, number: pd.Series
) -> pd.DataFrame:
    """The rows whose Card Number Hex is their Card Number in hexadecimal, the form before the
    format had a layout: the hex as written, and the frame to write instead (None, with the
    reason, where it cannot be computed). Indexed like the arguments.

    ``frame``, ``facility`` and ``number`` are the row's values as ints (None where empty).
    """
    found: dict[object, dict[str, str | None]] = {}
    if card_format.name in LAYOUTS_ADDED:
        both = frame.notna() & number.notna()
        for at in both.index[both.to_numpy()]:
            if int(frame[at]) != int(number[at]):
                continue
            facility_code = None if pd.isna(facility[at]) else int(facility[at])
            if not card_format.has_facility_code:
                facility_code = None
            computed, reason = _frame_or_reason(card_format, facility_code, int(number[at]))
            if computed is not None and int(computed, 16) == int(frame[at]):
                continue  # the frame and the card number coincide (card number 0): nothing old
            found[at] = {"written": f"{int(frame[at]):X}", "frame": computed, "reason": reason}
    return pd.DataFrame.from_dict(
        found, orient="index", columns=["written", "frame", "reason"], dtype=object
    )


@dataclass
class HexRecomputation:
    """What ``recompute_stored_hex`` did: how many values it rewrote, and which it could not."""

    updated: int = 0
    unchanged: int = 0
    #: (credential id, credential key, why) for every credential whose frame cannot be made,
    #: such as an AWID card stored without a facility code. Their hex is left as it was.
    not_recomputed: list[tuple[int, str, str]] = field(default_factory=list)


def recompute_stored_hex(connection: sa.Connection) -> HexRecomputation:
    """Rewrite the stored Card Number Hex of every credential of a format in LAYOUTS_ADDED as
    its whole frame, computed from the stored facility code and card number.

    Idempotent: a value already holding the frame is left alone. ``modified`` is not touched:
    the credential is the same card, only the way its hex is written changed, and a newer
    ``modified`` would make every file exported before the migration stale. Runs inside the
    caller's transaction (an Alembic revision's connection, or ``engine.begin()``).
    """
    result = HexRecomputation()
    rows = connection.execute(
        sa.select(
            credentials.c.id,
            credentials.c.credential_key,
            credentials.c.card_type,
            credentials.c.facility_code,
            credentials.c.card_number,
            credentials.c.card_number_hex,
        )
        .where(credentials.c.kind == "card", credentials.c.card_type.in_(LAYOUTS_ADDED))
        .order_by(credentials.c.id)
    ).all()
    updates = []
    for row in rows:
        card_format = REGISTRY.get(row.card_type)
        facility_code = None if row.facility_code in (None, "") else int(row.facility_code)
        if not card_format.has_facility_code and facility_code is not None:
            reason = f"{card_format.name} has no facility code, but {facility_code} is stored"
            result.not_recomputed.append((row.id, row.credential_key, reason))
            continue
        computed, reason = _frame_or_reason(card_format, facility_code, int(row.card_number))
        if computed is None:
            result.not_recomputed.append((row.id, row.credential_key, reason))
        elif computed == row.card_number_hex:
            result.unchanged += 1
        else:
            updates.append({"credential_id": row.id, "frame": computed})
    if updates:
        connection.execute(
            credentials.update()
            .where(credentials.c.id == sa.bindparam("credential_id"))
            .values(card_number_hex=sa.bindparam("frame")),
            updates,
        )
    result.updated = len(updates)
    return result


def restore_old_form_hex(connection: sa.Connection) -> int:
    """Undo ``recompute_stored_hex`` (a migration's downgrade): the stored Card Number Hex of the
    formats in LAYOUTS_ADDED becomes the card number in hexadecimal again. Returns how many
    values it rewrote; ``modified`` is not touched."""
    rows = connection.execute(
        sa.select(credentials.c.id, credentials.c.card_number, credentials.c.card_number_hex).where(
            credentials.c.kind == "card", credentials.c.card_type.in_(LAYOUTS_ADDED)
        )
    ).all()
    updates = [
        {"credential_id": row.id, "old_form": f"{int(row.card_number):X}"}
        for row in rows
        if row.card_number_hex != f"{int(row.card_number):X}"
    ]
    if updates:
        connection.execute(
            credentials.update()
            .where(credentials.c.id == sa.bindparam("credential_id"))
            .values(card_number_hex=sa.bindparam("old_form")),
            updates,
        )
    return len(updates)
