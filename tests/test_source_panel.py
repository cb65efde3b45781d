"""The wizard's source system choice, decoded candidates as fixes, and the grid's view after a
bulk fix, driven without a browser."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("ipydatagrid")

from credkit.demo import GENETEC_FILE, MESSY_FILE, create_demo  # noqa: E402
from credkit.directory import Directory  # noqa: E402
from credkit.formats import REGISTRY  # noqa: E402
from credkit.notebook import ImportWizard  # noqa: E402
from credkit.notebook.fixes import fixes_for, row_fixes  # noqa: E402
from credkit.notebook.grid import STATUS, fitted_widths, row_status  # noqa: E402
from credkit.notebook.source_panel import DECODE_CARD_TYPE, PROFILE_FILE  # noqa: E402
from credkit.notebook.wizard import COLUMNS, ROWS  # noqa: E402
from credkit.profiles import load_profile  # noqa: E402

# The demo's Genetec export (credkit.demo.genetec_rows): six source rows, seven credentials.
LOST, MISLABELLED, WITH_PIN = 3, 5, 6


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Directory, Path]]:
    directory = Directory(f"sqlite:///{tmp_path / 'credkit.db'}")
    create_demo(directory, tmp_path / "demo", user_count=50)
    yield directory, tmp_path / "demo"
    directory.dispose()


def genetec_wizard(directory: Directory, folder: Path) -> ImportWizard:
    wizard = ImportWizard(directory, operator="tester")
    wizard.source.system.value = "genetec"
    wizard.load_bytes((folder / GENETEC_FILE).read_bytes(), GENETEC_FILE)
    return wizard


def source_rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / GENETEC_FILE, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_the_source_system_lists_the_builtin_profiles_none_and_a_file(demo) -> None:
    wizard = ImportWizard(demo[0], operator="tester")
    values = [value for _label, value in wizard.source.system.options]
    assert values == [
        "",
        "alarm-com",
        "genetec",
        "ict",
        "kantech",
        "onguard",
        "prodatakey",
        "file:",
    ]
    labels = dict((value, label) for label, value in wizard.source.system.options)
    assert labels["genetec"] == "Genetec Security Center (genetec)"
    assert wizard.source.path_box.layout.display == "none"
    wizard.source.system.value = "genetec"
    assert wizard.source.card_type.value == "profile"
    assert wizard.source.card_type.label == "the profile's: Standard 26-bit Wiegand"
    wizard.source.system.value = PROFILE_FILE
    assert wizard.source.path_box.layout.display != "none"


def test_a_genetec_export_is_converted_and_what_the_profile_did_is_shown(demo) -> None:
    directory, folder = demo
    wizard = genetec_wizard(directory, folder)
    assert wizard.step == COLUMNS and not wizard.review.rejected
    assert len(wizard.review.table) == 7  # six source rows, one with a card and a PIN
    report = wizard.source.report.value
    assert "read 6 source rows as 7 credentials" in report
    assert "Card format &#x27;0&#x27; is read as &#x27;Standard 26-bit Wiegand&#x27;" in report
    assert "Status &#x27;Lost&#x27; is read as &#x27;Inactive&#x27;" in report
    assert "profile-row-split" in report
    assert wizard.review.table.at[LOST, "Credential Status"] == "Inactive"
    # The column the site added is read by its name: the review checks the frame.
    assert wizard.source.extra_columns["Card Number Hex"].value == "Card Number Hex"
    written = source_rows(folder)[3]
    assert wizard.review.table.at[MISLABELLED, "Card Number Hex"] == written["Card Number Hex"]
    # The grid's side panel names the source row, and which of its credentials a row is.
    wizard.go_to(ROWS)
    wizard.grid.select_row(WITH_PIN + 1)
    assert "From source file row 6, credential 2 of 2." in wizard.grid.findings.value


def test_a_mislabelled_card_gets_its_decoded_format_as_a_one_click_fix(demo) -> None:
    directory, folder = demo
    wizard = genetec_wizard(directory, folder)
    codes = set(wizard.review.rows.loc[wizard.review.rows["row"].eq(MISLABELLED), "code"])
    assert codes == {"hex-parity", "hex-other-format"}
    (candidate,) = fixes_for(wizard.review, MISLABELLED, "hex-other-format")
    written = source_rows(folder)[3]
    corporate = REGISTRY.get("HID Corporate 1000-35")
    decoded = corporate.decode(written["Card Number Hex"])
    assert candidate.label == (
        f"HID Corporate 1000-35 {decoded.facility_code}/{decoded.card_number}"
    )
    assert not candidate.computed  # a reading among several: never applied in bulk
    wizard.go_to(ROWS)
    wizard.grid.select_row(MISLABELLED)
    (button,) = [b for b in wizard.grid.row_actions.children if b.description == candidate.label]
    button.click()
    table = wizard.review.table
    assert table.at[MISLABELLED, "Card Type"] == "HID Corporate 1000-35"
    assert table.at[MISLABELLED, "Card Number"] == str(decoded.card_number)
    assert wizard.review.failing_rows.empty
    result = wizard.run_import()
    assert result.counts()["create"] == 7
    owner = directory.credentials_frame()
    cards = owner[owner["card_number"].astype(str).eq(str(decoded.card_number))]
    assert cards["card_type"].tolist() == ["HID Corporate 1000-35"]


def test_cards_without_a_format_can_be_decoded_into_candidates(demo) -> None:
    directory, folder = demo
    hid26 = REGISTRY.get("Standard 26-bit Wiegand")
    rows = source_rows(folder)
    frame_only = dict(rows[0]) | {
        "Card format": "", "Facility code": "", "Card number": "",
        "Card Number Hex": hid26.encode(118, 1603),
    }  # fmt: skip
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerow(frame_only)
    wizard = ImportWizard(directory, operator="tester")
    wizard.source.system.value = "genetec"
    wizard.load_bytes(stream.getvalue().encode(), "frame-only.csv")
    # Genetec gives a card without a format the default format: no guess is needed.
    assert wizard.review.table.at[2, "Card Type"] == "Standard 26-bit Wiegand"
    wizard.source.card_type.value = DECODE_CARD_TYPE
    assert wizard.review.table.at[2, "Card Type"] == ""
    fixes = [fix for fix in row_fixes(wizard.review, 2) if fix.code == "card-type-candidates"]
    assert fixes[0].label == "Standard 26-bit Wiegand 118/1603"
    assert len(fixes) > 1 and all(not fix.computed for fix in fixes)
    wizard.apply_row_fix(fixes[0])
    assert wizard.review.table.at[2, "Facility Code"] == "118"
    assert "card-type-candidates" not in set(wizard.review.rows["code"])


def test_the_choices_are_saved_as_a_profile_and_used_again(demo, tmp_path: Path) -> None:
    directory, folder = demo
    wizard = genetec_wizard(directory, folder)
    wizard.source.card_type.value = DECODE_CARD_TYPE
    wizard.source.save_path.value = str(tmp_path / "site.toml")
    wizard.source.save_button.click()
    assert "Saved the profile" in wizard.source.save_message.value
    saved = load_profile(tmp_path / "site.toml")
    assert saved.name == "site" and saved.card_type is None
    assert saved.columns["Card Number Hex"] == "Card Number Hex"
    assert saved.card_type_codes == load_profile("genetec").card_type_codes
    again = ImportWizard(directory, operator="tester")
    again.source.system.value = PROFILE_FILE
    again.source.use_profile_file(str(tmp_path / "site.toml"))
    again.load_bytes((folder / GENETEC_FILE).read_bytes(), GENETEC_FILE)
    assert again.review.table.equals(wizard.review.table)


def test_an_accepted_header_mapping_is_saved_without_a_profile(demo, tmp_path: Path) -> None:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_path(folder / MESSY_FILE)
    assert wizard.source.save_button.disabled  # nothing chosen yet to remember
    wizard.accept_header_suggestions()
    assert not wizard.source.save_button.disabled
    wizard.source.save(tmp_path / "mapping.toml")
    saved = load_profile(tmp_path / "mapping.toml")
    assert saved.columns["Facility Cod"] == "Facility Code" and not saved.value_rules


def test_another_source_system_reviews_the_file_again_from_scratch(demo) -> None:
    directory, folder = demo
    wizard = genetec_wizard(directory, folder)
    wizard.apply_edits({(LOST, "Credential Status"): "Active"})
    wizard.source.system.value = ""
    assert wizard.review.rejected  # Genetec's headers are not credkit's
    assert wizard.edits == {} and wizard.source.report.value == ""
    wizard.source.system.value = "genetec"
    assert wizard.review.table.at[LOST, "Credential Status"] == "Inactive"


# --- #10's small bugs ---------------------------------------------------------------------------


def test_after_a_bulk_fix_the_view_shows_as_many_rows_as_it_counts(demo) -> None:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_path(folder / MESSY_FILE)
    wizard.accept_header_suggestions()
    grid = wizard.grid
    assert len(grid.shown) == 7 and grid.view.label == "Rows with errors (7)"
    wizard.fixes.buttons["all"].click()
    counted = int(grid.view.label.rsplit("(", 1)[1].rstrip(")"))
    assert len(grid.shown) == counted == len(wizard.review.failing_rows)
    assert set(grid.shown.index) == set(wizard.review.failing_rows)


def test_the_status_column_is_as_wide_as_its_longest_status(demo) -> None:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_path(folder / MESSY_FILE)
    wizard.accept_header_suggestions()
    status = row_status(wizard.review)
    widths = fitted_widths(wizard.grid.shown)
    longest = max(status.str.len())
    # 6.2 px a letter in the grid's 12 px font, the marks about twice as wide, the padding.
    assert widths[STATUS] >= longest * 6.2 + 14
    assert widths[STATUS] > 100  # the old cap that cut "✖ Facility Code; ⚠ Card Number Hex;"


def test_a_column_with_an_error_and_a_warning_is_named_once_errors_first(demo) -> None:
    directory, folder = demo
    wizard = genetec_wizard(directory, folder)
    status = row_status(wizard.review)
    assert status[MISLABELLED] == "\u2716 Card Number Hex;"  # hex-parity and hex-other-format
    wizard.go_to(ROWS)
    widths = fitted_widths(wizard.grid.shown)
    assert widths[STATUS] >= len(status[MISLABELLED]) * 6.2 + 14


def test_a_row_fixed_in_place_is_said_to_have_left_the_view(demo) -> None:
    directory, folder = demo
    wizard = genetec_wizard(directory, folder)
    wizard.go_to(ROWS)
    (fix,) = fixes_for(wizard.review, MISLABELLED, "hex-other-format")
    wizard.apply_row_fix(fix)
    assert list(wizard.grid.shown.index) == [MISLABELLED]  # the page does not move
    assert wizard.grid.view.label == "Rows with errors (0)"
    assert f"row {MISLABELLED} no longer in this view" in wizard.grid.note.value
    assert wizard.grid.grid.column_widths["Card Type"] >= len("HID Corporate 1000-35") * 6.2


def test_the_browsers_echo_of_a_bulk_fix_does_not_land_on_another_row(demo) -> None:
    """ipydatagrid reports each set_cell_value back from the browser, later, by position;
    after the bulk fix has re-sent the view another row holds that position."""
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_path(folder / MESSY_FILE)
    wizard.accept_header_suggestions()
    grid = wizard.grid
    before = list(grid.shown.index)
    wizard.fixes.buttons["all"].click()
    echoes = [echo for echo in grid._echoes if echo[1] == "Card Number Hex"]
    assert echoes, "the bulk fix set the fixed frame in place"
    position, column, value = echoes[0]
    now_there = int(grid.shown.index[position])
    assert now_there != before[position]  # the fixed row left: another row took its place
    was = wizard.review.table.at[now_there, column]
    grid.handle_cell_change({"row": position, "column": column, "value": value})
    assert wizard.review.table.at[now_there, column] == was
    assert (now_there, column) not in wizard.edits
