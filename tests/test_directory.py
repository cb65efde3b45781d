"""The directory enforces its uniqueness rules in the database itself, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError

from credkit.directory import (
    SQLITE_CACHE_KIB,
    Directory,
    NewUser,
    bulk_write_cache,
    card_key,
    credentials,
    email_key,
    email_keys,
    email_lookalikes,
    entry_code_key,
    plate_key,
    users,
)

REVISION_0002 = importlib.import_module("credkit.migrations.versions.0002_unicode_email_keys")


@pytest.fixture
def two_users(directory: Directory) -> list[str]:
    return directory.add_users(
        [
            NewUser("Ada", "Lovelace", external_id="E1", email="Ada@Example.com"),
            NewUser("Alan", "Turing", external_id="E2", email="alan@example.com"),
        ]
    )


def test_users_round_trip(directory: Directory, two_users: list[str]) -> None:
    frame = directory.users_frame()
    assert frame["user_id"].tolist() == two_users
    assert frame["email"].tolist() == ["Ada@Example.com", "alan@example.com"]
    assert frame["status"].tolist() == ["active", "active"]
    assert frame["employee_id"].tolist() == [None, None]


@pytest.mark.parametrize(
    "duplicate",
    [
        NewUser("X", "Y", external_id="E1"),
        NewUser("X", "Y", email="  ada@EXAMPLE.com "),  # case-insensitive, trimmed
    ],
    ids=["external_id", "email"],
)
def test_user_keys_are_unique(directory: Directory, two_users, duplicate: NewUser) -> None:
    with pytest.raises(IntegrityError):
        directory.add_users([duplicate])
    assert len(directory.users_frame()) == 2


def test_user_id_is_unique(directory: Directory, two_users) -> None:
    with pytest.raises(IntegrityError):
        directory.add_users([NewUser("X", "Y", user_id=two_users[0])])


def test_employee_id_is_not_unique(directory: Directory) -> None:
    directory.add_users([NewUser("A", "B", employee_id="7"), NewUser("C", "D", employee_id="7")])
    assert directory.users_frame()["employee_id"].tolist() == ["7", "7"]


@pytest.mark.parametrize(
    ("kind", "key", "values"),
    [
        ("card", card_key("Standard 26-bit Wiegand", 1, 1), {"card_number": "1"}),
        ("card", card_key("HID iClass", None, 2**64 - 1), {"card_number": str(2**64 - 1)}),
        ("license_plate", plate_key("ABC123"), {"license_plate": "ABC123"}),
        ("entry_code", entry_code_key("0123"), {"entry_code": "0123"}),
    ],
)
def test_credentials_are_unique_across_users(
    directory: Directory, two_users, kind, key, values
) -> None:
    directory.add_credential(two_users[0], kind=kind, credential_key=key, **values)
    with pytest.raises(IntegrityError):
        directory.add_credential(two_users[1], kind=kind, credential_key=key, **values)
    assert directory.credential_count() == 1


def test_card_identity_includes_facility_code_and_type() -> None:
    assert card_key("Standard 26-bit Wiegand", 1, 5) != card_key("Standard 26-bit Wiegand", 2, 5)
    assert card_key("HID 34-bit", 1, 5) != card_key("Standard 26-bit Wiegand", 1, 5)
    # Leading zeros in a decimal card number do not make another card.
    assert card_key("HID 34-bit", "01", "005") == card_key("HID 34-bit", 1, 5)
    # ...but they do in an entry code.
    assert entry_code_key("0123") != entry_code_key("123")


def test_one_entry_code_per_user(directory: Directory, two_users) -> None:
    directory.add_credential(
        two_users[0], kind="entry_code", credential_key=entry_code_key("1111"), entry_code="1111"
    )
    with pytest.raises(IntegrityError):
        directory.add_credential(
            two_users[0],
            kind="entry_code",
            credential_key=entry_code_key("2222"),
            entry_code="2222",
        )
    # Several plates are fine.
    for plate in ("AB12", "CD34"):
        directory.add_credential(
            two_users[0], kind="license_plate", credential_key=plate_key(plate), license_plate=plate
        )
    assert directory.credential_count() == 3


def test_status_is_constrained(directory: Directory, two_users) -> None:
    with pytest.raises(IntegrityError):
        directory.add_credential(
            two_users[0], kind="license_plate", credential_key=plate_key("X1"), status="lost"
        )


def test_modified_is_utc(directory: Directory, two_users) -> None:
    moment = datetime(2026, 11, 25, 14, 3, tzinfo=UTC)
    directory.add_credential(
        two_users[0],
        kind="license_plate",
        credential_key=plate_key("AB12"),
        license_plate="AB12",
        modified=moment,
    )
    (stored,) = directory.credentials_frame()["modified"].tolist()
    assert stored == moment and stored.tzinfo is not None


def test_export_batches_are_bounded_and_complete(directory: Directory, two_users) -> None:
    rows = [
        {
            "user_pk": 1 + index % 2,
            "kind": "license_plate",
            "credential_key": plate_key(f"P{index}"),
            "license_plate": f"P{index}",
            "status": "active",
            "modified": datetime(2026, 1, 1, tzinfo=UTC),
        }
        for index in range(25)
    ]
    with directory.engine.begin() as conn:
        pks = conn.execute(sa.select(users.c.id).order_by(users.c.id)).scalars().all()
        for row in rows:
            row["user_pk"] = pks[row["user_pk"] - 1]
        conn.execute(credentials.insert(), rows)
    batches = list(directory.iter_credentials(batch_size=10))
    assert [len(batch) for batch in batches] == [10, 10, 5]
    plates = [plate for batch in batches for plate in batch["license_plate"]]
    assert plates == [f"P{index}" for index in range(25)]


def test_only_an_imports_writing_connection_gets_the_large_sqlite_cache(tmp_path) -> None:
    directory = Directory(f"sqlite:///{tmp_path / 'cache.db'}")

    def cache_size(conn: sa.Connection) -> int:
        return conn.connection.driver_connection.execute("PRAGMA cache_size").fetchone()[0]

    with directory.engine.connect() as conn:
        default = cache_size(conn)
        with bulk_write_cache(conn):
            assert cache_size(conn) == -SQLITE_CACHE_KIB
            with conn.begin():  # the pragma left no transaction open
                conn.execute(users.insert().values(user_id="u1", first_name="A", last_name="B"))
        assert cache_size(conn) == default  # the pooled connection goes back as it was
    assert default != -SQLITE_CACHE_KIB
    directory.dispose()


EMAIL_TEXT = st.text(
    st.characters(codec="utf-8")
    | st.sampled_from("ÉéEe\u0301\u212aKk\uff4b\uff2b\ufb01\u0130\u0131ßSs\u017f\u00b5\u03bc@. ")
)


@given(st.lists(EMAIL_TEXT, max_size=20))
@settings(max_examples=300, deadline=None)
def test_a_column_of_emails_folds_as_each_email_does_alone(emails: list[str]) -> None:
    """email_keys (a file's column, in Arrow) and email_key (one user, in Python) are twins,
    and revision 0002 recomputed the stored keys with the same rule: a row's email must find
    exactly the user whose stored key it folds to."""
    folded = email_keys(pd.Series(emails, dtype="str")).tolist()
    assert folded == [email_key(email) or "" for email in emails]
    assert [REVISION_0002.folded(email) for email in emails] == [email_key(e) for e in emails]


@pytest.mark.parametrize(
    ("written", "stored", "same"),
    [
        ("ÉMILE@EXAMPLE.COM", "émile@example.com", True),  # Unicode case folds
        ("E\u0301mile@example.com", "émile@example.com", True),  # decomposed é is é (NFC)
        ("STRASSE@example.com", "straße@example.com", True),  # full case folding: ß is ss
        ("Ada@Example.COM", "ada@example.com", True),
        ("\uff4bim@example.com", "kim@example.com", False),  # fullwidth k
        ("\uff2bIM@example.com", "kim@example.com", False),  # fullwidth K
        ("\u212aim@example.com", "kim@example.com", False),  # the Kelvin sign
        ("\ufb01nance@example.com", "finance@example.com", False),  # the fi ligature
        ("\u017fam@example.com", "sam@example.com", False),  # the long s
        ("K\u0130M@example.com", "kim@example.com", False),  # dotted capital I keeps its dot
    ],
)
def test_emails_match_as_a_person_reads_them_but_look_alikes_do_not(
    written: str, stored: str, same: bool
) -> None:
    assert (email_key(written) == email_key(stored)) is same
    looks_alike = written[0] in "\uff4b\uff2b\u212a\ufb01\u017f"
    assert bool(email_lookalikes(written)) is looks_alike


def test_the_directory_refuses_a_second_user_whose_email_differs_only_in_case(
    directory: Directory,
) -> None:
    directory.add_users([NewUser("Émile", "Zola", email="émile@example.com")])
    with pytest.raises(IntegrityError):
        directory.add_users([NewUser("Émile", "Zola", email="ÉMILE@EXAMPLE.COM")])
    directory.add_users([NewUser("Kim", "Ng", email="\u212aim@example.com")])
    directory.add_users([NewUser("Kim", "Ng", email="kim@example.com")])  # not the same address
    assert len(directory.users_frame()) == 3
