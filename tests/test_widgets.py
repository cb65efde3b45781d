"""Notebook widgets: the import wizard and the export panel, driven without a browser."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("ipydatagrid")

from credkit.columns import HEADERS  # noqa: E402
from credkit.demo import CLEAN_FILE, MESSY_FILE, create_demo  # noqa: E402
from credkit.directory import Directory  # noqa: E402
from credkit.formats import REGISTRY  # noqa: E402
from credkit.notebook import ExportFilters, ExportPanel, ImportWizard  # noqa: E402
from credkit.notebook.charts import findings_by_column_and_code  # noqa: E402
from credkit.notebook.downloads import csv_download_html, decode_data_uri  # noqa: E402
from credkit.notebook.fixes import fixes_for  # noqa: E402
from credkit.notebook.grid import PAGE_SIZE, RowGrid  # noqa: E402
from credkit.notebook.wizard import COLUMNS, FILE, OPTIONS, PLAN, RESULT, ROWS, STEPS  # noqa: E402
from tests.support import run_options  # noqa: E402

HID26 = "Standard 26-bit Wiegand"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Directory, Path]]:
    """A demo directory of 50 users, and the folder holding its two sample CSVs."""
    directory = Directory(f"sqlite:///{tmp_path / 'credkit.db'}")
    create_demo(directory, tmp_path, user_count=50)
    yield directory, tmp_path
    directory.dispose()


def upload_entry(name: str, content: bytes | None, size: int | None = None) -> dict:
    """One FileUpload value entry, as ipywidgets 8 stores what the browser sent."""
    return {
        "name": name,
        "type": "text/csv",
        "size": len(content or b"") if size is None else size,
        "content": None if content is None else memoryview(content),
        "last_modified": datetime(2026, 1, 1, tzinfo=UTC),
    }


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def csv_text(rows: list[dict[str, str]], delimiter: str = ",") -> str:
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=HEADERS, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return stream.getvalue()


def codes_at(wizard: ImportWizard, row: int) -> set[str]:
    rows = wizard.review.rows
    return set(rows.loc[rows["row"].eq(row).fillna(False).astype(bool), "code"])


def shown(widget) -> bool:
    return widget.layout.display != "none"


# --- the whole import, as an operator runs it ---------------------------------------------------

# The demo's messy file, once "Facility Cod" is read as "Facility Code" (credkit.demo.messy_rows).
ALIAS, FC_300, BAD_PARITY, SHORT_CODE, PLATE, TWO_CREDENTIALS = 3, 4, 5, 6, 7, 8
UNKNOWN_USER, DUPLICATE, OTHER_USERS_CARD = 9, 10, 11
#: Row 8's plate, once the row is split: the first number after the file's last row.
SPLIT_PLATE = 12


def select(wizard: ImportWizard, row: int) -> None:
    """Click a cell of a row in the grid (its position in the grid's data)."""
    position = list(wizard.grid.shown.index).index(row)
    wizard.grid.handle_cell_click({"region": "body", "row": position, "primary_key_row": position})


def action(wizard: ImportWizard, starts: str):
    (button,) = [b for b in wizard.grid.row_actions.children if b.description.startswith(starts)]
    return button


def test_an_operator_imports_the_messy_file(demo) -> None:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    before = len(directory.credentials_frame())
    data = (folder / MESSY_FILE).read_bytes()
    assert wizard.step == FILE and wizard.next_button.disabled

    # Upload: the value the way ipywidgets 8 stores it; the wizard reads it, then clears it,
    # and shows the columns step.
    wizard.chooser.upload.value = (upload_entry(MESSY_FILE, data),)
    assert wizard.chooser.upload.value == ()
    assert wizard.step == COLUMNS and STEPS[COLUMNS] in wizard.indicator.value
    assert wizard.review.rejected  # "Facility Cod" is only a suggestion until accepted
    assert wizard.next_button.disabled and "rejected" in wizard.next_note.value
    assert "Facility Cod" in wizard.reports.column_report.value
    assert wizard.plan is None and wizard.importer.import_button.disabled
    assert [box.description for box in wizard.choices.mapping_box.children] == [
        "Read column 'Facility Cod' as 'Facility Code'"
    ]

    # Accept the header suggestion in place: the file is reviewed again.
    assert wizard.accept_button.description.endswith("(Facility Cod = Facility Code)")
    wizard.accept_button.click()
    review = wizard.review
    assert not review.rejected and not wizard.next_button.disabled
    assert review.options.mapping == (("Facility Cod", "Facility Code"),)
    assert wizard.choices.mapping_box.children[0].value is True
    wizard.next_button.click()
    assert wizard.step == ROWS
    assert list(review.failing_rows) == [4, 5, 6, 8, 9, 10, 11]
    assert "10 rows, 7 with errors, 3 passing" in wizard.reports.summary.value

    # Every computed fix at once: canonical card type, normalised plate, the frame computed
    # from facility code and card number, the row with two credentials split in two.
    # Guesses (the entry code) are left alone.
    assert set(wizard.fixes.buttons) == {
        "all", "card-type-alias", "hex-parity", "plate-normalized", "multiple-credentials",
        "skip-failing",
    }  # fmt: skip
    assert wizard.fixes.message.value == ""  # no "nothing left" beside the buttons
    wizard.fixes.buttons["all"].click()
    assert "3 rows edited, 1 row split into one row per credential" in wizard.fixes.message.value
    table = wizard.review.table
    assert wizard.review.row_label(SPLIT_PLATE) == "8, credential 2 of 2"
    assert "10 rows, 11 credential rows once 1 row is split;" in wizard.reports.summary.value
    assert table.at[TWO_CREDENTIALS, "License Plate"] == ""
    assert table.at[SPLIT_PLATE, "Card Number"] == ""
    assert (
        table.at[SPLIT_PLATE, "License Plate"] == csv_rows(folder / MESSY_FILE)[6]["License Plate"]
    )
    assert table.at[ALIAS, "Card Type"] == HID26
    assert re.fullmatch(r"AB[0-9]{4}", table.at[PLATE, "License Plate"])
    hid26 = REGISTRY.get(HID26)
    assert table.at[BAD_PARITY, "Card Number Hex"] == hid26.encode(
        int(table.at[BAD_PARITY, "Facility Code"]), int(table.at[BAD_PARITY, "Card Number"])
    )
    assert {"card-type-alias", "plate-normalized", "hex-parity"}.isdisjoint(
        set(wizard.review.rows["code"])
    )
    assert table.at[SHORT_CODE, "Entry Code"] == csv_rows(folder / MESSY_FILE)[4]["Entry Code"]

    # The grid: the rows with errors, tinted by their status, entry codes masked.
    grid = wizard.grid
    # A bulk fix chooses the view's rows again: the rows it fixed leave the errors view.
    assert list(grid.shown.index) == [4, 6, 9, 10, 11]
    assert grid.view.label == "Rows with errors (5)"
    assert grid.shown.at[FC_300, "Status"] == "\u2716 Facility Code;"
    assert grid.shown.columns[:5].tolist() == [
        "Status", "External ID", "Card Type", "Facility Code", "Card Number",
    ]  # fmt: skip
    assert grid.shown.at[SHORT_CODE, "Entry Code"].startswith("\u2022")

    # Edit a cell through the grid: Facility Code 300 is out of range for a 26-bit card.
    sent = []
    grid.grid.observe(lambda change: sent.append(change), names="_data")
    grid.grid.set_cell_value("Facility Code", FC_300, "30")
    assert sent == []  # the cell is updated in place: the grid is not reloaded, nor scrolled
    assert codes_at(wizard, FC_300) == set()
    assert wizard.edits[(FC_300, "Facility Code")] == "30"
    assert grid.shown.at[FC_300, "Status"] == "ok"
    assert "Row 4" in grid.findings.value and "No findings" in grid.findings.value

    # The entry code's suggestion, on its row, applied with its button.
    select(wizard, SHORT_CODE)
    assert "entry-code-leading-zeros" in grid.findings.value
    action(wizard, "Entry code with a leading zero").click()
    assert codes_at(wizard, SHORT_CODE) - {"entry-code-replaced"} == set()

    # The card of another user: reassigned for this row only; the global option stays off.
    select(wizard, OTHER_USERS_CARD)
    action(wizard, "Reassign to this row").click()
    assert wizard.plan.rows.at[OTHER_USERS_CARD, "outcome"] == "reassign"
    assert not wizard.choices.reassign.value

    # What still fails (the unknown user, the duplicate): skipped.
    assert wizard.fixes.buttons["skip-failing"].description.endswith("(2)")
    wizard.fixes.buttons["skip-failing"].click()
    assert wizard.skipped == {UNKNOWN_USER, DUPLICATE}
    assert grid.shown.at[UNKNOWN_USER, "Status"] == "skipped"
    assert "skip-failing" not in wizard.fixes.buttons

    wizard.next_button.click()
    assert wizard.step == OPTIONS
    wizard.next_button.click()
    assert wizard.step == PLAN
    counts = {"create": 7, "update": 1, "reassign": 1, "unchanged": 0, "fail": 2}
    assert wizard.plan.counts() == counts
    assert "skipped by the operator" in wizard.importer.plan_table.value
    assert "8, credential 2 of 2" in wizard.importer.plan_table.value
    assert wizard.importer.import_button.description == "Import 9 rows"
    wizard.importer.import_button.click()
    result = wizard.result
    assert wizard.step == RESULT
    assert result.counts() == counts
    assert f"credkit runs undo {result.run_id}" in wizard.importer.result_counts.value
    assert wizard.importer.import_button.description == "Imported"
    assert wizard.importer.import_button.disabled  # one import per loaded file

    # The directory, row by row.
    credentials = directory.credentials_frame()
    # 7 created (row 8's card and plate among them); a replaced entry code, a moved card.
    assert len(credentials) == before + 7
    cards = credentials[credentials["kind"] == "card"].set_index("card_number")
    assert cards.at[table.at[FC_300, "Card Number"], "facility_code"] == "30"
    assert (
        cards.at[table.at[BAD_PARITY, "Card Number"], "card_number_hex"]
        == (table.at[BAD_PARITY, "Card Number Hex"])
    )
    assert (
        cards.at[table.at[OTHER_USERS_CARD, "Card Number"], "user_id"]
        == (table.at[OTHER_USERS_CARD, "User ID"])
    )
    assert table.at[UNKNOWN_USER, "External ID"] not in set(credentials["external_id"])
    # Row 8 split: its card and its plate, both the row's user's.
    owner = table.at[TWO_CREDENTIALS, "User ID"]
    assert cards.at[table.at[TWO_CREDENTIALS, "Card Number"], "user_id"] == owner
    plates = credentials.loc[credentials["user_id"] == owner, "license_plate"]
    assert table.at[SPLIT_PLATE, "License Plate"] in set(plates.dropna())

    # The failed rows download: the skipped rows, each "skipped by the operator".
    failed_csv = decode_data_uri(wizard.importer.failed_download.value)
    failed = list(csv.DictReader(io.StringIO(failed_csv.decode())))
    assert [(row["Row"], row["Error"]) for row in failed] == [
        ("9", "skipped by the operator"),
        ("10", "skipped by the operator"),
    ]
    assert 'download="credentials-messy-failed-rows.csv"' in wizard.importer.failed_download.value

    # Another file: back to the first step, a new plan.
    wizard.again_button.click()
    assert wizard.step == FILE
    wizard.load_bytes(failed_csv, "credentials-messy-failed-rows.csv")
    assert wizard.result is None and wizard.importer.result_counts.value == ""
    assert wizard.skipped == set() and wizard.step == COLUMNS


def test_a_grid_edit_from_the_browser_names_the_cell_by_its_position(demo) -> None:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_path(folder / MESSY_FILE)
    wizard.accept_header_suggestions()
    grid = wizard.grid
    position = list(grid.shown.index).index(5)  # row 5: a hex with wrong parity
    column_index = list(grid.shown.columns).index("Card Number Hex")
    # The message the front end sends when a cell is edited (ipydatagrid 1.4).
    grid.grid._handle_custom_msg(
        {"event_type": "cell-changed", "row": position, "column_index": column_index, "value": ""},
        [],
    )
    assert wizard.review.table.at[5, "Card Number Hex"] == ""
    assert codes_at(wizard, 5) == set()
    assert 5 not in wizard.review.failing_rows


def test_entry_codes_are_masked_until_one_is_revealed(demo) -> None:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_path(folder / MESSY_FILE)
    wizard.accept_header_suggestions()
    code = wizard.review.table.at[SHORT_CODE, "Entry Code"]
    select(wizard, SHORT_CODE)
    assert wizard.grid.selected_row == SHORT_CODE
    panel = wizard.grid.findings.value
    assert "Row 6" in panel and "entry-code-leading-zeros" in panel
    assert code not in panel and "\u2022" in panel
    assert wizard.grid.shown.at[SHORT_CODE, "Entry Code"] != code
    assert code not in wizard.reports.row_report.value
    # Committing the masked text unchanged is no edit.
    position = list(wizard.grid.shown.index).index(SHORT_CODE)
    masked = wizard.grid.shown.at[SHORT_CODE, "Entry Code"]
    wizard.grid.handle_cell_change({"row": position, "column": "Entry Code", "value": masked})
    assert wizard.edits == {}
    action(wizard, "Reveal the entry code").click()
    assert wizard.grid.shown.at[SHORT_CODE, "Entry Code"] == code


def test_the_views_count_their_rows(demo) -> None:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_path(folder / MESSY_FILE)
    wizard.accept_header_suggestions()
    labels = dict((value, label) for label, value in wizard.grid.view.options)
    assert labels["errors"] == "Rows with errors (7)"
    assert labels["warnings"] == "Rows with warnings only (2)"
    assert labels["all"] == "All rows (10)"
    assert labels["code:hex-parity"] == "Only hex-parity (1)"
    wizard.grid.view.value = "all"
    assert list(wizard.grid.shown.index) == list(range(2, 12))
    wizard.grid.view.value = "warnings"
    assert list(wizard.grid.shown.index) == [ALIAS, PLATE]
    wizard.grid.view.value = "code:hex-parity"
    assert list(wizard.grid.shown.index) == [BAD_PARITY]
    wizard.apply_edits({(BAD_PARITY, "Card Number Hex"): ""})
    labels = dict((value, label) for label, value in wizard.grid.view.options)
    assert labels["errors"] == "Rows with errors (6)"


def test_every_row_of_a_large_file_is_reachable_by_pages(demo) -> None:
    directory, folder = demo
    rows = csv_rows(folder / CLEAN_FILE)
    many = [row | {"License Plate": f"PG{number:05d}", "Card Number Hex": "",
                   "Card Type": "", "Facility Code": "", "Card Number": "", "Entry Code": ""}
            for number, row in enumerate(rows * 23)]  # fmt: skip
    many[-1]["License Plate"] = "no plate!"
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_bytes(csv_text(many).encode(), "many.csv")
    grid = wizard.grid
    grid.view.value = "all"
    assert len(grid.rows) == len(many) and len(grid.shown) == PAGE_SIZE
    assert "Page 1 of 3" in grid.page_label.value and grid.previous_page.disabled
    grid.next_page.click()
    grid.next_page.click()
    assert grid.next_page.disabled and grid.shown.index[-1] == len(many) + 1
    assert grid.shown.at[len(many) + 1, "Status"].startswith("\u2716")
    assert "Card Type" not in grid.shown.columns  # empty in the whole file
    grid.show_empty.value = True
    assert "Card Type" in grid.shown.columns


def test_every_cell_is_tinted_by_its_rows_status() -> None:
    renderers = RowGrid(on_edits=lambda edits: None).grid.renderers
    assert set(renderers) >= set(HEADERS) | {"Status"}
    expression = renderers["Card Number"].background_color.value
    assert "'\u2716 Card Number;'" in expression and "#f8c9c9" in expression


def test_hex_fixes_either_way(demo) -> None:
    directory, folder = demo
    rows = csv_rows(folder / CLEAN_FILE)
    card = next(row for row in rows if row["Card Type"] == HID26 and row["Card Number Hex"])
    hid26 = REGISTRY.get(HID26)
    card["Card Number Hex"] = hid26.encode(int(card["Facility Code"]), 1)  # another card's
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_bytes(csv_text([card]).encode(), "mismatch.csv")
    fixes = fixes_for(wizard.review, 2, "hex-mismatch")
    assert [fix.label.split(":")[0] for fix in fixes] == [
        "Hex from the numbers", "Numbers from the hex",
    ]  # fmt: skip
    assert fixes[1].edits[(2, "Card Number")] == "1"
    wizard.apply_row_fix(fixes[0])
    assert wizard.review.findings.empty


def test_steps_go_back_and_forward(demo) -> None:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.go_to(PLAN)
    assert wizard.step == FILE  # nothing loaded: no step after the first
    wizard.load_path(folder / MESSY_FILE)
    wizard.go_to(PLAN)
    assert wizard.step == COLUMNS  # rejected until the suggestion is accepted
    wizard.accept_header_suggestions()
    wizard.go_to(PLAN)
    assert wizard.step == PLAN
    wizard.back_button.click()
    assert wizard.step == OPTIONS
    shown_pages = [index for index, page in enumerate(wizard.pages) if shown(page)]
    assert shown_pages == [OPTIONS]


def test_options_review_again_and_keep_the_edits(demo) -> None:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_path(folder / MESSY_FILE)
    wizard.accept_header_suggestions()
    wizard.apply_edits({(4, "Facility Code"): "30"})
    assert "assigned-to-other-user" in codes_at(wizard, 11)
    wizard.choices.reassign.value = True
    assert wizard.review.options.reassign
    assert codes_at(wizard, 11) == set()
    assert wizard.review.table.at[4, "Facility Code"] == "30"  # the edit survived
    assert wizard.plan.counts()["reassign"] == 1
    wizard.choices.overwrite_newer.value = True
    assert wizard.review.options.overwrite_newer and wizard.review.options.reassign


def test_hex_prefixes_are_removed_in_bulk(demo) -> None:
    directory, folder = demo
    rows = csv_rows(folder / CLEAN_FILE)
    cards = [row for row in rows if row["Card Number Hex"]][:2]
    for row in cards:
        row["Card Number Hex"] = "0x" + row["Card Number Hex"].lower()
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_bytes(csv_text(rows).encode(), "prefixed.csv")
    assert wizard.review.rows["code"].tolist() == ["hex-prefix", "hex-prefix"]
    edits = wizard.apply_fix("hex-prefix")
    assert len(edits) == 2
    assert wizard.review.findings.empty
    assert all(re.fullmatch(r"[0-9A-F]+", value) for value in edits.values())


def _split_ready(demo) -> tuple[ImportWizard, Directory]:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_path(folder / MESSY_FILE)
    wizard.accept_header_suggestions()
    return wizard, directory


def test_a_row_with_two_credentials_is_split_with_one_click(demo) -> None:
    wizard, directory = _split_ready(demo)
    card_number = wizard.review.table.at[TWO_CREDENTIALS, "Card Number"]
    plate = wizard.review.table.at[TWO_CREDENTIALS, "License Plate"]
    select(wizard, TWO_CREDENTIALS)
    assert "multiple-credentials" in wizard.grid.findings.value
    action(wizard, "Split into 2 rows: the card, the License Plate").click()

    # Two rows, each re-reviewed: no finding left on either; the grid shows both, the plate
    # right after its card, named as the row and the credential they are.
    assert codes_at(wizard, TWO_CREDENTIALS) == codes_at(wizard, SPLIT_PLATE) == set()
    grid = wizard.grid
    grid.view.value = "all"
    assert list(grid.shown.index) == [2, 3, 4, 5, 6, 7, 8, SPLIT_PLATE, 9, 10, 11]
    assert grid.shown.at[TWO_CREDENTIALS, "Credential"] == "1 of 2 of row 8"
    assert grid.shown.at[SPLIT_PLATE, "Credential"] == "2 of 2 of row 8"
    assert grid.shown.at[3, "Credential"] == ""
    assert (grid.shown.at[SPLIT_PLATE, "License Plate"], grid.shown.at[8, "Card Number"]) == (
        plate,
        card_number,
    )
    select(wizard, SPLIT_PLATE)
    assert "Row 8, credential 2 of 2" in grid.findings.value
    assert not [b for b in grid.row_actions.children if b.description.startswith("Split")]

    # An edit of a part, then the file reviewed again (an option): split and edit both kept.
    grid.grid.set_cell_value("License Plate", SPLIT_PLATE, "ab-1234")
    assert codes_at(wizard, SPLIT_PLATE) == {"plate-normalized"}
    wizard.choices.overwrite_newer.value = True
    table = wizard.review.table
    assert wizard.review.row_label(SPLIT_PLATE) == "8, credential 2 of 2"
    assert (table.at[SPLIT_PLATE, "License Plate"], table.at[8, "License Plate"]) == (
        "ab-1234",
        "",
    )
    assert codes_at(wizard, SPLIT_PLATE) == {"plate-normalized"}
    assert "8, credential 2 of 2" in wizard.reports.row_report.value

    # Imported: the card and the plate, the row's user's; the run records the split.
    wizard.skip_failing_rows()
    result = wizard.run_import()
    assert result.rows.loc[[TWO_CREDENTIALS, SPLIT_PLATE], "outcome"].tolist() == ["create"] * 2
    owner = table.at[TWO_CREDENTIALS, "User ID"]
    credentials = directory.credentials_frame()
    mine = credentials[credentials["user_id"] == owner]
    assert set(mine["card_number"].dropna()) >= {card_number}
    assert "AB1234" in set(mine["license_plate"].dropna())
    options = run_options(directory, result.run_id)
    assert options["split_rows"] == [TWO_CREDENTIALS]


def test_every_row_with_several_credentials_is_split_by_its_code(demo) -> None:
    wizard, _ = _split_ready(demo)
    assert wizard.fixes.buttons["multiple-credentials"].description == (
        "Fix every multiple-credentials (1)"
    )
    wizard.fixes.buttons["multiple-credentials"].click()
    assert "1 row split into one row per credential" in wizard.fixes.message.value
    assert "multiple-credentials" not in wizard.fixes.buttons
    assert "multiple-credentials" not in set(wizard.review.rows["code"])
    assert wizard.review.parts.keys() == {TWO_CREDENTIALS, SPLIT_PLATE}
    # The errors view is chosen again: the split row and its part have left it, and with
    # them the Credential column, shown only on a page with parts of a split row.
    assert TWO_CREDENTIALS not in wizard.grid.shown.index
    assert SPLIT_PLATE not in wizard.grid.shown.index
    assert "Credential" not in wizard.grid.shown.columns


def test_the_browsers_echo_lands_nowhere_once_a_split_adds_a_column(demo) -> None:
    """The browser names an echoed cell by its column's index; the split's Credential column
    moves every column one to the right, so the index now names another column."""
    wizard, _ = _split_ready(demo)
    grid = wizard.grid
    grid.view.value = "all"
    wizard.fixes.buttons["all"].click()
    assert grid.shown.columns[1] == "Credential"
    (echo,) = [
        (position, index, value)
        for (position, column, value), (_, index, _) in zip(
            grid._echoes, grid._echo_indices, strict=True
        )
        if column == "Card Number Hex"
    ]
    position, index, value = echo
    now_named = grid.grid._column_index_to_name(grid.grid._data, index)
    assert now_named != "Card Number Hex"  # the index names another column now
    table_before = wizard.review.table.copy()
    edits_before = dict(wizard.edits)
    grid.handle_cell_change(
        {"row": position, "column": now_named, "column_index": index, "value": value}
    )
    assert wizard.review.table.equals(table_before)
    assert wizard.edits == edits_before


def test_apply_all_fixes_the_parts_of_the_row_it_splits_too(demo) -> None:
    directory, folder = demo
    card = next(row for row in csv_rows(folder / CLEAN_FILE) if row["Card Type"] == HID26)
    two = card | {"Card Type": "HID", "License Plate": "ab-4321"}  # an alias, a plate to fix
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_bytes(csv_text([two]).encode(), "two.csv")
    assert "multiple-credentials" in codes_at(wizard, 2)
    wizard.apply_all_fixes()
    table = wizard.review.table
    assert (table.at[2, "Card Type"], table.at[2, "License Plate"]) == (HID26, "")
    assert (table.at[3, "Card Type"], table.at[3, "License Plate"]) == ("", "AB4321")
    assert wizard.review.findings.empty
    assert wizard.plan.counts()["create"] == 2


def test_a_skipped_row_split_stays_skipped(demo) -> None:
    wizard, _ = _split_ready(demo)
    wizard.skip_row(TWO_CREDENTIALS)
    wizard.split_rows([TWO_CREDENTIALS])
    assert {TWO_CREDENTIALS, SPLIT_PLATE} <= wizard.skipped
    assert wizard.plan.rows.loc[[TWO_CREDENTIALS, SPLIT_PLATE], "outcome"].tolist() == ["fail"] * 2


def test_the_status_of_a_reassigned_row_shows_its_findings_as_they_are(demo) -> None:
    wizard, _ = _split_ready(demo)
    grid = wizard.grid
    assert grid.shown.at[OTHER_USERS_CARD, "Status"] == "\u2716 Card Number;"
    select(wizard, OTHER_USERS_CARD)
    action(wizard, "Reassign to this row").click()
    assert grid.shown.at[OTHER_USERS_CARD, "Status"] == "ok"
    assert "Reassigned" in grid.findings.value
    assert "assigned-to-other-user" not in grid.findings.value
    assert grid.view.label == "Rows with errors (6)"
    action(wizard, "Reassigned (undo)").click()
    assert grid.shown.at[OTHER_USERS_CARD, "Status"] == "\u2716 Card Number;"
    assert "assigned-to-other-user" in grid.findings.value
    assert grid.view.label == "Rows with errors (7)"


# --- choosing and reading the file --------------------------------------------------------------


def test_the_upload_area_says_what_to_do_with_large_files(demo) -> None:
    directory, _ = demo
    wizard = ImportWizard(directory, operator="tester")
    note = wizard.chooser.note.value
    assert "Files over 10 MiB" in note and "path" in note and "`make lab`" in note
    assert "100 MiB" in note


@pytest.mark.parametrize(
    "entry, expected",
    [
        (upload_entry("big.csv", b"", size=20_000_000), "its content is empty"),
        (upload_entry("big.csv", None, size=20_000_000), "its content is missing"),
    ],
)
def test_an_upload_without_its_content_says_so(demo, entry, expected) -> None:
    directory, _ = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.chooser.upload.value = (entry,)
    message = wizard.chooser.message.value
    assert expected in message and "20.0 MB" in message
    assert "did not reach the kernel" in message and "make lab" in message
    assert wizard.review is None


def test_an_empty_upload_is_named_empty(demo) -> None:
    directory, _ = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.chooser.upload.value = (upload_entry("empty.csv", b""),)
    assert "empty.csv is empty (0 bytes)" in wizard.chooser.message.value
    assert wizard.review is None


def test_the_path_box_loads_a_file_on_the_server(demo) -> None:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.chooser.path.value = str(folder / "missing.csv")
    wizard.chooser.load_button.click()
    assert "No file at 'missing.csv'" in unescape(wizard.chooser.message.value)
    assert str(folder) not in wizard.chooser.message.value
    wizard.chooser.path.value = str(folder / CLEAN_FILE)
    wizard.chooser.load_button.click()
    assert wizard.review.file_name == CLEAN_FILE
    assert wizard.review.findings.empty
    assert wizard.plan.counts()["create"] == 20


def test_an_excel_workbook_is_uploaded_and_read_from_its_first_sheet(demo, tmp_path) -> None:
    from openpyxl import Workbook

    directory, folder = demo
    rows = csv_rows(folder / CLEAN_FILE)
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for row in rows:
        sheet.append([row[header] for header in HEADERS])
    book.create_sheet("Notes").append(["not the credentials"])
    path = tmp_path / "clean.xlsx"
    book.save(path)
    wizard = ImportWizard(directory, operator="tester")
    assert ".xlsx" in wizard.chooser.upload.accept.split(",")
    wizard.chooser.upload.value = (upload_entry("clean.xlsx", path.read_bytes()),)
    review = wizard.review
    assert review.file_name == "clean.xlsx" and not review.rejected
    assert review.table["Card Number"].tolist() == [row["Card Number"] for row in rows]
    assert review.findings.empty
    assert wizard.plan.counts()["create"] == len(rows)
    wizard.chooser.upload.value = (upload_entry("broken.xlsx", b"not a workbook"),)
    assert wizard.review.rejected
    assert "not an Excel workbook" in wizard.reports.file_report.value


def test_the_encoding_choice_reads_a_cp1252_file_again(demo) -> None:
    directory, folder = demo
    rows = csv_rows(folder / CLEAN_FILE)
    rows[0]["First Name"] = "Zoë"
    rows[1]["Last Name"] = "Müller-Lefèvre"  # enough accents for the encoding to be recognised
    rows[2]["First Name"] = "François"
    wizard = ImportWizard(directory, operator="tester")
    assert not shown(wizard.choices.encoding_row)
    wizard.load_bytes(csv_text(rows).encode("cp1252"), "legacy.csv")
    assert wizard.review.rejected
    assert "not-utf8" in set(wizard.review.file["code"])
    assert shown(wizard.choices.encoding_row)
    assert "cp1252" in wizard.choices.encoding_note.value

    wizard.choices.encoding.value = "cp1252"
    assert wizard.review.options.encoding == "cp1252"
    assert not wizard.review.rejected
    assert wizard.review.table.at[2, "First Name"] == "Zoë"
    messages = " ".join(wizard.review.rows["message"])
    assert "'Zoë'" in messages  # name-mismatch, read correctly
    assert shown(wizard.choices.encoding_row)  # still there, to take the choice back

    wizard.choices.encoding.value = "auto"
    assert wizard.review.options.encoding == "cp1252" and not wizard.review.rejected


def test_the_delimiter_choice_reads_a_semicolon_file_again(demo) -> None:
    directory, folder = demo
    rows = csv_rows(folder / CLEAN_FILE)
    wizard = ImportWizard(directory, operator="tester")
    assert not shown(wizard.choices.delimiter_row)
    wizard.load_bytes(csv_text(rows, delimiter=";").encode(), "semicolons.csv")
    assert "wrong-delimiter" in set(wizard.review.file["code"])
    assert shown(wizard.choices.delimiter_row)
    wizard.choices.delimiter.value = "auto"
    assert wizard.review.options.delimiter == ";"
    assert wizard.review.findings.empty and len(wizard.review.table) == 20


def test_a_new_file_starts_from_the_defaults(demo) -> None:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_path(folder / MESSY_FILE)
    wizard.accept_header_suggestions()
    wizard.apply_edits({(4, "Facility Code"): "30"})
    wizard.choices.reassign.value = True
    wizard.load_path(folder / MESSY_FILE)
    assert wizard.edits == {}
    assert wizard.review.options.mapping == () and not wizard.review.options.reassign
    assert wizard.choices.mapping_box.children[0].value is False


def test_edits_of_a_rejected_file_are_refused(demo) -> None:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_path(folder / MESSY_FILE)
    with pytest.raises(ValueError, match="columns are accepted"):
        wizard.apply_edits({(4, "Facility Code"): "30"})
    assert wizard.grid.shown.empty


# --- reports and determinism --------------------------------------------------------------------


def test_the_chart_counts_findings_by_code_and_column(demo) -> None:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_path(folder / MESSY_FILE)
    wizard.accept_header_suggestions()
    counts = findings_by_column_and_code(wizard.review.findings)
    assert counts.loc[("error", "duplicate-in-file"), "Card Number"] == 1
    assert counts.loc[("warning", "header-folded"), "Total"] == 2
    assert counts.index[0][0] == "error" and counts.index[-1][0] == "warning"
    assert wizard.reports.chart.value == ""  # drawn when opened
    wizard.reports.chart_box.selected_index = 0
    assert wizard.reports.chart.value.startswith('<img class="credkit-chart"')


def run_steps(directory: Directory, folder: Path) -> str:
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_path(folder / MESSY_FILE)
    wizard.accept_header_suggestions()
    wizard.apply_all_fixes()
    wizard.grid.grid.set_cell_value("Facility Code", 4, "30")
    wizard.grid.handle_cell_click({"region": "body", "primary_key_row": 1})
    wizard.skip_failing_rows()
    wizard.run_import()
    export = ExportPanel(directory)
    export.write_csv(folder / "written.csv")
    return repr(wizard.widget) + repr(export.widget)


def test_what_the_widgets_render_is_the_same_on_every_run(tmp_path: Path) -> None:
    """No timestamps, temporary paths, object addresses or random ids in any widget's text."""
    rendered = []
    for name in ("first", "second"):
        folder = tmp_path / name
        directory = Directory(f"sqlite:///{folder / 'credkit.db'}")
        create_demo(directory, folder, user_count=50)
        rendered.append(run_steps(directory, folder))
        directory.dispose()
    assert rendered[0] == rendered[1]
    assert str(tmp_path) not in rendered[0]
    assert not re.search(r"0x[0-9a-f]{6,}|\d{4}-\d\d-\d\dT\d\d", rendered[0])


# --- export -------------------------------------------------------------------------------------


def test_the_export_panel_filters_previews_and_writes(demo, tmp_path: Path) -> None:
    directory, _ = demo
    credentials = directory.credentials_frame()
    panel = ExportPanel(directory)
    assert panel.total == panel.matching == len(credentials)
    preview = panel.show_preview()
    assert "Modified" not in preview.columns and len(preview) == 10
    codes = preview.loc[preview["Entry Code"] != "", "Entry Code"]
    assert codes.str.startswith("\u2022").all()

    panel.card_type.value = HID26
    assert panel.matching == int((credentials["card_type"] == HID26).sum())
    panel.card_type.value = ""
    panel.status.value = "Inactive"
    assert panel.matching == 0 and "No credential matches" in str(panel.preview.outputs)
    panel.status.value = "Active"
    panel.user.value = "ext-000001"
    user = credentials[credentials["external_id"] == "EXT-000001"]
    assert panel.matching == len(user) > 0
    assert panel.filters == ExportFilters("Active", "", "ext-000001")

    destination = tmp_path / "export.csv"
    assert panel.write_csv(destination) == len(user)
    assert (
        panel.message.value
        == f"<p>Wrote {len(user)} {'row' if len(user) == 1 else 'rows'} to export.csv.</p>"
    )
    written = csv_rows(destination)
    assert {row["External ID"] for row in written} == {"EXT-000001"}
    assert list(written[0]) == HEADERS
    assert decode_data_uri(panel.download()) == destination.read_bytes()


def test_the_export_panel_reports_a_path_it_cannot_write(demo, tmp_path: Path) -> None:
    directory, _ = demo
    panel = ExportPanel(directory)
    panel.path.value = str(tmp_path / "no" / "such" / "folder" / "x.csv")
    panel.write_button.click()
    assert "Could not write the file" in panel.message.value
    assert str(tmp_path) not in panel.message.value


# --- downloads ----------------------------------------------------------------------------------


def test_large_downloads_become_file_links(tmp_path: Path) -> None:
    text = "Row,Error\n2,x\n"
    assert decode_data_uri(csv_download_html(text, "small.csv", rows=1)) == text.encode()
    refused = csv_download_html(text, "big.csv", rows=1, limit=4)
    assert "too large for a download link" in refused and "download_folder" in refused
    linked = csv_download_html(text, "big.csv", rows=1, folder=tmp_path, limit=4)
    assert (tmp_path / "big.csv").read_text() == text
    assert "big.csv" in linked and "data:" not in linked


def test_the_core_never_imports_the_notebook_package() -> None:
    code = (
        "import sys, credkit, credkit.cli, credkit.importer, credkit.export, credkit.review;"
        "print(sorted(m for m in sys.modules if m.startswith(('credkit.notebook', 'ipywidgets'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
