"""credkit.corrected: a review's passing rows written as a canonical credential CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner

from credkit.cli import main
from credkit.columns import HEADERS
from credkit.demo import create_demo
from credkit.directory import Directory
from credkit.review import ReviewOptions, review_file

MAPPING = (("Facility Cod", "Facility Code"),)


def read_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_the_corrected_messy_file_reviews_without_errors(
    sqlite_directory: Directory, tmp_path: Path
) -> None:
    demo = create_demo(sqlite_directory, tmp_path, user_count=40, seed=3)
    messy = next(path for path in demo.files if path.name == "credentials-messy.csv")
    options = ReviewOptions(mapping=MAPPING)
    review = review_file(messy, sqlite_directory, options)
    assert review.exit_status == 1
    # The operator fixes two rows in the wizard: the facility code typo, the lost zero.
    entry_code = review.table.at[6, "Entry Code"]
    review.edit({(4, "Facility Code"): "30", (6, "Entry Code"): "0" + entry_code})
    out = tmp_path / "corrected.csv"
    from credkit.corrected import write_corrected

    written = write_corrected(review, sqlite_directory, out)
    failing = set(review.failing_rows)
    assert written.corrected_rows == len(review.table) - len(failing)
    assert written.failed_path == tmp_path / "corrected.failed.csv"
    failed = read_rows(written.failed_path)
    assert {int(row["Row"]) for row in failed} == failing == {5, 8, 9, 10, 11}
    rows = read_rows(out)
    assert list(rows[0]) == HEADERS
    # Canonical form: the registry's name for the alias, the hex filled in, the plate tidied.
    alias_row = rows[1]
    assert alias_row["Card Type"] == "Standard 26-bit Wiegand"
    fixed = rows[2]
    assert fixed["Facility Code"] == "30" and len(fixed["Card Number Hex"]) == 7
    assert rows[3]["Entry Code"] == "0" + entry_code
    assert rows[4]["License Plate"].isalnum() and rows[4]["License Plate"].isupper()
    again = review_file(out, sqlite_directory)
    assert again.exit_status == 0
    assert (again.findings["severity"] == "error").sum() == 0


def test_review_write_corrected_on_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'credkit.db'}"
    runner = CliRunner()
    assert (
        runner.invoke(
            main, ["demo", "--users", "40", "--out", str(tmp_path), "--db", url]
        ).exit_code
        == 0
    )
    messy = tmp_path / "credentials-messy.csv"
    out = tmp_path / "clean.csv"
    args = ["review", str(messy), "--map", "Facility Cod=Facility Code", "--db", url]
    result = runner.invoke(main, [*args, "--write-corrected", str(out)])
    assert result.exit_code == 1
    assert "Wrote 3 corrected rows" in result.output
    assert (tmp_path / "clean.failed.csv").exists()
    assert runner.invoke(main, ["review", str(out), "--db", url]).exit_code == 0
    nowhere = tmp_path / "missing" / "clean.csv"
    refused = runner.invoke(main, [*args, "--write-corrected", str(nowhere)])
    assert refused.exit_code == 3 and "Cannot write the corrected file" in refused.output
    assert "Traceback" not in refused.output
