"""The user import of the seed: each user row may carry a card, a license plate and an entry
code, reviewed by the credential review's own rules; a row applies whole or fails whole."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from credkit.cli import main
from credkit.directory import Directory, NewUser, credentials, users
from credkit.runs import list_runs, undo_run
from credkit.users import import_users, plan_users
from tests.test_roles import MANAGER, VIEWER, as_login, run
from tests.test_roles import shared as shared  # the fixture: roles set up, a login per role

HEADER = (
    "First Name,Last Name,External ID,Employee ID,Email,User Status,"
    "Card Type,Facility Code,Card Number,Card Number Hex,License Plate,Entry Code\n"
)
TWO_USERS = (
    "Ada,Lovelace,E1,7,ada@example.com,Active,Standard 26-bit Wiegand,1,1,,AB-123,123456\n"
    "Alan,Turing,E2,,alan@example.com,Suspended,HID,99,999,,XY 99,654321\n"
)


def write(tmp_path: Path, body: str, header: str = HEADER, name: str = "users.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return path


def holdings(directory: Directory) -> list[tuple[str, str, str, str]]:
    """Every credential as (External ID, kind, key, status), in a stable order."""
    with directory.engine.connect() as conn:
        rows = conn.execute(
            sa.select(users.c.external_id, credentials.c.kind, credentials.c.credential_key,
                      credentials.c.status)
            .join_from(credentials, users, credentials.c.user_pk == users.c.id)
            .order_by(users.c.external_id, credentials.c.credential_key)
        ).all()  # fmt: skip
    return [tuple(row) for row in rows]


def test_each_row_becomes_a_user_with_a_card_a_plate_and_an_entry_code(
    directory: Directory, tmp_path: Path
) -> None:
    result = import_users(directory, write(tmp_path, TWO_USERS), on_behalf_of="ops")
    assert result.counts == {"create": 2, "update": 0, "unchanged": 0, "fail": 0}
    assert result.credential_counts["create"] == 6 and result.credential_counts["fail"] == 0
    assert holdings(directory) == [
        ("E1", "card", "card:Standard 26-bit Wiegand:1:1", "active"),
        ("E1", "entry_code", "entry_code:123456", "active"),
        ("E1", "license_plate", "license_plate:AB123", "active"),
        ("E2", "card", "card:Standard 26-bit Wiegand:99:999", "active"),
        ("E2", "entry_code", "entry_code:654321", "active"),
        ("E2", "license_plate", "license_plate:XY99", "active"),
    ]
    # The credential review's own warnings, named by the user file's row and part.
    warnings = result.findings[["row", "code"]].values.tolist()
    assert [3, "card-type-alias"] in warnings and [2, "plate-normalized"] in warnings
    alias = result.findings[result.findings["code"] == "card-type-alias"]["message"].iloc[0]
    assert alias.endswith("(row 3, credential 1 of 3)")
    # A suspended user's credentials keep their own status (SPEC: credential).
    status = dict(directory.users_frame()[["external_id", "status"]].values.tolist())
    assert status == {"E1": "active", "E2": "suspended"}
    (run,) = list_runs(directory).to_dict("records")
    assert run["kind"] == "users" and run["on_behalf_of"] == "ops"
    assert run["counts"]["create"] == 2 and run["counts"]["credentials_create"] == 6
    # The same file again changes nothing.
    again = import_users(directory, write(tmp_path, TWO_USERS))
    assert again.counts == {"create": 0, "update": 0, "unchanged": 2, "fail": 0}
    assert again.credential_counts["unchanged"] == 6


def test_a_bad_credential_cell_fails_its_whole_row(directory: Directory, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Ada,Lovelace,E1,,ada@example.com,,Standard 26-bit Wiegand,1,1,,AB-123,\n"
        "Grace,Hopper,E3,,grace@example.com,,,,,,ZZ,12\n"  # row 3: the entry code lost zeros
        "Edsger,Dijkstra,E4,,edsger@example.com,,Standard 26-bit Wiegand,300,5,,,\n",  # row 4
    )
    result = import_users(directory, path)
    assert result.counts == {"create": 1, "update": 0, "unchanged": 0, "fail": 2}
    errors = result.findings[result.findings["severity"] == "error"]
    assert errors[["row", "column", "code"]].values.tolist() == [
        [3, "Entry Code", "entry-code-leading-zeros"],
        [4, "Facility Code", "facility-code-range"],
    ]
    assert errors["message"].iloc[0].endswith("(row 3, credential 2 of 2)")
    assert "12" not in errors["value"].iloc[0]  # entry codes are masked in every report
    # No user without their credentials: rows 3 and 4 wrote nothing at all.
    assert directory.users_frame()["external_id"].tolist() == ["E1"]
    assert [key for _, _, key, _ in holdings(directory)] == [
        "card:Standard 26-bit Wiegand:1:1",
        "license_plate:AB123",
    ]
    assert result.rows.loc[3, "reason"].startswith("Entry Code: ")


def test_the_failed_rows_csv_holds_the_files_columns_and_the_error(
    directory: Directory, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "Ada,Lovelace,E1,,ada@example.com,Retired,,,,,AB123,\n"
        "Alan,Turing,E2,,alan@example.com,,Standard 26-bit Wiegand,1,70000,,,\n"
        "Grace,Hopper,E3,,grace@example.com,,,,,,GH1,\n",
    )
    result = import_users(directory, path)
    out = tmp_path / "failed.csv"
    assert result.write_failed_rows(out) == 2
    with open(out, encoding="utf-8", newline="") as stream:
        lines = list(csv.reader(stream))
    assert lines[0] == ["Row", *HEADER.strip().split(","), "Error"]
    assert [line[0] for line in lines[1:]] == ["2", "3"]
    assert lines[1][6] == "Retired" and lines[1][-1].startswith("User Status: ")
    assert lines[2][9] == "70000" and lines[2][-1].startswith("Card Number: ")
    # Fixed and imported again, the failed rows import.
    fixed = out.read_text(encoding="utf-8").replace("Retired", "Suspended")
    fixed = fixed.replace("70000", "7000")
    again = import_users(directory, write(tmp_path, fixed, header="", name="fixed.csv"))
    assert again.counts["create"] == 2 and again.counts["fail"] == 0


def test_a_dry_run_writes_nothing(directory: Directory, tmp_path: Path) -> None:
    result = import_users(directory, write(tmp_path, TWO_USERS), dry_run=True)
    assert result.dry_run and result.run_id is None
    assert result.counts == {"create": 2, "update": 0, "unchanged": 0, "fail": 0}
    assert result.credential_counts["create"] == 6
    assert directory.users_frame().empty and holdings(directory) == []
    assert list_runs(directory).empty


def test_a_dry_run_on_a_missing_directory_makes_no_file(tmp_path: Path) -> None:
    database = tmp_path / "none.db"
    result = CliRunner().invoke(
        main,
        ["users", "import", str(write(tmp_path, TWO_USERS)), "--dry-run",
         "--db", f"sqlite:///{database}"],
    )  # fmt: skip
    assert result.exit_code == 3 and "no credkit directory at" in result.output
    assert not database.exists()


def test_undo_removes_the_users_and_credentials_the_run_added(
    directory: Directory, tmp_path: Path
) -> None:
    directory.add_users([NewUser("Ada", "Lovelace", external_id="E1", email="a@x.io")])
    result = import_users(
        directory, write(tmp_path, "Ada,King,E1,,,Suspended,,,,,AB1,\n" + TWO_USERS.split("\n")[1])
    )
    assert result.counts == {"create": 1, "update": 1, "unchanged": 0, "fail": 0}
    undone = undo_run(directory, result.run_id)
    assert undone.undone and undone.reverted == 6  # 4 credentials, 1 user created, 1 updated
    (ada,) = directory.users_frame().to_dict("records")
    assert (ada["last_name"], ada["status"], ada["email"]) == ("Lovelace", "active", "a@x.io")
    assert holdings(directory) == []
    assert directory.check_integrity() == []


def test_undo_refuses_when_a_created_user_got_another_credential_since(
    directory: Directory, tmp_path: Path
) -> None:
    result = import_users(directory, write(tmp_path, "Ada,Lovelace,E1,,,,,,,,AB1,\n"))
    (user_id,) = directory.users_frame()["user_id"]
    directory.add_credential(user_id, kind="license_plate", credential_key="license_plate:ZZ9",
                             license_plate="ZZ9")  # fmt: skip
    refused = undo_run(directory, result.run_id)
    assert not refused.undone and refused.blocking_rows == [2]
    assert len(directory.users_frame()) == 1


def test_credentials_duplicated_or_owned_by_another_user_get_the_usual_findings(
    directory: Directory, tmp_path: Path
) -> None:
    (owner,) = directory.add_users([NewUser("Kim", "Owner", external_id="K1")])
    directory.add_credential(owner, kind="license_plate", credential_key="license_plate:KIM1",
                             license_plate="KIM1")  # fmt: skip
    path = write(
        tmp_path,
        "Ada,Lovelace,E1,,,,,,,,AB1,1234\n"
        "Alan,Turing,E2,,,,,,,,AB1,\n"  # row 3: Ada's plate, on an earlier row
        "Grace,Hopper,E3,,,,,,,,KIM1,\n",  # row 4: Kim's plate
    )
    result = import_users(directory, path)
    errors = result.findings[result.findings["severity"] == "error"]
    assert errors[["row", "code"]].values.tolist() == [
        [3, "duplicate-in-file"],
        [4, "assigned-to-other-user"],
    ]
    assert "on row 2, credential 1 of 2" in errors["message"].iloc[0]
    assert result.counts == {"create": 1, "update": 0, "unchanged": 0, "fail": 2}
    # With reassign, the CSV is the source of truth: Kim's plate moves to Grace.
    moved = import_users(directory, write(tmp_path, "Grace,Hopper,E3,,,,,,,,KIM1,\n"),
                         reassign=True)  # fmt: skip
    assert moved.counts["create"] == 1 and moved.credential_counts["reassign"] == 1
    assert ("E3", "license_plate", "license_plate:KIM1", "active") in holdings(directory)


def test_an_existing_users_new_entry_code_replaces_the_old_one(
    directory: Directory, tmp_path: Path
) -> None:
    (ada,) = directory.add_users([NewUser("Ada", "Lovelace", external_id="E1")])
    directory.add_credential(ada, kind="entry_code", credential_key="entry_code:1111",
                             entry_code="1111")  # fmt: skip
    plan = plan_users(directory, write(tmp_path, "Ada,Lovelace,E1,,,,,,,,,2222\n"))
    assert plan.rows.loc[2, "outcome"] == "update"
    assert "entry-code-replaced" in plan.findings["code"].tolist()
    assert plan.credential_outcomes()["outcome"].tolist() == ["update"]


def test_a_file_without_credential_columns_imports_users_only(
    directory: Directory, tmp_path: Path
) -> None:
    path = write(tmp_path, "Ada,Lovelace,E1,,\n", header="First Name,Last Name,External ID,"
                 "Employee ID,Email\n")  # fmt: skip
    result = import_users(directory, path)
    assert result.counts["create"] == 1 and result.credential_counts["create"] == 0


def test_the_cli_plans_dry_runs_imports_and_writes_failed_rows(
    directory: Directory, tmp_path: Path
) -> None:
    path = write(tmp_path, TWO_USERS + "Bad,Card,E9,,,,Standard 26-bit Wiegand,1,x,,,\n")
    db = ["--db", directory.url]
    runner = CliRunner()
    dry = runner.invoke(main, ["users", "import", str(path), "--dry-run", *db])
    assert dry.exit_code == 1, dry.output
    assert "row 2: create Ada Lovelace" in dry.output
    assert "Dry run (nothing written)" in dry.output and "123456" not in dry.output
    assert directory.users_frame().empty
    failed = tmp_path / "failed.csv"
    done = runner.invoke(main, ["users", "import", str(path), "--failed-rows", str(failed), *db])
    assert done.exit_code == 1, done.output
    assert "Run 1: users create 2" in done.output and "credentials create 6" in done.output
    assert "row 4, Card Number" in done.output
    assert failed.read_text(encoding="utf-8").splitlines()[1].startswith("4,Bad,Card,E9")
    undo = runner.invoke(main, ["runs", "undo", "1", *db])
    assert undo.exit_code == 0, undo.output
    assert directory.users_frame().empty and holdings(directory) == []


@pytest.mark.parametrize("status", ["suspended", "SUSPENDED", "Suspended"])
def test_user_status_is_read_in_any_case(directory: Directory, tmp_path: Path, status: str) -> None:
    import_users(directory, write(tmp_path, f"Ada,Lovelace,E1,,,{status},,,,,,\n"))
    assert directory.users_frame()["status"].tolist() == ["suspended"]


def test_a_manager_imports_users_with_credentials_and_undoes_the_run(
    shared: str, tmp_path: Path
) -> None:
    """PostgreSQL roles: a manager may, a viewer may not (exit 3, before the file is read)."""
    path = write(
        tmp_path,
        "Grace,Hopper,M1,,grace@example.com,,Standard 26-bit Wiegand,7,7,,GH-1,4711\n"
        "Edsger,Dijkstra,M2,,edsger@example.com,Suspended,,,,,ED-2,\n",
    )
    refused = run("users", "import", str(path), "--db", as_login(shared, VIEWER))
    assert refused.exit_code == 3 and "may not import users" in refused.output
    done = run("users", "import", str(path), "--db", as_login(shared, MANAGER))
    assert done.exit_code == 0, done.output
    directory = Directory(shared)
    (run_record,) = list_runs(directory).to_dict("records")
    assert run_record["operator"] == MANAGER
    assert len(directory.users_frame()) == 4  # the two of the fixture and the two imported
    undone = run("runs", "undo", str(run_record["id"]), "--db", as_login(shared, MANAGER))
    assert undone.exit_code == 0, undone.output
    assert len(directory.users_frame()) == 2
    directory.dispose()


def test_a_filled_directory_before_0008_upgrades_and_then_imports_users_with_credentials(
    tmp_path: Path,
) -> None:
    from credkit.migrations import create_at, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    create_at(engine, "0006")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (user_id, external_id, email, email_key, first_name, "
                "last_name, status) VALUES ('u-1', 'E1', 'ada@example.com', "
                "'ada@example.com', 'Ada', 'Lovelace', 'active')"
            )
        )
    assert upgrade(engine, url)[0] == "0006"
    assert "user_history" in sa.inspect(engine).get_table_names()
    engine.dispose()
    directory = Directory(url)
    result = import_users(directory, write(tmp_path, TWO_USERS))
    assert result.counts == {"create": 1, "update": 1, "unchanged": 0, "fail": 0}
    assert undo_run(directory, result.run_id).undone
    (ada,) = directory.users_frame().to_dict("records")
    assert (ada["user_id"], ada["employee_id"]) == ("u-1", None)
    directory.dispose()
