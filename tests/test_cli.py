"""The command line, called the way a user calls it: demo, review, export, template, users."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from credkit.cli import main
from credkit.columns import HEADERS
from credkit.directory import Directory
from credkit.review import ReviewOptions, review_file


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[str, Path]:
    """A 200-user demo directory and its sample files, made through the CLI."""
    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder / 'credkit.db'}"
    result = CliRunner().invoke(main, ["demo", "--users", "200", "--out", str(folder), "--db", url])
    assert result.exit_code == 0, result.output
    return url, folder


#: A change line of `credkit runs show`: the row, then the action.
CREATED = re.compile(r"^ *\d+  create  ", re.MULTILINE)


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def test_every_command_has_help() -> None:
    commands = [
        *([name] for name in main.commands),
        ["users", "import"],
        ["runs", "show"],
        ["runs", "undo"],
    ]
    for command in commands:
        result = run(*command, "--help")
        assert result.exit_code == 0, command
        assert len(result.output.splitlines()) > 3


def test_demo_refuses_a_directory_that_has_users(demo) -> None:
    url, folder = demo
    result = run("demo", "--users", "5", "--out", str(folder), "--db", url)
    assert result.exit_code == 1
    assert "already has 200 users" in result.output


def test_demo_is_deterministic_for_a_seed(demo, tmp_path: Path) -> None:
    _, folder = demo
    url = f"sqlite:///{tmp_path / 'again.db'}"
    assert run("demo", "--users", "200", "--out", str(tmp_path), "--db", url).exit_code == 0
    for name in ("credentials-clean.csv", "credentials-messy.csv"):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes()


def test_export_header_and_rows_match_the_directory(demo, tmp_path: Path) -> None:
    url, _ = demo
    out = tmp_path / "out.csv"
    assert run("export", "-o", str(out), "--db", url).exit_code == 0
    with open(out, encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == HEADERS
    directory = Directory(url)
    credentials = directory.credentials_frame()
    assert len(rows) - 1 == len(credentials)
    exported = {(r[2], r[6], r[7], r[8], r[10], r[11]) for r in rows[1:]}
    stored = {
        (c.user_id, c.card_type or "", c.facility_code or "", c.card_number or "",
         c.license_plate or "", c.entry_code or "")
        for c in credentials.itertuples()
    }  # fmt: skip
    assert exported == stored


def test_database_url_from_the_environment(demo) -> None:
    url, _ = demo
    result = run("export", env={"CREDKIT_DATABASE_URL": url})
    assert result.exit_code == 0
    assert len(result.output.splitlines()) == 1 + len(Directory(url).credentials_frame())


def test_review_exit_statuses(demo) -> None:
    url, folder = demo
    assert run("review", str(folder / "credentials-clean.csv"), "--db", url).exit_code == 0
    messy = str(folder / "credentials-messy.csv")
    rejected = run("review", messy, "--db", url)
    assert rejected.exit_code == 2
    assert "header-suggestion" in rejected.output and "Facility Cod" in rejected.output
    mapped = run("review", messy, "--map", "Facility Cod=Facility Code", "--db", url)
    assert mapped.exit_code == 1


def test_review_of_the_messy_demo_reports_every_planted_mistake(demo) -> None:
    url, folder = demo
    result = run(
        "review", str(folder / "credentials-messy.csv"), "--map", "Facility Cod=Facility Code",
        "--db", url, "--json",
    )  # fmt: skip
    report = json.loads(result.output)
    found = {(f["row"], f["code"]) for f in report["rows"]} | {
        (f["row"], f["code"]) for f in report["columns"]
    }
    assert found == {
        (1, "header-folded"),  # email, card_number
        (3, "card-type-alias"),  # HID
        (4, "facility-code-range"),  # 300
        (5, "hex-parity"),
        (6, "entry-code-leading-zeros"),
        (7, "plate-normalized"),  # ab-1234
        (8, "multiple-credentials"),
        (9, "unknown-user"),
        (10, "duplicate-in-file"),
        (11, "assigned-to-other-user"),
    }


def test_review_json_equals_the_library_result(demo) -> None:
    url, folder = demo
    path = folder / "credentials-messy.csv"
    result = run("review", str(path), "--json", "--map", "Facility Cod=Facility Code", "--db", url)
    options = ReviewOptions(mapping=(("Facility Cod", "Facility Code"),))
    assert json.loads(result.output) == review_file(path, Directory(url), options).to_json()


def test_review_of_an_unreadable_file_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("Email,License Plate\nrené@example.com,AB12\n".encode("latin-1"))
    url = f"sqlite:///{tmp_path / 'x.db'}"
    Directory(url).dispose()  # an empty directory: reviewing needs one
    result = run("review", str(path), "--db", url, "--json")
    assert result.exit_code == 2
    assert [f["code"] for f in json.loads(result.output)["file"]] == ["not-utf8"]


def test_formats_and_codes_list_the_registry_and_the_catalogue() -> None:
    listing = run("formats").output
    assert "Standard 26-bit Wiegand" in listing and "H10301" in listing
    assert "Andover Controls 37-bit" in listing
    catalogue = run("codes").output
    assert "hex-byte-order" in catalogue and "entry-code-in-use" in catalogue


def test_template(tmp_path: Path) -> None:
    out = tmp_path / "template.csv"
    assert run("template", "-o", str(out)).exit_code == 0
    assert out.read_text().splitlines()[0] == ",".join(HEADERS)
    assert run("template").stdout_bytes == out.read_bytes()


def test_users_import_exit_statuses(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    good = tmp_path / "good.csv"
    good.write_text("First Name,Last Name,External ID,Employee ID,Email\nAda,L,E1,,a@example.com\n")
    assert run("users", "import", str(good), "--db", url).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("First Name,Last Name,External ID,Employee ID,Email\n,L,E2,,b@example.com\n")
    result = run("users", "import", str(bad), "--db", url)
    assert result.exit_code == 1 and "missing-name" in result.output
    rejected = tmp_path / "rejected.csv"
    rejected.write_text("Email\nc@example.com\n")
    assert run("users", "import", str(rejected), "--db", url).exit_code == 2


def test_import_the_messy_demo_then_its_fixed_failed_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'credkit.db'}"
    assert run("demo", "--users", "50", "--out", str(tmp_path), "--db", url).exit_code == 0
    failed = tmp_path / "failed.csv"
    messy = str(tmp_path / "credentials-messy.csv")
    mapping = ["--map", "Facility Cod=Facility Code"]
    assert run("import", messy, "--db", url).exit_code == 2  # the header needs a decision
    result = run("import", messy, *mapping, "--failed-rows", str(failed), "--db", url, "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["counts"] == {"create": 3, "update": 0, "reassign": 0, "unchanged": 0, "fail": 7}
    assert report["failed_rows"] == str(failed) and isinstance(report["run_id"], int)
    with open(failed, encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["Row"] for row in rows] == ["4", "5", "6", "8", "9", "10", "11"]
    # Fix each row by hand, as an operator would, and import again.
    fixed = []
    for row in rows:
        number = row["Row"]
        if number == "4":
            row["Facility Code"] = "30"
        elif number == "5":
            row["Card Number Hex"] = ""  # let the decimal fields speak
        elif number == "6":
            row["Entry Code"] = "0" + row["Entry Code"]
        elif number == "8":
            row["License Plate"] = ""
        elif number == "9":
            continue  # an unknown user: not for this file
        elif number == "10":
            continue  # a duplicate: drop it
        elif number == "11":
            row["Card Type"] = row["Card Number"] = row["Card Number Hex"] = ""
            row["Facility Code"] = ""
            row["License Plate"] = "FIX11"
        fixed.append(row)
    with open(failed, "w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(fixed)
    again = run("import", str(failed), "--db", url, "--json")
    assert again.exit_code == 0, again.output
    counts = json.loads(again.output)["counts"]
    assert counts["create"] + counts["update"] == 5 and counts["fail"] == 0


def test_import_dry_run_writes_nothing(demo) -> None:
    url, folder = demo
    before = len(Directory(url).credentials_frame())
    result = run("import", str(folder / "credentials-clean.csv"), "--dry-run", "--db", url)
    assert result.exit_code == 0
    assert "Dry run" in result.output and "create 20" in result.output
    assert len(Directory(url).credentials_frame()) == before


def test_runs_list_show_and_undo(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'credkit.db'}"
    assert run("demo", "--users", "30", "--out", str(tmp_path), "--db", url).exit_code == 0
    clean = str(tmp_path / "credentials-clean.csv")
    assert run("import", clean, "--db", url, "--operator", "ops").exit_code == 0
    listing = run("runs", "--db", url)
    assert "credentials-clean.csv" in listing.output and "ops" in listing.output
    shown = run("runs", "--db", url, "show", "1")
    assert shown.exit_code == 0 and len(CREATED.findall(shown.output)) == 20
    before = len(Directory(url).credentials_frame())
    assert run("runs", "--db", url, "undo", "1").exit_code == 0
    assert len(Directory(url).credentials_frame()) == before - 20
    refused = run("runs", "--db", url, "undo", "1")
    assert refused.exit_code == 1 and "undone already" in refused.output


def test_runs_subcommands_take_db_after_them_too(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # where the default sqlite:///credkit.db would be created
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    assert run("demo", "--users", "30", "--out", str(tmp_path), "--db", url).exit_code == 0
    assert run("import", str(tmp_path / "credentials-clean.csv"), "--db", url).exit_code == 0
    shown = run("runs", "show", "1", "--db", url)
    assert shown.exit_code == 0 and len(CREATED.findall(shown.output)) == 20
    before = len(Directory(url).credentials_frame())
    assert run("runs", "undo", "1", "--db", url).exit_code == 0
    assert len(Directory(url).credentials_frame()) == before - 20
    assert not (tmp_path / "credkit.db").exists()  # the group's default was never opened


def test_export_filters(demo, tmp_path: Path) -> None:
    url, _ = demo
    out = tmp_path / "hid.csv"
    args = ["export", "-o", str(out), "--card-type", "hid", "--status", "active", "--db", url]
    assert run(*args).exit_code == 0
    with open(out, encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert rows and {row["Card Type"] for row in rows} == {"Standard 26-bit Wiegand"}
    assert {row["Credential Status"] for row in rows} == {"Active"}
    expected = Directory(url).credentials_frame()
    assert len(rows) == int((expected["card_type"] == "Standard 26-bit Wiegand").sum())
    assert run("export", "--card-type", "nope", "--db", url).exit_code == 2
