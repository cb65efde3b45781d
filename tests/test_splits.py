"""A row that names several credentials, split into one row per credential: reviewed, planned,
imported, recorded and undone as the file's row it came from."""

from __future__ import annotations

import csv
import io

import pytest

from credkit.directory import Directory
from credkit.importer import ImportChoices, execute_import, plan_import
from credkit.review import Review, ReviewOptions, review_bytes
from credkit.runs import run_changes, undo_run
from credkit.splits import credential_parts, labelled_findings
from tests.support import ADA, ADA_USER, ALAN, ALAN_USER, HID26, csv_bytes, run_options

ADA_KEYS = {
    "First Name": "Ada",
    "Last Name": "Lovelace",
    "User ID": ADA,
    "Email": "ada@example.com",
}
CARD = {"Card Type": HID26, "Facility Code": "1", "Card Number": "5"}
#: Row 3 names a card, a plate and an entry code; row 4 is Alan's, with Ada's new plate.
ROWS = [
    ADA_KEYS | {"License Plate": "XY12"},
    ADA_KEYS
    | CARD
    | {"License Plate": "AB12", "Entry Code": "7777", "Credential Status": "Active"},
    {"User ID": ALAN, "License Plate": "AB12"},
]
SPLIT = 3


@pytest.fixture
def staffed(directory: Directory) -> Directory:
    directory.add_users([ADA_USER, ALAN_USER])
    return directory


def _review(directory: Directory) -> Review:
    return review_bytes(csv_bytes(ROWS), directory, ReviewOptions(), file_name="three.csv")


def _codes(review: Review, row: int) -> set[str]:
    return set(review.rows.loc[review.rows["row"] == row, "code"])


def test_credential_parts_keep_keys_and_status() -> None:
    cells = {h: "" for h in csv.DictReader(io.StringIO(csv_bytes([{}]).decode())).fieldnames}
    parts = credential_parts(cells | ROWS[1])
    assert [(p["Card Number"], p["License Plate"], p["Entry Code"]) for p in parts] == [
        ("5", "", ""),
        ("", "AB12", ""),
        ("", "", "7777"),
    ]
    assert {p["User ID"] for p in parts} == {ADA}
    assert {p["Email"] for p in parts} == {"ada@example.com"}
    assert {p["Credential Status"] for p in parts} == {"Active"}


def test_a_split_row_becomes_one_reviewed_row_per_credential(staffed) -> None:
    review = _review(staffed)
    assert _codes(review, SPLIT) == {"multiple-credentials"}
    changed = review.split(SPLIT)

    # Three rows, in the file's order (the parts right after the row), the same user and names.
    assert list(review.table.index) == [2, 3, 5, 6, 4]
    parts = review.table.loc[[3, 5, 6]]
    assert set(parts["User ID"]) == {ADA} and set(parts["First Name"]) == {"Ada"}
    assert parts["Card Number"].tolist() == ["5", "", ""]
    assert parts["License Plate"].tolist() == ["", "AB12", ""]
    assert parts["Entry Code"].tolist() == ["", "", "7777"]
    assert [review.row_label(row) for row in (2, 3, 5, 6, 4)] == [
        "2",
        "3, credential 1 of 3",
        "3, credential 2 of 3",
        "3, credential 3 of 3",
        "4",
    ]
    # Re-reviewed: the multiple-credentials error is gone; the plate now on two rows makes
    # Alan's row the duplicate (the split row comes first in the file), named by its label.
    assert "multiple-credentials" not in set(review.rows["code"])
    assert _codes(review, 4) == {"duplicate-in-file"}
    assert set(changed["row"]) == {4}  # the findings of the rows re-checked
    shown = labelled_findings(review, review.rows)
    (message,) = shown.loc[shown["row"] == "4", "message"]
    assert message.endswith("is already on row 3, credential 2 of 3")
    assert review.edited_cells == {}  # a split is no edit of the operator's
    assert list(review.failing_rows) == [4]

    # An edit of a part afterwards is re-reviewed as any edit.
    review.edit({(5, "License Plate"): "ab-99"})
    assert _codes(review, 5) == {"plate-normalized"}
    assert _codes(review, 4) == set()


def test_a_row_with_one_credential_is_not_split(staffed) -> None:
    review = _review(staffed)
    with pytest.raises(ValueError, match="fewer than two credentials"):
        review.split(2)
    assert list(review.table.index) == [2, 3, 4]


def test_a_split_row_is_imported_as_its_credentials_and_undone(staffed) -> None:
    review = _review(staffed)
    review.split(SPLIT)
    plan = plan_import(review, ImportChoices())
    assert plan.rows["outcome"].to_dict() == {
        2: "create",
        3: "create",
        5: "create",
        6: "create",
        4: "fail",
    }
    result = execute_import(plan, staffed, operator="tester")
    assert result.counts()["create"] == 4

    # The directory, row by row: Ada's card, both plates and the entry code.
    credentials = staffed.credentials_frame()
    ada = credentials[credentials["user_id"] == ADA]
    assert sorted(ada["kind"]) == ["card", "entry_code", "license_plate", "license_plate"]
    assert set(ada["license_plate"].dropna()) == {"XY12", "AB12"}
    assert set(ada["entry_code"].dropna()) == {"7777"}
    (card,) = ada[ada["kind"] == "card"].itertuples()
    assert (card.card_type, card.facility_code, card.card_number) == (HID26, "1", "5")
    assert credentials[credentials["user_id"] == ALAN].empty

    # The run: its history names the file's row for each part; its record, the split row.
    changes = run_changes(staffed, result.run_id)
    assert sorted(changes["row"]) == [2, 3, 3, 3]
    options = run_options(staffed, result.run_id)
    assert options["split_rows"] == [SPLIT]
    assert options["edited_cells"] == 0

    # The failed rows file names the row that failed, and the part its error points to.
    stream = io.StringIO()
    result.write_failed_rows(stream)
    (failed,) = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert failed["Row"] == "4"
    assert failed["Error"].endswith("is already on row 3, credential 2 of 3")

    undone = undo_run(staffed, result.run_id, operator="tester")
    assert undone.undone and undone.reverted == 4
    assert staffed.credentials_frame().empty


def test_a_failing_part_is_named_in_the_plan_and_the_failed_rows(staffed) -> None:
    rows = [ADA_KEYS | CARD | {"Facility Code": "300", "License Plate": "AB12"}]
    review = review_bytes(csv_bytes(rows), staffed, ReviewOptions())
    review.split(2)
    assert list(review.table.index) == [2, 3]
    assert _codes(review, 2) == {"facility-code-range"}
    result = execute_import(plan_import(review), staffed, operator="tester")
    assert result.rows["outcome"].to_dict() == {2: "fail", 3: "create"}
    stream = io.StringIO()
    result.write_failed_rows(stream)
    (failed,) = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert failed["Row"] == "2, credential 1 of 2"
    assert (failed["Card Number"], failed["License Plate"]) == ("5", "")
    assert set(staffed.credentials_frame()["license_plate"].dropna()) == {"AB12"}
