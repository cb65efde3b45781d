"""The user import adds and updates users; bad rows are reported by row and never applied."""

from __future__ import annotations

from pathlib import Path

from credkit.directory import Directory, NewUser
from credkit.privileges import current_login
from credkit.users import import_users

HEADER = "First Name,Last Name,External ID,Employee ID,Email\n"


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "users.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_adds_users_and_reports_bad_rows(directory: Directory, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Ada,Lovelace,E1,007,ada@example.com\n"
        ",Turing,E2,,alan@example.com\n"  # row 3: no first name
        "Grace,Hopper,E3,,grace-at-example\n"  # row 4: not an email
        "Ada,Byron,E4,007,ADA@example.com\n"  # row 5: the same email as row 2
        "Edsger,Dijkstra,,,edsger@example.com\n",
    )
    result = import_users(directory, path, operator="tester")
    assert result.counts == {"create": 2, "update": 0, "unchanged": 0, "fail": 3}
    assert [
        tuple(f) for f in result.findings[["row", "column", "code"]].itertuples(index=False)
    ] == [
        (3, "First Name", "missing-name"),
        (4, "Email", "email-invalid"),
        (5, "Email", "duplicate-in-file"),
    ]
    users = directory.users_frame()
    assert users["email"].tolist() == ["ada@example.com", "edsger@example.com"]
    assert users["employee_id"].tolist() == ["007", None]


def test_updates_by_external_id_then_email(directory: Directory, tmp_path: Path) -> None:
    directory.add_users(
        [
            NewUser("Ada", "Lovelace", external_id="E1", email="ada@example.com"),
            NewUser("Alan", "Turing", email="alan@example.com"),
        ]
    )
    path = write(
        tmp_path,
        "Ada,King,E1,,ada@example.com\n"  # matched by External ID: new last name
        "Alan,Turing,E2,,ALAN@example.com\n",  # matched by email: gains an External ID
    )
    result = import_users(directory, path)
    assert result.counts == {"create": 0, "update": 2, "unchanged": 0, "fail": 0}
    users = directory.users_frame()
    assert users["last_name"].tolist() == ["King", "Turing"]
    assert users["external_id"].tolist() == ["E1", "E2"]
    again = import_users(directory, path)
    assert again.counts == {"create": 0, "update": 0, "unchanged": 2, "fail": 0}


def test_keys_that_name_two_users_fail(directory: Directory, tmp_path: Path) -> None:
    directory.add_users(
        [
            NewUser("Ada", "Lovelace", external_id="E1", email="ada@example.com"),
            NewUser("Alan", "Turing", external_id="E2", email="alan@example.com"),
        ]
    )
    result = import_users(directory, write(tmp_path, "Ada,Lovelace,E1,,alan@example.com\n"))
    assert result.counts["fail"] == 1
    assert result.findings["code"].tolist() == ["keys-disagree"]
    assert directory.users_frame()["email"].tolist() == ["ada@example.com", "alan@example.com"]


def test_a_file_without_name_columns_is_rejected(directory: Directory, tmp_path: Path) -> None:
    result = import_users(directory, write(tmp_path, "x@example.com\n", header="Email\n"))
    assert result.rejected
    assert sorted(result.findings["code"]) == ["missing-name-column", "missing-name-column"]
    assert directory.users_frame().empty


def test_a_run_is_recorded(directory: Directory, tmp_path: Path) -> None:
    from credkit.runs import list_runs

    result = import_users(directory, write(tmp_path, "Ada,Lovelace,E1,,\n"), operator="ops")
    (run,) = list_runs(directory).to_dict("records")
    assert run["id"] == result.run_id
    with directory.engine.connect() as conn:
        login = current_login(conn)  # the directory's login, never the caller's name (#15)
    assert (run["kind"], run["operator"], run["on_behalf_of"]) == ("users", login, "ops")
    assert run["file_name"] == "users.csv"
    assert run["counts"]["create"] == 1 and len(run["file_sha256"]) == 64


def test_empty_cells_leave_the_directory_as_it_is(directory: Directory, tmp_path: Path) -> None:
    directory.add_users(
        [NewUser("Ada", "Lovelace", external_id="E1", employee_id="7", email="a@x.io")]
    )
    result = import_users(directory, write(tmp_path, "Ada,King,E1,,\n"))
    assert result.counts["update"] == 1
    (user,) = directory.users_frame().to_dict("records")
    assert (user["last_name"], user["employee_id"], user["email"]) == ("King", "7", "a@x.io")


def test_a_change_made_meanwhile_fails_the_row_not_the_file(
    directory: Directory, tmp_path: Path, monkeypatch
) -> None:
    """Another session adds a user with the same email between our read and our write."""
    path = write(tmp_path, "Ada,Lovelace,E1,,ada@example.com\nAlan,Turing,E2,,alan@example.com\n")
    stale_view = directory.users_frame()
    directory.add_users([NewUser("Someone", "Else", email="ADA@example.com")])
    monkeypatch.setattr(directory, "users_frame", lambda: stale_view)
    result = import_users(directory, path)
    assert result.counts == {"create": 1, "update": 0, "unchanged": 0, "fail": 1}
    assert [tuple(f) for f in result.findings[["row", "code"]].itertuples(index=False)] == [
        (2, "user-conflict")
    ]


def test_a_value_longer_than_the_directory_stores_fails_its_row_only(
    directory: Directory, tmp_path: Path
) -> None:
    # On PostgreSQL the database refuses such a value; the rows around it must still import,
    # on both backends alike.
    path = write(
        tmp_path,
        "Ada,Lovelace,E1,,ada@example.com\n"
        + "A" * 300 + ",Turing,E2,,alan@example.com\n"  # row 3: 300 characters
        + "Grace,Hopper,E3," + "7" * 256 + ",grace@example.com\n"  # row 4: 256 characters
        + "Edsger,Dijkstra,E4,,edsger@example.com\n",
    )  # fmt: skip
    result = import_users(directory, path, operator="tester")
    assert result.counts == {"create": 2, "update": 0, "unchanged": 0, "fail": 2}
    assert [
        tuple(f) for f in result.findings[["row", "column", "code"]].itertuples(index=False)
    ] == [(3, "First Name", "field-too-long"), (4, "Employee ID", "field-too-long")]
    assert "300 characters long" in result.findings["message"].iloc[0]
    assert "at most 255" in result.findings["message"].iloc[0]
    assert directory.users_frame()["external_id"].tolist() == ["E1", "E4"]
