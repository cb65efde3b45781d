"""Which user a row picks is the same whether the review's snapshot answers or the directory's
own queries do, for a whole file, for a few keys or many, and for one edited row."""

from __future__ import annotations

import pytest

from credkit.directory import Directory, DirectoryLookup
from credkit.reading import read_csv_bytes
from credkit.review import Review, ReviewOptions, review_bytes, review_table
from credkit.rules.columnar import KeyIndex
from credkit.snapshot import SnapshotLookup
from tests.support import ADA, ADA_USER, ALAN, ALAN_USER, csv_bytes

ROWS = [
    {"User ID": ADA, "External ID": "E2", "License Plate": "AB01"},  # Alan's external id
    {"User ID": ADA, "Email": "nobody@example.com", "License Plate": "AB02"},
    {"External ID": "E9", "License Plate": "AB03"},  # nobody's
    {"Email": " ALAN@example.COM ", "First Name": "alan", "Last Name": "Turin",
     "License Plate": "AB04"},
    {"License Plate": "AB05"},  # no key at all
    {"User ID": ALAN, "External ID": "E2", "Email": "alan@example.com", "First Name": "Alan",
     "License Plate": "AB06"},
]  # fmt: skip


def findings(review: Review) -> list[tuple]:
    columns = ["row", "column", "code", "value", "message"]
    return sorted(
        tuple("" if value is None else str(value) for value in record)
        for record in review.rows[columns].itertuples(index=False)
    )


@pytest.fixture
def staffed(directory: Directory) -> Directory:
    directory.add_users([ADA_USER, ALAN_USER])
    return directory


def by_queries(data: bytes, directory: Directory) -> Review:
    return review_table(
        read_csv_bytes(data), directory, ReviewOptions(), "upload.csv", DirectoryLookup(directory)
    )


def test_the_snapshot_and_the_queries_pick_the_same_users(staffed: Directory) -> None:
    data = csv_bytes(ROWS)
    served = review_bytes(data, staffed)
    assert isinstance(served.lookup, SnapshotLookup)
    found = findings(served)
    assert found == findings(by_queries(data, staffed))
    codes = {(int(row), column, code) for row, column, code, _, _ in found}
    assert {
        (2, "External ID", "keys-disagree"),
        (3, "Email", "key-unmatched"),
        (4, "External ID", "unknown-user"),
        (5, "Last Name", "name-mismatch"),
        (6, "", "missing-key"),
    } <= codes
    assert not any(row == 7 for row, _, _ in codes)  # every key of Alan's own row agrees
    assert list(served.resolved["user_id"]) == [ADA, ADA, None, ALAN, None, ALAN]


def test_few_keys_and_many_keys_are_looked_up_alike(
    staffed: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = csv_bytes(ROWS)
    few = findings(review_bytes(data, staffed))
    monkeypatch.setattr(KeyIndex, "FEW", 0)  # every lookup through Arrow's index_in
    assert findings(review_bytes(data, staffed)) == few
    assert findings(by_queries(data, staffed)) == few


def test_an_edited_row_finds_what_a_new_review_finds(staffed: Directory) -> None:
    served = review_bytes(csv_bytes(ROWS), staffed)
    served.edit({(2, "External ID"): "E1", (3, "Email"): "alan@example.com"})
    edited = [dict(row) for row in ROWS]
    edited[0]["External ID"] = "E1"
    edited[1]["Email"] = "alan@example.com"
    fresh = review_bytes(csv_bytes(edited), staffed)
    assert findings(served) == findings(fresh)
    codes = {(int(row), column, code) for row, column, code, _, _ in findings(served)}
    assert (2, "External ID", "keys-disagree") not in codes
    assert (3, "Email", "keys-disagree") in codes


def test_positions_and_firsts_agree_with_positions_and_first_occurrences(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import numpy as np
    import pyarrow as pa

    from credkit.rules.columnar import first_occurrences

    column = pa.array(["b", "a", None, "b", "", "c"], pa.string())  # "b" twice, an empty key
    keys = pa.array(["a", "x", None, "b", "", "a", "c", None, "x", ""], pa.string())
    for few in (0, KeyIndex.FEW):  # the one-pass path, and the few keys' path
        monkeypatch.setattr(KeyIndex, "FEW", few)
        at, firsts = KeyIndex(column).positions_and_firsts(keys)
        assert at.tolist() == KeyIndex(column).positions(keys).tolist() == [
            1, -1, -1, 0, -1, 1, 5, -1, -1, -1,
        ]  # fmt: skip
        assert firsts.tolist() == first_occurrences(keys).tolist()
        assert firsts.dtype == at.dtype == np.int64
