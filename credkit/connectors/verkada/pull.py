"""The pull: every user's credentials fetched through Command's API, then loaded as an export.

One call per page of users (200 a page) and one per user: for a small organisation, an
alternative to downloading an export. The fetched rows go to a CSV in the export's form as they
come, so a pull that stops (a crash, a key revoked) resumes where it was: users already in the
file are not fetched again. The file is then loaded as an export is (credkit.loading).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from credkit.columns import HEADERS
from credkit.connectors.verkada.client import VerkadaClient
from credkit.connectors.verkada.config import VerkadaSettings
from credkit.connectors.verkada.state import card_type_from_api
from credkit.directory import Directory
from credkit.formats import REGISTRY
from credkit.loading import LoadResult, load_export
from credkit.reading import add_formula_prefix

Progress = Callable[[int, int], None]


def pull_from_verkada(
    directory: Directory,
    settings: VerkadaSettings,
    staging: str | Path,
    *,
    operator: str,
    progress: Progress | None = None,
) -> LoadResult:
    """Fetch every user's credentials into staging (resuming it if it exists), then load it."""
    staging = Path(staging)
    done = _users_in(staging)
    with VerkadaClient(settings) as client:
        client.ensure_token()
        members = list(client.iter_users())
        with staging.open("a", encoding="utf-8", newline="") as stream:
            if not done:
                stream.write(_csv_text([HEADERS]))
            for count, member in enumerate(members, start=1):
                if member["user_id"] not in done:
                    answer = client.get_user(user_id=member["user_id"])
                    if answer is not None:
                        stream.write(_csv_text(export_rows(member, answer)))  # a user at once
                        stream.flush()
                if progress:
                    progress(count, len(members))
    return load_export(staging, directory, operator=operator)


def export_rows(member: dict[str, Any], answer: dict[str, Any]) -> list[list[str]]:
    """One user's credentials as rows of Command's export (Modified is not in the API's
    answers: left empty, so the load stamps the time of the pull)."""
    first, _, last = (member.get("full_name") or "").partition(" ")
    person = {"First Name": first, "Last Name": last, "User ID": answer["user_id"],
              "External ID": answer.get("external_id") or "",
              "Employee ID": member.get("employee_id") or "",
              "Email": member.get("email") or ""}  # fmt: skip
    status = {True: "Active", False: "Inactive"}
    rows = []
    for card in answer.get("cards") or []:
        name = card_type_from_api(card.get("type"))
        row = {"Card Type": name or str(card.get("type")),
               "Facility Code": card.get("facility_code") or "",
               "Card Number": card.get("card_number") or "",
               "Card Number Hex": card.get("card_number_hex") or ""}  # fmt: skip
        if name and row["Card Number"] and not row["Card Number Hex"]:
            card_format = REGISTRY.get(name)
            facility = int(row["Facility Code"]) if card_format.has_facility_code else None
            row["Card Number Hex"] = card_format.encode(facility, int(row["Card Number"]))
        rows.append(person | row | {"Credential Status": status[bool(card.get("active", True))]})
    for plate in answer.get("license_plates") or []:
        rows.append(person | {"License Plate": plate["license_plate_number"],
                              "Credential Status": status[bool(plate.get("active", True))]})  # fmt: skip
    if answer.get("entry_code"):
        rows.append(person | {"Entry Code": answer["entry_code"], "Credential Status": "Active"})
    if not rows:
        return []
    frame = pd.DataFrame(rows, columns=HEADERS, dtype=object).fillna("").astype(str)
    return frame.apply(add_formula_prefix).values.tolist()


def _csv_text(rows: list[list[str]]) -> str:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return text.getvalue()


def _users_in(staging: Path) -> set[str]:
    """The User IDs a partial pull already wrote."""
    if not staging.exists() or staging.stat().st_size == 0:
        return set()
    with staging.open(encoding="utf-8", newline="") as stream:
        return {row["User ID"] for row in csv.DictReader(stream)}
