"""The review and the import agree: what the review passes, the import writes; what it fails,
the import fails with that finding's reason (issue 11, item 3).

A row whose Card Number Hex was only ``0x`` once reviewed clean, planned ``create``, and then
failed at import with ``NOT NULL constraint failed: credentials.credential_key``. The property
below holds the two together for rows built from the values that decide a row's outcome, edge
cases included (hex prefixes and padding, lengths at the directory's limits, future times).
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from credkit.columns import HEADERS
from credkit.directory import Directory, NewUser, credentials, users
from credkit.findings import CATALOGUE
from credkit.formats import REGISTRY
from credkit.importer import APPLIED, execute_import, plan_import
from credkit.review import ReviewOptions, review_bytes
from tests.support import ADA, ADA_USER, HID26, KIM, MIFARE, give_card, give_entry_code

AGREE = settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NAME_LIMIT = users.c.first_name.type.length
CARD_TYPES = [HID26, "hid", MIFARE, "HID iClass", "HID 37-bit", "HID 37-bit No Facility Code"]
HEX_NOISE = ["0x", "0X", " ", "0x ", "0x0", "00", "000002EC0C86", "0x2ec0c86", "2EC0C86"]
KEYS = [("User ID", ADA), ("User ID", KIM), ("External ID", "E1"), ("Email", "ADA@example.com")]
MODIFIED = ["", "2026-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "12/31/9999 11:59 PM", "soon"]
NAMES = ["", "Ada", "A" * NAME_LIMIT, "A" * (NAME_LIMIT + 1)]


def hex_values(card_format_name: str) -> st.SearchStrategy[str]:
    card_format = REGISTRY.get(card_format_name)
    encoded = st.integers(0, card_format.card_number_max).map(
        lambda number: card_format.encode(
            (card_format.facility_code_max or 0) // 2 if card_format.has_facility_code else None,
            number,
        )
    )
    padded = encoded.flatmap(lambda value: st.integers(0, 6).map(lambda n: "0" * n + value))
    prefixed = padded.map(lambda value: "0x" + value.lower())
    noise = st.sampled_from(HEX_NOISE)
    return st.one_of(noise, noise, encoded, padded, prefixed)


@st.composite
def card(draw: st.DrawFn) -> dict[str, str]:
    card_type = draw(st.sampled_from(CARD_TYPES))
    card_format = REGISTRY.get(card_type)
    row = {"Card Type": card_type}
    if card_format.has_facility_code and draw(st.booleans()):
        row["Facility Code"] = str(draw(st.integers(0, (card_format.facility_code_max or 0) + 1)))
    if draw(st.booleans()):
        row["Card Number"] = str(draw(st.integers(0, card_format.card_number_max + 1)))
    if draw(st.booleans()) or "Card Number" not in row:
        row["Card Number Hex"] = draw(hex_values(card_format.name))
    return row


@st.composite
def row(draw: st.DrawFn) -> dict[str, str]:
    header, key = draw(st.sampled_from(KEYS))
    credential = draw(
        st.one_of(
            card(),
            st.sampled_from(["AB12", "ab-12", "A", "X" * 21]).map(lambda p: {"License Plate": p}),
            st.sampled_from(["1234", "0042", "42", "7" * 17]).map(lambda c: {"Entry Code": c}),
        )
    )
    return {
        header: key,
        **credential,
        "First Name": draw(st.sampled_from(NAMES)),
        "Employee ID": draw(st.sampled_from(["", "7" * 255, "7" * 256])),
        "Modified": draw(st.sampled_from(MODIFIED)),
        "Credential Status": draw(st.sampled_from(["", "Active", "inactive"])),
    }


def csv_of(rows: list[dict[str, str]]) -> bytes:
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=HEADERS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return stream.getvalue().encode("utf-8")


def directory_keys(directory: Directory) -> dict[str, str]:
    """Every credential's key and its owner's user_id."""
    with directory.engine.connect() as conn:
        query = sa.select(credentials.c.credential_key, users.c.user_id).join_from(
            credentials, users, credentials.c.user_pk == users.c.id
        )
        return {key: owner for key, owner in conn.execute(query)}


@AGREE
@example(rows=[{"User ID": ADA, "Card Type": MIFARE, "Card Number Hex": "0x"}], reassign=False)
@example(
    rows=[{"User ID": ADA, "Card Type": HID26, "Card Number Hex": "000002EC0C86"}], reassign=False
)
@given(rows=st.lists(row(), min_size=1, max_size=12), reassign=st.booleans())
def test_what_the_review_passes_the_import_writes(rows, reassign) -> None:
    directory = Directory("sqlite://")
    directory.add_users([ADA_USER, NewUser("Kim", "Ng", external_id="E3", user_id=KIM)])
    give_card(directory, KIM, 1, 2)
    give_entry_code(directory, ADA, "0042")
    review = review_bytes(csv_of(rows), directory, ReviewOptions(reassign=reassign))
    assert not review.rejected
    result = execute_import(plan_import(review), directory, operator="agree", batch_size=2)
    outcome, reason = result.rows["outcome"], result.rows["reason"]
    stored = directory_keys(directory)

    for number in review.passing_rows:
        assert outcome[number] != "fail", (number, reason[number], review.rows)
        resolved = review.resolved.loc[number]
        assert stored.get(resolved["credential_key"]) == resolved["user_id"], number
    errors = review.rows[review.rows["severity"] == "error"]
    for number, found in errors.groupby("row"):
        assert outcome[int(number)] == "fail"
        for code, message in found[["code", "message"]].itertuples(index=False):
            assert CATALOGUE[code].severity == "error"
            assert message in reason[int(number)], (code, reason[int(number)])
    assert set(outcome[outcome.isin(APPLIED)].index) <= set(review.passing_rows)
    directory.dispose()


def test_the_row_that_split_them_fails_in_both() -> None:
    """The case found by hand: a card whose hex is only 0x."""
    directory = Directory("sqlite://")
    directory.add_users([ADA_USER])
    review = review_bytes(
        csv_of([{"User ID": ADA, "Card Type": "HID iClass", "Card Number Hex": "0x"}]), directory
    )
    assert review.rows["code"].tolist() == ["hex-invalid"]
    result = execute_import(plan_import(review), directory, operator="agree")
    assert result.counts()["fail"] == 1
    assert "NOT NULL" not in result.rows["reason"].iloc[0]
    assert pd.Series(result.rows["reason"]).str.contains("no hex digits").all()
    directory.dispose()
