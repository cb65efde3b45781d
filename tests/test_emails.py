"""Emails match as a person reads them (Unicode case), never through look-alike characters."""

from __future__ import annotations

from pathlib import Path

from credkit.directory import Directory, NewUser
from credkit.review import review_bytes
from credkit.users import import_users
from tests.support import csv_bytes


def users_file(path: Path, *rows: str) -> Path:
    path.write_text("First Name,Last Name,External ID,Email\n" + "\n".join(rows) + "\n")
    return path


def test_an_email_in_another_case_finds_its_user_in_a_review(directory: Directory) -> None:
    (emile,) = directory.add_users([NewUser("Émile", "Zola", email="émile@example.com")])
    review = review_bytes(csv_bytes([{"Email": "ÉMILE@EXAMPLE.COM", "License Plate": "ZOLA1"}]),
                          directory)  # fmt: skip
    assert review.rows.empty
    assert review.resolved["user_id"].tolist() == [emile]


def test_a_user_import_does_not_create_a_second_user_for_another_case(
    directory: Directory, tmp_path: Path
) -> None:
    directory.add_users([NewUser("Émile", "Zola", email="émile@example.com")])
    path = users_file(tmp_path / "users.csv", "Émile,Zola,E9,ÉMILE@EXAMPLE.COM")
    result = import_users(directory, path)
    assert result.counts == {"create": 0, "update": 1, "unchanged": 0, "fail": 0}
    frame = directory.users_frame()
    assert frame[["external_id", "email"]].values.tolist() == [["E9", "ÉMILE@EXAMPLE.COM"]]


def test_a_look_alike_email_is_no_match_and_is_warned_about_in_a_review(
    directory: Directory,
) -> None:
    directory.add_users([NewUser("Kim", "Ng", email="kim@example.com")])
    rows = [{"Email": "\uff2bIM@example.com", "License Plate": "KIM1"},
            {"Email": "\u212aim@example.com", "License Plate": "KIM2"}]  # fmt: skip
    review = review_bytes(csv_bytes(rows), directory)
    found = review.rows[["row", "column", "code", "severity"]].values.tolist()
    assert sorted(found) == [
        [2, "Email", "email-lookalike", "warning"],
        [2, "Email", "unknown-user", "error"],
        [3, "Email", "email-lookalike", "warning"],
        [3, "Email", "unknown-user", "error"],
    ]
    messages = review.rows.set_index(["row", "code"])["message"]
    # Messages quote the value as written in the file, not its folded key.
    assert "No user has Email '\uff2bIM@example.com'" in messages[(2, "unknown-user")]
    assert "'\u212a'" in messages[(3, "email-lookalike")]


def test_a_look_alike_email_makes_its_own_user_with_a_warning(
    directory: Directory, tmp_path: Path
) -> None:
    directory.add_users([NewUser("Kim", "Ng", email="kim@example.com")])
    path = users_file(tmp_path / "users.csv", "Kim,Ng,,\uff4bim@example.com")
    result = import_users(directory, path)
    assert result.counts == {"create": 1, "update": 0, "unchanged": 0, "fail": 0}
    found = result.findings[["row", "column", "code", "severity"]].values.tolist()
    assert found == [[2, "Email", "email-lookalike", "warning"]]
    assert sorted(directory.users_frame()["email"]) == ["kim@example.com", "\uff4bim@example.com"]
