"""Excel workbooks: a sheet by name, text as written, numbers as plain digits, a warning per
numeric column, and problems as findings."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from credkit.cli import main
from credkit.conversion import convert_table
from credkit.profiles import load_profile
from credkit.reading import read_csv_file
from credkit.review import ReviewOptions, review_file
from credkit.workbook import cell_text, read_workbook
from tests.support import ADA, ADA_USER

HEADER = ["User ID", "Card Type", "Facility Code", "Card Number", "Card Number Hex", "Modified"]


def workbook(path, sheets: dict[str, list[list[object]]]):
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def credentials_xlsx(tmp_path):
    return workbook(
        tmp_path / "cards.xlsx",
        {
            "Notes": [["nothing here"]],
            "Cards": [
                HEADER,
                # Numbers as Excel stores them: ints, a float holding a whole number, a big one.
                [ADA, "Standard 26-bit Wiegand", 118, 1603.0, "2EC0C86", None],
                [ADA, "HID iClass", None, 123457000000, None, None],
                [None, None, None, None, None, None],
                # Text as written: leading zeros kept.
                [ADA, "Standard 26-bit Wiegand", "099", "00999", "0C607CF",
                 dt.datetime(2026, 11, 25, 14, 3)],
            ],
        },
    )  # fmt: skip


def test_cell_text_writes_numbers_as_plain_digits():
    assert cell_text(1603) == "1603"
    assert cell_text(1603.0) == "1603"
    assert cell_text(1.23457e11) == "123457000000"
    assert cell_text(1e-05) == "0.00001"
    assert cell_text(12.5) == "12.5"
    assert cell_text("0042") == "0042"
    assert cell_text(None) == ""
    assert cell_text(True) == "TRUE"
    assert cell_text(dt.datetime(2026, 11, 25, 14, 3)) == "2026-11-25T14:03:00"


def test_a_sheet_chosen_by_name(credentials_xlsx):
    table = read_workbook(credentials_xlsx, sheet="Cards")
    assert table.readable
    assert table.headers == HEADER
    assert table.rows.index.tolist() == [2, 3, 5]  # spreadsheet numbering; row 4 is blank
    assert table.rows.loc[2].tolist() == [
        ADA,
        "Standard 26-bit Wiegand",
        "118",
        "1603",
        "2EC0C86",
        "",
    ]
    assert table.rows.loc[3, 3] == "123457000000"
    assert table.rows.loc[5].tolist()[2:] == ["099", "00999", "0C607CF", "2026-11-25T14:03:00"]
    blank = table.findings[table.findings["code"] == "blank-row"]
    assert blank["row"].tolist() == [4]
    # One warning per column Excel stored numbers in: Facility Code and Card Number, not the rest.
    numbers = table.findings[table.findings["code"] == "xlsx-numbers"]
    assert numbers["column"].tolist() == ["Facility Code", "Card Number"]
    assert numbers["severity"].tolist() == ["warning", "warning"]
    assert (
        "leading zeros and any digits past the 15th may already be lost"
        in (numbers["message"].iloc[1])
    )


def test_the_first_sheet_by_default(credentials_xlsx):
    # The first sheet, Notes, has a header and no rows.
    table = read_csv_file(credentials_xlsx)
    assert not table.readable
    assert table.findings["code"].tolist() == ["no-rows"]


def test_a_missing_sheet_and_a_file_that_is_no_workbook(credentials_xlsx, tmp_path):
    missing = read_csv_file(credentials_xlsx, sheet="Badges")
    assert not missing.readable
    assert missing.findings["code"].tolist() == ["sheet-not-found"]
    assert "its sheets are 'Notes', 'Cards'" in missing.findings["message"].iloc[0]
    fake = tmp_path / "fake.xlsx"
    fake.write_text("User ID,Card Type\n", encoding="utf-8")
    broken = read_csv_file(fake)
    assert not broken.readable and broken.findings["code"].tolist() == ["unreadable"]
    gone = read_csv_file(tmp_path / "gone.xlsx")
    assert gone.findings["code"].tolist() == ["unreadable"]


def test_a_workbook_is_reviewed_like_a_csv(credentials_xlsx, sqlite_directory):
    sqlite_directory.add_users([ADA_USER])
    review = review_file(credentials_xlsx, sqlite_directory, ReviewOptions(sheet="Cards"))
    assert not review.rejected
    assert review.resolved.loc[2, "credential_key"] == "card:Standard 26-bit Wiegand:118:1603"
    assert review.resolved.loc[5, "credential_key"] == "card:Standard 26-bit Wiegand:99:999"
    assert set(review.file["code"]) == {"xlsx-numbers"}
    result = CliRunner().invoke(
        main,
        ["review", str(credentials_xlsx), "--sheet", "Cards", "--db", sqlite_directory.url],
    )
    assert result.exit_code == 0, result.output
    assert "xlsx-numbers" in result.output
    rejected = CliRunner().invoke(
        main, ["review", str(credentials_xlsx), "--sheet", "Badges", "--db", sqlite_directory.url]
    )
    assert rejected.exit_code == 2
    assert "sheet-not-found" in rejected.output


def test_a_source_workbook_converts_with_its_profile(tmp_path):
    path = workbook(
        tmp_path / "genetec.xlsx",
        {"Cardholders": [
            ["First name", "Last name", "Email", "Card format", "Facility code", "Card number"],
            ["Ada", "Lovelace", "ada@example.com", 0, 118, 1603],
        ]},
    )  # fmt: skip
    conversion = convert_table(read_csv_file(path), load_profile("genetec"))
    assert conversion.table.loc[2, ["Card Type", "Facility Code", "Card Number"]].tolist() == [
        "Standard 26-bit Wiegand",
        "118",
        "1603",
    ]
