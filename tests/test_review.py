"""Review: every row rule gives its finding at the right row and column, with its severity."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from credkit.directory import Directory, plate_key
from credkit.formats import REGISTRY
from credkit.review import Review, ReviewOptions, review_bytes
from tests.support import (
    ADA,
    ADA_USER,
    ALAN,
    ALAN_USER,
    HID26,
    MIFARE,
    csv_bytes,
    give_card,
    give_entry_code,
    give_plate,
)


@pytest.fixture
def staffed(directory: Directory) -> Directory:
    """Two users: Ada (card 1/1, plate ADA1, entry code 0042) and Alan (card 1/2, June)."""
    directory.add_users([ADA_USER, ALAN_USER])
    give_card(directory, ADA, 1, 1)
    give_plate(directory, ADA, "ADA1")
    give_entry_code(directory, ADA, "0042")
    give_card(directory, ALAN, 1, 2, modified=datetime(2026, 6, 1, tzinfo=UTC))
    return directory


def review_rows(directory: Directory, rows: list[dict[str, str]], **options) -> Review:
    return review_bytes(csv_bytes(rows), directory, ReviewOptions(**options))


def flatten(findings: pd.DataFrame) -> list[tuple]:
    return [
        (int(row), column, code, severity)
        for row, column, code, severity in findings[
            ["row", "column", "code", "severity"]
        ].itertuples(index=False)
    ]


def card(facility: str, number: str, hex_value: str = "", card_type: str = HID26) -> dict:
    return {
        "Card Type": card_type,
        "Facility Code": facility,
        "Card Number": number,
        "Card Number Hex": hex_value,
    }


ada = {"User ID": ADA}
alan = {"User ID": ALAN}
hex_1_3 = REGISTRY.get(HID26).encode(1, 3)

ROW_CASES = {
    # user
    "missing-key": ({"License Plate": "XY12"}, None, "error"),
    "unknown-user": ({"External ID": "E9", "License Plate": "XY12"}, "External ID", "error"),
    "keys-disagree": (ada | {"Email": "alan@example.com", "License Plate": "XY12"}, "Email", "error"),
    "key-unmatched": (ada | {"External ID": "E9", "License Plate": "XY12"}, "External ID", "warning"),
    "name-mismatch": (ada | {"First Name": "Bob", "License Plate": "XY12"}, "First Name", "warning"),
    # credential
    "no-credential": (ada, None, "error"),
    "multiple-credentials": (ada | {"License Plate": "XY12", "Entry Code": "7777"}, None, "error"),
    # card
    "unknown-card-type": (ada | card("1", "3", card_type="Foo 12-bit"), "Card Type", "error"),
    "card-type-alias": (ada | card("1", "3", card_type="hid"), "Card Type", "warning"),
    "facility-code-required": (ada | card("", "3"), "Facility Code", "error"),
    "facility-code-not-allowed": (ada | card("1", "3", card_type=MIFARE), "Facility Code", "error"),
    "facility-code-range": (ada | card("300", "3"), "Facility Code", "error"),
    "card-number-range": (ada | card("1", "70000"), "Card Number", "error"),
    "not-digits": (ada | card("1a", "3"), "Facility Code", "error"),
    "scientific-notation": (ada | card("1", "1.23457E+11"), "Card Number", "error"),
    "hex-invalid": (ada | card("1", "3", "XYZ"), "Card Number Hex", "error"),
    "hex-parity": (ada | card("", "", "2020003"), "Card Number Hex", "error"),
    "hex-mismatch": (ada | card("1", "5", "2020002"), "Card Number Hex", "error"),
    "hex-byte-order": (ada | card("", "16909060", "04030201", MIFARE), "Card Number Hex", "error"),
    "hex-prefix": (ada | card("1", "3", "0x" + hex_1_3.lower()), "Card Number Hex", "warning"),
    "hex-leading-zeros": (ada | card("", "", "00000" + hex_1_3), "Card Number Hex", "warning"),
    # other credentials
    "plate-invalid": (ada | {"License Plate": "A"}, "License Plate", "error"),
    "plate-normalized": (ada | {"License Plate": "ab-12"}, "License Plate", "warning"),
    "entry-code-invalid": (ada | {"Entry Code": "12ab"}, "Entry Code", "error"),
    "entry-code-leading-zeros": (ada | {"Entry Code": "42"}, "Entry Code", "error"),
    "entry-code-replaced": (ada | {"Entry Code": "9999"}, "Entry Code", "warning"),
    # status and time
    "status-invalid": (ada | {"License Plate": "XY12", "Credential Status": "Lost"},
                       "Credential Status", "error"),
    "modified-invalid": (ada | {"License Plate": "XY12", "Modified": "yesterday"}, "Modified", "error"),
    "modified-in-future": (ada | {"License Plate": "XY12", "Modified": "9999-12-31T23:59:59Z"},
                           "Modified", "warning"),
    # lengths the directory stores
    "field-too-long": (ada | {"License Plate": "XY12", "Employee ID": "7" * 256}, "Employee ID",
                       "error"),
    "stale": (alan | card("1", "2", "", HID26) | {"Modified": "2026-01-01T00:00:00Z"}, "Modified",
              "error"),
    # duplicates against the directory
    "assigned-to-other-user": (alan | card("1", "1"), "Card Number", "error"),
    "entry-code-in-use": (alan | {"Entry Code": "0042"}, "Entry Code", "error"),
}  # fmt: skip


@pytest.mark.parametrize("code", list(ROW_CASES))
def test_each_row_rule_names_row_column_and_severity(staffed: Directory, code: str) -> None:
    row, column, severity = ROW_CASES[code]
    good = ada | {"License Plate": "GOOD1"}
    review = review_rows(staffed, [good, row])
    assert (3, column, code, severity) in flatten(review.rows), flatten(review.rows)
    # The good row before it is untouched, and every finding is on the bad row.
    assert set(review.rows["row"]) == {3}
    assert list(review.passing_rows) == ([2, 3] if severity == "warning" else [2])


def test_a_clean_file_has_no_findings(staffed: Directory) -> None:
    rows = [
        ada | card("1", "3", hex_1_3),
        alan | {"License Plate": "TUR1NG", "Credential Status": "inactive"},
        {"External ID": "E2", "Card Type": MIFARE, "Card Number Hex": "0A0B0C0D"},
        {"Email": " ADA@example.COM ", "Card Type": "HID iClass", "Card Number": str(2**64 - 1)},
    ]
    review = review_rows(staffed, rows)
    assert review.findings.empty, review.findings
    assert review.exit_status == 0
    resolved = review.resolved
    assert resolved["user_id"].tolist() == [ADA, ALAN, ALAN, ADA]
    assert resolved["kind"].tolist() == ["card", "license_plate", "card", "card"]
    # Hex given alone fills in the card number; serial numbers are zero-padded hex.
    assert resolved.loc[4, "card_number"] == str(0x0A0B0C0D)
    assert resolved.loc[5, "card_number_hex"] == "F" * 16
    assert resolved.loc[3, "status"] == "inactive"


def test_hex_alone_fills_in_facility_code_and_card_number(staffed: Directory) -> None:
    review = review_rows(staffed, [ada | card("", "", "2EC0C86")])
    assert review.findings.empty
    assert review.resolved.loc[2, ["facility_code", "card_number"]].tolist() == ["118", "1603"]


def test_duplicates_in_file_fail_every_later_row(staffed: Directory) -> None:
    plate = ada | {"License Plate": "DUP1"}
    rows = [plate, alan | {"License Plate": "OTHER1"}, ada | {"License Plate": "dup-1"}, plate]
    review = review_rows(staffed, rows)
    duplicates = review.rows[review.rows["code"] == "duplicate-in-file"]
    assert duplicates["row"].tolist() == [4, 5]
    assert duplicates["message"].str.contains("row 2").all()


def test_two_entry_codes_for_one_user_fail_the_later(staffed: Directory) -> None:
    review = review_rows(staffed, [alan | {"Entry Code": "1234"}, alan | {"Entry Code": "5678"}])
    assert flatten(review.rows) == [(3, "Entry Code", "duplicate-in-file", "error")]


def test_reassign_allows_credentials_of_other_users(staffed: Directory) -> None:
    rows = [alan | card("1", "1"), alan | {"Entry Code": "0042"}]
    assert len(review_rows(staffed, rows).failing_rows) == 2
    assert review_rows(staffed, rows, reassign=True).findings.empty


def test_overwrite_newer_allows_stale_rows(staffed: Directory) -> None:
    row = alan | card("1", "2") | {"Modified": "01/01/2026 09:30 AM"}
    assert "stale" in review_rows(staffed, [row]).rows["code"].tolist()
    assert review_rows(staffed, [row], overwrite_newer=True).findings.empty


@pytest.mark.parametrize(
    "modified", ["2026-06-01T00:00:00Z", "2026-06-01T00:00:00.900Z", "2026-06-01 02:00:00+02:00",
                 "06/01/2026 12:00:00 AM", "2026-07-01T00:00:00Z", ""],
)  # fmt: skip
def test_rows_as_new_as_the_directory_are_not_stale(staffed: Directory, modified: str) -> None:
    review = review_rows(staffed, [alan | card("1", "2") | {"Modified": modified}])
    assert review.findings.empty, review.findings


def test_entry_codes_are_masked_in_every_finding(staffed: Directory) -> None:
    rows = [alan | {"Entry Code": "0042"}, ada | {"Entry Code": "123"}]
    review = review_rows(staffed, rows)
    shown = " ".join(review.rows["value"].dropna()) + " ".join(review.rows["message"])
    assert "0042" not in shown and "123" not in shown
    assert "\u2022\u2022\u2022\u202242" in review.rows["value"].tolist()


def test_formula_prefix_is_removed(staffed: Directory) -> None:
    review = review_rows(staffed, [{"User ID": ADA, "License Plate": "'-AB12"}])
    assert review.resolved.loc[2, "license_plate"] == "AB12"


# --- incremental re-review --------------------------------------------------------------------


def _full_review_findings(review: Review, staffed: Directory) -> list[tuple]:
    rows = review.table.to_dict("records")
    return sorted(flatten(review_rows(staffed, rows).rows))


def test_editing_a_row_rereviews_it(staffed: Directory) -> None:
    review = review_rows(staffed, [ada | {"License Plate": "A"}, alan | {"License Plate": "B2"}])
    assert flatten(review.rows) == [(2, "License Plate", "plate-invalid", "error")]
    review.edit({(2, "License Plate"): "AB12"})
    assert review.rows.empty
    assert review.resolved.loc[2, "credential_key"] == plate_key("AB12")


def test_an_edit_that_makes_or_breaks_a_duplicate_updates_the_other_rows(staffed) -> None:
    rows = [
        ada | {"License Plate": "P1"},
        alan | {"License Plate": "P2"},
        ada | {"License Plate": "P3"},
    ]
    review = review_rows(staffed, rows)
    review.edit({(2, "License Plate"): "P3"})  # now row 4 repeats row 2
    assert flatten(review.rows) == [(4, "License Plate", "duplicate-in-file", "error")]
    assert sorted(flatten(review.rows)) == _full_review_findings(review, staffed)
    review.edit({(2, "License Plate"): "P1"})  # and now it does not
    assert review.rows.empty


def test_a_key_first_typed_in_an_edit_is_found_by_later_edits(staffed: Directory) -> None:
    rows = [ada | {"License Plate": "P1"}, alan | {"License Plate": "P2"}]
    review = review_rows(staffed, rows)
    review.edit({(2, "License Plate"): "P5"})  # the first edit indexes the file's keys
    review.edit({(2, "License Plate"): "NEW9"})  # a key the file did not hold
    review.edit({(3, "License Plate"): "NEW9"})  # now row 3 repeats it
    assert flatten(review.rows) == [(3, "License Plate", "duplicate-in-file", "error")]
    review.edit({(2, "License Plate"): "P1"})  # row 2 lets it go: row 3 is first now
    assert review.rows.empty
    assert sorted(flatten(review.rows)) == _full_review_findings(review, staffed)


def test_incremental_review_equals_a_full_review(staffed: Directory) -> None:
    rows = [
        ada | {"License Plate": "P1"},
        alan | {"Entry Code": "1234"},
        alan | {"Entry Code": "5678"},
        ada | card("1", "3"),
        ada | card("1", "3"),
        alan | card("1", "1"),
    ]
    review = review_rows(staffed, rows)
    edits = [
        {(3, "Entry Code"): "", (3, "License Plate"): "P1"},
        {(2, "License Plate"): "P9"},
        {(6, "Card Number"): "4", (7, "User ID"): ADA},
        {(4, "Entry Code"): "0042"},
        {(3, "User ID"): "", (3, "External ID"): "E1"},
    ]
    for edit in edits:
        review.edit(edit)
        assert sorted(flatten(review.rows)) == _full_review_findings(review, staffed)


# --------------------------------------------------------------------------------------------
# Issue 11: what the review passes, the import can write; limits counted right
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hex_value", ["0x", "0X", " 0x ", "0x  "])
@pytest.mark.parametrize("card_type", ["HID iClass", MIFARE, "HID 37-bit No Facility Code", HID26])
def test_a_hex_that_is_only_a_prefix_is_an_error(
    staffed: Directory, hex_value: str, card_type: str
) -> None:
    review = review_rows(staffed, [ada | card("", "", hex_value, card_type)])
    assert (2, "Card Number Hex", "hex-invalid", "error") in flatten(review.rows)
    assert "no hex digits" in review.rows.set_index("code").loc["hex-invalid", "message"]
    assert list(review.passing_rows) == []


def test_hex_with_zeros_beyond_the_padding_is_read_with_a_warning(staffed: Directory) -> None:
    review = review_rows(staffed, [ada | card("", "", "000002EC0C86")])
    assert flatten(review.rows) == [(2, "Card Number Hex", "hex-leading-zeros", "warning")]
    message = review.rows["message"].iloc[0]
    assert "'2EC0C86'" in message and "7 hex digits" in message, message
    resolved = review.resolved.loc[2]
    assert (resolved["facility_code"], resolved["card_number"]) == ("118", "1603")
    assert resolved["card_number_hex"] == "2EC0C86"
    # A value that does not fit the format is still too wide, zeros or not.
    wide = review_rows(staffed, [ada | card("", "", "00004EC0C86")])
    assert (2, "Card Number Hex", "hex-invalid", "error") in flatten(wide.rows)
    # Serial numbers: the zeros beyond the 8 digits are dropped the same way.
    serial = review_rows(staffed, [ada | card("", "", "0001020304", MIFARE)])
    assert flatten(serial.rows) == [(2, "Card Number Hex", "hex-leading-zeros", "warning")]
    assert serial.resolved.loc[2, "card_number"] == str(0x01020304)


@pytest.mark.parametrize(
    "modified", ["9999-12-31T23:59:59Z", "12/31/9999 11:59:59 PM", "2999-01-01T00:00:00+05:00"]
)
def test_a_modified_time_in_the_future_is_a_warning(staffed: Directory, modified: str) -> None:
    review = review_rows(staffed, [ada | {"License Plate": "XY12", "Modified": modified}])
    assert flatten(review.rows) == [(2, "Modified", "modified-in-future", "warning")]
    assert list(review.passing_rows) == [2]
    # It is never stale, even for a credential the directory changed since.
    stale = review_rows(staffed, [alan | card("1", "2") | {"Modified": modified}])
    assert [code for *_, code, _ in flatten(stale.rows)] == ["modified-in-future"]


def test_a_value_longer_than_the_directory_stores_is_an_error(staffed: Directory) -> None:
    from credkit.directory import users

    limit = users.c.first_name.type.length
    rows = [
        ada | {"License Plate": "XY12", "First Name": "A" * limit},  # fits: a name mismatch only
        ada | {"License Plate": "XY13", "First Name": "A" * (limit + 1)},
        ada | {"License Plate": "XY14", "Email": "a" * 320 + "@example.com"},
    ]
    review = review_rows(staffed, rows)
    too_long = review.rows[review.rows["code"] == "field-too-long"]
    assert [(int(r), c) for r, c in too_long[["row", "column"]].itertuples(index=False)] == [
        (3, "First Name"),
        (4, "Email"),
    ]
    message = too_long["message"].iloc[0]
    assert f"{limit + 1:,} characters" in message and f"at most {limit:,}" in message, message
    assert list(review.passing_rows) == [2]
