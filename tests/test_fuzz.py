"""Fuzzing: arbitrary bytes and arbitrary tables never raise, and imports keep their promises.

Invariants, for any input hypothesis builds:

- review never raises; every finding has a catalogued code, the catalogue's severity, and a row
  (>= 1; column findings on row 1, row findings on rows >= 2);
- an import never raises; a row that fails writes no history and changes no credential, and
  every credential that changed has the history of a row that was applied;
- for any directory built through credkit's own imports (users, then credentials), its export
  imports back as ``unchanged`` on every row.

Each example gets a fresh SQLite directory (a copy of a populated template).
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from credkit.columns import HEADERS
from credkit.directory import (
    Directory,
    NewUser,
    credential_history,
    plate_key,
)
from credkit.export import write_export
from credkit.findings import CATALOGUE
from credkit.formats import REGISTRY
from credkit.importer import APPLIED, OUTCOMES, execute_import, plan_import
from credkit.review import Review, ReviewOptions, review_bytes
from credkit.users import import_users
from tests.support import ADA, ADA_USER, HID26, KIM, give_card, give_entry_code, give_plate

FUZZ = settings(
    deadline=None,
    database=None,  # no example database left behind in the working tree
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],  # "explain" takes minutes
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Values a real file holds, several of which match the template directory.
REALISTIC = [
    ADA, KIM, "E1", "E3", "E9", "ada@example.com", " ADA@Example.com ", "kim@example.com",
    "Ada", "Lovelace", "Kim", HID26, "hid", "HID iClass", "MiFare 4-Byte (32 bit) CSN",
    "HID 37-bit", "Foo 12-bit", "1", "2", "118", "1603", "300", "70000", "2EC0C86",
    "0x2ec0c86", "2020002", "04030201", "AB12", "ab-12", "ADA1", "A", "0042", "1234", "42",
    "123456", "Active", "inactive", "Lost", "2026-11-25T14:03:00Z", "11/25/2026 2:03 PM",
    "2030-01-01T00:00:00Z", "yesterday", "1.23457E+11", "45988.5", "",
]  # fmt: skip
#: Values built to break a reader, a matcher, a spreadsheet or a terminal.
HOSTILE = [
    '=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3",
    "'=x", "'", '"', '""', '"a"b', ",", ";", "\t", "\n", "\r\n", "\r", "\x00", "\ufeff",
    "\u200b", "\u00a0", "\u202e", "\u2028", "\x1b[2J", "\u0430da@example.com", "\u212aim",
    "K\u0130M@example.com", "'; DROP TABLE users; --", " ", "é", "😀", "\x85", "\\", "%s",
    "{0}", "NaN", "None", "null", "-0", "0" * 30, "9" * 25, "x" * 300,
]  # fmt: skip
HEADER_VARIANTS = [
    "user id", "USER_ID", "Facility Cod", "E-mail", "Card Numbr", "\ufeffUser ID",
    "User\u200bID", "License\u00a0Plate", "", " ", "Notes", "PIN",
]  # fmt: skip

cell = st.one_of(
    st.sampled_from(REALISTIC),
    st.sampled_from(HOSTILE),
    st.text(max_size=12),
    st.lists(st.sampled_from(REALISTIC + HOSTILE), min_size=2, max_size=3).map("".join),
)
real_headers = st.permutations(HEADERS).flatmap(
    lambda headers: st.integers(1, len(headers)).map(lambda n: list(headers[:n]))
)
any_headers = st.lists(
    st.one_of(st.sampled_from(HEADERS + HEADER_VARIANTS), st.text(max_size=10)),
    min_size=1,
    max_size=8,
)


@st.composite
def credential_values(draw: st.DrawFn) -> dict[str, str]:
    """One credential as a row writes it, valid for its kind (so that most get created)."""
    kind = draw(st.sampled_from(["card", "card", "license_plate", "entry_code"]))
    if kind == "license_plate":
        plate = draw(st.from_regex(r"[A-Za-z0-9]{1,4}[ -]?[A-Za-z0-9]{1,5}", fullmatch=True))
        return {"License Plate": plate}
    if kind == "entry_code":
        return {"Entry Code": draw(st.from_regex(r"[0-9]{4,16}", fullmatch=True))}
    card_format = draw(st.sampled_from(list(REGISTRY)))
    values = {"Card Type": draw(st.sampled_from([card_format.name, *card_format.aliases]))}
    number = draw(st.integers(0, card_format.card_number_max))
    if card_format.has_facility_code:
        values["Facility Code"] = str(draw(st.integers(0, card_format.facility_code_max or 0)))
    facility = int(values["Facility Code"]) if card_format.has_facility_code else None
    # Every card row names its Card Number (the hex is optional): a row with the hex alone,
    # beside rows with a number, gets a wrong card number today (test_a_card_given_by_hex_alone_
    # has_the_same_key_as_by_number and test_card_numbers_keep_every_digit, xfail).
    values["Card Number"] = str(number)
    if draw(st.booleans()):
        values["Card Number Hex"] = card_format.encode(facility, number)
    return values


KEYS = [
    ("User ID", ADA), ("User ID", KIM), ("External ID", "E1"), ("External ID", "E3"),
    ("Email", "ada@example.com"), ("Email", " KIM@example.COM"),
]  # fmt: skip


@st.composite
def plausible_row(draw: st.DrawFn) -> dict[str, str]:
    """A row that may well pass: a user's key, one credential (or none), maybe a status, and
    now and then a hostile value in a column that does not decide the outcome."""
    header, key = draw(st.sampled_from(KEYS))
    row = {header: key} | draw(st.one_of(credential_values(), credential_values(), st.just({})))
    if draw(st.booleans()):
        row["Credential Status"] = draw(st.sampled_from(["Active", "inactive", "", "Lost"]))
    for other in draw(st.lists(st.sampled_from(["First Name", "Last Name", "Employee ID"]))):
        row[other] = draw(cell)
    return row


@st.composite
def tables(draw: st.DrawFn) -> bytes:
    """A CSV file: real or random headers, rows of mixed cells (plausible rows, or any cells,
    too few or too many), written by the csv module or joined raw (then quotes and delimiters
    are left bare), with any line ending and maybe a BOM."""
    all_headers = st.permutations(HEADERS).map(list)
    headers = draw(st.one_of(all_headers, all_headers, all_headers, real_headers, any_headers))
    width = len(headers)
    plausible = plausible_row().map(lambda row: [row.get(header, "") for header in headers])
    rows = draw(
        st.lists(
            st.one_of(
                plausible,
                plausible,
                plausible,
                st.lists(cell, min_size=width, max_size=width),
                st.lists(cell, min_size=0, max_size=width + 2),
            ),
            min_size=1,
            max_size=8,
        )
    )
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    if draw(st.sampled_from([True, True, True, False])):
        stream = io.StringIO()
        writer = csv.writer(stream, lineterminator=newline)
        writer.writerow(headers)
        writer.writerows(rows)
        text = stream.getvalue()
    else:
        text = newline.join(",".join(row) for row in [headers, *rows])
    data = text.encode("utf-8", errors="surrogatepass")
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + data


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    """A good file with random bytes put in, or cut short."""
    data = bytearray(draw(tables()))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data)))
        data[position:position] = draw(st.binary(min_size=1, max_size=4))
    return bytes(data[: draw(st.integers(0, len(data)))]) if draw(st.booleans()) else bytes(data)


options = st.builds(ReviewOptions, reassign=st.booleans(), overwrite_newer=st.booleans())


# --------------------------------------------------------------------------------------------
# Directories
# --------------------------------------------------------------------------------------------


def _populate(directory: Directory) -> None:
    """Ada (a card, a plate, an entry code) and Kim (a card), as the review tests have them."""
    directory.add_users(
        [
            ADA_USER,
            NewUser("Kim", "Kowalski", external_id="E3", email="kim@example.com", user_id=KIM),
        ]
    )
    give_card(directory, ADA, 1, 1)
    give_plate(directory, ADA, "ADA1")
    give_entry_code(directory, ADA, "0042")
    give_card(directory, KIM, 1, 2)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "template.db"
    directory = Directory(f"sqlite:///{path}")
    _populate(directory)
    directory.dispose()
    return path


@contextmanager
def fresh_directory(template: Path | None = None) -> Iterator[Directory]:
    """A directory of its own for one example: a copy of the template, or an empty one."""
    with tempfile.TemporaryDirectory(prefix="credkit-fuzz-") as folder:
        path = Path(folder) / "credkit.db"
        if template is not None:
            shutil.copyfile(template, path)
        directory = Directory(f"sqlite:///{path}")
        try:
            yield directory
        finally:
            directory.dispose()


# --------------------------------------------------------------------------------------------
# Invariants
# --------------------------------------------------------------------------------------------


def check_findings(review: Review) -> None:
    for code, row, severity in review.findings[["code", "row", "severity"]].itertuples(index=False):
        assert code in CATALOGUE, code
        kind = CATALOGUE[code]
        assert severity == kind.severity, (code, severity)
        assert not pd.isna(row), code  # every finding names a row; the file's own is row 1
        assert int(row) == row and row >= 1, (code, row)
        if kind.level == "columns":
            assert row == 1, (code, row)
        elif kind.level == "row":
            assert row >= 2, (code, row)
    assert review.exit_status in (0, 1, 2)
    if not review.rejected:
        assert set(review.failing_rows) <= set(review.table.index)


def credential_state(directory: Directory) -> dict[str, tuple[Any, ...]]:
    frame = directory.credentials_frame()
    columns = ["user_id", "status", "modified", "card_number_hex", "entry_code", "license_plate"]
    return {
        key: tuple(values)
        for key, *values in frame[["credential_key", *columns]].itertuples(index=False)
    }


def history(directory: Directory, run_id: int) -> pd.DataFrame:
    with directory.engine.connect() as conn:
        rows = conn.execute(
            sa.select(credential_history.c.row, credential_history.c.credential_key).where(
                credential_history.c.run_id == run_id
            )
        ).all()
    return pd.DataFrame(rows, columns=["row", "credential_key"])


def _event(text: str) -> None:
    """Count an event for --hypothesis-show-statistics (outside hypothesis: nothing)."""
    if currently_in_test_context():
        event(text)


def check_import(review: Review, directory: Directory) -> None:
    """Import what the review accepted; failing rows write nothing."""
    errors = review.findings[review.findings["severity"] == "error"]["code"]
    _event(f"rejected: {errors.iloc[0]}" if review.rejected else "accepted")
    if review.rejected:
        before = credential_state(directory)
        result = execute_import(plan_import(review), directory, operator="fuzz")
        assert result.run_id is None and credential_state(directory) == before
        return
    _event(f"rows passing: {min(len(review.passing_rows), 3)}")
    before = credential_state(directory)
    result = execute_import(plan_import(review), directory, operator="fuzz", batch_size=3)
    after = credential_state(directory)
    outcomes = result.rows["outcome"]
    assert set(outcomes) <= set(OUTCOMES)
    assert list(result.rows.index) == list(review.table.index)
    changes = history(directory, result.run_id)
    failed = set(outcomes.index[outcomes == "fail"])
    applied = set(outcomes.index[outcomes.isin(APPLIED)])
    assert not set(changes["row"]) & failed, "a failed row wrote history"
    assert set(changes["row"]) == applied
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert changed <= set(changes["credential_key"]), "a credential changed without history"
    assert set(review.failing_rows) <= failed
    result.write_failed_rows(io.StringIO())
    assert len(result.failed_rows) == len(failed)


# --------------------------------------------------------------------------------------------
# Bytes and tables
# --------------------------------------------------------------------------------------------


@settings(FUZZ, max_examples=250)
@given(data=st.one_of(st.binary(max_size=600), mangled()), review_options=options)
def test_arbitrary_bytes_never_raise(template: Path, data: bytes, review_options) -> None:
    with fresh_directory(template) as directory:
        review = review_bytes(data, directory, review_options)
        check_findings(review)
        check_import(review, directory)


@settings(FUZZ, max_examples=250)
@given(data=tables(), review_options=options)
def test_arbitrary_tables_review_and_import_keep_their_promises(
    template: Path, data: bytes, review_options
) -> None:
    with fresh_directory(template) as directory:
        review = review_bytes(data, directory, review_options)
        check_findings(review)
        check_import(review, directory)


# --------------------------------------------------------------------------------------------
# Export, then import: unchanged
# --------------------------------------------------------------------------------------------

_NAME_PARTS = ["Ada", "Émile", "O'Hara", "de la Cruz", "李", "Zoë", " "]


def _exportable(value: str) -> bool:
    # Two kinds of stored value do not survive an export today; each has its xfail test below:
    # a carriage return (test_a_carriage_return_in_a_name_survives_the_export) and a value that
    # starts with ' and a formula character once trimmed (test_a_quote_before_a_formula_...).
    return "\r" not in value and not value.strip().startswith(("'=", "'+", "'-", "'@", "'\t"))


name = st.one_of(
    st.sampled_from(_NAME_PARTS),
    st.lists(st.sampled_from(_NAME_PARTS + HOSTILE), min_size=1, max_size=3).map("".join),
    st.text(min_size=1, max_size=8),
).filter(_exportable)
user_rows = st.lists(
    st.fixed_dictionaries(
        {
            "First Name": name,
            "Last Name": name,
            "External ID": st.one_of(st.just(""), st.sampled_from(["E1", "-7", "=1", "@x"]), name),
            "Employee ID": st.one_of(st.just(""), name),
            "Email": st.one_of(
                st.just(""),
                st.builds(
                    lambda local, domain: f"{local}@{domain}.example",
                    st.sampled_from(["ada", "Ada.L", "=x", "+y", "-z", "o'hara", "\u0430da"]),
                    st.sampled_from(["mail", "MAIL", "b"]),
                ),
            ),
        }
    ),
    min_size=1,
    max_size=5,
)


def csv_of(rows: list[dict[str, str]], headers: list[str]) -> bytes:
    # CRLF line ends: the csv module then quotes every value that holds a \r or a \n.
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=headers, lineterminator="\r\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return stream.getvalue().encode("utf-8")


@settings(FUZZ, max_examples=80)
@given(
    people=user_rows,
    wanted=st.lists(
        st.tuples(
            st.integers(0, 4), credential_values(), st.sampled_from(["", "Active", "inactive"])
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_export_then_import_is_unchanged_for_any_directory(people, wanted) -> None:
    with fresh_directory() as directory, tempfile.TemporaryDirectory() as folder:
        users_file = Path(folder) / "users.csv"
        users_file.write_bytes(csv_of(people, list(people[0])))
        import_users(directory, users_file, operator="fuzz")
        user_ids = directory.users_frame()["user_id"].tolist()
        if not user_ids:
            return
        rows = [
            {"User ID": user_ids[index % len(user_ids)], "Credential Status": status, **values}
            for index, values, status in wanted
        ]
        review = review_bytes(csv_of(rows, HEADERS), directory)
        check_findings(review)
        check_import(review, directory)
        if directory.credential_count() == 0:
            return
        before = credential_state(directory)
        _event(f"exported credentials: {min(len(before), 5)}")

        exported = io.StringIO()
        write_export(directory, exported)
        again = review_bytes(exported.getvalue().encode("utf-8"), directory, file_name="x.csv")
        check_findings(again)
        errors = again.findings[again.findings["severity"] == "error"]
        assert errors.empty, errors.to_dict("records")
        plan = plan_import(again)
        assert set(plan.rows["outcome"]) == {"unchanged"}, plan.rows
        result = execute_import(plan, directory, operator="fuzz")
        assert result.counts()["unchanged"] == len(before)
        assert credential_state(directory) == before


# --------------------------------------------------------------------------------------------
# Bugs fuzzing found: each fails today (xfail, strict) and passes once fixed
# --------------------------------------------------------------------------------------------


def _users(directory: Directory) -> Directory:
    directory.add_users([NewUser("Ada", "Lovelace", user_id=ADA), NewUser("Kim", "K", user_id=KIM)])
    return directory


def test_a_card_given_by_hex_alone_has_the_same_key_as_by_number(sqlite_directory) -> None:
    rows = [
        {"User ID": ADA, "Card Type": "Casi Rusco 40-Bit", "Card Number": "0"},
        {"User ID": ADA, "Card Type": "Casi Rusco 40-Bit", "Card Number Hex": "0000000000"},
    ]
    review = review_bytes(csv_of(rows, HEADERS), _users(sqlite_directory))
    assert review.resolved.loc[3, "card_number"] == "0"
    assert (3, "duplicate-in-file") in set(review.rows[["row", "code"]].itertuples(index=False))


def test_card_numbers_keep_every_digit(sqlite_directory) -> None:
    number = 2**60 + 1
    rows = [
        {"User ID": ADA, "Card Type": "HID iClass", "Card Number": str(number)},
        {"User ID": ADA, "Card Type": "HID iClass", "Card Number Hex": "05"},
    ]
    review = review_bytes(csv_of(rows, HEADERS), _users(sqlite_directory))
    assert review.findings.empty, review.findings
    assert review.resolved["credential_key"].tolist() == [
        f"card:HID iClass::{number}",
        "card:HID iClass::5",
    ]


def test_a_row_another_operator_made_invalid_fails_instead_of_raising(sqlite_directory) -> None:
    directory = _users(sqlite_directory)
    review = review_bytes(csv_of([{"User ID": ADA, "License Plate": "AB12"}], HEADERS), directory)
    plan = plan_import(review)
    # Between the review and the import, another operator gives the plate to Kim.
    directory.add_credential(
        KIM, kind="license_plate", credential_key=plate_key("AB12"), license_plate="AB12"
    )
    result = execute_import(plan, directory, operator="fuzz")
    assert result.rows["outcome"].tolist() == ["fail"]
    assert "another user" in result.rows["reason"][2]
    assert directory.credentials_frame()["user_id"].tolist() == [KIM]


def _export_round_trip(directory: Directory, users_csv: bytes, folder: Path) -> Review:
    path = folder / "users.csv"
    path.write_bytes(users_csv)
    import_users(directory, path, operator="fuzz")
    rows = [
        {"User ID": user, "License Plate": f"P{index}"}
        for index, user in enumerate(directory.users_frame()["user_id"])
    ]
    check_import(review_bytes(csv_of(rows, HEADERS), directory), directory)
    exported = io.StringIO()
    write_export(directory, exported)
    return review_bytes(exported.getvalue().encode("utf-8"), directory)


def test_a_carriage_return_in_a_name_survives_the_export(sqlite_directory, tmp_path) -> None:
    users = b'First Name,Last Name,External ID\r\n"Ada\rAugusta",Lovelace,E1\r\nKim,K,E3\r\n'
    again = _export_round_trip(sqlite_directory, users, tmp_path)
    assert again.findings.empty, again.findings
    assert set(plan_import(again).rows["outcome"]) == {"unchanged"}


def test_a_quote_before_a_formula_character_survives_the_export(sqlite_directory, tmp_path) -> None:
    users = b"First Name,Last Name,External ID\nAda,Lovelace, '=1\nKim,K,=1\n"
    again = _export_round_trip(sqlite_directory, users, tmp_path)
    assert again.findings.empty, again.findings
    assert set(plan_import(again).rows["outcome"]) == {"unchanged"}
