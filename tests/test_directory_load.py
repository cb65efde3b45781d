"""credkit.loading: a Command credentials export loaded as the directory, and refreshed."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from credkit.columns import HEADERS
from credkit.directory import Directory, credential_history, users
from credkit.export import write_export
from credkit.loading import load_export
from credkit.review import review_file
from tests.support import (
    ADA,
    ADA_USER,
    ALAN,
    ALAN_USER,
    KIM,
    KIM_USER,
    csv_bytes,
    give_card,
    give_entry_code,
    give_plate,
)

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def command_export(tmp_path: Path) -> Path:
    """An export as Command (and credkit) writes it, made from a directory of three users."""
    source = Directory(f"sqlite:///{tmp_path / 'source.db'}")
    source.add_users([ADA_USER, ALAN_USER, KIM_USER])
    give_card(source, ADA, 1, 1, modified=AT)
    give_card(source, ALAN, 118, 1603, modified=AT)
    give_plate(source, ALAN, "ABC1234")
    give_entry_code(source, KIM, "001234", modified=AT)
    path = tmp_path / "command-export.csv"
    write_export(source, path)
    source.dispose()
    return path


def rows_of(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_an_export_of_a_freshly_loaded_directory_gives_back_the_loaded_file(
    directory: Directory, tmp_path: Path
) -> None:
    export = command_export(tmp_path)
    result = load_export(export, directory, operator="ops")
    assert result.exit_status == 0
    assert result.counts["users_added"] == 3 and result.counts["create"] == 4
    out = tmp_path / "again.csv"
    write_export(directory, out)
    assert out.read_bytes() == export.read_bytes()
    # Loading the same export again changes nothing.
    again = load_export(export, directory, operator="ops")
    assert again.counts["unchanged"] == 4
    assert again.counts["create"] == again.counts["gone"] == again.counts["users_gone"] == 0


def test_card_number_hex_is_written_as_spec_says_whatever_the_export_gave(
    sqlite_directory: Directory, tmp_path: Path
) -> None:
    # Command may answer with internal type names and no hex; credkit writes the whole frame.
    path = tmp_path / "export.csv"
    path.write_bytes(
        csv_bytes(
            [
                {
                    "First Name": "Ada",
                    "Last Name": "Lovelace",
                    "User ID": ADA,
                    "External ID": "E1",
                    "Email": "ada@example.com",
                    "Card Type": "HID",
                    "Facility Code": "118",
                    "Card Number": "1603",
                    "Credential Status": "Active",
                    "Modified": "2026-11-20T09:30:00Z",
                },
            ]  # fmt: skip
        )
    )
    assert load_export(path, sqlite_directory, operator="ops").exit_status == 0
    out = tmp_path / "out.csv"
    write_export(sqlite_directory, out)
    (row,) = rows_of(out)
    assert row["Card Type"] == "Standard 26-bit Wiegand"
    assert row["Card Number Hex"] == "2EC0C86"
    assert row["Modified"] == "2026-11-20T09:30:00Z"


def test_a_newer_export_updates_the_directory_and_marks_what_vanished_as_gone(
    directory: Directory, tmp_path: Path
) -> None:
    export = command_export(tmp_path)
    load_export(export, directory, operator="ops")
    rows = rows_of(export)
    # In Command since: Ada's card moved to Alan and was deactivated, Alan's plate and Kim
    # (with her entry code) deleted, Alan's e-mail changed.
    later = "2026-11-24T08:00:00Z"
    ada_card = {**rows[0], **{h: rows[1][h] for h in HEADERS[:6]}}
    ada_card.update({"Credential Status": "Inactive", "Modified": later})
    alan_card = {**rows[1], "Email": "alan.turing@example.com"}
    for row in (ada_card, alan_card):
        row["Email"] = "alan.turing@example.com"
    newer = tmp_path / "newer.csv"
    newer.write_bytes(csv_bytes([ada_card, alan_card]))
    result = load_export(newer, directory, operator="ops")
    assert result.exit_status == 0
    counts = result.counts
    assert (counts["reassign"], counts["unchanged"], counts["gone"]) == (1, 1, 2)
    assert (counts["users_updated"], counts["users_gone"]) == (1, 2)  # Ada and Kim gone
    out = tmp_path / "out.csv"
    write_export(directory, out)
    exported = rows_of(out)
    assert [(r["User ID"], r["Card Number"], r["Credential Status"]) for r in exported] == [
        (ALAN, "1603", "Active"),
        (ALAN, "1", "Inactive"),
    ]
    assert {r["Email"] for r in exported} == {"alan.turing@example.com"}
    with directory.engine.connect() as conn:
        gone_users = conn.execute(
            sa.select(users.c.user_id).where(users.c.gone_at.is_not(None))
        ).scalars()
        assert set(gone_users) == {ADA, KIM}
        history = conn.execute(
            sa.select(credential_history.c.credential_key, credential_history.c.action).where(
                credential_history.c.run_id == result.run_id
            )
        ).all()
    assert sorted(history) == [
        ("card:Standard 26-bit Wiegand:1:1", "reassign"),
        ("entry_code:001234", "gone"),
        ("license_plate:ABC1234", "gone"),
    ]
    # A gone user is left out of reviews: a row for Kim names an unknown user.
    kim_row = tmp_path / "kim.csv"
    kim_row.write_bytes(csv_bytes([{"User ID": KIM, "License Plate": "KIM1"}]))
    review = review_file(kim_row, directory)
    assert list(review.rows["code"]) == ["unknown-user"]
    # ... until an export lists her again.
    load_export(export, directory, operator="ops")
    assert review_file(kim_row, directory).exit_status == 0


def test_rows_with_errors_are_not_loaded_and_their_credentials_not_marked_gone(
    sqlite_directory: Directory, tmp_path: Path
) -> None:
    export = command_export(tmp_path)
    load_export(export, sqlite_directory, operator="ops")
    rows = rows_of(export)
    rows[3]["Entry Code"] = "12"  # Kim's code, mangled by a spreadsheet
    broken = tmp_path / "broken.csv"
    broken.write_bytes(csv_bytes(rows))
    result = load_export(broken, sqlite_directory, operator="ops")
    assert result.exit_status == 1
    assert result.counts["fail"] == 1 and result.counts["gone"] == 1  # only the unreadable row's
    codes = result.review.rows[result.review.rows["severity"] == "error"]
    assert list(zip(codes["row"], codes["code"], strict=True)) == [(5, "entry-code-leading-zeros")]


def test_a_rejected_export_loads_nothing(sqlite_directory: Directory, tmp_path: Path) -> None:
    path = tmp_path / "semicolons.csv"
    path.write_text(";".join(HEADERS) + "\n" + ";" * 13 + "\n", encoding="utf-8")
    result = load_export(path, sqlite_directory, operator="ops")
    assert result.exit_status == 2 and result.run_id is None
    assert sqlite_directory.users_frame().empty


def test_the_directory_load_command(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from credkit.cli import main

    export = command_export(tmp_path)
    url = f"sqlite:///{tmp_path / 'loaded.db'}"
    result = CliRunner().invoke(main, ["directory", "load", str(export), "--db", url])
    assert result.exit_code == 0, result.output
    assert "users added 3" in result.output and "create 4" in result.output
    exported = CliRunner().invoke(main, ["export", "--db", url])
    assert exported.output.encode() == export.read_bytes().replace(b"\r\n", b"\n")
    missing = CliRunner().invoke(
        main, ["directory", "load", str(tmp_path / "nope.csv"), "--db", url]
    )
    assert missing.exit_code == 2 and "nothing loaded" in missing.output
