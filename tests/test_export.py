"""Export writes exactly the contract's columns, one row per credential, and reviews clean."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from credkit.columns import HEADERS
from credkit.directory import Directory, NewUser, card_key, entry_code_key, plate_key
from credkit.export import template_csv, write_export
from credkit.review import review_bytes

MOMENT = datetime(2026, 11, 25, 14, 3, tzinfo=UTC)


@pytest.fixture
def filled(directory: Directory) -> Directory:
    (user,) = directory.add_users(
        [NewUser("=Eve", "O'Hara", external_id="-7", employee_id="@x", email="eve@example.com")]
    )
    directory.add_credential(
        user, kind="card", credential_key=card_key("HID 37-bit", 1000, 123456),
        card_type="HID 37-bit", facility_code="1000", card_number="123456",
        card_number_hex="003E83C481", modified=MOMENT,
    )  # fmt: skip
    directory.add_credential(
        user, kind="license_plate", credential_key=plate_key("EVE1"), license_plate="EVE1",
        status="inactive", modified=MOMENT,
    )  # fmt: skip
    directory.add_credential(
        user, kind="entry_code", credential_key=entry_code_key("0042"), entry_code="0042",
        modified=MOMENT,
    )  # fmt: skip
    return directory


def test_export_bytes(filled: Directory) -> None:
    stream = io.StringIO()
    assert write_export(filled, stream) == 3
    user_id = filled.users_frame()["user_id"][0]
    assert stream.getvalue().splitlines() == [
        ",".join(HEADERS),
        f"'=Eve,O'Hara,{user_id},'-7,'@x,eve@example.com,HID 37-bit,1000,123456,003E83C481,,,Active,2026-11-25T14:03:00Z",
        f"'=Eve,O'Hara,{user_id},'-7,'@x,eve@example.com,,,,,EVE1,,Inactive,2026-11-25T14:03:00Z",
        f"'=Eve,O'Hara,{user_id},'-7,'@x,eve@example.com,,,,,,0042,Active,2026-11-25T14:03:00Z",
    ]


def test_export_reviews_clean_and_round_trips_the_prefix(filled: Directory, tmp_path) -> None:
    path = tmp_path / "export.csv"
    write_export(filled, path)
    review = review_bytes(path.read_bytes(), filled)
    assert review.findings.empty, review.findings
    assert review.table["External ID"].tolist() == ["-7"] * 3
    assert review.resolved["existing_id"].notna().all()


def test_export_of_an_empty_directory_is_the_header(directory: Directory) -> None:
    stream = io.StringIO()
    assert write_export(directory, stream) == 0
    assert stream.getvalue() == ",".join(HEADERS) + "\r\n"  # RFC 4180 line ends


def test_template_has_headers_and_a_card_a_plate_and_an_entry_code() -> None:
    rows = list(csv.DictReader(io.StringIO(template_csv())))
    assert list(rows[0]) == HEADERS
    assert [bool(row["Card Type"]) for row in rows] == [True, False, False]
    assert (rows[1]["License Plate"], rows[2]["Entry Code"]) == ("ABC1234", "012345")
