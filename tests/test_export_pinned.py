"""The export's bytes are pinned: a filled directory exports exactly the committed file.

The file (tests/files/export/pinned.csv) was written by the pandas export before the Arrow
path replaced it, so any change in quoting, prefixes, empty cells, status case, times, order
or gone users shows up here as a byte difference.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from credkit.columns import HEADERS
from credkit.directory import Directory, NewUser, card_key, entry_code_key, plate_key, users
from credkit.export import ExportFilters, csv_lines, export_table, write_export

PINNED = Path(__file__).parent / "files" / "export" / "pinned.csv"
START = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)

#: Names and ids with every character the CSV or a spreadsheet treats specially.
ODD_NAMES = [
    ("=SUM(A1)", "+plus"),
    ("-minus", "@at"),
    ("\ttab", "\rreturn"),
    ('Quote "Q"', "comma, inside"),
    ("line\nbreak", "crlf\r\nend"),
    ("Zoë", "Ñúñez-Ångström"),
    ("李", "小龍"),
    ("emoji 🙂", "'apostrophe"),
    (" lead space", "trail space "),
    ("", ""),
    ("'=already", "semi;colon"),
    ("back\\slash", "x"),
]


def fill(directory: Directory) -> None:
    """Users and credentials of every kind, with odd text, entry codes and gone users."""
    new_users = []
    for index in range(36):
        first, last = ODD_NAMES[index % len(ODD_NAMES)]
        new_users.append(
            NewUser(
                first,
                last,
                external_id=None if index % 5 == 0 else f"{'=-+@'[index % 4]}ext-{index}",
                employee_id=None if index % 3 == 0 else f'E,{index}"',
                email=None if index % 7 == 0 else f"user{index}@Example.com",
                user_id=f"00000000-0000-4000-8000-{index:012d}",
                status="suspended" if index % 11 == 0 else "active",
            )
        )
    ids = directory.add_users(new_users)
    moment = START
    for index, user_id in enumerate(ids):
        moment += timedelta(days=3, hours=index, seconds=index * 7, microseconds=index)
        status = "inactive" if index % 4 == 1 else "active"
        directory.add_credential(
            user_id, kind="card", credential_key=card_key("HID 37-bit", index, 1000 + index),
            card_type="HID 37-bit", facility_code=str(index), card_number=str(1000 + index),
            card_number_hex=f"00{index:08X}", status=status, modified=moment,
        )  # fmt: skip
        if index % 2 == 0:
            directory.add_credential(
                user_id, kind="card",
                credential_key=card_key("Standard 26-bit Wiegand", None, 50 + index),
                card_type="Standard 26-bit Wiegand", card_number=str(50 + index),
                modified=moment + timedelta(minutes=1),
            )  # fmt: skip
        if index % 3 == 0:
            plate = f"-PL{index}" if index % 6 == 0 else f"PL {index}"
            directory.add_credential(
                user_id, kind="license_plate", credential_key=plate_key(plate),
                license_plate=plate, status="inactive" if index % 9 == 0 else "active",
                modified=moment + timedelta(seconds=59),
            )  # fmt: skip
        if index % 4 != 3:
            code = f"{index:04d}"
            directory.add_credential(
                user_id, kind="entry_code", credential_key=entry_code_key(code),
                entry_code=code, modified=moment - timedelta(days=400),
            )  # fmt: skip
    # Users a loaded Command export no longer lists keep their credentials in the export.
    with directory.engine.begin() as conn:
        conn.execute(users.update().where(users.c.user_id.in_(ids[::10])).values(gone_at=START))


def exported(directory: Directory, **options: int) -> bytes:
    stream = io.StringIO(newline="")
    write_export(directory, stream, **options)
    return stream.getvalue().encode("utf-8")


@pytest.mark.parametrize("batch_size", [5_000, 7, 2])
def test_export_bytes_are_pinned(directory: Directory, batch_size: int) -> None:
    fill(directory)
    assert exported(directory, batch_size=batch_size) == PINNED.read_bytes()


def test_export_to_a_file_is_the_same_bytes(directory: Directory, tmp_path) -> None:
    fill(directory)
    path = tmp_path / "export.csv"
    with directory.engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM credentials")).scalar_one()
    assert write_export(directory, path) == total
    assert path.read_bytes() == PINNED.read_bytes()


def test_a_filtered_export_is_the_pinned_rows_that_pass(directory: Directory) -> None:
    fill(directory)
    stream = io.StringIO(newline="")
    filters = ExportFilters(status="Active", user="EXAMPLE")
    count = write_export(directory, stream, batch_size=9, keep=filters.apply)
    rows = list(csv.reader(io.StringIO(PINNED.read_bytes().decode("utf-8"), newline="")))
    kept = [row for row in rows[1:] if row[12] == "Active" and "example" in row[5].casefold()]
    expected = io.StringIO(newline="")
    csv.writer(expected, lineterminator="\r\n").writerows([rows[0], *kept])
    assert count == len(kept) > 0
    assert stream.getvalue() == expected.getvalue()


def test_cells_are_quoted_as_csv_writer_quotes_them() -> None:
    alphabet = ["a", "Z", " ", ",", '"', "\r", "\n", "'", "=", "-", "+", "@", "\t", ";", "é", "🙂"]
    chooser = random.Random(12)
    rows = [
        ["".join(chooser.choices(alphabet, k=chooser.randrange(0, 6))) for _ in HEADERS]
        for _ in range(2_000)
    ]
    table = export_table(
        pa.table({name: [row[i] for row in rows] for i, name in enumerate(HEADERS)})
    )
    expected = io.StringIO(newline="")
    protected = [
        [("'" + cell) if cell[:1] in "=+-@\t\r" and cell else cell for cell in row] for row in rows
    ]
    csv.writer(expected, lineterminator="\r\n").writerows(protected)
    assert csv_lines(table) == expected.getvalue().encode("utf-8")


if __name__ == "__main__":  # regenerate the pinned file (only with the reviewed old export)
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        source = Directory(f"sqlite:///{folder}/pin.db")
        fill(source)
        PINNED.write_bytes(exported(source))
        source.dispose()
