"""The row rules' findings, pinned: the engine may change, what it finds may not.

The fixture (tests/files/rules_engine.json) is the output of the engine before credkit.rules
became a package of rule families: every finding (row, column, code, severity, value, message)
and every resolved row, on a benchmark-style file and on a file with every row code, under each
RuleOptions, with the import's per-row choices and its re-check. Regenerate it only on purpose:
``CREDKIT_PIN_RULES=1 pytest tests/test_rules_engine.py`` (and say in the commit why).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from credkit.demo import MESSY_FILE, create_demo
from credkit.directory import Directory, DirectoryLookup, plate_key
from credkit.formats import REGISTRY
from credkit.importer import ImportChoices, plan_import
from credkit.review import Review, ReviewOptions, review_bytes, review_file
from credkit.rules import RuleOptions, recheck_rows
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
)
from tests.test_review import ROW_CASES, card

FIXTURE = Path(__file__).parent / "files" / "rules_engine.json"
PIN = os.environ.get("CREDKIT_PIN_RULES") == "1"
OPTIONS = {
    "default": {},
    "reassign": {"reassign": True},
    "overwrite_newer": {"overwrite_newer": True},
    "both": {"reassign": True, "overwrite_newer": True},
}
ada = {"User ID": ADA}
alan = {"User ID": ALAN}


def _records(frame: pd.DataFrame) -> list[list]:
    """A frame as JSON-able rows, index first; every value as text (None stays None)."""
    rows = []
    for index, values in zip(frame.index, frame.itertuples(index=False), strict=True):
        rows.append([_text(index), *(_text(value) for value in values)])
    return rows


def _text(value: object) -> object:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def _findings(findings: pd.DataFrame) -> list[list]:
    columns = ["row", "column", "code", "severity", "value", "message"]
    records = [record[1:] for record in _records(findings[columns])]
    return sorted(records, key=lambda record: tuple("" if v is None else v for v in record))


def _review_output(review: Review) -> dict[str, object]:
    return {
        "findings": _findings(review.findings),
        "resolved": _records(review.resolved.sort_index()),
        "passing": [int(row) for row in review.passing_rows],
    }


def _edge_rows() -> list[dict[str, str]]:
    """Every row code the rules emit, one case (or a few) per row."""
    rows = [case for case, _, _ in ROW_CASES.values()]
    old_form = [
        {"User ID": ADA, "Card Type": "AWID 34-bit", "Facility Code": "23",
         "Card Number": "123456", "Card Number Hex": "1E240"},
        {"User ID": ADA, "Card Type": "Casi Rusco 40-Bit", "Card Number": "123456789012",
         "Card Number Hex": "1CBE991A14"},
        {"User ID": ADA, "Card Type": "Guardall G-Prox II 36-bit", "Card Number": "567890",
         "Card Number Hex": "8AA52"},
        {"User ID": ADA, "Card Type": "PointGuard MDI 37-bit", "Facility Code": "9",
         "Card Number": "123456789", "Card Number Hex": "124EB79A2B"},
    ]  # fmt: skip
    simplex = REGISTRY.get("HID 36-bit Simplex").encode(12, 345_678)
    more = [
        {"User ID": ADA, "Card Number Hex": "2EC0C86"},  # card-type-candidates
        {"User ID": ADA, "Card Type": "HID 36-bit Keyscan", "Card Number Hex": simplex},
        {"User ID": ADA, "Card Type": HID26, "Card Number Hex": "2EC0C87"},
        {"Email": "\uff2bIM@example.com", "License Plate": "KIM1"},  # email-lookalike
        {"Email": "\u212aim@example.com", "License Plate": "KIM2"},
        {"Email": "ada@example.com", "License Plate": "AD A1"},  # Ada's own plate, normalised
        ada | card("", "", "0x "),  # hex with no digits
        ada | card("", "", "F" * 30),  # wider than the format
        ada | card("", "", "1" * 40, MIFARE),
        ada | card("1", "9" * 30),  # a number past every range
        ada | card("", "4294967296", "", MIFARE),
        ada | card("", "16909060", "01020304", MIFARE),  # matches
        ada | card("", "16909061", "01020304", MIFARE),  # mismatch, not byte order
        ada | card("", "1234", "", "HID iClass"),
        ada | card("", str(2**64 - 1), "", "HID iClass"),
        ada | card("", "", "FFFFFFFFFFFFFFFF", "HID iClass"),
        ada | card("", "77", "", "Casi Rusco 40-Bit"),
        ada | card("1", "", "", HID26),  # a type and a facility code, no number
        ada | card("", "", "", "Foo 12-bit"),
        ada | card("1", "3", REGISTRY.get(HID26).encode(1, 3)),
        ada | card("1", "3", REGISTRY.get(HID26).encode(1, 3)),  # duplicate in file
        alan | card("1", "2", "", HID26) | {"Modified": "06/01/2026 10:00 AM"},
        alan | card("1", "2", "", HID26) | {"Modified": "01/02/2026 13:05:07"},
        alan | {"Entry Code": "0042", "Modified": "2026-01-01T00:00:00+02:00"},
        alan | {"Entry Code": "123456"},
        alan | {"Entry Code": "654321"},  # the same user's second entry code
        {"External ID": "E2", "Email": "ada@example.com", "License Plate": "QQ12"},
        {"External ID": "E2", "Email": "nobody@example.com", "License Plate": "QQ13"},
        {"Email": " ADA@example.COM ", "First Name": "ada", "License Plate": "QQ14"},
        {"Email": "", "External ID": "", "User ID": "", "Card Type": HID26},
        ada | {"License Plate": "XY12", "Credential Status": "ACTIVE", "First Name": "x" * 300},
        ada | {"Facility Code": "1e5", "Card Number": "00012", "Card Type": HID26},
        ada | {"Entry Code": "0000000000000000000"},
    ]
    return rows + old_form + more


def _staffed(directory: Directory) -> Directory:
    directory.add_users([ADA_USER, ALAN_USER])
    # Fixed times (the helpers' default is now): the pinned stale messages quote them.
    may = datetime(2026, 5, 1, tzinfo=UTC)
    give_card(directory, ADA, 1, 1, modified=may)
    directory.add_credential(
        ADA, kind="license_plate", credential_key=plate_key("ADA1"), license_plate="ADA1",
        modified=may,
    )  # fmt: skip
    give_entry_code(directory, ADA, "0042", modified=may)
    give_card(directory, ALAN, 1, 2, modified=datetime(2026, 6, 1, tzinfo=UTC))
    return directory


def _recheck(review: Review, lookup: DirectoryLookup, options: RuleOptions) -> dict[str, object]:
    findings, fresh = recheck_rows(review.table, review.resolved, lookup, options)
    return {"findings": _findings(findings), "resolved": _records(fresh.sort_index())}


def _edge_outputs(tmp_path: Path) -> dict[str, object]:
    directory = _staffed(Directory(f"sqlite:///{tmp_path / 'edge.db'}"))
    only_ada = Directory(f"sqlite:///{tmp_path / 'only-ada.db'}")
    only_ada.add_users([ADA_USER])
    give_card(only_ada, ADA, 1, 2, modified=datetime(2027, 1, 1, tzinfo=UTC))
    data = csv_bytes(_edge_rows())
    out: dict[str, object] = {}
    try:
        for name, options in OPTIONS.items():
            review = review_bytes(data, directory, ReviewOptions(**options))
            out[f"edge/{name}"] = _review_output(review)
            rule_options = review.options.rule_options
            out[f"edge/{name}/recheck-same"] = _recheck(
                review, DirectoryLookup(directory), rule_options
            )
            out[f"edge/{name}/recheck-changed"] = _recheck(
                review, DirectoryLookup(only_ada), rule_options
            )
        review = review_bytes(data, directory)
        failing = sorted(review.failing_rows)
        choices = ImportChoices(skipped=frozenset(failing[:3]), reassigned=frozenset(failing[3:9]))
        out["edge/plan"] = _records(plan_import(review, choices).rows.sort_index())
    finally:
        directory.dispose()
        only_ada.dispose()
    return out


def _messy_outputs(tmp_path: Path) -> dict[str, object]:
    directory = Directory(f"sqlite:///{tmp_path / 'demo.db'}")
    out: dict[str, object] = {}
    try:
        create_demo(directory, tmp_path, user_count=50, modified=datetime(2026, 3, 1, tzinfo=UTC))
        mapping = (("Facility Cod", "Facility Code"),)
        for name, options in OPTIONS.items():
            review = review_file(
                tmp_path / MESSY_FILE, directory, ReviewOptions(mapping=mapping, **options)
            )
            out[f"messy/{name}"] = _review_output(review)
        review = review_file(tmp_path / MESSY_FILE, directory, ReviewOptions(mapping=mapping))
        choices = ImportChoices(skipped=frozenset({9, 10}), reassigned=frozenset({11}))
        out["messy/plan"] = _records(plan_import(review, choices).rows.sort_index())
    finally:
        directory.dispose()
    return out


def _bench_outputs(tmp_path: Path) -> dict[str, object]:
    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    try:
        import data as benchdata
    finally:
        sys.path.pop(0)
    data = benchdata.dataset(2_000, work=tmp_path / "bench")
    benchdata.ensure(data, log=lambda *_: None)
    directory = Directory(data.url)
    try:
        review = review_file(data.csv, directory)
        out = {"bench/default": _review_output(review)}
        review = review_file(
            data.csv, directory, ReviewOptions(reassign=True, overwrite_newer=True)
        )
        out["bench/both"] = _review_output(review)
    finally:
        directory.dispose()
    return out


@pytest.fixture(scope="module")
def pinned() -> dict[str, object]:
    if PIN:
        return {}
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def _check(pinned: dict[str, object], outputs: dict[str, object]) -> None:
    if PIN:
        stored = json.loads(FIXTURE.read_text(encoding="utf-8")) if FIXTURE.exists() else {}
        stored.update(outputs)
        FIXTURE.write_text(json.dumps(stored, indent=0, ensure_ascii=False) + "\n", "utf-8")
        return
    for name, output in outputs.items():
        expected = pinned[name]
        if isinstance(output, dict):
            for part, value in output.items():
                assert value == expected[part], f"{name}: {part} differs"
        else:
            assert output == expected, name


def test_edge_file_findings_are_pinned(pinned, tmp_path) -> None:
    outputs = _edge_outputs(tmp_path)
    codes = {record[2] for record in outputs["edge/default"]["findings"]}
    # The file does hold every row code the rules emit (so the pin covers each of them).
    assert set(ROW_CODES) <= codes, set(ROW_CODES) - codes
    _check(pinned, outputs)


def test_demo_file_findings_and_choices_are_pinned(pinned, tmp_path) -> None:
    _check(pinned, _messy_outputs(tmp_path))


def test_benchmark_file_findings_are_pinned(pinned, tmp_path) -> None:
    _check(pinned, _bench_outputs(tmp_path))


#: Every code the row rules emit.
ROW_CODES = [
    *ROW_CASES,
    "email-lookalike",
    "hex-old-form",
    "card-type-candidates",
    "hex-other-format",
    "duplicate-in-file",
]


def test_rows_numbered_with_gaps_and_out_of_order_get_the_same_findings(tmp_path) -> None:
    """The engine relies on the index only as each row's unique number: a caller that makes
    several output rows of one source row (credkit.conversion.SourcePart) numbers them as it
    likes and maps them back."""
    from credkit.rules import duplicate_findings, first_rows_in, resolve_rows

    directory = _staffed(Directory(f"sqlite:///{tmp_path / 'edge.db'}"))
    try:
        table = review_bytes(csv_bytes(_edge_rows()), directory).table
        lookup = DirectoryLookup(directory)
        renumber = dict(zip(table.index, [1000 - 7 * i for i in range(len(table))], strict=True))
        gapped = table.rename(index=renumber)
        plain, plain_resolved = resolve_rows(table, lookup, RuleOptions())
        found, resolved = resolve_rows(gapped, lookup, RuleOptions())
    finally:
        directory.dispose()
    plain["row"] = plain["row"].map(renumber)
    assert _findings(found) == _findings(plain)
    assert _records(resolved) == _records(plain_resolved.rename(index=renumber))
    columns = ["row", "column", "code", "value"]
    duplicates = duplicate_findings(resolved, first_rows_in(resolved))[columns]
    plain_duplicates = duplicate_findings(plain_resolved, first_rows_in(plain_resolved))[columns]
    plain_duplicates["row"] = plain_duplicates["row"].map(renumber)
    assert len(duplicates) and sorted(map(tuple, duplicates.astype(str).values)) == sorted(
        map(tuple, plain_duplicates.astype(str).values)
    )
