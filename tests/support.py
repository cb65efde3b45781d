"""Shared test data: the users tests put in a directory, their credentials, and CSV bytes."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import sqlalchemy as sa

from credkit.columns import HEADERS
from credkit.directory import (
    Directory,
    NewUser,
    card_key,
    entry_code_key,
    import_runs,
    plate_key,
)
from credkit.formats import REGISTRY

ADA = "11111111-1111-4111-8111-111111111111"
ALAN = "22222222-2222-4222-8222-222222222222"
KIM = "33333333-3333-4333-8333-333333333333"
HID26 = "Standard 26-bit Wiegand"
MIFARE = "MiFare 4-Byte (32 bit) CSN"

ADA_USER = NewUser("Ada", "Lovelace", external_id="E1", email="ada@example.com", user_id=ADA)
ALAN_USER = NewUser("Alan", "Turing", external_id="E2", email="alan@example.com", user_id=ALAN)
KIM_USER = NewUser("Kim", "Ng", external_id="E3", user_id=KIM)


def give_card(
    directory: Directory,
    user_id: str,
    facility_code: int,
    card_number: int,
    *,
    card_type: str = HID26,
    modified: datetime | None = None,
) -> None:
    """Give a user a card (with its hex form, as an import would store it)."""
    directory.add_credential(
        user_id,
        kind="card",
        credential_key=card_key(card_type, facility_code, card_number),
        card_type=card_type,
        facility_code=str(facility_code),
        card_number=str(card_number),
        card_number_hex=REGISTRY.get(card_type).encode(facility_code, card_number),
        modified=modified,
    )


def give_plate(directory: Directory, user_id: str, plate: str) -> None:
    directory.add_credential(
        user_id, kind="license_plate", credential_key=plate_key(plate), license_plate=plate
    )


def give_entry_code(
    directory: Directory, user_id: str, code: str, *, modified: datetime | None = None
) -> None:
    directory.add_credential(
        user_id,
        kind="entry_code",
        credential_key=entry_code_key(code),
        entry_code=code,
        modified=modified,
    )


def csv_bytes(rows: list[dict[str, str]], headers: list[str] = HEADERS) -> bytes:
    """A credential CSV of rows (dicts by header; missing cells empty)."""
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=headers, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return stream.getvalue().encode()


def run_options(directory: Directory, run_id: int) -> dict:
    """The options a run's record keeps (its choices: skips, reassigns, splits, edits)."""
    with directory.engine.connect() as conn:
        recorded = conn.execute(
            sa.select(import_runs.c.options).where(import_runs.c.id == run_id)
        ).scalar_one()
    return json.loads(recorded) if isinstance(recorded, str) else recorded
