"""Hostile and broken files: each gets its findings, nothing raises, a rejected file writes nothing.

The corpus (tests/hostile/corpus.py) is generated into a temporary folder. Every file is reviewed
through the library and through ``credkit review --json``, and imported with ``credkit import``;
the export of a directory full of formula payloads is checked to be safe and to round-trip; and the
pathological files (10 MB field, 10,000 columns, 250,000 rows of long values) are handled in
seconds and in bounded memory.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import textwrap
import time
import traceback
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from credkit.cli import main
from credkit.directory import Directory, credential_history, import_runs, metadata
from credkit.findings import CATALOGUE, VALUE_LENGTH, findings_frame
from credkit.importer import execute_import, plan_import
from credkit.render import review_text
from credkit.review import review_file
from tests.hostile.corpus import ADA, BY_KIND, CORPUS, FORMULAS, Hostile, populate

#: A review is a hang when it takes this long; this is a hang detector, not a benchmark.
HANG_SECONDS = 120  # a guard against a hang, not a speed target (benchmarks measure speed)
#: Peak RSS of a whole process reviewing 250,000 rows (the benchmarks' target, benchmarks/run.py).
REVIEW_RSS_MB = 800
#: What must never reach the operator's terminal from a file: control characters (but line
#: breaks and tabs, which credkit's own text uses) and the bidirectional overrides that reorder
#: what is shown (U+202A-U+202E, U+2066-U+2069).
UNSAFE_FOR_TERMINALS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        details = "".join(traceback.format_exception(result.exception))
        pytest.fail(f"credkit {args[0]} raised:\n{details}")
    return result


def findings_of(frame: pd.DataFrame) -> list[tuple[str, int | None, str | None, str]]:
    return [
        (code, None if pd.isna(row) else int(row), column, severity)
        for code, row, column, severity in frame[["code", "row", "column", "severity"]].itertuples(
            index=False
        )
    ]


def findings_in_json(report: dict[str, Any]) -> list[tuple[str, int | None, str | None, str]]:
    return [
        (f["code"], f["row"], f["column"], f["severity"])
        for part in ("file", "columns", "rows")
        for f in report[part]
    ]


def assert_findings(found: list[tuple[str, int | None, str | None, str]], case: Hostile) -> None:
    """Every expected finding is there, and no error beyond the ones the case allows."""
    for expect in case.expect:
        assert any(expect.matches(code, row, column) for code, row, column, _ in found), (
            f"{expect} not in {found[:20]}"
        )
    errors = {code for code, _, _, severity in found if severity == "error"}
    assert errors <= case.error_codes, f"unexpected errors {errors - case.error_codes}"
    for code, row, _, severity in found:
        assert severity == CATALOGUE[code].severity
        assert row is None or row >= 1


def table_names(directory: Directory) -> set[str]:
    return set(sa.inspect(directory.engine).get_table_names())


def count(directory: Directory, table: sa.Table) -> int:
    with directory.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def history_rows(directory: Directory) -> set[int]:
    with directory.engine.connect() as conn:
        return set(conn.execute(sa.select(credential_history.c.row)).scalars())


@pytest.fixture
def corpus_directory(sqlite_directory: Directory) -> Directory:
    return populate(sqlite_directory)


def _param(case: Hostile) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []
    return pytest.param(case, id=case.kind, marks=marks)


# --------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------


def test_the_corpus_has_every_kind_of_file() -> None:
    assert len(CORPUS) >= 40
    assert {"rows-250000", "rows-250001", "one-10mb-field", "columns-10000"} <= set(BY_KIND)
    assert {"one-50mb-cell", "columns-140000", "rows-250000-and-blank-rows"} <= set(BY_KIND)


@pytest.mark.parametrize("case", [_param(case) for case in CORPUS])
def test_a_hostile_file_gets_its_findings(
    case: Hostile, corpus_directory: Directory, tmp_path: Path
) -> None:
    directory, url = corpus_directory, corpus_directory.url
    path = case.write(tmp_path)

    started = time.perf_counter()
    review = review_file(path, directory)  # never raises
    assert time.perf_counter() - started < HANG_SECONDS
    assert_findings(findings_of(review.findings), case)
    assert review.exit_status == case.status
    assert review.rejected is (case.status == 2)
    # `credkit review` (text) prints exactly review_text: nothing from the file may drive the
    # operator's terminal.
    unsafe = UNSAFE_FOR_TERMINALS.findall(review_text(review))
    assert not unsafe, f"the review's text holds {sorted(set(unsafe))!r}"

    cli = invoke("review", str(path), "--json", "--db", url)
    assert cli.exit_code == case.status, cli.output[:2000]
    assert_findings(findings_in_json(json.loads(cli.stdout)), case)

    if case.created is None:  # rows-250000: accepted; importing it is the benchmarks' business
        return
    users_before = count(directory, metadata.tables["users"])
    imported = invoke("import", str(path), "--db", url, "--operator", "hostile", "--json")
    assert imported.exit_code == case.status, imported.output[:2000]
    assert directory.credential_count() == case.created
    if case.status == 2:  # rejected: nothing written, not even a run
        assert count(directory, import_runs) == 0
        assert count(directory, credential_history) == 0
    else:  # each row applied completely or not at all: only passing rows have history
        assert json.loads(imported.stdout)["counts"]["create"] == case.created
        assert history_rows(directory) <= set(review.passing_rows)
        assert len(history_rows(directory)) == case.created
    # SQL-looking values are values: every table is still there, and every user.
    assert {"users", "credentials", "import_runs", "credential_history"} <= table_names(directory)
    assert count(directory, metadata.tables["users"]) == users_before


# --------------------------------------------------------------------------------------------
# Formula payloads: exported with the protecting ', read back unchanged
# --------------------------------------------------------------------------------------------


def test_formula_payloads_are_exported_with_a_quote_and_reimport_unchanged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'formulas.db'}"
    payloads = list(FORMULAS.values())
    # Users and credentials made through credkit's own imports, a payload in every user field.
    emails = ["=a@example.com", "+b@example.com", "-c@example.com", "d@example.com"]
    users_csv = tmp_path / "users.csv"
    with open(users_csv, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["First Name", "Last Name", "External ID", "Employee ID", "Email"])
        writer.writerows([p, p, p, p, email] for p, email in zip(payloads, emails, strict=True))
    assert invoke("users", "import", str(users_csv), "--db", url).exit_code == 0
    directory = Directory(url)
    users = directory.users_frame()
    assert users["first_name"].tolist() == payloads  # stored as written
    assert users["email"].tolist() == emails
    credentials_csv = tmp_path / "credentials.csv"
    credentials_csv.write_text(
        "User ID,License Plate\n"
        + "".join(f"{user},FORM{i}\n" for i, user in enumerate(users["user_id"])),
        encoding="utf-8",
    )
    assert invoke("import", str(credentials_csv), "--db", url, "--json").exit_code == 0

    export = tmp_path / "export.csv"
    assert invoke("export", "-o", str(export), "--db", url).exit_code == 0
    cells = pd.read_csv(export, dtype=str, keep_default_na=False)
    for column in ("First Name", "Last Name", "External ID", "Employee ID", "Email"):
        for value in cells[column]:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column, value)
    assert cells["First Name"].tolist() == ["'" + p for p in payloads]

    review = review_file(export, directory)
    assert review.findings.empty, review.findings
    assert review.table["First Name"].tolist() == payloads
    again = invoke("import", str(export), "--db", url, "--json")
    assert again.exit_code == 0
    counts = json.loads(again.stdout)["counts"]
    assert counts == {"create": 0, "update": 0, "reassign": 0, "unchanged": 4, "fail": 0}


# --------------------------------------------------------------------------------------------
# Bugs found with the corpus that do not fit one file's expectations
# --------------------------------------------------------------------------------------------


REJECTED = [case for case in CORPUS if case.status == 2 and case.created == 0]


def test_importing_a_rejected_review_through_the_library_writes_nothing(
    corpus_directory: Directory, tmp_path: Path
) -> None:
    for case in REJECTED[:8]:
        review = review_file(case.write(tmp_path), corpus_directory)
        assert review.rejected
        result = execute_import(plan_import(review), corpus_directory, operator="hostile")
        assert result.counts() == dict.fromkeys(result.counts(), 0)
        assert corpus_directory.credential_count() == 0
        assert count(corpus_directory, import_runs) == 0  # "File rejected: nothing written"


def test_every_file_level_finding_names_a_row(corpus_directory: Directory, tmp_path: Path) -> None:
    kinds = ["utf16-with-bom", "utf16le-without-bom", "xlsx-renamed-csv", "pdf-renamed-csv"]
    reviews = [review_file(BY_KIND[kind].write(tmp_path), corpus_directory) for kind in kinds]
    reviews.append(review_file(tmp_path / "no-such-file.csv", corpus_directory))
    rows = [row for review in reviews for row in review.findings["row"]]
    assert all(not pd.isna(row) and row >= 1 for row in rows), rows


def test_messages_do_not_repeat_a_very_long_value(
    corpus_directory: Directory, tmp_path: Path
) -> None:
    review = review_file(BY_KIND["long-values-in-every-column"].write(tmp_path), corpus_directory)
    assert review.findings["message"].str.len().max() < 1_000
    assert len(review_text(review)) < 20_000


def test_a_long_value_is_shown_shortened_to_100_characters_once(
    corpus_directory: Directory, tmp_path: Path
) -> None:
    review = review_file(BY_KIND["long-values-in-every-column"].write(tmp_path), corpus_directory)
    values = review.findings["value"].dropna()
    long = values[values.str.endswith("…")]
    assert len(long) and (long.str.len() == VALUE_LENGTH).all()
    # Passing through findings_frame again, as every report does, does not cut them again.
    again = findings_frame(review.findings)["value"].dropna()
    assert again[again.str.endswith("…")].tolist() == long.tolist()


# --------------------------------------------------------------------------------------------
# Resource limits: hang detectors and peak memory, measured in a fresh process
# --------------------------------------------------------------------------------------------

_MEASURE = textwrap.dedent(
    """
    import json, sys, time
    from credkit.directory import Directory, NewUser
    from credkit.review import review_file

    directory = Directory("sqlite://")
    directory.add_users([NewUser("Ada", "Lovelace", user_id=sys.argv[2])])
    started = time.perf_counter()
    review = review_file(sys.argv[1], directory)
    seconds = time.perf_counter() - started
    # VmHWM is this program's own peak: ru_maxrss would start at the pytest parent's RSS,
    # which Linux carries into a child across fork and exec.
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "status": review.exit_status,
                      "findings": len(review.findings)}))
    """
)


def measure_review(path: Path) -> dict[str, Any]:
    """Review a file in a fresh Python: its time and the process's peak RSS (MB), which
    includes the imports (about 150 MB) and the file's bytes, as the benchmarks measure it."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), ADA],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def long_values_file(path: Path) -> Path:
    """250,000 rows, each with one 200-character value in a checked column (a finding each)."""
    columns = ["License Plate", "Entry Code", "Card Number", "Credential Status", "Modified"]
    long = "L" * 200
    lines = ["User ID,Card Type," + ",".join(columns)]
    for i in range(250_000):
        cells = [""] * len(columns)
        cells[i % len(columns)] = long
        card_type = "HID iClass" if columns[i % len(columns)] == "Card Number" else ""
        lines.append(f"{ADA},{card_type}," + ",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def long_values_review(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return measure_review(long_values_file(tmp_path_factory.mktemp("long") / "long.csv"))


def test_250000_rows_are_reviewed_in_bounded_time_and_memory(tmp_path: Path) -> None:
    measured = measure_review(BY_KIND["rows-250000"].write(tmp_path))
    assert measured["status"] == 0
    assert measured["seconds"] < HANG_SECONDS
    assert measured["peak_mb"] < REVIEW_RSS_MB, measured


def test_250000_rows_of_long_values_are_reviewed_in_seconds(long_values_review) -> None:
    assert long_values_review["status"] == 1
    assert long_values_review["findings"] >= 250_000
    assert long_values_review["seconds"] < HANG_SECONDS


def test_250000_rows_of_long_values_are_reviewed_in_bounded_memory(long_values_review) -> None:
    assert long_values_review["peak_mb"] < REVIEW_RSS_MB, long_values_review


#: Peak RSS of a whole process reviewing a 50 MB cell or a 140,000-column header (issue 11).
PATHOLOGICAL_RSS_MB = 1024


@pytest.mark.parametrize("kind", ["one-50mb-cell", "columns-140000"])
def test_a_pathological_file_is_refused_in_bounded_memory(kind: str, tmp_path: Path) -> None:
    measured = measure_review(BY_KIND[kind].write(tmp_path))
    assert measured["status"] == 2 and measured["findings"] == 1, measured
    assert measured["seconds"] < HANG_SECONDS
    assert measured["peak_mb"] < PATHOLOGICAL_RSS_MB, measured


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null here")
def test_a_device_is_rejected_by_the_review_and_the_import(corpus_directory: Directory) -> None:
    # /dev/null: a device that ends at once, so the test stays harmless should the check break.
    review = review_file("/dev/null", corpus_directory)
    assert findings_of(review.findings) == [("not-a-file", 1, None, "error")]
    assert review.exit_status == 2
    cli = invoke("review", "/dev/null", "--json", "--db", corpus_directory.url)
    assert cli.exit_code == 2
    assert findings_in_json(json.loads(cli.stdout)) == [("not-a-file", 1, None, "error")]
