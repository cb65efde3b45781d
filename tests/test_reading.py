"""Reading credential CSV files: one fixture per quirk, each with the findings it must get."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from credkit import reading
from credkit.defaults import MAX_ROWS
from credkit.findings import FINDING_COLUMNS
from credkit.reading import (
    CsvTable,
    add_formula_prefix,
    detect_delimiter,
    detect_encoding,
    read_csv_bytes,
    read_csv_file,
    strip_formula_prefix,
    trimmed_values,
)

FILES = Path(__file__).parent / "files" / "reading"
HEADERS = ["User ID", "Card Number", "Entry Code"]


def shape(table: CsvTable) -> list[tuple[str, int | None, str | None, str]]:
    """The findings as (code, row, column, severity), in the order of the findings table."""
    return [
        (f.code, None if pd.isna(f.row) else int(f.row), f.column, f.severity)
        for f in table.findings.itertuples()
    ]


def values(table: CsvTable) -> dict[int, list[str]]:
    """The rows as {spreadsheet row number: [values]}."""
    rows = zip(table.rows.index, table.rows.to_numpy(), strict=True)
    return {int(number): list(row) for number, row in rows}


# (fixture, read arguments, expected findings, readable)
CASES = [
    ("clean.csv", {}, [], True),
    ("bom.csv", {}, [], True),
    ("cp1252.csv", {}, [("not-utf8", 2, None, "error")], False),
    ("cp1252.csv", {"encoding": "cp1252"}, [], True),
    ("utf16.csv", {}, [("not-utf8", 1, None, "error")], False),
    ("utf16.csv", {"encoding": "utf-16"}, [], True),
    ("semicolon.csv", {}, [("wrong-delimiter", 1, None, "error")], False),
    ("semicolon.csv", {"delimiter": ";"}, [], True),
    ("tab.csv", {}, [("wrong-delimiter", 1, None, "error")], False),
    ("tab.csv", {"delimiter": "\t"}, [], True),
    ("embedded_newline.csv", {}, [], True),
    ("embedded_quotes.csv", {}, [], True),
    ("crlf.csv", {}, [], True),
    ("lone_cr.csv", {}, [("blank-row", 3, None, "warning")], True),
    (
        "blank_line.csv",
        {},
        [("blank-row", 3, None, "warning"), ("blank-row", 4, None, "warning")],
        True,
    ),
    ("extra_fields.csv", {}, [("extra-fields", 2, None, "error")], True),
    ("short_row.csv", {}, [], True),
    ("header_only.csv", {}, [("no-rows", 2, None, "error")], True),
    ("empty.csv", {}, [("empty-file", 1, None, "error")], False),
    ("bom_whitespace.csv", {}, [("empty-file", 1, None, "error")], False),
    ("workbook.csv", {}, [("unreadable", 1, None, "error")], False),
    ("nul.csv", {}, [("unreadable", 3, None, "error")], False),
    ("unclosed_quote.csv", {}, [("unreadable", 3, None, "error")], False),
    ("formula.csv", {}, [], True),
    ("clean.csv", {"max_rows": 1}, [("too-many-rows", 3, None, "error")], False),
    ("clean.csv", {"max_rows": 2}, [], True),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "expected", "readable"),
    [pytest.param(*case, id=f"{case[0]}{case[1] or ''}") for case in CASES],
)
def test_each_quirk_gets_its_findings(name, kwargs, expected, readable):
    table = read_csv_file(FILES / name, **kwargs)
    assert shape(table) == expected
    assert table.readable is readable
    assert list(table.findings.columns) == FINDING_COLUMNS
    assert table.rows.index.name == "row"
    assert all(dtype == "str" for dtype in table.rows.dtypes)
    if not readable:
        assert table.rows.empty


@pytest.mark.parametrize(
    ("name", "kwargs"), [pytest.param(case[0], case[1], id=case[0]) for case in CASES]
)
def test_bytes_and_file_read_the_same(name, kwargs):
    from_file = read_csv_file(FILES / name, **kwargs)
    from_bytes = read_csv_bytes((FILES / name).read_bytes(), **kwargs)
    pd.testing.assert_frame_equal(from_file.rows, from_bytes.rows)
    pd.testing.assert_frame_equal(from_file.findings, from_bytes.findings)
    assert from_file.headers == from_bytes.headers
    assert from_file.detection == from_bytes.detection


def test_clean_file_is_all_text_by_spreadsheet_row():
    table = read_csv_file(FILES / "clean.csv")
    assert table.headers == HEADERS
    # Leading zeros kept, Excel's scientific notation kept as text, empty cells "" (not NaN).
    assert values(table) == {2: ["U1", "00123", "0042"], 3: ["U2", "1.23457E+11", ""]}
    assert list(table.rows.columns) == [0, 1, 2]
    assert table.rows.index.dtype == "int64"
    assert all(isinstance(value, str) for value in table.rows.to_numpy().ravel())
    assert table.detection == reading.Detection(
        encoding="utf-8",
        encoding_named=False,
        confidence=None,
        looks_like=None,
        delimiter=",",
        delimiter_named=False,
        bom=False,
    )


def test_sha256_and_size_are_of_the_raw_bytes():
    data = (FILES / "bom.csv").read_bytes()
    table = read_csv_file(FILES / "bom.csv")
    assert table.sha256 == hashlib.sha256(data).hexdigest()
    assert table.size == len(data) == 48
    refused = read_csv_file(FILES / "cp1252.csv")
    assert refused.sha256 == hashlib.sha256((FILES / "cp1252.csv").read_bytes()).hexdigest()


def test_bom_is_not_part_of_the_first_header():
    table = read_csv_file(FILES / "bom.csv")
    assert table.headers == HEADERS
    assert table.detection.bom and table.detection.encoding == "utf-8-sig"


def test_windows_1252_is_named_and_read_when_the_caller_names_it():
    table = read_csv_file(FILES / "cp1252.csv")
    (message,) = table.findings["message"]
    assert table.detection.looks_like == "cp1252"
    assert 'encoding="cp1252"' in message and "--encoding cp1252" in message
    assert "row 2" in message and "CSV UTF-8" in message
    assert table.findings["value"].tolist() == ["cp1252"]

    named = read_csv_file(FILES / "cp1252.csv", encoding="cp1252")
    assert named.rows.loc[2].tolist() == ["U1", "Émile", "Lefèvre", "00123"]
    assert named.rows.loc[6, 2] == "Benoît"
    assert named.detection.encoding == "cp1252" and named.detection.encoding_named


def test_the_first_undecodable_byte_is_located_by_row_deep_in_a_file():
    rows = [f"U{i},{i:05d},,\n" for i in range(2, 1001)]
    rows[698] = 'U700,"two\nlines",Lefèvre,\n'  # row 700; the quoted line break is one row
    data = b"User ID,Card Number,Last Name,Notes\n" + "".join(rows).encode("cp1252")
    table = read_csv_bytes(data)
    assert shape(table) == [("not-utf8", 700, None, "error")]


def test_utf16_is_named_and_read_when_named():
    table = read_csv_file(FILES / "utf16.csv")
    assert table.detection.looks_like == "utf-16" and table.detection.bom
    assert 'encoding="utf-16"' in table.findings["message"][0]
    named = read_csv_file(FILES / "utf16.csv", encoding="utf-16")
    assert named.headers == ["User ID", "Last Name"]
    assert values(named) == {2: ["U1", "Müller"]}


def test_utf16_without_bom_is_not_mistaken_for_nul_bytes():
    table = read_csv_bytes("User ID,Last Name\nU1,Müller\nU2,Dupont\n".encode("utf-16-le"))
    assert shape(table) == [("not-utf8", 1, None, "error")]
    assert table.detection.looks_like == "utf-16-le"


def test_wrong_delimiter_names_the_one_found():
    semicolon = read_csv_file(FILES / "semicolon.csv")
    assert semicolon.findings["value"].tolist() == [";"]
    assert "semicolons" in semicolon.findings["message"][0]
    assert "--delimiter ';'" in semicolon.findings["message"][0]
    tab = read_csv_file(FILES / "tab.csv")
    assert tab.findings["value"].tolist() == ["\t"]
    assert "--delimiter tab" in tab.findings["message"][0]
    named = read_csv_file(FILES / "semicolon.csv", delimiter=";")
    assert named.headers == ["User ID", "Card Number"]
    assert values(named) == {2: ["U1", "00123"]}
    assert named.detection.delimiter == ";" and named.detection.delimiter_named


def test_not_utf8_and_wrong_delimiter_are_reported_together():
    data = "Nom;Prénom\nDupont;Émile\n".encode("cp1252")
    assert shape(read_csv_bytes(data)) == [
        ("not-utf8", 1, None, "error"),
        ("wrong-delimiter", 1, None, "error"),
    ]
    named = read_csv_bytes(data, encoding="cp1252", delimiter=";")
    assert values(named) == {2: ["Dupont", "Émile"]}


def test_a_quoted_line_break_stays_in_one_row():
    table = read_csv_file(FILES / "embedded_newline.csv")
    assert values(table) == {
        2: ["U1", "00123", "line one\nline two"],
        3: ["U2", "00124", ""],
        4: ["U3", "00125", ""],
    }


def test_embedded_quotes():
    table = read_csv_file(FILES / "embedded_quotes.csv")
    assert values(table) == {2: ["U1", '12" badge, "blue"', ""], 3: ["U2", "00124", ""]}


def test_crlf_and_lone_cr_line_endings():
    assert values(read_csv_file(FILES / "crlf.csv")) == {
        2: ["U1", "00123", ""],
        3: ["U2", "00124", ""],
    }
    assert values(read_csv_file(FILES / "lone_cr.csv")) == {
        2: ["U1", "00123", ""],
        4: ["U2", "00124", ""],
    }


def test_blank_rows_are_dropped_without_renumbering_later_rows():
    table = read_csv_file(FILES / "blank_line.csv")
    assert values(table) == {2: ["U1", "00123", ""], 5: ["U2", "00124", ""]}


def test_extra_fields_are_dropped_and_named():
    table = read_csv_file(FILES / "extra_fields.csv")
    assert values(table) == {2: ["U1", "00123", "0042"], 3: ["U2", "00124", ""]}
    message = table.findings["message"][0]
    assert "5 fields" in message and "header has 3" in message


def test_short_rows_are_padded_silently():
    table = read_csv_file(FILES / "short_row.csv")
    assert values(table) == {2: ["U1", "", ""], 3: ["U2", "00124", ""]}


def test_header_only_keeps_the_headers_and_the_columns():
    table = read_csv_file(FILES / "header_only.csv")
    assert table.headers == HEADERS
    assert list(table.rows.columns) == [0, 1, 2] and table.rows.empty


def test_a_workbook_renamed_csv_says_what_to_do():
    message = read_csv_file(FILES / "workbook.csv").findings["message"][0]
    assert "Excel workbook" in message and "CSV UTF-8" in message


def test_nul_bytes_are_unreadable_at_their_row():
    table = read_csv_file(FILES / "nul.csv")
    assert "NUL" in table.findings["message"][0]


def test_formula_prefix_is_removed_on_read():
    table = read_csv_file(FILES / "formula.csv")
    assert values(table) == {2: ["U1", "=SUM(A1)", "'hello"], 3: ["U2", "-5", "+1"]}


def test_formula_prefix_round_trip():
    stored = pd.Series(["=SUM(A1)", "hello", "-5", "+1", "@x", "\tx", "\rx", "", "00123", "'x"])
    exported = add_formula_prefix(stored)
    assert exported.tolist() == [
        "'=SUM(A1)",
        "hello",
        "'-5",
        "'+1",
        "'@x",
        "'\tx",
        "'\rx",
        "",
        "00123",
        "'x",
    ]
    pd.testing.assert_series_equal(strip_formula_prefix(exported), stored)
    cells = pd.Series(["'=SUM(A1)", "'hello", "'-5", "''=x", "'", None], dtype=object)
    assert strip_formula_prefix(cells).tolist() == ["=SUM(A1)", "'hello", "-5", "''=x", "'", None]
    arrow = pd.Series(["'=SUM(A1)", "'hello"], dtype="str")
    assert strip_formula_prefix(arrow).tolist() == ["=SUM(A1)", "'hello"]
    assert strip_formula_prefix(pd.Series(["a", "b"], index=[5, 7])).index.tolist() == [5, 7]


def test_trimmed_values_equal_strip_then_prefix_removal():
    """trimmed_values skips columns its byte checks prove unchanged: whatever the values and
    however Arrow stores them, it must equal strip() followed by strip_formula_prefix()."""
    import pyarrow as pa

    pieces = ["a", "b7", "é", "'", "=", " ", "\t", "\r", "\n", "\x1c", "\xa0", "\u3000", "\ufeff"]
    generator = random.Random(12)
    for _ in range(1500):
        odd = generator.choice([0.02, 0.2, 0.6])
        texts = [
            "".join(
                generator.choice(pieces) if generator.random() < odd else "x"
                for _ in range(generator.randint(0, 5))
            )
            for _ in range(generator.randint(0, 60))
        ]
        kind = generator.choice([pa.string(), pa.large_string()])
        cut = generator.randint(0, len(texts))
        padded = pa.array([" '=", *texts[cut:], "\t"], kind).slice(1, len(texts) - cut)
        stored = pa.chunked_array([pa.array(texts[:cut], kind), padded], kind)
        series = pd.Series(
            stored.to_pandas(
                types_mapper=lambda _: pd.StringDtype("pyarrow", na_value=float("nan"))
            )
        )
        expected = strip_formula_prefix(series.str.strip())
        pd.testing.assert_series_equal(trimmed_values(series), expected, obj=repr(texts))
    cells = pd.Series([" '=x ", None, "y"], dtype=object)
    assert trimmed_values(cells).tolist() == ["=x", None, "y"]


def test_too_many_rows_at_the_real_limit():
    header = b"User ID,Card Number\n"
    started = time.perf_counter()
    refused = read_csv_bytes(header + b"U1,00123\n" * (MAX_ROWS + 1))
    assert time.perf_counter() - started < 5
    assert shape(refused) == [("too-many-rows", MAX_ROWS + 2, None, "error")]
    assert "250,000" in refused.findings["message"][0]
    accepted = read_csv_bytes(header + b"U1,00123\n" * MAX_ROWS)
    assert accepted.readable and len(accepted.rows) == MAX_ROWS
    assert accepted.rows.index[-1] == MAX_ROWS + 1


def test_a_large_file_is_counted_while_streaming(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "_STREAM_THRESHOLD", 16)  # every file counts as large
    path = tmp_path / "big.csv"
    path.write_bytes(b"User ID\n" + b'"U\n1"\n' * 30)
    refused = read_csv_file(path, max_rows=29)
    assert shape(refused) == [("too-many-rows", 31, None, "error")]
    assert refused.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert refused.size == path.stat().st_size
    accepted = read_csv_file(path, max_rows=30)
    assert accepted.readable and accepted.rows.index.tolist() == list(range(2, 32))
    assert shape(read_csv_file(FILES / "semicolon.csv"))[0][0] == "wrong-delimiter"
    assert shape(read_csv_file(FILES / "workbook.csv"))[0][0] == "unreadable"


def test_row_numbers_stay_exact_in_a_large_file_with_every_quirk():
    lines = [f"U{row},{row:08d},\n" for row in range(2, 200_002)]
    lines[10 - 2] = 'U10,"a\nb\r\nc",\n'  # row 10 spans three lines
    lines[77_777 - 2] = "U77777\n"  # short
    lines[88_888 - 2] = "\n"  # blank
    lines[99_999 - 2] = "U99999,1,2,3\n"  # extra field
    lines[199_999 - 2] = ",,\n"  # blank
    table = read_csv_bytes(("User ID,Card Number,Entry Code\n" + "".join(lines)).encode())
    assert shape(table) == [
        ("blank-row", 88_888, None, "warning"),
        ("extra-fields", 99_999, None, "error"),
        ("blank-row", 199_999, None, "warning"),
    ]
    rows = table.rows
    assert len(rows) == 200_000 - 2
    assert rows.loc[10, 1] == "a\nb\r\nc"
    assert rows.loc[77_777].tolist() == ["U77777", "", ""]
    assert rows.loc[99_999].tolist() == ["U99999", "1", "2"]
    for row in (2, 11, 77_776, 77_778, 88_889, 150_000, 200_001):
        assert rows.loc[row, 0] == f"U{row}" and rows.loc[row, 1] == f"{row:08d}"


def _random_csv(rng: random.Random, delimiter: str) -> str:
    """A small CSV with every quirk that moves row numbers, in random places."""

    def value() -> str:
        if rng.random() < 0.5:
            return rng.choice(["", "1", "00123", "abc", "Émile", " x ", "  ", "'hello"])
        parts = ["a", delimiter, '""', "\n", "\r\n", "\r", " ", "é"]
        return '"' + "".join(rng.choice(parts) for _ in range(rng.randint(0, 5))) + '"'

    width = rng.randint(1, 5)
    lines = [delimiter.join(f"h{i}" for i in range(width))]
    for _ in range(rng.randint(0, 40)):
        kind = rng.random()
        if kind < 0.1:
            lines.append("")
        elif kind < 0.15:
            lines.append(delimiter * (width - 1))
        else:
            count = width if rng.random() < 0.8 else rng.randint(1, width + 3)
            lines.append(delimiter.join(value() for _ in range(count)))
    end = rng.choice(["\n", "\r\n", "\r"])
    return end.join(lines) + (end if rng.random() < 0.7 else "")


def _expected(text: str, delimiter: str) -> tuple[list[str], dict[int, list[str]], list, list]:
    """What the reader must make of text, from the csv module's records (record k is row k)."""
    header, *records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, blank, extra = {}, [], []
    for number, record in enumerate(records, start=2):
        if all(not field.strip() for field in record):
            blank.append(number)
            continue
        if len(record) > len(header):
            extra.append(number)
        rows[number] = (record + [""] * len(header))[: len(header)]
    return header, rows, blank, extra


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_row_numbers_match_the_csv_module_on_random_files(monkeypatch, delimiter):
    # Small blocks so that records straddle pyarrow's blocks and the header probe falls back.
    monkeypatch.setattr(reading, "_BLOCK_SIZE", 1024)
    monkeypatch.setattr(reading, "_PROBE_SIZE", 64)
    for seed in range(300):
        text = _random_csv(random.Random(seed), delimiter)
        header, rows, blank, extra = _expected(text, delimiter)
        if not any(field.strip() for field in header):
            continue
        table = read_csv_bytes(text.encode(), delimiter=None if delimiter == "," else delimiter)
        found = table.findings
        assert table.readable, (seed, text)
        assert table.headers == header, (seed, text)
        assert values(table) == rows, (seed, text)
        assert found.loc[found["code"] == "blank-row", "row"].tolist() == blank, (seed, text)
        assert found.loc[found["code"] == "extra-fields", "row"].tolist() == extra, (seed, text)


def test_a_missing_path_is_a_finding():
    table = read_csv_file(FILES / "no-such-file.csv")
    assert shape(table) == [("unreadable", 1, None, "error")]
    assert "no-such-file.csv" in table.findings["message"][0]
    assert not table.readable and table.headers == [] and table.rows.empty
    folder = read_csv_file(FILES)
    assert shape(folder) == [("unreadable", 1, None, "error")]


def test_a_blank_first_row_is_not_a_header():
    table = read_csv_bytes(b"\nUser ID,Card Number\nU1,00123\n")
    assert shape(table) == [("unreadable", 1, None, "error")]


def test_only_blank_rows_under_the_header_is_no_rows():
    table = read_csv_bytes(b"User ID,Card Number\n\n,\n")
    assert sorted(shape(table)) == [
        ("blank-row", 2, None, "warning"),
        ("blank-row", 3, None, "warning"),
        ("no-rows", 2, None, "error"),
    ]


def test_a_quote_opened_in_the_header_and_never_closed():
    assert shape(read_csv_bytes(b'User ID,"Card Number\n')) == [("unreadable", 1, None, "error")]


def test_a_named_encoding_that_does_not_fit_is_unreadable_at_its_row():
    table = read_csv_bytes("User ID\nU1\nÉmile\n".encode("cp1252"), encoding="ascii")
    assert shape(table) == [("unreadable", 3, None, "error")]


def test_named_utf8_reads_like_the_default():
    table = read_csv_file(FILES / "bom.csv", encoding="utf-8")
    assert table.headers == HEADERS and table.detection.encoding_named


def test_detect_delimiter():
    assert detect_delimiter("User ID,Card Number") == ","
    assert detect_delimiter("User ID;Card Number") == ";"
    assert detect_delimiter("User ID\tCard Number\r\nU1\t2") == "\t"
    assert detect_delimiter("User ID;Card Number,Entry Code") == ","  # commas win
    assert detect_delimiter('"Name; full"') == ","  # a quoted semicolon does not split
    assert detect_delimiter("User ID") == ","
    assert detect_delimiter("") == ","


def test_detect_encoding():
    assert detect_encoding(b"a,b\n").encoding == "utf-8"
    with_bom = detect_encoding(b"\xef\xbb\xbfa,b\n")
    assert with_bom.utf8 and with_bom.bom and with_bom.encoding == "utf-8-sig"
    data = (FILES / "cp1252.csv").read_bytes()
    latin = detect_encoding(data)
    assert not latin.utf8 and latin.looks_like == "cp1252"
    assert latin.error_offset == data.index("É".encode("cp1252"))
    assert detect_encoding("a\n".encode("utf-16")).looks_like == "utf-16"


def test_wrong_argument_types_raise():
    with pytest.raises(TypeError):
        read_csv_bytes("User ID\n")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        read_csv_file(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        read_csv_bytes(b"a\n", max_rows="10")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown encoding"):
        read_csv_bytes(b"a\n", encoding="no-such-encoding")
    with pytest.raises(ValueError, match="delimiter"):
        read_csv_bytes(b"a\n", delimiter=";;")
    with pytest.raises(TypeError):
        strip_formula_prefix(["'=x"])  # type: ignore[arg-type]


def test_a_value_longer_than_a_block_is_read(monkeypatch):
    monkeypatch.setattr(reading, "_BLOCK_SIZE", 1024)
    long = "x" * 5000
    table = read_csv_bytes(f'Notes,User ID\n"{long}\n{long}",U1\nshort,U2\n'.encode())
    assert values(table) == {2: [f"{long}\n{long}", "U1"], 3: ["short", "U2"]}


def test_large_bytes_are_counted_before_they_are_converted(monkeypatch):
    monkeypatch.setattr(reading, "_STREAM_THRESHOLD", 16)
    data = b"User ID\n" + b"U1\n" * 30
    assert shape(read_csv_bytes(data, max_rows=29)) == [("too-many-rows", 31, None, "error")]
    assert len(read_csv_bytes(data, max_rows=30).rows) == 30


def test_a_named_encoding_gets_the_same_checks():
    semicolons = read_csv_bytes("Nom;Prénom\n".encode("cp1252"), encoding="cp1252")
    assert shape(semicolons) == [("wrong-delimiter", 1, None, "error")]
    nul = read_csv_bytes("User ID\nU1\nU\x002\n".encode("utf-16"), encoding="utf-16")
    assert shape(nul) == [("unreadable", 3, None, "error")]
    blank = read_csv_bytes(" \n".encode("utf-16"), encoding="utf-16")
    assert shape(blank) == [("empty-file", 1, None, "error")]


# --------------------------------------------------------------------------------------------
# Issue 11: limits counted right, and reading bounded (README "Reading limits")
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("blank", ["\n", ",\n", ",,,,\n", "\r\n,,\r\n", " , \n\n"])
def test_blank_rows_do_not_count_towards_the_row_limit(blank):
    rows = b"User ID,Card Number,Entry Code\n" + b"U1,00123,\n" * MAX_ROWS
    accepted = read_csv_bytes(rows + blank.encode())
    assert accepted.readable and len(accepted.rows) == MAX_ROWS
    assert {code for code, *_ in shape(accepted)} == {"blank-row"}
    refused = read_csv_bytes(rows + blank.encode() + b"U2,1,\n")
    assert [code for code, *_ in shape(refused)] == ["too-many-rows"]


def test_blank_rows_do_not_count_while_streaming(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "_STREAM_THRESHOLD", 16)  # every file counts as large
    path = tmp_path / "big.csv"
    path.write_bytes(b"User ID,Card Number\n" + b"U1,2\n" * 30 + b"\n,\n,,,\n  ,\n")
    accepted = read_csv_file(path, max_rows=30)
    assert accepted.readable and len(accepted.rows) == 30
    assert [code for code, *_ in shape(accepted)] == ["blank-row"] * 4
    assert len(read_csv_bytes(path.read_bytes(), max_rows=30).rows) == 30
    assert [code for code, *_ in shape(read_csv_file(path, max_rows=29))] == ["too-many-rows"]


@pytest.mark.parametrize(
    "data",
    [
        b"sep=,\nUser ID,Card Number\nU1,1\n",
        b"\xef\xbb\xbfsep=;\r\nUser ID;Card Number\r\nU1;1\r\n",
        b'"sep=,"\nUser ID,Card Number\n',
        b"SEP=\t\nUser ID\tCard Number\n",
    ],
    ids=["comma", "semicolon-bom-crlf", "quoted", "tab"],
)
def test_excels_sep_line_is_a_file_error_that_names_it(data, tmp_path, monkeypatch):
    table = read_csv_bytes(data)
    assert shape(table) == [("excel-sep-line", 1, None, "error")]
    line = data.removeprefix(b"\xef\xbb\xbf").splitlines()[0].decode()
    assert repr(line) in table.findings["message"][0]
    assert not table.readable
    assert shape(read_csv_bytes(data, encoding="cp1252")) == [("excel-sep-line", 1, None, "error")]
    monkeypatch.setattr(reading, "_STREAM_THRESHOLD", 16)  # the streaming check as well
    (tmp_path / "sep.csv").write_bytes(data)
    assert shape(read_csv_file(tmp_path / "sep.csv"))[0][0] == "excel-sep-line"


def test_a_sep_like_header_is_not_a_sep_line():
    table = read_csv_bytes(b"sep=,User ID\nx,U1\n")
    assert "excel-sep-line" not in [code for code, *_ in shape(table)]


def test_a_line_longer_than_the_limit_is_refused_naming_it():
    cell = b"User ID,Card Number\nU1,1\nU2," + b"7" * (50 * 2**20) + b"\nU3,3\n"
    refused = read_csv_bytes(cell)
    assert shape(refused) == [("row-too-long", 3, None, "error")]
    message = refused.findings["message"][0]
    assert f"{50 * 2**20 + 3:,} bytes" in message and "1,048,576 bytes (1 MiB)" in message
    header = read_csv_bytes(b"x" * (2**20 + 1) + b"\nU1\n")
    assert shape(header) == [("row-too-long", 1, None, "error")]


def test_lines_up_to_the_limit_are_read(monkeypatch):
    monkeypatch.setattr(reading, "MAX_LINE_BYTES", 16)
    exactly = b"User ID,Notes\r" + b"U1," + b"n" * 13 + b"\r"  # 16 bytes, CR line ends
    assert values(read_csv_bytes(exactly)) == {2: ["U1", "n" * 13]}
    longer = exactly + b"U2," + b"n" * 14 + b"\r"
    assert shape(read_csv_bytes(longer)) == [("row-too-long", 3, None, "error")]


def test_a_header_with_too_many_columns_is_refused_naming_the_limit(monkeypatch):
    wide = ("User ID," + ",".join(f"X{i}" for i in range(140_000)) + "\nU1\n").encode()
    refused = read_csv_bytes(wide)
    assert shape(refused) == [("too-many-columns", 1, None, "error")]
    assert "140,001 columns" in refused.findings["message"][0]
    assert "at most 16,384" in refused.findings["message"][0]
    # A header longer than a line may be, with that many columns, says so too.
    longer = ("User ID," + ",".join(f"Column{i:08d}" for i in range(140_000)) + "\n").encode()
    assert shape(read_csv_bytes(longer)) == [("too-many-columns", 1, None, "error")]
    monkeypatch.setattr(reading, "MAX_COLUMNS", 3)
    assert read_csv_bytes(b"a,b,c\n1,2,3\n").readable
    assert shape(read_csv_bytes(b"a,b,c,d\n1,2,3,4\n")) == [("too-many-columns", 1, None, "error")]


def test_a_file_larger_than_the_limit_is_refused_unread(tmp_path, monkeypatch):
    from credkit.defaults import MAX_FILE_BYTES

    sparse = tmp_path / "sparse.csv"
    with open(sparse, "wb") as stream:
        stream.truncate(MAX_FILE_BYTES + 1)  # no disk used, and never read
    refused = read_csv_file(sparse)
    assert shape(refused) == [("file-too-large", 1, None, "error")]
    assert f"at most {MAX_FILE_BYTES:,} bytes (128 MiB)" in refused.findings["message"][0]
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 64)
    data = b"User ID,Card Number\n" + b"U1,1\n" * 20
    assert shape(read_csv_bytes(data)) == [("file-too-large", 1, None, "error")]
    assert read_csv_bytes(data[:64]).readable


# Reading devices and pipes runs in a child process: if it ever blocked or read without end,
# the timeout (and an address-space limit) stop it instead of the test run.
_READ_IN_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
    from credkit import reading
    if len(sys.argv) > 2:
        reading.MAX_FILE_BYTES = int(sys.argv[2])
    table = reading.read_csv_file(sys.argv[1])
    print(json.dumps({"readable": table.readable, "rows": len(table.rows),
                      "codes": table.findings["code"].tolist(),
                      "messages": table.findings["message"].tolist()}))
    """
)


def read_in_child(path: str, *extra: str, stdin=None, timeout: float = 120) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _READ_IN_CHILD, path, *extra],
        stdin=stdin,
        capture_output=True,
        timeout=timeout,
        check=False,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_refused_unread(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    read = read_in_child(device)
    assert (read["readable"], read["codes"]) == (False, ["not-a-file"])
    assert f"{device} is a character device" in read["messages"][0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need os.mkfifo")
def test_a_named_pipe_without_a_writer_is_refused(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    read = read_in_child(str(fifo))
    assert (read["readable"], read["codes"]) == (False, ["not-a-file"])
    assert "named pipe" in read["messages"][0] and "1 second" in read["messages"][0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need os.mkfifo")
def test_a_named_pipe_with_a_writer_is_read(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    data = b"User ID,Card Number\n" + b"U1,1\n" * 100_000

    def write() -> None:
        with open(fifo, "wb") as stream:  # blocks until the reader opens it
            for start in range(0, len(data), 65_536):
                stream.write(data[start : start + 65_536])
                time.sleep(0.001)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    read = read_in_child(str(fifo))
    writer.join(timeout=5)
    assert (read["readable"], read["rows"], read["codes"]) == (True, 100_000, [])


def test_stdin_is_read_within_the_same_bounds():
    data = b"User ID,Card Number\n" + b"U1,1\n" * 1_000
    with subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE) as cat:
        assert cat.stdin is not None
        cat.stdin.write(data)
        cat.stdin.close()
        read = read_in_child("/dev/stdin", stdin=cat.stdout)
    assert (read["readable"], read["rows"], read["codes"]) == (True, 1_000, [])
    with subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE) as cat:
        assert cat.stdin is not None
        cat.stdin.write(data)
        cat.stdin.close()
        too_much = read_in_child("/dev/stdin", "1000", stdin=cat.stdout)
    assert (too_much["readable"], too_much["codes"]) == (False, ["file-too-large"])
