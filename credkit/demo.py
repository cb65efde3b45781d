"""The demo: a directory of realistic users and credentials, and sample CSV files, from a seed."""

from __future__ import annotations

import csv
import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from credkit.columns import HEADERS
from credkit.directory import (
    CREDENTIAL_FIELDS,
    Directory,
    NewUser,
    card_key,
    credentials,
    entry_code_key,
    now_utc,
    plate_key,
    users,
)
from credkit.export import write_export
from credkit.formats import REGISTRY

FIRST_NAMES = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Amelia",
    "Oliver",
    "Ava",
    "Elijah",
    "Sophia",
    "Mateo",
    "Isabella",
    "Lucas",
    "Mia",
    "Levi",
    "Charlotte",
    "Ezra",
    "Luna",
    "Asher",
    "Harper",
    "James",
    "Evelyn",
    "Leo",
    "Aria",
    "Jack",
    "Ella",
    "Kai",
    "Nora",
    "Aiden",
    "Chloe",
    "Hiroshi",
    "Priya",
    "Wei",
    "Fatima",
    "Diego",
    "Ana",
    "Mohammed",
    "Ingrid",
    "Kwame",
    "Zofia",
    "Ravi",
    "Sofia",
    "Yusuf",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Nakamura",
    "Patel",
    "Chen",
    "Khan",
    "Silva",
    "Kowalski",
    "Okafor",
    "Andersen",
    "Nguyen",
    "Rossi",
    "Schmidt",
    "Dubois",
]

#: The card formats demo users carry, with how often.
DEMO_CARD_TYPES = {
    "Standard 26-bit Wiegand": 5,
    "HID 37-bit": 2,
    "HID Corporate 1000-35": 2,
    "HID 34-bit": 1,
    "MiFare 4-Byte (32 bit) CSN": 1,
}
CLEAN_FILE = "credentials-clean.csv"
MESSY_FILE = "credentials-messy.csv"
#: The demo directory as Verkada Command exports it (the same 14 columns): what an operator
#: loads with `credkit directory load` or the sync-with-verkada runbook.
COMMAND_EXPORT_FILE = "command-export.csv"
#: Another system's export, for the migration runbook (see genetec_rows).
GENETEC_FILE = "genetec-export.csv"
#: A user import with credentials: new users with a card, a plate and an entry code each.
USERS_FILE = "users-with-credentials.csv"


@dataclass(frozen=True)
class DemoResult:
    """What the demo made: how many users and credentials, and the sample files."""

    users: int
    credentials: int
    files: tuple[Path, ...]


class _CardMaker:
    """Hands out cards that are unique across the demo (one facility code per format)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[tuple[str, int, int]] = set()

    def card(self, card_type: str | None = None) -> dict[str, str]:
        if card_type is None:
            names = list(DEMO_CARD_TYPES)
            card_type = self.rng.choices(names, weights=list(DEMO_CARD_TYPES.values()))[0]
        card_format = REGISTRY.get(card_type)
        while True:
            facility_code = (
                self.rng.randint(1, min(250, card_format.facility_code_max or 0))
                if card_format.has_facility_code
                else 0
            )
            card_number = self.rng.randint(1, min(card_format.card_number_max, 4_000_000_000))
            if (card_type, facility_code, card_number) not in self.used:
                self.used.add((card_type, facility_code, card_number))
                break
        facility = str(facility_code) if card_format.has_facility_code else ""
        return {
            "card_type": card_type,
            "facility_code": facility,
            "card_number": str(card_number),
            "card_number_hex": card_format.encode(facility_code or None, card_number),
        }


def make_users(rng: random.Random, count: int) -> list[NewUser]:
    """count users with realistic names and unique external ids, employee ids and emails."""
    made = []
    for index in range(1, count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        made.append(
            NewUser(
                first_name=first,
                last_name=last,
                external_id=f"EXT-{index:06d}",
                employee_id=f"{rng.randint(10000, 99999)}",
                email=f"{first}.{last}.{index}@example.com".lower(),
                user_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            )
        )
    return made


def create_demo(
    directory: Directory,
    out_dir: str | Path = ".",
    *,
    user_count: int = 1000,
    seed: int = 7,
    modified: datetime | None = None,
) -> DemoResult:
    """Fill an empty directory with demo users and credentials, and write the sample CSVs.

    modified stamps every credential (default: now); runbooks fix it so that their stored
    outputs do not change from one run to the next.
    """
    rng = random.Random(seed)
    cards = _CardMaker(rng)
    people = make_users(rng, user_count)
    directory.add_users(people)
    modified = modified or now_utc()
    rows = []
    plates: set[str] = set()
    codes: set[str] = set()
    directory_cards: dict[str, dict[str, str]] = {}
    with directory.engine.begin() as conn:
        query = users.select().with_only_columns(users.c.user_id, users.c.id)
        pk_by_user = dict(conn.execute(query).all())
        for person in people:
            user_pk = pk_by_user[person.user_id]
            card = directory_cards[person.user_id] = cards.card()
            rows.append(_card_row(user_pk, card, modified))
            if rng.random() < 0.3:
                plate = _new_plate(rng, plates)
                rows.append(
                    _row(user_pk, "license_plate", plate_key(plate), modified, license_plate=plate)
                )
            if rng.random() < 0.4:
                code = _new_entry_code(rng, codes)
                rows.append(
                    _row(user_pk, "entry_code", entry_code_key(code), modified, entry_code=code)
                )
        conn.execute(credentials.insert(), rows)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clean = _write(out / CLEAN_FILE, clean_rows(rng, people, cards, plates))
    messy_people = rng.sample(people, k=min(8, len(people)))
    messy = _write(
        out / MESSY_FILE,
        messy_rows(rng, messy_people, cards, plates, directory_cards),
        messy_headers(),
    )
    genetec = _write(
        out / GENETEC_FILE,
        genetec_rows(rng, rng.sample(people, k=min(6, len(people))), cards, codes),
        GENETEC_HEADERS,
    )
    # After the files before it, so that they stay as they were (they share rng).
    users_file = _write(
        out / USERS_FILE, user_rows(rng, people, cards, plates, codes), USER_FILE_HEADERS
    )
    command_export = out / COMMAND_EXPORT_FILE
    write_export(directory, command_export)
    return DemoResult(len(people), len(rows), (clean, messy, genetec, users_file, command_export))


#: The user import's columns (credkit.users), as the demo's user file has them.
USER_FILE_HEADERS = [
    "First Name", "Last Name", "External ID", "Employee ID", "Email", "User Status",
    "Card Type", "Facility Code", "Card Number", "Card Number Hex", "License Plate", "Entry Code",
]  # fmt: skip


def user_rows(
    rng: random.Random,
    people: list[NewUser],
    cards: _CardMaker,
    plates: set[str],
    codes: set[str],
) -> list[list[str]]:
    """New users with a card, a license plate and an entry code each (one suspended), an
    existing user who gets a plate, and two rows with a credential mistake."""
    rows = []
    for index in range(1, 7):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        card = cards.card("Standard 26-bit Wiegand")
        rows.append(
            [first, last, f"NEW-{index:04d}", str(rng.randint(10000, 99999)),
             f"{first}.{last}.new{index}@example.com".lower(), "Suspended" if index == 4 else
             "Active", card["card_type"], card["facility_code"], card["card_number"], "",
             _new_plate(rng, plates) if index != 2 else "", _new_entry_code(rng, codes)]
        )  # fmt: skip
    if people:
        person = people[0]
        rows.append(
            [person.first_name, person.last_name, person.external_id or "", "",
             person.email or "", "", "", "", "", "", _new_plate(rng, plates), ""]
        )  # fmt: skip
    card = cards.card("Standard 26-bit Wiegand")
    rows.append(
        ["Maria", "Bauer", "NEW-0007", "", "maria.bauer.new7@example.com", "Active",
         card["card_type"], "300", card["card_number"], "", "", ""]
    )  # fmt: skip  # a facility code past the format's 255
    rows.append(
        ["Kenji", "Silva", "NEW-0008", "", "kenji.silva.new8@example.com", "Active", "", "", "",
         "", _new_plate(rng, plates), "456"]
    )  # fmt: skip  # an entry code Excel took the leading zero from
    return rows


def clean_rows(
    rng: random.Random, people: list[NewUser], cards: _CardMaker, plates: set[str]
) -> list[list[str]]:
    """New, valid credentials for existing users: a card or a license plate each.

    No entry codes: a user has at most one, and a new one replaces theirs with a warning,
    which a file meant to be clean should not raise.
    """
    rows = []
    for index, person in enumerate(rng.sample(people, k=min(20, len(people)))):
        row = _blank(person)
        if index % 2 == 0:
            card = cards.card()
            row["Card Type"] = card["card_type"]
            row["Facility Code"] = card["facility_code"]
            row["Card Number"] = card["card_number"]
            row["Card Number Hex"] = card["card_number_hex"]
        else:
            row["License Plate"] = _new_plate(rng, plates)
        row["Credential Status"] = "Active"
        rows.append([row[header] for header in HEADERS])
    return rows


def messy_headers() -> list[str]:
    """The headers of the messy file: lower-case, snake_case and misspelled ones."""
    headers = list(HEADERS)
    headers[headers.index("Email")] = "email"
    headers[headers.index("Card Number")] = "card_number"
    headers[headers.index("Facility Code")] = "Facility Cod"
    return headers


def messy_rows(
    rng: random.Random,
    people: list[NewUser],
    cards: _CardMaker,
    plates: set[str],
    directory_cards: dict[str, dict[str, str]],
) -> list[list[str]]:
    """One row per typical mistake, after one good row (people: eight distinct users)."""
    first, second, third, fourth, fifth, sixth, seventh, eighth = people

    def card_row(person: NewUser, card_type: str, **overrides: str) -> dict[str, str]:
        card = cards.card(card_type)
        row = _blank(person) | {
            "Card Type": card["card_type"],
            "Facility Code": card["facility_code"],
            "Card Number": card["card_number"],
            "Card Number Hex": card["card_number_hex"],
        }
        return row | overrides

    good = card_row(first, "Standard 26-bit Wiegand")
    bad_parity = card_row(fourth, "Standard 26-bit Wiegand")
    bad_parity["Card Number Hex"] = _flip_last_bit(bad_parity["Card Number Hex"])
    taken = directory_cards[first.user_id or ""]
    rows = [
        good,
        card_row(second, "Standard 26-bit Wiegand", **{"Card Type": "HID"}),  # legacy alias
        card_row(
            third, "Standard 26-bit Wiegand", **{"Facility Code": "300", "Card Number Hex": ""}
        ),
        bad_parity,
        _blank(fifth) | {"Entry Code": str(rng.randint(100, 999))},  # "0456" after Excel
        _blank(sixth) | {"License Plate": "ab-" + str(rng.randint(1000, 9999))},  # lower case
        card_row(seventh, "HID 37-bit", **{"License Plate": _new_plate(rng, plates)}),  # two
        card_row(eighth, "Standard 26-bit Wiegand")
        | {"User ID": "", "External ID": "EXT-999999", "Email": "nobody@example.com"},
        dict(good),  # the same credential twice
        _blank(second)  # a card that belongs to the first user
        | {
            "Card Type": taken["card_type"],
            "Facility Code": taken["facility_code"],
            "Card Number": taken["card_number"],
            "Card Number Hex": taken["card_number_hex"],
        },
    ]
    return [[row[header] for header in HEADERS] for row in rows]


def _blank(person: NewUser) -> dict[str, str]:
    row = dict.fromkeys(HEADERS, "")
    row.update(
        {
            "First Name": person.first_name,
            "Last Name": person.last_name,
            "User ID": person.user_id or "",
            "External ID": person.external_id or "",
            "Employee ID": person.employee_id or "",
            "Email": person.email or "",
        }
    )
    return row


def _flip_last_bit(hex_value: str) -> str:
    width = len(hex_value)
    return format(int(hex_value, 16) ^ 1, f"0{width}X")


def _new_plate(rng: random.Random, plates: set[str]) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    while True:
        plate = "".join(rng.choices(letters, k=3)) + "".join(rng.choices("0123456789", k=4))
        if plate not in plates:
            plates.add(plate)
            return plate


def _new_entry_code(rng: random.Random, codes: set[str]) -> str:
    while True:
        code = "".join(rng.choices("0123456789", k=rng.choice((4, 6))))
        if code not in codes:
            codes.add(code)
            return code


def _card_row(user_pk: int, card: dict[str, str], modified: object) -> dict[str, object]:
    key = card_key(card["card_type"], card["facility_code"], card["card_number"])
    # No facility code is NULL, as a load or an import stores it (not ""), so that loading
    # the demo's own export finds every card unchanged.
    return _row(
        user_pk, "card", key, modified, **{**card, "facility_code": card["facility_code"] or None}
    )


def _row(user_pk: int, kind: str, key: str, modified: object, **values: str) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(CREDENTIAL_FIELDS)
    row.update(values)
    row.update(user_pk=user_pk, kind=kind, credential_key=key, status="active", modified=modified)
    return row


def _write(path: Path, rows: list[list[str]], headers: list[str] = HEADERS) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(headers)
        writer.writerows(rows)
    return path


#: Genetec Security Center's Import tool fields (the built-in profile "genetec"), and a column
#: the site added from its reader logs: the frame each card sends.
GENETEC_HEADERS = [
    "First name", "Last name", "Email", "Card format", "Facility code", "Card number",
    "Credential card data", "PIN", "Status", "Card Number Hex",
]  # fmt: skip


def genetec_rows(
    rng: random.Random, people: list[NewUser], cards: _CardMaker, codes: set[str]
) -> list[list[str]]:
    """A Genetec export of six users' new credentials, as the genetec profile reads it: format
    codes and names, a combined "Credential card data" column, a Lost card, a card with a PIN
    (two credentials from one row), and a Corporate 1000 card written with format code 1
    (HID 34-bit) instead of 4: its frame fails the 34-bit parity and is a Corporate 1000 frame."""
    first, second, third, fourth, fifth, sixth = people

    def row(person: NewUser, **values: str) -> list[str]:
        written = dict.fromkeys(GENETEC_HEADERS, "") | {
            "First name": person.first_name,
            "Last name": person.last_name,
            "Email": person.email or "",
        }
        return [(written | values)[header] for header in GENETEC_HEADERS]

    hid26 = cards.card("Standard 26-bit Wiegand")
    lost = cards.card("Standard 26-bit Wiegand")
    corporate = cards.card("HID Corporate 1000-35")
    mislabelled = cards.card("HID Corporate 1000-35")
    while not _reads_as_a_bad_34_bit_card(mislabelled):
        mislabelled = cards.card("HID Corporate 1000-35")
    with_pin = cards.card("Standard 26-bit Wiegand")
    hid37 = cards.card("HID 37-bit")
    return [
        row(first, **{"Card format": "0", "Facility code": hid26["facility_code"],
                      "Card number": hid26["card_number"], "Status": "Active"}),
        row(second, **{"Card format": "Standard 26 bits", "Status": "Lost",
                       "Credential card data": f"{lost['facility_code']}/{lost['card_number']}"}),
        row(third, **{"Card format": "4", "Facility code": corporate["facility_code"],
                      "Card number": corporate["card_number"], "Status": "Active"}),
        row(fourth, **{"Card format": "1", "Facility code": mislabelled["facility_code"],
                       "Card number": mislabelled["card_number"], "Status": "Active",
                       "Card Number Hex": mislabelled["card_number_hex"]}),
        row(fifth, **{"Facility code": with_pin["facility_code"],
                      "Card number": with_pin["card_number"],
                      "PIN": _new_entry_code(rng, codes), "Status": "Active"}),
        row(sixth, **{"Card format": "HID H10304 37 bits",
                      "Credential card data": f"{hid37['facility_code']}|{hid37['card_number']}"}),
    ]  # fmt: skip


def _reads_as_a_bad_34_bit_card(card: dict[str, str]) -> bool:
    """Whether a card's numbers and frame fit HID 34-bit, and the frame fails its parity."""
    hid34 = REGISTRY.get("HID 34-bit")
    frame = int(card["card_number_hex"], 16)
    if int(card["facility_code"]) > 65_535 or int(card["card_number"]) > 65_535:
        return False
    if frame >= 1 << 34:
        return False
    return not hid34.decode(card["card_number_hex"][-9:]).parity_valid
