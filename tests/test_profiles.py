"""Source profiles: each built-in converts its sample exactly, every change is reported, rows that
cannot be carried are skipped, and any credential set a source can write converts back."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credkit.cli import main
from credkit.conversion import convert_table, review_source
from credkit.profiles import (
    Profile,
    ProfileError,
    builtin_profiles,
    load_profile,
    save_profile,
)
from credkit.reading import read_csv_bytes, read_csv_file
from credkit.review import ReviewOptions
from tests.support import ADA_USER, ALAN_USER

SAMPLES = Path(__file__).parent / "files" / "profiles"
#: The facility code the operator gives for profiles whose files carry none.
GIVEN_FACILITY_CODE = {"prodatakey": 42, "onguard": 42}


def profile_for(name: str) -> Profile:
    profile = load_profile(name)
    if name in GIVEN_FACILITY_CODE:
        profile = dataclasses.replace(profile, facility_code=GIVEN_FACILITY_CODE[name])
    return profile


def test_the_required_profiles_are_built_in():
    assert {"genetec", "kantech", "ict", "prodatakey", "alarm-com", "onguard"} <= set(
        builtin_profiles()
    )
    for name in builtin_profiles():
        profile = load_profile(name)
        assert profile.name == name and profile.sources, name


@pytest.mark.parametrize("name", sorted(builtin_profiles()))
def test_each_profile_converts_its_sample_exactly(name):
    conversion = convert_table(read_csv_file(SAMPLES / f"{name}.csv"), profile_for(name))
    expected = (SAMPLES / f"{name}.expected.csv").read_bytes().decode("utf-8")
    assert conversion.csv_text() == expected


def findings(conversion) -> list[tuple]:
    frame = conversion.findings
    return list(frame[["row", "column", "value", "code"]].itertuples(index=False, name=None))


def test_genetec_changes_are_reported_with_their_originals():
    conversion = convert_table(read_csv_file(SAMPLES / "genetec.csv"), load_profile("genetec"))
    found = findings(conversion)
    assert (2, "Card format", "0", "profile-value-changed") in found
    assert (3, "Status", "Lost", "profile-value-changed") in found
    assert (3, "Credential card data", "35/20508", "profile-value-changed") in found
    assert (5, "Card format", "", "profile-value-changed") in found  # the default format
    messages = conversion.findings["message"].tolist()
    assert "Card format '0' is read as 'Standard 26-bit Wiegand'" in messages
    # Credential card data wins over Facility code and Card number, and says so.
    assert (
        "Credential card data '40|123456' is read as the card, over Facility code '12' and "
        "Card number '345'"
    ) in messages
    # Grace's row holds a card and a PIN: two credentials, one source row.
    assert (4, None, None, "profile-row-split") in found
    assert [conversion.sources[r].describe() for r in (4, 5)] == [
        "row 4, credential 1 of 2",
        "row 4, credential 2 of 2",
    ]


def test_kantech_hex_facility_codes():
    conversion = convert_table(read_csv_file(SAMPLES / "kantech.csv"), load_profile("kantech"))
    assert conversion.table.loc[3, ["Facility Code", "Card Number"]].tolist() == ["77", "52042"]
    assert (
        "facility code '4D' is read as 77: it is hexadecimal in Kantech EntraPass"
        in conversion.findings["message"].tolist()
    )


def test_ict_file_has_no_header_row_and_its_first_line_is_row_1():
    conversion = convert_table(read_csv_file(SAMPLES / "ict.csv"), load_profile("ict"))
    assert conversion.sources[2].row == 1
    assert conversion.table.loc[2, "First Name"] == "Joe"
    # 123:4567 in the Card column, with the Facility column empty.
    assert conversion.table.loc[8, ["Facility Code", "Card Number"]].tolist() == ["123", "4639"]


def test_alarm_com_delete_rows_are_skipped_with_the_reason():
    conversion = convert_table(read_csv_file(SAMPLES / "alarm-com.csv"), load_profile("alarm-com"))
    skipped = conversion.findings[conversion.findings["code"] == "profile-row-skipped"]
    assert skipped[["row", "column", "value"]].values.tolist() == [[4, "Action", "Delete"]]
    assert "a credkit import never deletes" in skipped["message"].iloc[0]
    assert "grace@example.com" not in set(conversion.table["Email"])


def test_a_no_card_value_is_skipped_with_the_reason(tmp_path):
    path = tmp_path / "amag.toml"
    path.write_text(
        'name = "amag"\nsystem = "AMAG Symmetry"\ncard_type = "Standard 26-bit Wiegand"\n'
        'no_card = ["0"]\n[columns]\n"Email" = "Email"\n"Facility Code" = "Facility Code"\n'
        '"Card Number" = "Card Number"\n"PIN" = "Entry Code"\n',
        encoding="utf-8",
    )
    data = (
        b"Email,Facility Code,Card Number,PIN\r\n"
        b"ada@example.com,5,0,\r\n"
        b"alan@example.com,5,0,4821\r\n"
        b"kim@example.com,5,77,\r\n"
    )
    conversion = convert_table(read_csv_bytes(data), load_profile(path))
    assert conversion.table["Email"].tolist() == ["alan@example.com", "kim@example.com"]
    assert conversion.table["Entry Code"].tolist() == ["4821", ""]
    no_card = conversion.findings[conversion.findings["code"] == "profile-no-card"]
    assert no_card["row"].tolist() == [2, 3]
    assert no_card["message"].iloc[0] == (
        "Row 2: card number '0' means no card in AMAG Symmetry; no card is carried over; "
        "the row carries no other credential and is skipped"
    )


def test_a_bad_profile_is_refused(tmp_path):
    with pytest.raises(ProfileError, match="no profile 'nope'"):
        load_profile("nope")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nsystem = "x"\n[columns]\n"A" = "Badge"\n', encoding="utf-8")
    with pytest.raises(ProfileError, match="maps to 'Badge'"):
        load_profile(bad)
    bad.write_text("name = ", encoding="utf-8")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(bad)


# ---------------------------------------------------------------------------------------------
# Mapping memory: a profile saved and used again
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(builtin_profiles()))
def test_a_saved_profile_loads_back_the_same(name, tmp_path):
    profile = profile_for(name)
    path = save_profile(profile, tmp_path / f"{name}-site.toml")
    assert load_profile(path) == profile


def test_convert_cli_writes_the_file_and_saves_the_choices(tmp_path):
    output = tmp_path / "out.csv"
    saved = tmp_path / "site.toml"
    result = CliRunner().invoke(
        main,
        [
            "convert", str(SAMPLES / "onguard.csv"), "--profile", "onguard", "-o", str(output),
            "--facility-code", "42", "--save-profile", str(saved),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert output.read_bytes() == (SAMPLES / "onguard.expected.csv").read_bytes()
    assert "Badge Status 'Lost' is read as 'Inactive'" in result.output
    assert "Wrote 3 credentials from 3 rows" in result.output
    assert load_profile(saved).facility_code == 42
    # The saved profile converts the same file the same way, without the option.
    again = tmp_path / "again.csv"
    rerun = CliRunner().invoke(
        main, ["convert", str(SAMPLES / "onguard.csv"), "--profile", str(saved), "-o", str(again)]
    )
    assert rerun.exit_code == 0
    assert again.read_bytes() == output.read_bytes()


def test_convert_cli_errors(tmp_path):
    runner = CliRunner()
    unknown = runner.invoke(
        main, ["convert", str(SAMPLES / "ict.csv"), "--profile", "nope", "-o", str(tmp_path / "o")]
    )
    assert unknown.exit_code == 2
    assert "no profile 'nope'" in unknown.output and "Traceback" not in unknown.output
    missing = runner.invoke(
        main, ["convert", str(tmp_path / "none.csv"), "--profile", "ict", "-o", str(tmp_path / "o")]
    )
    assert missing.exit_code == 2
    assert "File rejected: nothing written." in missing.output
    unwritable = runner.invoke(
        main,
        ["convert", str(SAMPLES / "ict.csv"), "--profile", "ict", "-o", str(tmp_path / "no" / "o")],
    )
    assert unwritable.exit_code == 3
    assert "does not exist; create it or choose another path" in unwritable.output
    source = tmp_path / "ict.csv"
    source.write_bytes((SAMPLES / "ict.csv").read_bytes())
    onto_input = runner.invoke(
        main, ["convert", str(source), "--profile", "ict", "-o", str(source)]
    )
    assert onto_input.exit_code == 3
    assert "is the input file" in onto_input.output
    assert source.read_bytes() == (SAMPLES / "ict.csv").read_bytes()


# ---------------------------------------------------------------------------------------------
# review and import with --profile
# ---------------------------------------------------------------------------------------------


def test_review_with_a_profile_names_source_rows_and_parts(sqlite_directory, tmp_path):
    sqlite_directory.add_users([ADA_USER, ALAN_USER])
    source = tmp_path / "alarm.csv"
    source.write_text(
        "First Name,Last Name,Email,PIN Code,Access Card 1,Access Card 2,Action\r\n"
        "Ada,Lovelace,ada@example.com,,118:1603,118:99999,Create\r\n"
        "Alan,Turing,alan@example.com,12,35:20508,,Edit\r\n",
        encoding="utf-8",
    )
    review, conversion = review_source(
        source, sqlite_directory, ReviewOptions(), load_profile("alarm-com")
    )
    errors = conversion.in_source_rows(review.rows[review.rows["severity"] == "error"])
    by_code = {
        code: (row, message) for row, code, message in errors[["row", "code", "message"]].values
    }
    assert by_code["card-number-range"][0] == 2
    assert by_code["card-number-range"][1].endswith("(row 2, credential 2 of 2)")
    # Alan's PIN 12 is too short: the second of his row's two credentials.
    alan = errors[errors["row"] == 3]
    assert alan["column"].tolist() == ["Entry Code"]
    assert alan["message"].iloc[0].endswith("(row 3, credential 2 of 2)")
    result = CliRunner().invoke(
        main,
        ["review", str(source), "--profile", "alarm-com", "--db", sqlite_directory.url],
    )
    assert result.exit_code == 1
    assert "row 2, Card Number: " in result.output
    assert "(row 2, credential 2 of 2)" in result.output


def test_import_with_a_profile(sqlite_directory):
    sqlite_directory.add_users([ADA_USER, ALAN_USER])
    result = CliRunner().invoke(
        main,
        [
            "import", str(SAMPLES / "kantech.csv"), "--profile", "kantech",
            "--db", sqlite_directory.url, "--json",
        ],
    )  # fmt: skip
    # Ada's card and Alan's two cards are created; Grace is no user of the directory.
    assert '"create": 3' in result.output
    assert result.exit_code == 1
    keys = set(sqlite_directory.credentials_frame()["credential_key"])
    assert "card:Standard 26-bit Wiegand:77:52043" in keys


# ---------------------------------------------------------------------------------------------
# Property: any credential set a source can write, written in its columns, converts back
# ---------------------------------------------------------------------------------------------

GENETEC_CODES = {
    "Standard 26-bit Wiegand": "0",
    "HID 34-bit": "1",
    "HID 37-bit": "3",
    "HID Corporate 1000-35": "4",
}
RANGES = {
    "Standard 26-bit Wiegand": (255, 65_535),
    "HID 34-bit": (65_535, 65_535),
    "HID 37-bit": (65_535, 524_287),
    "HID Corporate 1000-35": (4_095, 1_048_575),
}


@st.composite
def cards(draw, card_types=("Standard 26-bit Wiegand",), facility_code=None):
    card_type = draw(st.sampled_from(card_types))
    fc_max, cn_max = RANGES[card_type]
    fc = facility_code if facility_code is not None else draw(st.integers(0, fc_max))
    return (card_type, fc, draw(st.integers(0, cn_max)))


@st.composite
def people(draw, max_cards=1, pin=True, **card_options):
    count = draw(st.integers(1, 6))
    result = []
    for index in range(count):
        person_cards = draw(st.lists(cards(**card_options), min_size=0, max_size=max_cards))
        person_pin = draw(st.one_of(st.none(), st.from_regex(r"[1-9][0-9]{3,7}", fullmatch=True)))
        if not pin:
            person_pin = None
        if not person_cards and person_pin is None:
            person_cards = [draw(cards(**card_options))]
        result.append((f"user{index}@example.com", person_cards, person_pin))
    return result


def written(headers: list[str] | None, rows: list[list[str]]) -> bytes:
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\r\n")
    if headers:
        writer.writerow(headers)
    writer.writerows(rows)
    return stream.getvalue().encode()


def converted_back(data: bytes, profile: Profile) -> list[tuple]:
    conversion = convert_table(read_csv_bytes(data), profile)
    assert not (conversion.findings["severity"] == "error").any()
    table = conversion.table
    back = []
    for record in table.itertuples(index=False):
        if record[HEADER_INDEX["Entry Code"]]:
            back.append((record[HEADER_INDEX["Email"]], "pin", record[HEADER_INDEX["Entry Code"]]))
        else:
            back.append(
                (
                    record[HEADER_INDEX["Email"]],
                    record[HEADER_INDEX["Card Type"]],
                    int(record[HEADER_INDEX["Facility Code"]]),
                    int(record[HEADER_INDEX["Card Number"]]),
                )
            )
    return sorted(back)


def expected_of(population, key=lambda email, index: email) -> list[tuple]:
    expected = []
    for index, (email, person_cards, pin) in enumerate(population):
        expected += [(key(email, index), *card) for card in person_cards]
        if pin:
            expected.append((key(email, index), "pin", pin))
    return sorted(expected)


from credkit.columns import HEADERS  # noqa: E402

HEADER_INDEX = {header: index for index, header in enumerate(HEADERS)}
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(people(card_types=tuple(GENETEC_CODES)), st.booleans())
def test_genetec_round_trip(population, combined):
    rows = []
    for email, person_cards, pin in population:
        # Genetec writes one credential per line; a PIN may share the line of a card.
        lines = [[email, GENETEC_CODES[t], "", "", f"{fc}/{cn}", ""] if combined
                 else [email, GENETEC_CODES[t], str(fc), str(cn), "", ""]
                 for t, fc, cn in person_cards]  # fmt: skip
        if pin:
            if lines:
                lines[0][5] = pin
            else:
                lines.append([email, "", "", "", "", pin])
        rows += lines
    headers = [
        "Email",
        "Card format",
        "Facility code",
        "Card number",
        "Credential card data",
        "PIN",
    ]
    assert converted_back(written(headers, rows), load_profile("genetec")) == expected_of(
        population
    )


@PROPERTY
@given(people(max_cards=2, pin=False))
def test_kantech_round_trip(population):
    rows = []
    for email, person_cards, _ in population:
        written_cards = [f"{fc:X}:{cn}" for _, fc, cn in person_cards] + ["", ""]
        rows.append(["First", "Last", email, written_cards[0], written_cards[1], "0"])
    headers = ["First name", "Last name", "E-mail", "Card number", "Card #2", "Card state"]
    assert converted_back(written(headers, rows), load_profile("kantech")) == expected_of(
        population
    )


@PROPERTY
@given(people(pin=True), st.booleans())
def test_ict_round_trip(population, colon):
    # ICT has no email: the test keys each person by first name instead.
    rows = []
    for index, (_email, person_cards, pin) in enumerate(population):
        for _, fc, cn in person_cards:  # every ICT line has a card ("each field must have a value")
            rows.append([f"P{index}", "Last", "", "" if colon else str(fc),
                         f"{fc}:{cn}" if colon else str(cn), pin or "", "Staff"])  # fmt: skip
    conversion = convert_table(read_csv_bytes(written(None, rows)), load_profile("ict"))
    back = []
    for record in conversion.table.itertuples(index=False):
        name = record[HEADER_INDEX["First Name"]]
        if record[HEADER_INDEX["Entry Code"]]:
            back.append((name, "pin", record[HEADER_INDEX["Entry Code"]]))
        else:
            back.append((name, record[HEADER_INDEX["Card Type"]],
                         int(record[HEADER_INDEX["Facility Code"]]),
                         int(record[HEADER_INDEX["Card Number"]])))  # fmt: skip
    expected = []
    for index, (_email, person_cards, pin) in enumerate(population):
        expected += [(f"P{index}", *card) for card in person_cards]
        # ICT repeats the PIN on every line of the person; credkit reads it once per line.
        expected += [(f"P{index}", "pin", pin)] * len(person_cards) if pin else []
    assert sorted(back) == sorted(expected)


@PROPERTY
@given(people(max_cards=4, pin=False, facility_code=42))
def test_prodatakey_round_trip(population):
    rows = [
        ["First", "Last", ",".join(str(cn) for _, _, cn in person_cards), "Staff", email]
        for email, person_cards, _ in population
    ]
    headers = ["First Name", "Last Name", "Cards", "Groups", "Email"]
    profile = profile_for("prodatakey")
    assert converted_back(written(headers, rows), profile) == expected_of(population)


@PROPERTY
@given(people(max_cards=2, pin=True))
def test_alarm_com_round_trip(population):
    rows = []
    for email, person_cards, pin in population:
        written_cards = [f"{fc}:{cn}" for _, fc, cn in person_cards] + ["", ""]
        rows.append(
            ["First", "Last", email, pin or "", written_cards[0], written_cards[1], "Create"]
        )
    headers = ["First Name", "Last Name", "Email", "PIN Code", "Access Card 1", "Access Card 2",
               "Action"]  # fmt: skip
    assert converted_back(written(headers, rows), load_profile("alarm-com")) == expected_of(
        population
    )


@PROPERTY
@given(people(max_cards=1, pin=False, facility_code=42))
def test_onguard_round_trip(population):
    rows = [
        ["Last", "First", email, str(cn), "Active"]
        for email, person_cards, _ in population
        for _, _, cn in person_cards
    ]
    headers = ["Last Name", "First Name", "Email", "Badge ID", "Badge Status"]
    assert converted_back(written(headers, rows), profile_for("onguard")) == expected_of(population)


def test_an_accepted_mapping_is_saved_and_used_again(sqlite_directory, tmp_path):
    sqlite_directory.add_users([ADA_USER])
    source = tmp_path / "messy.csv"
    source.write_text(
        f"User ID,Card Type,Facility Cod,Badge\r\n{ADA_USER.user_id},HID,118,1603\r\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    db = ["--db", sqlite_directory.url]
    assert runner.invoke(main, ["review", str(source), *db]).exit_code == 2
    saved = tmp_path / "site.toml"
    result = runner.invoke(
        main,
        ["profile", "save", str(saved), "--map", "Facility Cod=Facility Code",
         "--map", "Badge=Card Number"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Saved 2 header mappings" in result.output
    reviewed = runner.invoke(main, ["review", str(source), "--profile", str(saved), "--json", *db])
    assert reviewed.exit_code == 0, reviewed.output
    mapped = runner.invoke(
        main,
        ["review", str(source), "--map", "Facility Cod=Facility Code",
         "--map", "Badge=Card Number", "--json", *db],
    )  # fmt: skip
    import json

    # The same rows and findings as with the mappings given again (the file's columns aside).
    assert json.loads(reviewed.output)["rows"] == json.loads(mapped.output)["rows"]
    review, _ = review_source(source, sqlite_directory, ReviewOptions(), load_profile(saved))
    assert review.resolved.loc[2, "credential_key"] == "card:Standard 26-bit Wiegand:118:1603"


def test_profile_list_names_every_built_in_profile():
    result = CliRunner().invoke(main, ["profile", "list"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == builtin_profiles()
    assert "Genetec Security Center" in result.output


def test_convert_cli_json_lists_the_findings(tmp_path):
    import json

    result = CliRunner().invoke(
        main,
        ["convert", str(SAMPLES / "alarm-com.csv"), "--profile", "alarm-com", "-o",
         str(tmp_path / "out.csv"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0
    listed = json.loads(result.output)
    skipped = [f for f in listed if f["code"] == "profile-row-skipped"]
    assert [(f["row"], f["column"], f["value"]) for f in skipped] == [(4, "Action", "Delete")]
    split = [f for f in listed if f["code"] == "profile-row-split"]
    assert split[0]["column"] is None and split[0]["row"] == 2
