"""The review's snapshot of the directory: reused while the directory's generation stands, never
after a change, a restore or by another login, and never a secret on disk."""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from credkit import generation, snapshot
from credkit.connection import sqlite_path
from credkit.directory import Directory, users
from credkit.importer import execute_import, plan_import
from credkit.review import Review, ReviewOptions, review_bytes
from credkit.runs import undo_run
from credkit.users import import_users
from tests.support import ADA, ADA_USER, ALAN, ALAN_USER, csv_bytes, give_card, give_entry_code

ROOT = Path(__file__).resolve().parent.parent
CODES = ("0042", "73911")


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A cache folder of the test's own (PostgreSQL's files go there), and no snapshot kept in
    memory from another test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    snapshot._MEMORY.clear()
    yield
    snapshot._MEMORY.clear()


@pytest.fixture
def staffed(directory: Directory) -> Directory:
    """Ada (card 1/1, entry code 0042) and Alan (card 1/2)."""
    directory.add_users([ADA_USER, ALAN_USER])
    give_card(directory, ADA, 1, 1)
    give_entry_code(directory, ADA, CODES[0])
    give_card(directory, ALAN, 1, 2)
    give_entry_code(directory, ALAN, CODES[1])
    return directory


ROWS = [
    {"User ID": ADA, "Card Type": "Standard 26-bit Wiegand", "Facility Code": "1",
     "Card Number": "2"},
    {"User ID": ALAN, "Entry Code": "0042"},
    {"User ID": ADA, "Entry Code": "5550"},
]  # fmt: skip


def review(directory: Directory, rows: list[dict[str, str]] = ROWS) -> Review:
    return review_bytes(csv_bytes(rows), directory, ReviewOptions())


def codes_of(result: Review) -> list[tuple[int, str, str]]:
    return sorted(
        (int(row), column, code)
        for row, column, code in result.rows[["row", "column", "code"]].itertuples(index=False)
    )


def served(directory: Directory) -> tuple[str, list[tuple[int, str, str]]]:
    """How a review of ROWS read the directory, and its findings."""
    before = snapshot.READS.copy()
    found = codes_of(review(directory))
    changed = [
        name for name in ("database", "memory", "disk") if snapshot.READS[name] > before[name]
    ]
    assert len(changed) == 1
    return changed[0], found


def snapshot_file(directory: Directory) -> Path:
    """The one snapshot file of the directory: beside it, or in the cache folder."""
    path = sqlite_path(directory.url)
    if path is not None:
        [found] = path.parent.glob(f".{path.name}.*.snapshot")
    else:
        [found] = (Path(os.environ["XDG_CACHE_HOME"]) / "credkit" / "snapshots").glob("*")
    return found


EXPECTED = [
    (2, "Card Number", "assigned-to-other-user"),
    (3, "Entry Code", "entry-code-in-use"),
    (3, "Entry Code", "entry-code-replaced"),  # Alan's 73911: a code no row names
    (4, "Entry Code", "entry-code-replaced"),  # Ada's 0042: the code row 3 names
]


def test_a_second_review_in_the_process_uses_the_snapshot(staffed: Directory) -> None:
    assert served(staffed) == ("database", EXPECTED)
    assert served(staffed) == ("memory", EXPECTED)


def test_a_second_review_in_a_new_process_uses_the_file(staffed: Directory, tmp_path: Path) -> None:
    first = served(staffed)
    assert first[0] == "database"
    path = snapshot_file(staffed)
    written = path.stat().st_mtime_ns
    script = (
        "import json, sys\n"
        "from credkit import snapshot\n"
        "from credkit.directory import Directory\n"
        "from credkit.review import review_bytes\n"
        "data = open(sys.argv[2], 'rb').read()\n"
        "review = review_bytes(data, Directory(sys.argv[1]))\n"
        "rows = sorted((int(r), c, k) for r, c, k in review.rows[['row', 'column', 'code']]"
        ".itertuples(index=False))\n"
        "print(json.dumps([dict(snapshot.READS), rows]))\n"
    )
    upload = tmp_path / "rows.csv"
    upload.write_bytes(csv_bytes(ROWS))
    out = subprocess.run(
        [sys.executable, "-c", script, staffed.url, str(upload)],
        capture_output=True, text=True, check=True, cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    ).stdout  # fmt: skip
    import json

    reads, rows = json.loads(out)
    assert reads == {"disk": 1}
    assert [tuple(row) for row in rows] == EXPECTED
    assert path.stat().st_mtime_ns == written  # read, not rewritten


def test_the_file_is_private_and_holds_no_entry_code(staffed: Directory) -> None:
    served(staffed)
    path = snapshot_file(staffed)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = path.read_bytes()
    for code in CODES:
        assert code.encode() not in data
    assert ADA.encode() in data  # the file does hold the directory


def test_entry_codes_keys_are_hmac_sha256_under_the_snapshots_secret(staffed: Directory) -> None:
    kept = snapshot.current_snapshot(staffed)
    keys = ["entry_code:0042", "entry_code:" + "9" * 200, "entry_code:ü"]
    expected = [
        "entry_code#" + hmac.new(kept.secret, key.encode(), hashlib.sha256).hexdigest()
        for key in keys
    ]
    assert kept.hash_keys(keys) == expected
    assert kept.hash_keys(keys) == expected  # and again, from what it remembers
    assert kept.hash_key(keys[0]) == expected[0]


#: Past KeyIndex.FEW keys the lookups take the whole-file path: plates of Ada's to get there.
MANY_ROWS = ROWS + [{"User ID": ADA, "License Plate": f"PL{n:04d}"} for n in range(300)]


def test_a_snapshot_from_disk_finds_what_the_database_finds_for_a_file_and_an_edit(
    staffed: Directory,
) -> None:
    from_database = review(staffed, MANY_ROWS)
    assert set(EXPECTED) <= set(codes_of(from_database))
    snapshot._MEMORY.clear()
    disk_reads = snapshot.READS["disk"]
    from_disk = review(staffed, MANY_ROWS)  # entry codes' keys hashed
    assert snapshot.READS["disk"] == disk_reads + 1
    assert codes_of(from_disk) == codes_of(from_database)
    assert from_disk.resolved.equals(from_database.resolved)
    # One row edited to Alan's entry code: looked up on its own, against the same snapshot.
    from_disk.edit({(4, "Entry Code"): CODES[1]})
    edited = [row | ({"Entry Code": CODES[1]} if n == 4 else {}) for n, row in
              enumerate(MANY_ROWS, start=2)]  # fmt: skip
    again = review(staffed, edited)
    assert (4, "Entry Code", "entry-code-in-use") in codes_of(again)
    assert codes_of(from_disk) == codes_of(again)
    assert from_disk.resolved.loc[4].equals(again.resolved.loc[4])


def test_named_codes_hash_only_keys_no_file_named_before() -> None:
    import pyarrow as pa

    rows_of = {"entry_code:1": 4, "entry_code:2": -1, "entry_code:3": 0}
    asked: list[list[str]] = []

    def hashed_rows(keys: list[str]) -> np.ndarray:
        asked.append(keys)
        return np.array([rows_of[key] for key in keys], dtype=np.int64)

    named = snapshot.NamedCodes()
    first = pa.array(["entry_code:1", "entry_code:2", "entry_code:1"], pa.string())
    assert named.rows(first, hashed_rows).tolist() == [4, -1, 4]
    again = pa.array(["entry_code:2", "entry_code:3", "entry_code:1"], pa.string())
    assert named.rows(again, hashed_rows).tolist() == [-1, 0, 4]
    assert named.rows(again, hashed_rows).tolist() == [-1, 0, 4]
    assert asked == [["entry_code:1", "entry_code:2"], ["entry_code:3"]]


@pytest.mark.parametrize("few", [0, 512])  # keys looked up all in one pass, or as few
def test_a_whole_files_first_rows_from_the_ownership_lookup_are_those_of_its_keys(
    staffed: Directory, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    from credkit.rules import RuleOptions, first_rows_in, resolve_file
    from credkit.rules.columnar import KeyIndex
    from credkit.snapshot import directory_lookup

    monkeypatch.setattr(KeyIndex, "FEW", few)
    rows = MANY_ROWS + [MANY_ROWS[5], ROWS[0], ROWS[1]]  # a plate, a card and a code again
    table = review(staffed, rows).table
    _, resolved, taken = resolve_file(table, directory_lookup(staffed), RuleOptions())
    computed = first_rows_in(resolved)  # from the frame's own keys
    assert (computed["credential"] != computed.index).sum() == 3
    assert taken.equals(computed)


@pytest.mark.parametrize("change", ["credential import", "undo", "users import", "direct SQL"])
def test_every_change_moves_the_generation(staffed: Directory, tmp_path: Path, change: str) -> None:
    assert served(staffed)[0] == "database"
    with staffed.engine.connect() as conn:
        before = generation.state(conn)[:2]
    if change in ("credential import", "undo"):
        rows = [{"User ID": ALAN, "Card Type": "Standard 26-bit Wiegand", "Facility Code": "1",
                 "Card Number": "9"}]  # fmt: skip
        result = execute_import(plan_import(review(staffed, rows)), staffed)
        if change == "undo":
            snapshot._MEMORY.clear()
            assert served(staffed)[0] in ("database", "disk")
            with staffed.engine.connect() as conn:
                before = generation.state(conn)[:2]
            undo_run(staffed, result.run_id)
    elif change == "users import":
        path = tmp_path / "users.csv"
        path.write_text(
            "First Name,Last Name,External ID,Employee ID,Email\nGrace,Hopper,E3,,g@example.com\n"
        )
        import_users(staffed, path)
    else:
        with staffed.engine.begin() as conn:
            conn.execute(
                users.update().where(users.c.user_id == ALAN).values(gone_at=sa.func.now())
            )
    with staffed.engine.connect() as conn:
        assert generation.state(conn)[:2] != before
    how, found = served(staffed)
    assert how == "database"
    if change == "direct SQL":  # Alan is gone: row 2 no longer names a user of the directory
        assert found != EXPECTED


def test_the_next_review_sees_a_direct_insert(staffed: Directory) -> None:
    served(staffed)
    give_card(staffed, ALAN, 1, 7)
    rows = [{"User ID": ADA, "Card Type": "Standard 26-bit Wiegand", "Facility Code": "1",
             "Card Number": "7"}]  # fmt: skip
    before = snapshot.READS["database"]
    assert codes_of(review(staffed, rows)) == [(2, "Card Number", "assigned-to-other-user")]
    assert snapshot.READS["database"] == before + 1


def test_a_restored_copy_does_not_match_the_old_snapshot(
    sqlite_directory: Directory, tmp_path: Path
) -> None:
    directory = sqlite_directory
    directory.add_users([ADA_USER, ALAN_USER])
    path = Path(directory.url.removeprefix("sqlite:///"))
    backup = tmp_path / "backup.db"
    copy_database(path, backup)  # the backup: Ada and Alan, no credential
    give_card(directory, ALAN, 1, 2)  # one change after it
    assert served(directory) == ("database", [(2, "Card Number", "assigned-to-other-user")])
    directory.dispose()
    copy_database(backup, path)  # restored, then one change again: the same count of changes
    restored = Directory(directory.url)
    give_card(restored, ALAN, 1, 3)
    snapshot._MEMORY.clear()
    assert served(restored) == ("database", [])  # card 1/2 is nobody's in the restored copy
    restored.dispose()


def copy_database(source: Path, target: Path) -> None:
    """A copy of a SQLite file, its write-ahead log included (SQLite's backup)."""
    with sqlite3.connect(source) as reading, sqlite3.connect(target) as writing:
        reading.backup(writing)
    reading.close()
    writing.close()


def test_a_read_only_folder_gets_no_file(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    directory = Directory(f"sqlite:///{folder / 'credkit.db'}")
    directory.add_users([ADA_USER, ALAN_USER])
    give_card(directory, ALAN, 1, 2)
    directory.dispose()
    lock(folder, True)
    try:
        directory = Directory(f"sqlite:///{folder / 'credkit.db'}", create=False)
        assert served(directory)[1] == [(2, "Card Number", "assigned-to-other-user")]
        assert sorted(p.name for p in folder.iterdir()) == ["credkit.db"]
        directory.dispose()
    finally:
        lock(folder, False)


def lock(folder: Path, locked: bool) -> None:
    """Make a folder read-only (for root, whom modes do not stop: immutable) or writable again."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i" if locked else "-i", str(folder)], check=True)
    else:
        folder.chmod(0o555 if locked else 0o755)


def test_without_adbc_the_engine_reads_the_same(staffed: Directory) -> None:
    # PostgreSQL through ADBC; SQLite never (its own SQLite library would break the locks)
    postgres = staffed.engine.dialect.name == "postgresql"
    assert (snapshot._read_adbc(staffed) is not None) == postgres
    by_adbc = snapshot.read_directory(staffed)
    by_engine = snapshot.read_directory(staffed, adbc=False)
    assert by_adbc[0].equals(by_engine[0])
    assert by_adbc[1].equals(by_engine[1])
    assert by_adbc[1].num_rows == 4


@pytest.mark.postgres
def test_concurrent_bumps_do_not_block(staffed: Directory) -> None:
    if staffed.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    with staffed.engine.connect() as conn:
        before = int(generation.state(conn)[0].rstrip("-"))
    first, second = staffed.engine.connect(), staffed.engine.connect()
    try:
        first.begin()
        second.begin()
        first.execute(users.update().where(users.c.user_id == ADA).values(first_name="A"))
        done = threading.Event()

        def write_second() -> None:
            second.execute(users.update().where(users.c.user_id == ALAN).values(first_name="B"))
            done.set()

        thread = threading.Thread(target=write_second)
        thread.start()
        assert done.wait(10), "the second writer waited on the first"
        thread.join()
        with staffed.engine.connect() as conn:
            state = generation.state(conn)
        assert int(state[0]) >= before + 2
        assert state[4] == 2  # two writers in flight: a snapshot read now is not kept
        first.commit()
        second.commit()
    finally:
        first.close()
        second.close()
