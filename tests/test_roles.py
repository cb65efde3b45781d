"""Roles on a shared PostgreSQL directory: what each login may do, enforced by the database.

The PostgreSQL tests connect as real logins (trust authentication, as in CI): the group roles
are cluster-wide, so the test logins carry a prefix of their own.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.exc import ProgrammingError

from credkit.cli import main
from credkit.connection import SetupError
from credkit.directory import Directory, credentials, metadata
from credkit.export import write_export
from credkit.importer import execute_import, plan_import
from credkit.privileges import (
    ADMIN_ROLE,
    GROUP_ROLES,
    MANAGER_ROLE,
    REQUIREMENTS,
    VIEWER_ROLE,
    reads_entry_codes,
)
from credkit.review import review_bytes, review_file
from credkit.roles import TABLE_PRIVILEGES
from credkit.runs import list_runs, run_changes, undo_run
from tests.conftest import clear_postgres, postgres_url
from tests.support import ADA, ADA_USER, ALAN, ALAN_USER, csv_bytes, give_card, give_entry_code

#: Test logins (cluster-wide, like the roles): prefixed so no other test suite meets them.
PREFIX = "h7_"
ADMIN, MANAGER, OTHER_MANAGER, VIEWER, NOBODY = (
    PREFIX + name for name in ("admin", "manager", "manager2", "viewer", "nobody")
)
LOGIN_ROLES = {ADMIN: ADMIN_ROLE, MANAGER: MANAGER_ROLE, OTHER_MANAGER: MANAGER_ROLE,
               VIEWER: VIEWER_ROLE, NOBODY: None}  # fmt: skip
#: Alan's entry code: no command or query of a viewer may ever show it.
SECRET_CODE = "735519"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def as_login(url: str, login: str) -> str:
    return sa.make_url(url).set(username=login, password=None).render_as_string(False)


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[str]:
    """A PostgreSQL directory made before any roles (two users, a card, an entry code, its
    Alembic version table), then `credkit roles setup`, and a login per role; its URL."""
    url = postgres_url()
    clear_postgres(url)
    directory = Directory(url)
    directory.add_users([ADA_USER, ALAN_USER])
    give_card(directory, ADA, 1, 1)
    give_entry_code(directory, ALAN, SECRET_CODE)
    with directory.engine.begin() as conn:
        for login, role in LOGIN_ROLES.items():
            exists = conn.execute(
                sa.text("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :l)"), {"l": login}
            ).scalar_one()
            if not exists:
                conn.exec_driver_sql(f"CREATE ROLE {login} LOGIN")
            for group in GROUP_ROLES:  # a login left from an earlier run starts afresh
                if (
                    group != role
                    and conn.execute(
                        sa.text("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :g)"),
                        {"g": group},
                    ).scalar_one()
                ):
                    conn.exec_driver_sql(f"REVOKE {group} FROM {login}")
    directory.dispose()
    result = run("roles", "setup", "--db", url)
    assert result.exit_code == 0, result.output
    for login, role in LOGIN_ROLES.items():
        if role:
            assert run("roles", "grant", login, role, "--db", url).exit_code == 0
    yield url
    clear_postgres(url)


def login_engine(url: str, login: str) -> sa.Engine:
    return sa.create_engine(as_login(url, login))


def import_file(tmp_path: Path, rows: list[dict[str, str]], name: str = "cards.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows))
    return path


def card(user_id: str, facility: int, number: int) -> dict[str, str]:
    return {"User ID": user_id, "Card Type": "Standard 26-bit Wiegand",
            "Facility Code": str(facility), "Card Number": str(number)}  # fmt: skip


# --- the catalogue -------------------------------------------------------------------------


def test_every_table_has_its_privileges_listed() -> None:
    # A table added to the directory without a line in TABLE_PRIVILEGES fails here.
    assert set(TABLE_PRIVILEGES) == set(metadata.tables) | {"alembic_version"}
    for table, grants in TABLE_PRIVILEGES.items():
        assert set(grants) == set(GROUP_ROLES), table
        names = set(metadata.tables[table].c.keys()) if table in metadata.tables else set()
        for grant in grants.values():
            assert set(grant.select_columns) <= names, table
    for needs in REQUIREMENTS.values():
        for need in needs:
            assert set(need.columns) <= set(metadata.tables[need.table].c.keys())


def test_a_viewer_reads_no_credential_value_column() -> None:
    viewer = TABLE_PRIVILEGES["credentials"][VIEWER_ROLE]
    assert not viewer.privileges  # column privileges only
    values = {"entry_code", "card_number", "card_number_hex", "facility_code", "license_plate"}
    assert not values & set(viewer.select_columns)


# --- setup ---------------------------------------------------------------------------------


def test_setup_grants_exactly_the_catalogue_and_can_run_again(shared: str) -> None:
    again = run("roles", "setup", "--db", shared)
    assert again.exit_code == 0, again.output
    assert "Roles created: none (all existed)." in again.output
    engine = sa.create_engine(shared)
    with engine.connect() as conn:
        table_grants = set(
            conn.execute(
                sa.text(
                    "SELECT grantee, table_name, privilege_type "
                    "FROM information_schema.role_table_grants WHERE grantee = ANY(:r)"
                ),
                {"r": list(GROUP_ROLES)},
            ).all()
        )
        column_grants = set(
            conn.execute(
                sa.text(  # column privileges as granted (not those a table grant implies)
                    "SELECT CAST(:v AS text), c.relname::text, a.attname::text FROM pg_attribute a "
                    "JOIN pg_class c ON c.oid = a.attrelid, aclexplode(a.attacl) AS x "
                    "WHERE x.grantee = CAST(CAST(:v AS text) AS regrole) AND x.privilege_type = 'SELECT'"
                ),
                {"v": VIEWER_ROLE},
            ).all()
        )
        sequences = set(
            conn.execute(
                sa.text(
                    "SELECT r, c.relname FROM pg_class c, unnest(CAST(:r AS text[])) AS r "
                    "WHERE c.relkind = 'S' AND has_sequence_privilege(r, c.oid, 'USAGE')"
                ),
                {"r": list(GROUP_ROLES)},
            ).all()
        )
        trigger = conn.execute(
            sa.text("SELECT count(*) FROM pg_trigger WHERE tgname = 'import_runs_operator'")
        ).scalar_one()
    engine.dispose()
    expected = {
        (role, table, privilege)
        for table, grants in TABLE_PRIVILEGES.items()
        for role, grant in grants.items()
        for privilege in grant.privileges
    }
    assert table_grants == expected
    assert column_grants == {
        (VIEWER_ROLE, table, column)
        for table, grants in TABLE_PRIVILEGES.items()
        for column in grants[VIEWER_ROLE].select_columns
    }
    tables = ("users", "credentials", "import_runs", "credential_history", "user_history")
    assert sequences == {
        (role, f"{t}_id_seq") for role in (ADMIN_ROLE, MANAGER_ROLE) for t in tables
    } | {(ADMIN_ROLE, "credkit_generation"), (MANAGER_ROLE, "credkit_generation")}
    assert trigger == 1


def test_setup_needs_a_login_that_may_create_roles(shared: str) -> None:
    result = run("roles", "setup", "--db", as_login(shared, ADMIN))
    assert result.exit_code == 3
    assert f"your login {ADMIN} may not create roles" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_setup_needs_a_directory() -> None:
    url = postgres_url()
    clear_postgres(url)
    result = run("roles", "setup", "--db", url)
    assert result.exit_code == 3
    assert "no credkit directory at" in result.output and "create it first" in result.output


def test_roles_on_sqlite_say_there_are_none(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'credkit.db'}"
    for args in (["roles"], ["roles", "setup"], ["roles", "grant", "ada", "manager"]):
        result = run(*args[:1], "--db", url, *args[1:])
        assert result.exit_code == 3, args
        assert "a SQLite directory has no roles" in result.output


# --- granting ------------------------------------------------------------------------------


def _members(listing: str) -> dict[str, set[str]]:
    """`credkit roles` output as role -> logins. Roles are cluster-wide: other tests' logins
    (and an operator's own) may be members too, so tests check membership, not the whole line."""
    members = {}
    for line in listing.splitlines():
        role, _, logins = line.partition(": ")
        members[role] = {login for login in logins.split(", ") if login}
    return members


def test_an_administrator_grants_and_others_may_not(shared: str) -> None:
    listing = run("roles", "--db", shared)
    assert {MANAGER, OTHER_MANAGER} <= _members(listing.output)[MANAGER_ROLE]
    admin_url = as_login(shared, ADMIN)
    assert run("roles", "grant", NOBODY, "viewer", "--db", admin_url).exit_code == 0
    viewers = _members(run("roles", "--db", shared).output)[VIEWER_ROLE]
    assert {NOBODY, VIEWER} <= viewers
    assert run("roles", "revoke", NOBODY, "viewer", "--db", admin_url).exit_code == 0
    assert NOBODY not in _members(run("roles", "--db", shared).output)[VIEWER_ROLE]
    refused = run("roles", "grant", NOBODY, "manager", "--db", as_login(shared, MANAGER))
    assert refused.exit_code == 3
    assert f"your login {MANAGER} may not grant or revoke {MANAGER_ROLE}" in refused.output
    missing = run("roles", "grant", "h7_no_such_login", "viewer", "--db", admin_url)
    assert missing.exit_code == 3 and "there is no login h7_no_such_login" in missing.output
    wrong = run("roles", "grant", NOBODY, "superuser", "--db", admin_url)
    assert wrong.exit_code == 2 and "not one of credkit's roles" in wrong.output


# --- the operator ----------------------------------------------------------------------------


def test_a_runs_operator_is_the_login_and_operator_is_a_note(shared: str, tmp_path: Path) -> None:
    url = as_login(shared, MANAGER)
    path = import_file(tmp_path, [card(ALAN, 2, 2)])
    # The manager names an administrator: it is recorded as whom they ran it for, no more.
    result = run("import", str(path), "--db", url, "--operator", ADMIN)
    assert result.exit_code == 0, result.output
    (record,) = list_runs(Directory(shared)).to_dict("records")
    assert (record["operator"], record["on_behalf_of"]) == (MANAGER, ADMIN)
    assert f"{MANAGER} for {ADMIN}" in run("runs", "--db", url).output


def test_a_manager_cannot_record_a_run_as_another_login(shared: str) -> None:
    engine = login_engine(shared, MANAGER)
    with engine.begin() as conn:
        run_id = conn.execute(
            sa.text(
                "INSERT INTO import_runs (kind, operator, started_at, file_name, file_sha256, "
                "options, counts) VALUES ('credentials', :forged, now(), 'f.csv', 'x', '{}', "
                "'{}') RETURNING id"
            ),
            {"forged": ADMIN},
        ).scalar_one()
        conn.execute(
            sa.text("UPDATE import_runs SET operator = :forged WHERE id = :id"),
            {"forged": ADMIN, "id": run_id},
        )
        operator = conn.execute(
            sa.text("SELECT operator FROM import_runs WHERE id = :id"), {"id": run_id}
        ).scalar_one()
    engine.dispose()
    assert operator == MANAGER


def test_on_sqlite_the_operator_is_the_operating_system_user(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'credkit.db'}"
    directory = Directory(url)
    directory.add_users([ALAN_USER])
    path = import_file(tmp_path, [card(ALAN, 2, 2)])
    assert run("import", str(path), "--db", url, "--operator", "someone").exit_code == 0
    (record,) = list_runs(directory).to_dict("records")
    assert (record["operator"], record["on_behalf_of"]) == (getpass.getuser(), "someone")


# --- what a viewer may not do -------------------------------------------------------------------


def test_a_viewer_cannot_import_export_or_undo(shared: str, tmp_path: Path) -> None:
    manager = run("import", str(import_file(tmp_path, [card(ALAN, 2, 2)])), "--db",
                  as_login(shared, MANAGER))  # fmt: skip
    assert manager.exit_code == 0, manager.output
    url = as_login(shared, VIEWER)
    absent = str(tmp_path / "not-there.csv")  # refused before the file is read
    output = tmp_path / "export.csv"
    for args, words in (
        (["import", absent], "may not import credentials"),
        (["users", "import", absent], "may not import users"),
        (["export", "-o", str(output)], "may not export credentials"),
        (["runs", "undo", "1"], "may not undo runs"),
    ):
        result = run(*args, "--db", url)
        assert result.exit_code == 3, (args, result.output)
        (line,) = result.output.strip().splitlines()
        assert f"your login {VIEWER} {words}" in line
        assert f"credkit roles grant {VIEWER} ROLE" in line
    assert not output.exists()
    assert list_runs(Directory(shared))["undone_by"].isna().all()


def test_a_viewer_may_plan_an_import_that_writes_nothing(shared: str, tmp_path: Path) -> None:
    path = import_file(tmp_path, [card(ALAN, 2, 2)])
    result = run("import", str(path), "--dry-run", "--db", as_login(shared, VIEWER))
    assert result.exit_code == 0, result.output
    assert "Dry run (nothing written): create 1" in result.output
    assert list_runs(Directory(shared)).empty


def test_the_database_refuses_a_viewer_that_bypasses_credkit(shared: str, tmp_path: Path) -> None:
    directory = Directory(as_login(shared, VIEWER))
    review = review_bytes(csv_bytes([card(ALAN, 2, 2)]), directory)
    with pytest.raises(ProgrammingError, match="permission denied"):
        execute_import(plan_import(review), directory)
    with pytest.raises(ProgrammingError, match="permission denied"):
        write_export(directory, tmp_path / "export.csv")
    with pytest.raises(ProgrammingError, match="permission denied"), directory.engine.begin() as c:
        c.execute(credentials.delete())
    directory.dispose()


def test_no_query_shows_a_viewer_an_entry_code(shared: str, tmp_path: Path) -> None:
    # Give the code a history too: a manager replaces Alan's entry code with another.
    manager = run("import", str(import_file(tmp_path, [{"User ID": ALAN, "Entry Code": "246810"}])),
                  "--db", as_login(shared, MANAGER))  # fmt: skip
    assert manager.exit_code == 0, manager.output
    admin = sa.create_engine(shared)
    with admin.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    admin.dispose()
    engine = login_engine(shared, VIEWER)
    seen: list[str] = []
    with engine.connect() as conn:
        assert not reads_entry_codes(conn)
        with pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(sa.text("SELECT entry_code FROM credentials"))
        conn.rollback()
        for query in (
            "SELECT credential_key, kind FROM credentials",
            "SELECT credential_key, action, before::text, after::text FROM credential_history",
            "SELECT options::text, counts::text FROM import_runs",
            "SELECT attname, most_common_vals::text, histogram_bounds::text FROM pg_stats "
            "WHERE tablename IN ('credentials', 'credential_history')",
        ):
            seen.extend(str(value) for row in conn.execute(sa.text(query)) for value in row)
    engine.dispose()
    assert seen  # the viewer did read the cards and runs
    assert not [value for value in seen if "entry_code:" in value or SECRET_CODE in value]
    assert not [value for value in seen if "246810" in value]


def test_a_viewers_review_and_runs_show_entry_codes_as_withheld(
    shared: str, tmp_path: Path
) -> None:
    url = as_login(shared, VIEWER)
    path = import_file(tmp_path, [{"User ID": ADA, "Entry Code": SECRET_CODE}, card(ALAN, 1, 1)])
    result = run("review", str(path), "--db", url)
    assert result.exit_code == 1, result.output  # the card is Ada's: that error still shows
    assert "entry-code-withheld" in result.output and "assigned-to-other-user" in result.output
    assert SECRET_CODE not in result.output
    review = review_file(path, Directory(url))
    withheld = review.rows[review.rows["code"] == "entry-code-withheld"]
    assert list(withheld["row"]) == [2] and withheld["severity"].tolist() == ["warning"]
    # A manager's review of the same file does check it: the code is Alan's.
    managed = review_file(path, Directory(as_login(shared, MANAGER)))
    assert "entry-code-in-use" in set(managed.rows["code"])
    assert "entry-code-withheld" not in set(managed.rows["code"])
    imported = run("import", str(import_file(tmp_path, [{"User ID": ALAN, "Entry Code": "246810"}])),
                   "--db", as_login(shared, MANAGER))  # fmt: skip
    assert imported.exit_code == 0
    shown = run("runs", "show", "1", "--db", url)
    assert shown.exit_code == 0, shown.output
    assert "withheld from your login" in shown.output
    assert SECRET_CODE not in shown.output and "entry_code:" not in shown.output
    assert run_changes(Directory(url), 1).empty


def test_a_login_without_a_role_may_not_even_review(shared: str, tmp_path: Path) -> None:
    result = run("review", str(tmp_path / "absent.csv"), "--db", as_login(shared, NOBODY))
    assert result.exit_code == 3
    assert f"your login {NOBODY} may not use the directory" in result.output
    assert VIEWER_ROLE in result.output


# --- undo ----------------------------------------------------------------------------------


def test_a_manager_undoes_only_their_own_runs(shared: str, tmp_path: Path) -> None:
    other = run("import", str(import_file(tmp_path, [card(ALAN, 2, 2)])), "--db",
                as_login(shared, OTHER_MANAGER))  # fmt: skip
    assert other.exit_code == 0, other.output
    refused = run("runs", "undo", "1", "--db", as_login(shared, MANAGER))
    assert refused.exit_code == 3
    assert f"run 1 was recorded by {OTHER_MANAGER}" in refused.output
    # The database holds the line too: the run's update finds no row to change.
    directory = Directory(as_login(shared, MANAGER))
    with directory.engine.begin() as conn:
        marked = conn.execute(sa.text("UPDATE import_runs SET undone_by = id WHERE id = 1"))
        assert marked.rowcount == 0
    with pytest.raises(SetupError):
        undo_run(directory, 1)
    own = run("runs", "undo", "1", "--db", as_login(shared, OTHER_MANAGER))
    assert own.exit_code == 0, own.output


def test_an_administrator_undoes_anyones_run(shared: str, tmp_path: Path) -> None:
    assert run("import", str(import_file(tmp_path, [card(ALAN, 2, 2)])), "--db",
               as_login(shared, MANAGER)).exit_code == 0  # fmt: skip
    result = run("runs", "undo", "1", "--db", as_login(shared, ADMIN))
    assert result.exit_code == 0, result.output
    runs = list_runs(Directory(shared)).set_index("id")
    assert runs.loc[2, "operator"] == ADMIN and runs.loc[1, "undone_by"] == 2


def test_a_manager_exports_every_entry_code(shared: str, tmp_path: Path) -> None:
    output = tmp_path / "export.csv"
    result = run("export", "-o", str(output), "--db", as_login(shared, MANAGER))
    assert result.exit_code == 0, result.output
    assert SECRET_CODE in output.read_text()
