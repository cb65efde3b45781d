"""Benchmark data, made deterministically from a seed: a directory and a credential CSV.

Into a work folder (default ``benchmarks/results/work``, which git ignores):

- ``directory.db``: a SQLite directory of ``rows * 2 / 5`` users and ``rows`` credentials
  (100,000 and 250,000 at full size): a card per user and more cards, license plates, and an entry
  code for 40% of the users. Written with bulk inserts, in chunks, in one transaction.
- ``directory-small.db``: the same shape at a fifth of the size, for the export's memory check.
- ``credentials.csv``: ``rows`` credential rows (the 14 columns of ``credkit.columns.HEADERS``)
  for users of ``directory.db``: mostly new credentials, 10% the users' own existing credentials
  (unchanged), and 1% bad rows spread evenly over twenty kinds of mistake (``MISTAKES``).
- ``credentials-prefix.csv``: the first ``PREFIX_ROWS`` rows of ``credentials.csv``.
- ``import.csv``: ``rows`` valid rows, each creating a new credential (cards of every format in
  ``CARD_MIX``, license plates, and entry codes for distinct users) for users of
  ``directory.db``, for the import benchmark: it runs into a copy of a directory holding those
  users and no credentials at all, so every row is a create.
- ``import-rows.csv``: the ``credentials`` rows that import should write (user_pk, kind,
  credential_key, the credential fields, status; an empty cell is NULL), for the raw baseline's
  ``executemany`` and to check credkit's result.
- ``marker.json``: seed, sizes and data version; when it matches, nothing is made again.

Run on its own: ``.venv/bin/python benchmarks/data.py [--rows N] [--seed S] [--force]``;
run.py runs it so (with ``--json``), in a subprocess of its own.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from credkit.columns import HEADERS
from credkit.demo import FIRST_NAMES, LAST_NAMES
from credkit.directory import (
    Directory,
    card_key,
    credentials,
    entry_code_key,
    plate_key,
    users,
)
from credkit.formats import REGISTRY, CardFormat

#: Bump when the generator changes, so that cached data is made again.
DATA_VERSION = 6
DEFAULT_SEED = 20_251_125
DEFAULT_ROWS = 250_000
WORK = Path(__file__).resolve().parent / "results" / "work"
#: Rows per bulk insert statement.
CHUNK = 50_000
#: Rows of the prefix file (frictionless, when the whole file would take too long).
PREFIX_ROWS = 50_000
#: The small directory is this many times smaller than the main one.
SMALL_FACTOR = 5

#: The card formats of the data, with how often each is drawn: Wiegand frames with facility
#: codes, a serial-number format and Casi Rusco 40-Bit, a frame with a card number and no
#: facility code (its layout is in credkit/formats.py, and its hex is encoded from it).
CARD_MIX = {
    "Standard 26-bit Wiegand": 5,
    "HID 37-bit": 2,
    "HID Corporate 1000-35": 2,
    "HID 34-bit": 1,
    "MiFare 4-Byte (32 bit) CSN": 1,
    "Casi Rusco 40-Bit": 1,
}
STANDARD_26 = "Standard 26-bit Wiegand"
MIFARE = "MiFare 4-Byte (32 bit) CSN"

#: The import CSV: what share of its rows are license plates and entry codes (the rest cards).
IMPORT_PLATE_SHARE = 0.20
IMPORT_CODE_SHARE = 0.10
#: The columns of import-rows.csv: credkit's credentials table without id and modified.
IMPORT_ROW_COLUMNS = [
    column.name for column in credentials.columns if column.name not in ("id", "modified")
]

#: The kinds of bad row in the CSV, each with the finding code credkit should report for it.
#: The CSV holds rows // 100 of them, spread evenly over the kinds.
MISTAKES = {
    "unknown user": "unknown-user",
    "keys disagree": "keys-disagree",
    "no credential": "no-credential",
    "two credentials in one row": "multiple-credentials",
    "unknown card type": "unknown-card-type",
    "alias card type (warning)": "card-type-alias",
    "facility code out of range": "facility-code-range",
    "card number out of range": "card-number-range",
    "not digits": "not-digits",
    "scientific notation": "scientific-notation",
    "bad hex": "hex-invalid",
    "bad parity": "hex-parity",
    "hex mismatch": "hex-mismatch",
    "plate invalid": "plate-invalid",
    "entry code too short": "entry-code-leading-zeros",
    "bad status": "status-invalid",
    "bad Modified": "modified-invalid",
    "duplicate in file": "duplicate-in-file",
    "card assigned to another user": "assigned-to-other-user",
    "entry code in use": "entry-code-in-use",
}

PLATE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
DIRECTORY_EPOCH = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)

Card = tuple[str, str, str, str]  # card type, facility code ("" if none), card number, hex


@dataclass(frozen=True)
class Dataset:
    """Where the benchmark data lives and how big it is."""

    work: Path
    seed: int
    rows: int
    users: int
    credentials: int
    small_users: int
    small_credentials: int
    prefix_rows: int
    import_rows: int

    @property
    def csv(self) -> Path:
        return self.work / "credentials.csv"

    @property
    def prefix_csv(self) -> Path:
        return self.work / "credentials-prefix.csv"

    @property
    def import_csv(self) -> Path:
        return self.work / "import.csv"

    @property
    def import_rows_csv(self) -> Path:
        return self.work / "import-rows.csv"

    @property
    def db(self) -> Path:
        return self.work / "directory.db"

    @property
    def small_db(self) -> Path:
        return self.work / "directory-small.db"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.db}"

    @property
    def small_url(self) -> str:
        return f"sqlite:///{self.small_db}"

    @property
    def marker(self) -> Path:
        return self.work / "marker.json"

    def marker_content(self) -> dict[str, Any]:
        content = asdict(self)
        content["work"] = str(self.work)
        content["version"] = DATA_VERSION
        return content


def dataset(rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED, work: Path = WORK) -> Dataset:
    """The sizes for a CSV of ``rows`` rows (users and credentials scale with it)."""
    if not 1_000 <= rows <= 250_000:
        raise ValueError("rows must be 1,000 to 250,000 (credkit's limit)")
    user_count = rows * 2 // 5
    return Dataset(
        work=Path(work).resolve(),
        seed=seed,
        rows=rows,
        users=user_count,
        credentials=rows,
        small_users=user_count // SMALL_FACTOR,
        small_credentials=rows // SMALL_FACTOR,
        prefix_rows=min(PREFIX_ROWS, rows),
        import_rows=rows,
    )


def ensure(data: Dataset, force: bool = False, log: Any = print) -> bool:
    """Make the data unless the marker says it is there already; True when it was made."""
    files = (
        data.csv,
        data.prefix_csv,
        data.db,
        data.small_db,
        data.import_csv,
        data.import_rows_csv,
        data.marker,
    )
    if not force and all(path.exists() for path in files):
        try:
            if json.loads(data.marker.read_text()) == data.marker_content():
                return False
        except (OSError, ValueError):
            pass
    data.work.mkdir(parents=True, exist_ok=True)
    data.marker.unlink(missing_ok=True)
    started = time.perf_counter()
    world = World(data.seed, data.users, data.credentials, csv_rows=data.rows)
    write_directory(data.db, world)
    log(f"  directory: {data.users:,} users, {data.credentials:,} credentials -> {data.db}")
    rows = world.csv_rows()
    write_csv(data.csv, rows)
    write_csv(data.prefix_csv, rows[: data.prefix_rows])
    size = data.csv.stat().st_size / 1e6
    log(f"  credential CSV: {len(rows):,} rows, {size:.1f} MB -> {data.csv}")
    csv_rows, db_rows = import_rows(world, data.seed + 2, data.import_rows)
    write_csv(data.import_csv, csv_rows)
    write_import_rows(data.import_rows_csv, db_rows)
    size = data.import_csv.stat().st_size / 1e6
    log(f"  import CSV: {len(csv_rows):,} new credentials, {size:.1f} MB -> {data.import_csv}")
    small = World(data.seed + 1, data.small_users, data.small_credentials, csv_rows=0)
    write_directory(data.small_db, small)
    log(f"  small directory: {data.small_credentials:,} credentials -> {data.small_db}")
    data.marker.write_text(json.dumps(data.marker_content(), indent=2) + "\n")
    log(f"  made in {time.perf_counter() - started:.1f} s")
    return True


# --------------------------------------------------------------------------------------------
# Unique values
# --------------------------------------------------------------------------------------------


def card_hex(card_format: CardFormat, frames: np.ndarray) -> list[str]:
    """Hex text of ``encode_many`` results, padded the way ``CardFormat.encode`` pads them."""
    padded = card_format.layout is not None or card_format.serial_number
    width = card_format.hex_digits if padded else 1
    return [f"{value:0{width}X}" for value in frames.tolist()]


def unique_cards(rng: np.random.Generator, card_format: CardFormat, count: int) -> list[Card]:
    """count distinct cards of one format (facility codes 1-250, like the demo's)."""
    facility_count = min(250, card_format.facility_code_max or 0) or 1
    number_count = min(card_format.card_number_max, 4_000_000_000)
    drawn = rng.choice(facility_count * number_count, size=count, replace=False)
    numbers = (drawn % number_count + 1).astype(np.uint64)
    if card_format.has_facility_code:
        facilities = (drawn // number_count + 1).astype(np.uint64)
        frames = card_format.encode_many(facilities, numbers)
        facility_text = [str(value) for value in facilities.tolist()]
    else:
        frames = card_format.encode_many(None, numbers)
        facility_text = [""] * count
    hexes = card_hex(card_format, frames)
    cards = [
        (card_format.name, facility, str(number), hex_value)
        for facility, number, hex_value in zip(facility_text, numbers.tolist(), hexes, strict=True)
    ]
    for _name, facility, number, hex_value in cards[:20]:  # the vectorised path agrees
        assert card_format.encode(int(facility) if facility else None, int(number)) == hex_value
    return cards


class CardPool:
    """Distinct cards of every format in CARD_MIX, handed out in a seeded order."""

    def __init__(self, rng: np.random.Generator, count: int, spare: int) -> None:
        self.rng = rng
        self.names = list(CARD_MIX)
        weights = np.array(list(CARD_MIX.values()), dtype=float)
        self.order = rng.choice(len(self.names), size=count, p=weights / weights.sum()).tolist()
        self.position = 0
        needed = np.bincount(self.order, minlength=len(self.names)) + spare
        self.cards = {
            name: unique_cards(rng, REGISTRY.get(name), int(needed[index]))
            for index, name in enumerate(self.names)
        }
        self.next = dict.fromkeys(self.names, 0)

    def take(self, name: str | None = None) -> Card:
        if name is None:
            name = self.names[self.order[self.position]]
            self.position += 1
        card = self.cards[name][self.next[name]]
        self.next[name] += 1
        return card


def unique_plates(rng: np.random.Generator, count: int) -> list[str]:
    """count distinct plates of three letters and four digits."""
    letters = len(PLATE_LETTERS)
    drawn = rng.choice(letters**3 * 10_000, size=count, replace=False).tolist()
    plates = []
    for value in drawn:
        value, digits = divmod(value, 10_000)
        value, third = divmod(value, letters)
        first, second = divmod(value, letters)
        plates.append(
            PLATE_LETTERS[first] + PLATE_LETTERS[second] + PLATE_LETTERS[third] + f"{digits:04d}"
        )
    return plates


def unique_entry_codes(rng: np.random.Generator, count: int) -> list[str]:
    """count distinct entry codes: a third of 6 digits, the rest of 8 (leading zeros kept)."""
    six = count // 3
    short = rng.choice(1_000_000, size=six, replace=False).tolist()
    long = rng.choice(100_000_000, size=count - six, replace=False).tolist()
    codes = [f"{value:06d}" for value in short] + [f"{value:08d}" for value in long]
    return [codes[index] for index in rng.permutation(count).tolist()]


# --------------------------------------------------------------------------------------------
# The world: users, their credentials in the directory, and the CSV rows about them
# --------------------------------------------------------------------------------------------


@dataclass
class Existing:
    """A credential of the directory, as the generator remembers it."""

    user: int
    kind: str
    values: dict[str, str]  # the CSV's credential columns
    status: str
    modified: datetime


class World:
    """Users and their directory credentials, with enough unused cards, plates and codes left
    over for the CSV's new credentials."""

    def __init__(self, seed: int, user_count: int, credential_count: int, csv_rows: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.py_rng = random.Random(seed)
        rng = self.rng
        self.user_count = user_count
        self.csv_row_count = csv_rows
        self.bad_count = csv_rows // 100
        code_count = user_count * 2 // 5
        plate_count = credential_count // 5
        card_count = credential_count - code_count - plate_count
        if card_count < user_count:
            raise ValueError("too few credentials for a card per user")
        spare = self.bad_count * 2 + 100
        self.cards = CardPool(rng, card_count + csv_rows, spare)
        self.plates = iter(unique_plates(rng, plate_count + csv_rows // 5 + spare))
        self.codes = iter(unique_entry_codes(rng, code_count + csv_rows // 10 + spare))
        self._make_users()
        # The directory: a card per user, more cards, plates, and one entry code for 40% of users.
        owners_of_cards = np.concatenate(
            [np.arange(user_count), rng.integers(0, user_count, card_count - user_count)]
        )
        owners_of_plates = rng.integers(0, user_count, plate_count)
        self.code_owners = set(rng.choice(user_count, size=code_count, replace=False).tolist())
        seconds = rng.integers(0, 90 * 86_400, credential_count).tolist()
        inactive = (rng.random(credential_count) < 0.03).tolist()
        self.existing: list[Existing] = []
        kinds = (
            [("card", int(user)) for user in owners_of_cards]
            + [("license_plate", int(user)) for user in owners_of_plates]
            + [("entry_code", user) for user in sorted(self.code_owners)]
        )
        for index, (kind, user) in enumerate(kinds):
            self.existing.append(
                Existing(
                    user=user,
                    kind=kind,
                    values=self._new_credential(kind),
                    status="inactive" if inactive[index] else "active",
                    modified=DIRECTORY_EPOCH + timedelta(seconds=seconds[index]),
                )
            )

    def _make_users(self) -> None:
        rng, count = self.rng, self.user_count
        firsts = rng.integers(0, len(FIRST_NAMES), count).tolist()
        lasts = rng.integers(0, len(LAST_NAMES), count).tolist()
        employees = rng.integers(10_000, 100_000, count).tolist()
        self.people: list[dict[str, str]] = []
        for index in range(count):
            first, last = FIRST_NAMES[firsts[index]], LAST_NAMES[lasts[index]]
            self.people.append(
                {
                    "First Name": first,
                    "Last Name": last,
                    "User ID": self._uuid(),
                    "External ID": f"EXT-{index + 1:06d}",
                    "Employee ID": str(employees[index]),
                    "Email": f"{first}.{last}.{index + 1}@example.com".lower(),
                }
            )

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.py_rng.getrandbits(128), version=4))

    def _new_credential(self, kind: str, card_type: str | None = None) -> dict[str, str]:
        if kind == "card":
            name, facility, number, hex_value = self.cards.take(card_type)
            return {
                "Card Type": name,
                "Facility Code": facility,
                "Card Number": number,
                "Card Number Hex": hex_value,
            }
        if kind == "license_plate":
            return {"License Plate": next(self.plates)}
        return {"Entry Code": next(self.codes)}

    # -- the directory -----------------------------------------------------------------------

    def user_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "id": index + 1,
                "user_id": person["User ID"],
                "external_id": person["External ID"],
                "employee_id": person["Employee ID"],
                "email": person["Email"],
                "email_key": person["Email"].lower(),
                "first_name": person["First Name"],
                "last_name": person["Last Name"],
                "status": "active",
            }
            for index, person in enumerate(self.people)
        ]

    def credential_rows(self) -> list[dict[str, Any]]:
        rows = []
        for credential in self.existing:
            values = credential.values
            row: dict[str, Any] = {
                "user_pk": credential.user + 1,
                "kind": credential.kind,
                "card_type": None,
                "facility_code": None,
                "card_number": None,
                "card_number_hex": None,
                "license_plate": None,
                "entry_code": None,
                "status": credential.status,
                "modified": credential.modified,
            }
            if credential.kind == "card":
                row["card_type"] = values["Card Type"]
                row["facility_code"] = values["Facility Code"] or None
                row["card_number"] = values["Card Number"]
                row["card_number_hex"] = values["Card Number Hex"]
                row["credential_key"] = card_key(
                    values["Card Type"], values["Facility Code"], values["Card Number"]
                )
            elif credential.kind == "license_plate":
                row["license_plate"] = values["License Plate"]
                row["credential_key"] = plate_key(values["License Plate"])
            else:
                row["entry_code"] = values["Entry Code"]
                row["credential_key"] = entry_code_key(values["Entry Code"])
            rows.append(row)
        return rows

    # -- the CSV -----------------------------------------------------------------------------

    def _row(self, user: int, keys: str = "all", **values: str) -> dict[str, str]:
        row = dict.fromkeys(HEADERS, "")
        row.update(self.people[user])
        if keys == "external":
            row["User ID"] = ""
        elif keys == "email":
            row["User ID"] = row["External ID"] = ""
        row["Credential Status"] = "Active"
        row.update(values)
        return row

    def _keys(self) -> str:
        draw = self.py_rng.random()
        return "all" if draw < 0.8 else "external" if draw < 0.9 else "email"

    def _modified(self) -> str:
        draw = self.py_rng.random()
        if draw < 0.7:
            return ""
        if draw < 0.9:
            return "2025-11-20T09:30:00Z"
        return "11/20/2025 09:30"

    def _other_user(self, user: int) -> int:
        other = self.py_rng.randrange(self.user_count - 1)
        return other + (other >= user)

    def csv_rows(self) -> list[list[str]]:
        """The CSV's rows, shuffled, each a list of the 14 values in HEADERS order."""
        rng, py_rng = self.rng, self.py_rng
        total = self.csv_row_count
        kinds = list(MISTAKES)
        per_kind = {kind: self.bad_count // len(kinds) for kind in kinds}
        for kind in kinds[: self.bad_count % len(kinds)]:
            per_kind[kind] += 1
        unchanged_count = total // 10
        new_count = total - self.bad_count - unchanged_count
        code_count = min(total // 20, self.user_count - len(self.code_owners))
        plate_count = total * 15 // 100
        card_count = new_count - code_count - plate_count

        rows: list[dict[str, str]] = []
        new_rows: list[int] = []  # indexes of good new-credential rows, sources of duplicates
        # Existing credentials, written back for their own user: unchanged.
        picked = rng.choice(len(self.existing), size=unchanged_count, replace=False).tolist()
        used = set(picked)
        for index in picked:
            credential = self.existing[index]
            modified = credential.modified.strftime("%Y-%m-%dT%H:%M:%SZ")
            rows.append(
                self._row(
                    credential.user,
                    self._keys(),
                    **credential.values,
                    **{
                        "Credential Status": credential.status.capitalize(),
                        "Modified": modified if py_rng.random() < 0.5 else "",
                    },
                )
            )
        # New credentials for existing users.
        without_code = sorted(set(range(self.user_count)) - self.code_owners)
        code_users = rng.choice(without_code, size=code_count, replace=False).tolist()
        # Users without any entry code, in the directory or the file: for "entry code in use".
        codeless = sorted(set(without_code) - set(code_users))
        self.codeless = iter(rng.permutation(codeless).tolist())
        card_users = rng.integers(0, self.user_count, card_count).tolist()
        plate_users = rng.integers(0, self.user_count, plate_count).tolist()
        for kind, owners in (
            ("card", card_users),
            ("license_plate", plate_users),
            ("entry_code", code_users),
        ):
            for user in owners:
                status = "Inactive" if py_rng.random() < 0.02 else "Active"
                new_rows.append(len(rows))
                rows.append(
                    self._row(
                        user,
                        self._keys(),
                        **self._new_credential(kind),
                        **{"Credential Status": status, "Modified": self._modified()},
                    )
                )
        # Bad rows, except duplicates (they need an earlier row to repeat, so come last).
        unused_cards = [
            i for i, c in enumerate(self.existing) if c.kind == "card" and i not in used
        ]
        unused_codes = [
            i for i, c in enumerate(self.existing) if c.kind == "entry_code" and i not in used
        ]
        taken_cards = iter(rng.permutation(unused_cards).tolist())
        taken_codes = iter(rng.permutation(unused_codes).tolist())
        for kind in kinds:
            if kind == "duplicate in file":
                continue
            for number in range(per_kind[kind]):
                user = int(rng.integers(self.user_count))
                rows.append(self._mistake(kind, number, user, taken_cards, taken_codes))
        # Shuffle, then put each duplicate after the row it repeats.
        order = rng.permutation(len(rows)).tolist()
        position = {index: place for place, index in enumerate(order)}
        shuffled = [rows[index] for index in order]
        sources = rng.choice(new_rows, size=per_kind["duplicate in file"], replace=False).tolist()
        sources.sort(key=lambda index: position[index], reverse=True)
        for source in sources:  # from the last source back, so earlier places do not move
            place = position[source]
            at = int(rng.integers(place + 1, len(shuffled) + 1))
            shuffled.insert(at, dict(rows[source]))
        assert len(shuffled) == total
        return [[row[header] for header in HEADERS] for row in shuffled]

    def _mistake(
        self,
        kind: str,
        number: int,
        user: int,
        taken_cards: Iterator[int],
        taken_codes: Iterator[int],
    ) -> dict[str, str]:
        """One bad row of a kind; number alternates between variants of the mistake."""
        new_card = self._new_credential
        even = number % 2 == 0
        if kind == "unknown user":
            row = self._row(user, **new_card("card"))
            row.update({"User ID": self._uuid(), "External ID": "", "Email": ""})
            return row
        if kind == "keys disagree":
            row = self._row(user, **new_card("card"))
            row["External ID"] = self.people[self._other_user(user)]["External ID"]
            return row
        if kind == "no credential":
            return self._row(user)
        if kind == "two credentials in one row":
            return self._row(user, **new_card("card"), **new_card("license_plate"))
        if kind == "unknown card type":
            card = new_card("card", STANDARD_26)
            card.update({"Card Type": "HID 99-bit" if even else "Prox 27", "Card Number Hex": ""})
            return self._row(user, **card)
        if kind == "alias card type (warning)":
            card = new_card("card", STANDARD_26)
            card["Card Type"] = ("H10301", "HID", "26-bit", "standard 26-bit wiegand")[number % 4]
            return self._row(user, **card)
        if kind == "facility code out of range":
            card = new_card("card", STANDARD_26)
            card.update({"Facility Code": str(256 + number), "Card Number Hex": ""})
            return self._row(user, **card)
        if kind == "card number out of range":
            card = new_card("card", STANDARD_26)
            card.update({"Card Number": str(65_536 + number), "Card Number Hex": ""})
            return self._row(user, **card)
        if kind == "not digits":
            card = new_card("card", STANDARD_26)
            written = card["Card Number"][:-1] + "O" if even else card["Card Number"] + " #"
            card.update({"Card Number": written, "Card Number Hex": ""})
            return self._row(user, **card)
        if kind == "scientific notation":
            card = new_card("card", MIFARE)
            written = f"{int(card['Card Number']):.5E}"  # 1.23457E+09, as Excel shows it
            card.update({"Card Number": written, "Card Number Hex": ""})
            return self._row(user, **card)
        if kind == "bad hex":
            card = new_card("card", STANDARD_26)
            card["Card Number Hex"] = card["Card Number Hex"][:-1] + ("G" if even else "Z")
            return self._row(user, **card)
        if kind == "bad parity":
            card = new_card("card", STANDARD_26)
            frame = int(card["Card Number Hex"], 16) ^ 1  # the trailing (odd) parity bit
            card["Card Number Hex"] = f"{frame:07X}"
            return self._row(user, **card)
        if kind == "hex mismatch":
            card = new_card("card", STANDARD_26)
            card["Card Number Hex"] = new_card("card", STANDARD_26)["Card Number Hex"]
            return self._row(user, **card)
        if kind == "plate invalid":
            plate = "A" if even else next(self.plates) + "XYZ9"
            return self._row(user, **{"License Plate": plate})
        if kind == "entry code too short":
            return self._row(user, **{"Entry Code": f"{number % 1000:03d}"})
        if kind == "bad status":
            return self._row(
                user, **new_card("card"), **{"Credential Status": "Enabled" if even else "Yes"}
            )
        if kind == "bad Modified":
            written = "yesterday" if even else "31/12/2025 25:00"
            return self._row(user, **new_card("card"), **{"Modified": written})
        if kind == "card assigned to another user":
            credential = self.existing[next(taken_cards)]
            return self._row(self._other_user(credential.user), **credential.values)
        if kind == "entry code in use":
            credential = self.existing[next(taken_codes)]
            return self._row(next(self.codeless), **credential.values)
        raise ValueError(f"no such mistake: {kind}")


# --------------------------------------------------------------------------------------------
# The import: rows that each create a credential, for users who exist
# --------------------------------------------------------------------------------------------


def import_rows(world: World, seed: int, count: int) -> tuple[list[list[str]], list[list[str]]]:
    """count CSV rows that each create a new credential for one of the world's users, and the
    credentials rows they should become (IMPORT_ROW_COLUMNS, "" for NULL).

    Its own random generators (not the world's), so the other files do not change with it.
    The credentials are distinct among themselves; the import runs into a directory without
    credentials, so they need not differ from directory.db's. Entry codes go to distinct users
    (at most one each), and there are fewer of them than users.
    """
    rng, py_rng = np.random.default_rng(seed), random.Random(seed)
    code_count = min(int(count * IMPORT_CODE_SHARE), world.user_count)
    plate_count = int(count * IMPORT_PLATE_SHARE)
    card_count = count - code_count - plate_count
    cards = CardPool(rng, card_count, spare=0)
    plates = unique_plates(rng, plate_count)
    codes = unique_entry_codes(rng, code_count)
    owners = (
        rng.integers(0, world.user_count, card_count + plate_count).tolist()
        + rng.choice(world.user_count, size=code_count, replace=False).tolist()
    )
    csv_rows, db_rows = [], []
    for index in rng.permutation(count).tolist():
        user = owners[index]
        db_row = dict.fromkeys(IMPORT_ROW_COLUMNS, "")
        if index < card_count:
            name, facility, number, hex_value = cards.take()
            values = {
                "Card Type": name,
                "Facility Code": facility,
                "Card Number": number,
                "Card Number Hex": hex_value,
            }
            db_row |= {
                "kind": "card",
                "credential_key": card_key(name, facility, number),
                "card_type": name,
                "facility_code": facility,
                "card_number": number,
                "card_number_hex": hex_value,
            }
        elif index < card_count + plate_count:
            plate = plates[index - card_count]
            values = {"License Plate": plate}
            db_row |= {
                "kind": "license_plate",
                "credential_key": plate_key(plate),
                "license_plate": plate,
            }
        else:
            code = codes[index - card_count - plate_count]
            values = {"Entry Code": code}
            db_row |= {
                "kind": "entry_code",
                "credential_key": entry_code_key(code),
                "entry_code": code,
            }
        status = "Inactive" if py_rng.random() < 0.02 else "Active"
        draw = py_rng.random()
        keys = "all" if draw < 0.8 else "external" if draw < 0.9 else "email"
        draw = py_rng.random()
        modified = (
            "" if draw < 0.7 else "2025-11-20T09:30:00Z" if draw < 0.9 else "11/20/2025 09:30"
        )
        row = dict.fromkeys(HEADERS, "")
        row.update(world.people[user])
        if keys == "external":
            row["User ID"] = ""
        elif keys == "email":
            row["User ID"] = row["External ID"] = ""
        row.update(values)
        row["Credential Status"] = status
        row["Modified"] = modified
        csv_rows.append([row[header] for header in HEADERS])
        db_row |= {"user_pk": str(user + 1), "status": status.lower()}
        db_rows.append([db_row[name] for name in IMPORT_ROW_COLUMNS])
    return csv_rows, db_rows


def write_import_rows(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(IMPORT_ROW_COLUMNS)
        writer.writerows(rows)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _chunks(rows: Sequence[dict[str, Any]], size: int = CHUNK) -> Iterator[Sequence[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def write_directory(path: Path, world: World) -> None:
    """A fresh SQLite directory holding the world's users and credentials (bulk inserts)."""
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    directory = Directory(f"sqlite:///{path}")
    try:
        with directory.engine.begin() as conn:
            for chunk in _chunks(world.user_rows()):
                conn.execute(users.insert(), list(chunk))
            for chunk in _chunks(world.credential_rows()):
                conn.execute(credentials.insert(), list(chunk))
    finally:
        directory.dispose()


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(HEADERS)
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="CSV rows (and credentials)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--work", type=Path, default=WORK, help="folder to write into")
    parser.add_argument("--force", action="store_true", help="make the data even if cached")
    parser.add_argument(
        "--json", action="store_true", help="log to stderr; print the dataset as JSON on stdout"
    )
    args = parser.parse_args(argv)
    data = dataset(args.rows, args.seed, args.work)
    log = (lambda line: print(line, file=sys.stderr)) if args.json else print
    if not ensure(data, force=args.force, log=log):
        log(f"  cached: {data.work} (seed {data.seed}, {data.rows:,} rows)")
    if args.json:
        print(json.dumps(describe(data)))


def describe(data: Dataset) -> dict[str, Any]:
    """The dataset's sizes and paths, as run.py reads them."""
    names = ("csv", "prefix_csv", "db", "small_db", "import_csv", "import_rows_csv")
    paths = {name: str(getattr(data, name)) for name in names}
    urls = {"url": data.url, "small_url": data.small_url}
    return data.marker_content() | paths | urls


if __name__ == "__main__":
    main()
