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
from credkit.notebook import ExportFilters, ExportPanel, ImportWizard  # noqa: E402
from credkit.notebook.charts import findings_by_column_and_code  # noqa: E402
from credkit.notebook.downloads import csv_download_html, decode_data_uri  # noqa: E402
from credkit.notebook.grid import ALL_ROWS  # noqa: E402

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


def test_an_operator_imports_the_messy_file(demo) -> None:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    before = len(directory.credentials_frame())
    data = (folder / MESSY_FILE).read_bytes()

    # Upload: the value the way ipywidgets 8 stores it; the wizard reads it, then clears it.
    wizard.chooser.upload.value = (upload_entry(MESSY_FILE, data),)
    assert wizard.chooser.upload.value == ()
    assert wizard.review.file_name == MESSY_FILE
    assert wizard.review.rejected  # "Facility Cod" is only a suggestion until accepted
    assert "rejected" in wizard.reports.summary.value
    assert wizard.plan is None and wizard.importer.import_button.disabled
    mapping_box = wizard.choices.mapping_box.children
    assert [box.description for box in mapping_box] == [
        "Read column 'Facility Cod' as 'Facility Code'"
    ]

    # Accept the header suggestion (the bulk-fix button): the file is reviewed again.
    wizard.fixes.buttons["header-suggestion"].click()
    review = wizard.review
    assert not review.rejected
    assert review.options.mapping == (("Facility Cod", "Facility Code"),)
    assert wizard.choices.mapping_box.children[0].value is True
    assert list(review.failing_rows) == [4, 5, 6, 8, 9, 10, 11]
    assert "10 rows, 7 with errors, 3 passing" in wizard.reports.summary.value
    assert set(wizard.fixes.buttons) == {"card-type-alias", "plate-normalized"}

    # Bulk fixes: the canonical card type, the normalised plate.
    wizard.fixes.buttons["card-type-alias"].click()
    wizard.fixes.buttons["plate-normalized"].click()
    assert wizard.review.table.at[3, "Card Type"] == HID26
    plate = wizard.review.table.at[7, "License Plate"]
    assert re.fullmatch(r"AB[0-9]{4}", plate)
    assert "card-type-alias" not in set(wizard.review.rows["code"])
    assert "plate-normalized" not in set(wizard.review.rows["code"])
    assert wizard.fixes.buttons == {}

    # The grid shows the rows with errors, indexed by spreadsheet row.
    grid = wizard.grid
    assert list(grid.shown.index) == [4, 5, 6, 8, 9, 10, 11]
    assert grid.shown.index.name == "Row"
    assert grid.grid.get_cell_value("Facility Code", 4) == ["300"]  # keyed by spreadsheet row

    # Edit a cell through the grid: Facility Code 300 is out of range.
    assert "facility-code-range" in codes_at(wizard, 4)
    grid.grid.set_cell_value("Facility Code", 4, "30")
    assert codes_at(wizard, 4) == set()
    assert wizard.review.table.at[4, "Facility Code"] == "30"
    assert wizard.edits[(4, "Facility Code")] == "30"
    assert "6 with errors, 4 passing" in wizard.reports.summary.value
    assert "facility-code-range" not in wizard.reports.row_report.outputs[0]["data"]["text/plain"]
    assert list(grid.shown.index) == [4, 5, 6, 8, 9, 10, 11]  # rows stay while editing
    assert "1 shown here fixed now" in grid.note.value
    assert "Row 4" in grid.findings.value and "No findings" in grid.findings.value
    grid.refresh_button.click()
    assert list(grid.shown.index) == [5, 6, 8, 9, 10, 11]

    # The plan, then the import with its progress bar.
    assert wizard.plan.counts() == {
        "create": 4, "update": 0, "reassign": 0, "unchanged": 0, "fail": 6,
    }  # fmt: skip
    assert "create 4" in wizard.importer.plan_counts.value
    assert wizard.importer.import_button.description == "Import 4 rows"
    wizard.importer.import_button.click()
    result = wizard.result
    assert result is not None and result.counts()["create"] == 4
    assert wizard.importer.progress.value == wizard.importer.progress.max == 4
    assert "created 4" in wizard.importer.result_counts.value
    assert wizard.importer.import_button.disabled  # one import per loaded file

    # The rows are in the directory.
    credentials = directory.credentials_frame()
    assert len(credentials) == before + 4
    table = wizard.review.table
    row4 = credentials[credentials["user_id"] == table.at[4, "User ID"]]
    assert table.at[4, "Card Number"] in set(row4.loc[row4["facility_code"] == "30", "card_number"])
    row3 = credentials[credentials["user_id"] == table.at[3, "User ID"]]
    assert table.at[3, "Card Number"] in set(row3.loc[row3["card_type"] == HID26, "card_number"])
    assert plate in set(credentials["license_plate"].dropna())

    # The failed rows download: a CSV to fix and import again (entry codes unmasked in it).
    failed_csv = decode_data_uri(wizard.importer.failed_download.value)
    failed = list(csv.DictReader(io.StringIO(failed_csv.decode())))
    assert [row["Row"] for row in failed] == ["5", "6", "8", "9", "10", "11"]
    assert all(row["Error"] for row in failed)
    assert failed[1]["Entry Code"] == table.at[6, "Entry Code"]
    assert 'download="credentials-messy-failed-rows.csv"' in wizard.importer.failed_download.value

    # Loaded again, the failed rows are a new file: a new plan, importable once more.
    wizard.load_bytes(failed_csv, "credentials-messy-failed-rows.csv")
    assert wizard.result is None and wizard.importer.result_counts.value == ""
    unknown = wizard.review.columns[wizard.review.columns["code"] == "unknown-column"]
    assert set(unknown["column"]) == {"Row", "Error"}
    assert len(wizard.review.table) == 6
    # The repeat of the first row is no duplicate now: the first one is in the directory.
    assert wizard.plan.counts() == {
        "create": 0, "update": 0, "reassign": 0, "unchanged": 1, "fail": 5,
    }  # fmt: skip


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


def test_clicking_a_row_shows_its_findings_masked(demo) -> None:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_path(folder / MESSY_FILE)
    wizard.accept_header_suggestions()
    code = wizard.review.table.at[6, "Entry Code"]
    position = list(wizard.grid.shown.index).index(6)
    wizard.grid.handle_cell_click({"region": "body", "row": 0, "primary_key_row": position})
    assert wizard.grid.selected_row == 6
    panel = wizard.grid.findings.value
    assert "Row 6" in panel and "entry-code-leading-zeros" in panel
    assert code not in panel and "\u2022" in panel
    # The grid itself shows the code as written, so that the operator can correct it.
    assert wizard.grid.shown.at[6, "Entry Code"] == code


def test_all_rows_can_be_shown(demo) -> None:
    directory, folder = demo
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_path(folder / MESSY_FILE)
    wizard.accept_header_suggestions()
    wizard.grid.rows_shown.value = ALL_ROWS
    assert list(wizard.grid.shown.index) == list(range(2, 12))
    assert "10 rows" in wizard.grid.note.value


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
    html = wizard.reports.chart.outputs[0]["data"]["text/html"]
    assert "T_credkit_findings" in html


def run_steps(directory: Directory, folder: Path) -> str:
    wizard = ImportWizard(directory, operator="tester")
    wizard.load_path(folder / MESSY_FILE)
    wizard.accept_header_suggestions()
    wizard.apply_fix("card-type-alias")
    wizard.grid.grid.set_cell_value("Facility Code", 4, "30")
    wizard.grid.handle_cell_click({"region": "body", "primary_key_row": 1})
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
