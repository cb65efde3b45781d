"""The import's promises under stress: killed mid-way, raced on PostgreSQL, oversized files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from credkit.cli import main
from credkit.directory import Directory, NewUser, credential_history, credentials, import_runs
from credkit.importer import execute_import, plan_import
from credkit.review import review_bytes, review_file
from tests.conftest import clear_postgres, postgres_url
from tests.support import ADA, ALAN


def people(directory: Directory) -> Directory:
    directory.add_users(
        [
            NewUser("Ada", "Lovelace", external_id="E1", user_id=ADA),
            NewUser("Alan", "Turing", external_id="E2", user_id=ALAN),
        ]
    )
    return directory


def plates_file(path: Path, count: int) -> Path:
    lines = ["User ID,License Plate"]
    lines += [f"{ADA if i % 2 else ALAN},P{i:06d}" for i in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_an_import_killed_midway_leaves_whole_batches_and_rerun_completes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'credkit.db'}"
    directory = people(Directory(url))
    path = plates_file(tmp_path / "plates.csv", 600)
    script = textwrap.dedent(
        f"""
        import os, signal
        from credkit.directory import Directory
        from credkit.importer import execute_import, plan_import
        from credkit.review import review_file

        directory = Directory({url!r})
        plan = plan_import(review_file({str(path)!r}, directory))

        def progress(done, total):
            if done >= 300:  # three batches of 100 are committed: die before the fourth
                os.kill(os.getpid(), signal.SIGKILL)

        execute_import(plan, directory, operator="doomed", progress=progress, batch_size=100)
        """
    )
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, check=False)
    assert killed.returncode == -9, killed.stderr.decode()
    with directory.engine.connect() as conn:
        stored = conn.execute(sa.select(credentials.c.credential_key)).scalars().all()
        history = conn.execute(sa.select(credential_history.c.credential_key)).scalars().all()
        (run,) = conn.execute(sa.select(import_runs)).mappings().all()
    assert len(stored) == 300  # whole batches, never part of one
    assert sorted(history) == sorted(stored)  # every change recorded, no record without change
    assert run["finished_at"] is None  # the run shows it never finished
    rerun = execute_import(plan_import(review_file(path, directory)), directory, operator="again")
    assert rerun.counts() == {
        "create": 300,
        "update": 0,
        "reassign": 0,
        "unchanged": 300,
        "fail": 0,
    }
    assert directory.credential_count() == 600


def test_concurrent_imports_give_a_card_to_exactly_one_user(tmp_path: Path) -> None:
    url = postgres_url()
    clear_postgres(url)
    people(Directory(url))
    for attempt in range(3):
        number = 100 + attempt
        files = {
            user: f"User ID,Card Type,Facility Code,Card Number\n{user},HID,7,{number}\n".encode()
            for user in (ADA, ALAN)
        }
        plans = {}
        for user, data in files.items():
            directory = Directory(url)
            plans[user] = (directory, plan_import(review_bytes(data, directory)))
            assert plans[user][1].rows["outcome"].tolist() == ["create"]
        results = race(plans)
        outcomes = sorted(result.rows["outcome"].iloc[0] for result in results.values())
        assert outcomes == ["create", "fail"], attempt
        owners = Directory(url).credentials_frame()
        owners = owners[owners["card_number"] == str(number)]["user_id"].tolist()
        winner = next(user for user, result in results.items() if result.counts()["create"])
        assert owners == [winner]


def race(plans: dict) -> dict:
    """Execute the plans in threads released at the same moment; their results by key."""
    barrier = threading.Barrier(len(plans))
    results = {}

    def run(key: str) -> None:
        directory, plan = plans[key]
        barrier.wait()
        results[key] = execute_import(plan, directory, operator=key)

    threads = [threading.Thread(target=run, args=(key,)) for key in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_a_file_over_the_row_limit_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'credkit.db'}"
    directory = people(Directory(url))
    path = plates_file(tmp_path / "big.csv", 250_001)
    result = CliRunner().invoke(main, ["import", str(path), "--db", url])
    assert result.exit_code == 2, result.output
    assert "too-many-rows" in result.output
    assert directory.credential_count() == 0
    with directory.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(import_runs)).scalar_one() == 0
