"""The directory outlives a release: its schema is versioned, upgraded in place, never lost."""

from __future__ import annotations

import importlib
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from credkit import generation, snapshot
from credkit.cli import main
from credkit.connection import SetupError
from credkit.directory import Directory, metadata
from credkit.migrations import HEAD, REVISIONS, SCRIPT_LOCATION, create_at, current_revision
from credkit.review import review_bytes
from tests.conftest import clear_postgres, postgres_url

FILES = Path(__file__).parent / "files" / "migrations"
FIRST_RELEASE = importlib.import_module("credkit.migrations.versions.0001_first_release")
WHEN = datetime(2026, 11, 2, 8, 30)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no directory in it yet)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'credkit.db'}"
        return
    url = postgres_url()
    clear_postgres(url)
    yield url
    clear_postgres(url)


def engine_of(url: str) -> sa.Engine:
    return sa.create_engine(url)


def schema_of(url: str) -> dict[str, Any]:
    """Every table as the database describes it: columns, keys, indexes and checks."""
    engine = engine_of(url)
    inspector = sa.inspect(engine)
    schema = {}
    for table in sorted(inspector.get_table_names()):
        schema[table] = {
            "columns": [
                [c["name"], str(c["type"]), c["nullable"]] for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                [fk["constrained_columns"], fk["referred_table"], fk["referred_columns"]]
                for fk in inspector.get_foreign_keys(table)
            ),
            "unique": sorted(u["column_names"] for u in inspector.get_unique_constraints(table)),
            "indexes": sorted(
                [i["name"], i["column_names"], bool(i["unique"]), where_of(i)]
                for i in inspector.get_indexes(table)
            ),
            "checks": sorted(
                [c["name"], c["sqltext"]] for c in inspector.get_check_constraints(table)
            ),
        }
    engine.dispose()
    return json.loads(json.dumps(schema))


def where_of(index: dict[str, Any]) -> str | None:
    """A partial index's condition, as text."""
    options = index.get("dialect_options", {})
    where = options.get("sqlite_where", options.get("postgresql_where"))
    return None if where is None else str(where)


def make_before_alembic(url: str) -> None:
    """A directory exactly as the first release (no Alembic) left it."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(sa.make_url(url).database)
        connection.executescript((FILES / "first-release-sqlite.sql").read_text())
        connection.close()
        return
    engine = engine_of(url)
    create_at(engine, "0001")
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))
    engine.dispose()


def test_the_revision_list_is_the_scripts_in_order() -> None:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    scripts = ScriptDirectory.from_config(config)
    walked = [script.revision for script in scripts.walk_revisions()]  # newest first
    assert tuple(reversed(walked)) == REVISIONS
    assert scripts.get_current_head() == HEAD


def test_revision_1_is_the_first_release_schema_on_sqlite(tmp_path: Path) -> None:
    """Revision 1's frozen tables make, statement for statement, what the release made."""
    url = f"sqlite:///{tmp_path / 'one.db'}"
    engine = engine_of(url)
    create_at(engine, "0001")
    with engine.connect() as conn:
        made = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT LIKE 'alembic%' ORDER BY rowid"
        ).scalars()
        made = [sql.strip() + ";" for sql in made]
    engine.dispose()
    lines = (FILES / "first-release-sqlite.sql").read_text().splitlines()
    released = "\n".join(line for line in lines if not line.startswith("--")).split(";")
    assert sorted(made) == sorted(sql.strip() + ";" for sql in released if sql.strip())


def test_upgrading_from_revision_1_makes_the_schema_a_new_directory_has(
    url: str, tmp_path: Path
) -> None:
    """A new directory is made by create_all and a stamp (fast); an old one by the migrations:
    both must end with the same tables, columns, keys, indexes and checks."""
    make_before_alembic(url)
    result = CliRunner().invoke(main, ["db", "upgrade", "--db", url])
    assert result.exit_code == 0, result.output
    upgraded = schema_of(url)
    engine = engine_of(url)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
        assert current_revision(conn) == HEAD
    engine.dispose()
    assert differences == []
    if url.startswith("sqlite"):
        new_url = f"sqlite:///{tmp_path / 'new.db'}"
    else:
        clear_postgres(url)
        new_url = url
    Directory(new_url).dispose()
    assert schema_of(new_url) == upgraded


def fill_first_release(url: str) -> dict[str, list[dict[str, Any]]]:
    """Users, credentials, two runs (one finished, one killed) and their history, written with
    the first release's tables; returns every row written, by table."""
    tables = FIRST_RELEASE.first_release_metadata().tables
    rows: dict[str, list[dict[str, Any]]] = {
        "users": [
            dict(id=1, user_id="u-ada", external_id="E1", employee_id="7", email="Ada@Example.com",
                 email_key="ada@example.com", first_name="Ada", last_name="Lovelace",
                 status="active"),
            dict(id=2, user_id="u-emile", external_id="E2", employee_id=None,
                 email="ÉMILE@EXAMPLE.COM", email_key="Émile@example.com", first_name="Émile",
                 last_name="Zola", status="suspended"),
            dict(id=3, user_id="u-kim", external_id="E3", employee_id=None, email=None,
                 email_key=None, first_name="Kim", last_name="Ng", status="active"),
        ],
        "credentials": [
            dict(id=1, user_pk=1, kind="card", credential_key="card:Standard 26-bit Wiegand:7:42",
                 card_type="Standard 26-bit Wiegand", facility_code="7", card_number="42",
                 card_number_hex="0E00055", license_plate=None, entry_code=None,
                 status="active", modified=WHEN),
            dict(id=2, user_pk=2, kind="license_plate", credential_key="license_plate:ZOLA1",
                 card_type=None, facility_code=None, card_number=None, card_number_hex=None,
                 license_plate="ZOLA1", entry_code=None, status="inactive", modified=WHEN),
            dict(id=3, user_pk=3, kind="entry_code", credential_key="entry_code:004711",
                 card_type=None, facility_code=None, card_number=None, card_number_hex=None,
                 license_plate=None, entry_code="004711", status="active", modified=WHEN),
        ],
        "import_runs": [
            dict(id=1, kind="credentials", operator="ops", started_at=WHEN, finished_at=WHEN,
                 file_name="plates.csv", file_sha256="a" * 64, options={"reassign": False},
                 counts={"create": 1}, undone_by=None),
            dict(id=2, kind="credentials", operator="ops", started_at=WHEN, finished_at=None,
                 file_name="killed.csv", file_sha256="b" * 64, options={}, counts={},
                 undone_by=None),
        ],
        "credential_history": [
            dict(id=1, run_id=1, row=2, credential_key="license_plate:ZOLA1", action="create",
                 before=None, after={"user_id": "u-emile", "status": "inactive",
                                     "modified": "2026-11-02T08:30:00Z"}, at=WHEN),
            dict(id=2, run_id=2, row=2, credential_key="entry_code:004711", action="create",
                 before=None, after={"user_id": "u-kim", "status": "active",
                                     "modified": "2026-11-02T08:30:00Z"}, at=WHEN),
        ],
    }  # fmt: skip
    engine = engine_of(url)
    with engine.begin() as conn:
        for name, table_rows in rows.items():
            conn.execute(tables[name].insert(), table_rows)
    engine.dispose()
    return rows


def stored_rows(url: str) -> dict[str, list[dict[str, Any]]]:
    tables = FIRST_RELEASE.first_release_metadata().tables
    engine = engine_of(url)
    with engine.connect() as conn:
        stored = {
            name: [dict(row) for row in conn.execute(sa.select(table).order_by(table.c.id))
                   .mappings()]
            for name, table in tables.items()
        }  # fmt: skip
    engine.dispose()
    return stored


@pytest.mark.parametrize("stamped", [False, True], ids=["before-alembic", "stamped-0001"])
def test_every_row_survives_an_upgrade_from_revision_1(url: str, stamped: bool) -> None:
    if stamped:
        engine = engine_of(url)
        create_at(engine, "0001")
        engine.dispose()
    else:
        make_before_alembic(url)
    written = fill_first_release(url)
    with pytest.raises(SetupError, match="credkit db upgrade"):
        Directory(url)
    result = CliRunner().invoke(main, ["db", "upgrade", "--db", url])
    assert result.exit_code == 0, result.output
    assert f"from revision 0001 to {HEAD}" in result.output
    survived = stored_rows(url)
    expected = json.loads(json.dumps(written, default=str))
    # The one change an upgrade makes to old rows: email keys fold Unicode case now.
    expected["users"][1]["email_key"] = "émile@example.com"
    assert json.loads(json.dumps(survived, default=str)) == expected
    directory = Directory(url)  # now at the head: opened without complaint
    try:
        found = review_bytes(b"Email,License Plate\nemile@example.com,AB12\n", directory)
        assert found.rows["code"].tolist() == ["unknown-user"]
        found = review_bytes("Email,License Plate\nÉmile@example.com,AB12\n".encode(), directory)
        assert found.rows.empty  # Émile is found by his email in another case
    finally:
        directory.dispose()
    again = CliRunner().invoke(main, ["db", "upgrade", "--db", url])
    assert again.exit_code == 0 and f"already at revision {HEAD}" in again.output


def test_revision_7_gives_a_filled_directory_the_generation_its_snapshots_follow(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    engine = engine_of(url)
    create_at(engine, "0006")
    engine.dispose()
    written = fill_first_release(url)
    result = CliRunner().invoke(main, ["db", "upgrade", "--db", url])
    assert result.exit_code == 0, result.output
    assert f"from revision 0006 to {HEAD}" in result.output
    assert len(stored_rows(url)["credentials"]) == len(written["credentials"])
    directory = Directory(url)
    try:
        with directory.engine.connect() as conn:
            before = generation.state(conn)
        assert before[2] == HEAD
        upload = b"Email,License Plate\nada@example.com,ZZ99\n"
        snapshot._MEMORY.clear()
        reads = snapshot.READS.copy()
        first = review_bytes(upload, directory).rows["code"].tolist()
        assert review_bytes(upload, directory).rows["code"].tolist() == first
        assert snapshot.READS - reads == Counter({"database": 1, "memory": 1})
        with directory.engine.begin() as conn:  # an old-style write, straight in SQL
            conn.execute(
                sa.text(
                    "INSERT INTO credentials (id, user_pk, kind, credential_key, license_plate, "
                    "status, modified) SELECT max(id) + 1, 3, 'license_plate', "
                    "'license_plate:ZZ99', 'ZZ99', 'active', :at FROM credentials"
                ),
                {"at": WHEN},
            )
        with directory.engine.connect() as conn:
            assert generation.state(conn)[:2] != before[:2]
        found = review_bytes(upload, directory).rows["code"].tolist()
        assert "assigned-to-other-user" in found and found != first
        assert snapshot.READS["database"] == reads["database"] + 2
    finally:
        snapshot._MEMORY.clear()
        directory.dispose()


def test_an_upgrade_that_cannot_finish_changes_nothing(url: str) -> None:
    """Two users whose emails only ASCII folding kept apart: the upgrade stops, and the
    directory stays at revision 1 with its keys as they were (one transaction)."""
    make_before_alembic(url)
    tables = FIRST_RELEASE.first_release_metadata().tables
    engine = engine_of(url)
    with engine.begin() as conn:
        conn.execute(
            tables["users"].insert(),
            [
                dict(user_id="u1", email="émile@example.com", email_key="émile@example.com",
                     first_name="É", last_name="Z", status="active"),
                dict(user_id="u2", email="ÉMILE@example.com", email_key="Émile@example.com",
                     first_name="É", last_name="Z", status="active"),
            ],
        )  # fmt: skip
    engine.dispose()
    before = stored_rows(url)
    result = CliRunner().invoke(main, ["db", "upgrade", "--db", url])
    assert result.exit_code == 3, result.output
    assert "users u1 and u2 have the same email" in result.output
    assert "Traceback" not in result.output
    assert stored_rows(url) == before
    engine = engine_of(url)
    with engine.connect() as conn:
        assert current_revision(conn) == "0001"
        assert not sa.inspect(conn).has_table("alembic_version")  # the stamp rolled back too
        assert "owner_pid" not in [c["name"] for c in sa.inspect(conn).get_columns("import_runs")]
    engine.dispose()


def test_a_directory_from_a_newer_credkit_is_refused(url: str) -> None:
    Directory(url).dispose()
    engine = engine_of(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SetupError, match="made by a newer credkit; upgrade credkit"):
        Directory(url)
    result = CliRunner().invoke(main, ["db", "upgrade", "--db", url])
    assert result.exit_code == 3
    assert "made by a newer credkit; upgrade credkit" in result.output


def test_an_older_directory_is_refused_with_the_command_that_upgrades_it(url: str) -> None:
    engine = engine_of(url)
    create_at(engine, "0002")
    engine.dispose()
    with pytest.raises(SetupError, match=r"revision 0002, older than .* `credkit db upgrade"):
        Directory(url)


def test_upgrade_never_creates_a_directory(url: str) -> None:
    result = CliRunner().invoke(main, ["db", "upgrade", "--db", url])
    assert result.exit_code == 3
    assert "no credkit directory at" in result.output
    engine = engine_of(url)
    assert sa.inspect(engine).get_table_names() == []
    engine.dispose()


def test_a_directory_is_made_only_when_allowed(url: str) -> None:
    with pytest.raises(SetupError, match="no credkit directory at"):
        Directory(url, create=False)
    Directory(url).dispose()
    Directory(url, create=False).dispose()  # it exists now


def test_upgrade_of_an_unreachable_database_says_so_in_one_line() -> None:
    result = CliRunner().invoke(
        main, ["db", "upgrade", "--db", "postgresql+psycopg://ops:S3cret@127.0.0.1:9/credkit"]
    )
    assert result.exit_code == 3
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: cannot reach the database server at 127.0.0.1:9; check that")
    assert "S3cret" not in result.output
