"""Entry codes (PINs) are never shown in full where a person reads: reports, CLI, runs, logs, mail.

A file full of entry codes (valid ones, replaced ones, ones in use by another user, too short,
not digits, duplicated, ...) goes through review, import, ``credkit review`` (text and --json),
``credkit import`` (text and --json), ``credkit runs`` and ``runs show``, the failed-rows CSV, the
notification e-mail and the log records. Each full code must be absent from all of them; masked
(``••••17``) they may appear.

The failed-rows CSV's Entry Code column is the one exception: it holds the code as written, because
the operator needs it there to fix the row and import the file again. Its other columns (Error
above all) are checked like everything else.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from credkit.cli import main
from credkit.directory import Directory, NewUser, entry_code_key
from credkit.importer import ImportResult, execute_import, plan_import
from credkit.notify import result_message
from credkit.render import review_text
from credkit.review import Review, review_file
from tests.support import ADA, KIM

EVE = "55555555-5555-4555-8555-555555555555"
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

#: Codes in the directory before the import.
ADA_CODE, KIM_CODE = "904217", "551234"
#: Every code the file holds, by the row it is on and what is wrong with it.
FILE_ROWS = [
    ({"User ID": ADA, "Entry Code": "731942"}, "replaces Ada's code (a warning; applied)"),
    ({"User ID": ADA, "Entry Code": KIM_CODE}, "Kim's code: entry-code-in-use"),
    ({"User ID": EVE, "Entry Code": "86420753"}, "a new code for Eve (applied)"),
    ({"User ID": EVE, "Entry Code": "97531086"}, "Eve's second code: duplicate-in-file"),
    ({"User ID": KIM, "Entry Code": "097"}, "lost leading zeros"),
    ({"User ID": KIM, "Entry Code": "12ab34"}, "not digits"),
    ({"User ID": KIM, "Entry Code": "12345678901234567"}, "17 digits: too long"),
    ({"User ID": KIM, "Entry Code": "'-246813"}, "a formula prefix kept: not digits"),
    ({"User ID": KIM, "Entry Code": "1.35792E+11"}, "Excel's scientific notation"),
    ({"User ID": KIM, "Entry Code": "864209", "License Plate": "KIM1"}, "two credentials"),
    ({"External ID": "nobody", "Entry Code": "753198"}, "unknown user"),
    ({"External ID": "E5", "Entry Code": "86420753"}, "Eve's new code again: duplicate-in-file"),
    ({"User ID": KIM, "Entry Code": "1234\x1b"}, "a control character: not digits"),
    ({"User ID": KIM, "Entry Code": " 24681357 "}, "spaces around: applied as 24681357"),
]
SECRETS = sorted(
    {ADA_CODE, KIM_CODE}
    | {row["Entry Code"].strip().lstrip("'") for row, _ in FILE_ROWS}
    | {"24681357", "246813"}
)


def leaked(text: str) -> list[str]:
    """The codes that appear whole in text (not as a part of a longer run of digits/letters)."""
    return [
        code
        for code in SECRETS
        if re.search(rf"(?<![0-9A-Za-z]){re.escape(code)}(?![0-9A-Za-z])", text)
    ]


def assert_no_code(text: str, where: str) -> None:
    found = leaked(text)
    assert not found, f"{where} shows entry codes in full: {found}"


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


@pytest.fixture
def coded(tmp_path: Path) -> tuple[Directory, Path]:
    """A directory where Ada and Kim have entry codes, and a file full of codes."""
    directory = Directory(f"sqlite:///{tmp_path / 'codes.db'}")
    directory.add_users(
        [
            NewUser("Ada", "Lovelace", external_id="E1", user_id=ADA),
            NewUser("Kim", "Kowalski", external_id="E3", user_id=KIM),
            NewUser("Eve", "Evans", external_id="E5", user_id=EVE),
        ]
    )
    for user, code in ((ADA, ADA_CODE), (KIM, KIM_CODE)):
        directory.add_credential(
            user, kind="entry_code", credential_key=entry_code_key(code), entry_code=code
        )
    path = tmp_path / "codes.csv"
    with open(path, "w", encoding="utf-8", newline="") as stream:
        headers = ["User ID", "External ID", "License Plate", "Entry Code"]
        writer = csv.DictWriter(stream, fieldnames=headers, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(row for row, _ in FILE_ROWS)
    yield directory, path
    directory.dispose()


def test_the_file_exercises_every_entry_code_finding(coded) -> None:
    directory, path = coded
    review = review_file(path, directory)
    codes = set(review.rows["code"])
    assert {
        "entry-code-replaced",
        "entry-code-in-use",
        "duplicate-in-file",
        "entry-code-leading-zeros",
        "entry-code-invalid",
        "multiple-credentials",
        "unknown-user",
    } <= codes
    assert len(review.passing_rows) == 3  # rows 2, 4 and 15


def test_review_reports_mask_every_code(coded) -> None:
    directory, path = coded
    review = review_file(path, directory)
    findings = review.findings
    assert_no_code(" | ".join(findings["message"]), "finding messages")
    assert_no_code(" | ".join(findings["value"].dropna().astype(str)), "finding values")
    assert_no_code(review_text(review), "the review's text")
    assert_no_code(json.dumps(review.to_json(), ensure_ascii=False), "the review's JSON")
    assert_no_code(json.dumps(review.summary()), "the review's summary")
    assert "\u2022\u2022\u2022\u202242" in set(findings["value"])  # 731942, masked


def test_cli_review_masks_every_code(coded) -> None:
    directory, path = coded
    text = invoke("review", str(path), "--db", directory.url)
    assert text.exit_code == 1
    assert_no_code(text.output, "credkit review")
    as_json = invoke("review", str(path), "--db", directory.url, "--json")
    assert as_json.exit_code == 1
    assert_no_code(as_json.output, "credkit review --json")


def _import(directory: Directory, path: Path) -> tuple[Review, ImportResult]:
    review = review_file(path, directory)
    return review, execute_import(plan_import(review), directory, operator="secrets")


def test_import_results_mask_every_code_but_the_failed_rows_entry_code(coded) -> None:
    directory, path = coded
    _, result = _import(directory, path)
    assert result.counts()["fail"] == len(FILE_ROWS) - 3
    assert_no_code(result.rows.to_csv(), "the import's outcomes and reasons")
    failed = io.StringIO()
    result.write_failed_rows(failed)
    rows = list(csv.DictReader(io.StringIO(failed.getvalue())))
    assert rows and all(row["Error"] for row in rows)
    for row in rows:
        # The Entry Code column keeps the code as written: the operator fixes the row there.
        shown = {name: value for name, value in row.items() if name != "Entry Code"}
        assert_no_code(json.dumps(shown, ensure_ascii=False), f"failed row {row['Row']}")
    # The notification's body; its attachment is the failed-rows CSV above.
    message = result_message(result, path.name, "ops@example.com", "credkit@example.com")
    assert_no_code(message.get_body(("plain",)).get_content(), "the notification's body")
    assert_no_code(str(message["Subject"]), "the notification's subject")


def test_cli_import_and_runs_mask_every_code(coded, tmp_path: Path) -> None:
    directory, path = coded
    url = directory.url
    text = invoke("import", str(path), "--db", url, "--dry-run")
    assert text.exit_code == 1
    assert "entry-code-in-use" in text.output  # the failing rows' findings are listed
    assert_no_code(text.output, "credkit import --dry-run")
    failed_rows = tmp_path / "failed.csv"
    applied = invoke("import", str(path), "--db", url, "--failed-rows", str(failed_rows), "--json")
    assert applied.exit_code == 1
    assert_no_code(applied.output, "credkit import --json")
    run_id = json.loads(applied.stdout)["run_id"]
    again = invoke("import", str(path), "--db", url)  # text, with the failing rows listed
    assert_no_code(again.output, "credkit import")

    runs = invoke("runs", "--db", url)
    assert runs.exit_code == 0
    assert_no_code(runs.output, "credkit runs")
    shown = invoke("runs", "--db", url, "show", str(run_id))
    assert shown.exit_code == 0
    assert "entry_code:\u2022\u2022\u2022\u2022" in shown.output  # the changes are listed, masked
    assert_no_code(shown.output, "credkit runs show")


@pytest.fixture
def sql_logging() -> Iterator[None]:
    """SQLAlchemy's SQL log turned on, the documented way to see what a program asks of its
    database (SQLAlchemy keeps it at WARNING otherwise)."""
    engine_logger = logging.getLogger("sqlalchemy.engine")
    level = engine_logger.level
    engine_logger.setLevel(logging.INFO)
    yield
    engine_logger.setLevel(level)


def test_credkit_logs_no_code(coded, caplog: pytest.LogCaptureFixture) -> None:
    # Every logger at DEBUG, SQLAlchemy's left as it is (its SQL log off: see below).
    directory, path = coded
    caplog.set_level(logging.DEBUG)
    _import(directory, path)
    invoke("review", str(path), "--db", directory.url, "--json")
    invoke("import", str(path), "--db", directory.url, "--dry-run")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert_no_code(logged, "the log")


def test_the_sql_log_holds_no_code(coded, sql_logging, caplog: pytest.LogCaptureFixture) -> None:
    directory, path = coded
    caplog.set_level(logging.INFO)
    _import(directory, path)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "INSERT INTO credentials" in logged
    assert_no_code(logged, "the SQL log")


@pytest.mark.parametrize(
    "notebook", sorted(NOTEBOOKS.glob("*.ipynb")) or [None], ids=lambda p: p and p.name
)
def test_notebook_outputs_hold_no_code(notebook: Path | None) -> None:
    if notebook is None:
        pytest.skip("no notebooks/*.ipynb in the repository")
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    outputs = json.dumps([cell.get("outputs", []) for cell in cells], ensure_ascii=False)
    # The demo's codes are random: 4 to 16 digits shown next to "Entry Code" or "entry_code"
    # in an output are a code shown in full.
    shown = re.search(r"(?i)entry[ _]code[^0-9\n]{0,40}(?<![0-9])[0-9]{4,16}(?![0-9])", outputs)
    assert shown is None, f"{notebook.name} shows an entry code in full: {shown.group(0)!r}"
