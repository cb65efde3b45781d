"""Shared fixtures: a directory on SQLite always, and on PostgreSQL when its URL is set."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from credkit.directory import Directory, metadata

POSTGRES_URL = os.environ.get("CREDKIT_TEST_DATABASE_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_ignore_collect(collection_path, config) -> bool | None:
    """tests/soak is the long fault suite: only `make soak` (CREDKIT_SOAK=1) collects it."""
    if collection_path.name == "soak" and not os.environ.get("CREDKIT_SOAK"):
        return True
    return None


def postgres_url() -> str:
    """The test PostgreSQL's URL; skips the test without one, but fails it under CI."""
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI=true but CREDKIT_TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL tests need CREDKIT_TEST_DATABASE_URL")
    try:
        with sa.create_engine(POSTGRES_URL).connect():
            pass
    except Exception as error:  # any failure to connect means the service is missing
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL is unreachable: {error}")
        pytest.skip(f"PostgreSQL is unreachable: {error}")
    return POSTGRES_URL


def clear_postgres(url: str) -> None:
    """Drop every table a directory has, at any revision (and Alembic's own table)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def directory(request: pytest.FixtureRequest, tmp_path) -> Iterator[Directory]:
    """An empty directory: a temporary SQLite file, or a cleared PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'credkit.db'}"
    else:
        url = postgres_url()
        clear_postgres(url)
    directory = Directory(url)
    yield directory
    directory.dispose()


@pytest.fixture
def sqlite_directory(tmp_path) -> Iterator[Directory]:
    """An empty directory in a temporary SQLite file."""
    directory = Directory(f"sqlite:///{tmp_path / 'credkit.db'}")
    yield directory
    directory.dispose()
