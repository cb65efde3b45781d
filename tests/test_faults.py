"""Faults during an import, kept short (the long suite is tests/soak, `make soak`): a killed
import leaves a sound directory that a re-run completes, and a live import cannot be undone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from credkit.cli import main
from credkit.directory import HOST, Directory, NewUser, import_runs, now_utc, start_run
from credkit.importer import execute_import, plan_import
from credkit.review import review_file
from credkit.runs import RUN_STALE_AFTER, list_runs, undo_run
from tests.support import ADA, ALAN

ROWS, BATCH = 600, 100


def people(directory: Directory) -> None:
    directory.add_users(
        [
            NewUser("Ada", "Lovelace", external_id="E1", user_id=ADA),
            NewUser("Alan", "Turing", external_id="E2", user_id=ALAN),
        ]
    )


def plates_file(path: Path, count: int = ROWS, prefix: str = "P") -> Path:
    lines = ["User ID,License Plate"]
    lines += [f"{ADA if i % 2 else ALAN},{prefix}{i:06d}" for i in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def import_in_subprocess(url: str, path: Path, stop_after: int, action: str) -> subprocess.Popen:
    """An import of path in another process, with batches of BATCH rows; after stop_after rows
    it kills itself (action "kill") or waits for a file named path + ".go" ("pause"), having
    written path + ".paused"."""
    script = textwrap.dedent(
        f"""
        import os, signal, time
        from pathlib import Path
        from credkit.directory import Directory
        from credkit.importer import execute_import, plan_import
        from credkit.review import review_file

        directory = Directory({url!r})
        plan = plan_import(review_file({str(path)!r}, directory))
        path = Path({str(path)!r})

        def progress(done, total):
            if done != {stop_after}:
                return
            if {action!r} == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            Path(str(path) + ".paused").touch()
            while not Path(str(path) + ".go").exists():
                time.sleep(0.05)

        execute_import(plan, directory, operator="faulty", progress=progress, batch_size={BATCH})
        """
    )
    return subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def test_a_killed_import_leaves_a_sound_directory_and_a_rerun_finishes_it(
    directory: Directory, tmp_path: Path
) -> None:
    people(directory)
    path = plates_file(tmp_path / "plates.csv")
    killed = import_in_subprocess(directory.url, path, 300, "kill")
    assert killed.wait(timeout=120) == -signal.SIGKILL, killed.stderr.read().decode()
    assert directory.check_integrity() == []
    assert directory.credential_count() == 300  # three whole batches, never part of one
    (run,) = list_runs(directory).to_dict("records")
    assert (run["state"], run["written"]) == ("interrupted", 300)
    listed = invoke("runs", "--db", directory.url)
    assert "interrupted (300 changes written)" in listed.output
    rerun = execute_import(plan_import(review_file(path, directory)), directory, operator="again")
    assert rerun.counts()["create"] == 300 and rerun.counts()["unchanged"] == 300
    assert directory.credential_count() == ROWS
    assert directory.check_integrity() == []


def test_an_interrupted_run_may_be_undone(directory: Directory, tmp_path: Path) -> None:
    people(directory)
    path = plates_file(tmp_path / "plates.csv")
    killed = import_in_subprocess(directory.url, path, 200, "kill")
    assert killed.wait(timeout=120) == -signal.SIGKILL
    undone = invoke("runs", "undo", "1", "--db", directory.url)
    assert undone.exit_code == 0, undone.output
    assert "200 changes reverted" in undone.output
    assert directory.credential_count() == 0
    assert directory.check_integrity() == []


def test_a_run_still_importing_cannot_be_undone_but_another_run_can(
    directory: Directory, tmp_path: Path
) -> None:
    people(directory)
    first = plates_file(tmp_path / "first.csv", 10, prefix="F")
    assert invoke("import", str(first), "--db", directory.url).exit_code == 0  # run 1
    path = plates_file(tmp_path / "plates.csv")
    importing = import_in_subprocess(directory.url, path, 300, "pause")  # run 2
    try:
        wait_for(Path(f"{path}.paused"), importing)
        refused = invoke("runs", "undo", "2", "--db", directory.url)
        assert refused.exit_code == 1
        assert refused.output.strip().splitlines() == [
            f"Refused: Run 2 is still importing (process {importing.pid} on {HOST}); "
            "undo it once it has finished"
        ]
        assert "running (300 changes written)" in invoke("runs", "--db", directory.url).output
        other = invoke("runs", "undo", "1", "--db", directory.url)
        assert other.exit_code == 0 and "10 changes reverted" in other.output
    finally:
        Path(f"{path}.go").touch()
    assert importing.wait(timeout=120) == 0, importing.stderr.read().decode()
    assert directory.credential_count() == ROWS  # the import finished, every row of it
    assert directory.check_integrity() == []
    undone = invoke("runs", "undo", "2", "--db", directory.url)
    assert undone.exit_code == 0 and f"{ROWS} changes reverted" in undone.output
    assert directory.credential_count() == 0


def mark_run(directory: Directory, **mark: object) -> int:
    with directory.engine.begin() as conn:
        run_id = start_run(conn, kind="credentials", operator="x", file_name="f.csv",
                           file_sha256="0" * 64, options={})  # fmt: skip
        conn.execute(import_runs.update().where(import_runs.c.id == run_id).values(**mark))
    return run_id


@pytest.mark.parametrize(
    ("host", "pid", "age", "state"),
    [
        (HOST, os.getpid(), timedelta(0), "running"),
        (HOST, os.getpid(), RUN_STALE_AFTER + timedelta(seconds=5), "interrupted"),
        ("another-host", 1, timedelta(0), "running"),  # its process cannot be asked
        ("another-host", 1, RUN_STALE_AFTER + timedelta(seconds=5), "interrupted"),
        (HOST, 2**22 + 12345, timedelta(0), "interrupted"),  # no such process here
        (None, None, None, "interrupted"),  # a run from before runs carried a mark
    ],
)
def test_a_sqlite_run_is_live_while_its_process_exists_and_its_heartbeat_is_fresh(
    sqlite_directory: Directory, host, pid, age, state
) -> None:
    heartbeat = None if age is None else datetime.now(UTC) - age
    run_id = mark_run(sqlite_directory, owner_host=host, owner_pid=pid, heartbeat_at=heartbeat)
    (listed,) = list_runs(sqlite_directory)["state"].tolist()
    assert listed == state
    refusal = undo_run(sqlite_directory, run_id, operator="x").refusal
    assert (refusal is not None and "still importing" in refusal) is (state == "running")


def test_a_run_undone_while_it_imports_writes_nothing_more(
    sqlite_directory: Directory, tmp_path: Path
) -> None:
    """Taken for interrupted (a stale heartbeat from another host), the run is undone; the
    import, still alive after all, stops at its next batch instead of writing into it."""
    people(sqlite_directory)
    path = plates_file(tmp_path / "plates.csv")
    plan = plan_import(review_file(path, sqlite_directory))

    def taken_for_dead(done: int, _total: int) -> None:
        if done == 200:
            with sqlite_directory.engine.begin() as conn:
                conn.execute(import_runs.update().values(
                    owner_host="elsewhere", heartbeat_at=now_utc() - 2 * RUN_STALE_AFTER))  # fmt: skip
            assert undo_run(sqlite_directory, 1, operator="y").undone

    from credkit.connection import SetupError

    with pytest.raises(SetupError, match="was undone by another operator while it imported"):
        execute_import(plan, sqlite_directory, operator="x", progress=taken_for_dead,
                       batch_size=BATCH)  # fmt: skip
    assert sqlite_directory.credential_count() == 0
    assert sqlite_directory.check_integrity() == []


def test_the_integrity_check_finds_what_breaks_a_promise(sqlite_directory: Directory) -> None:
    people(sqlite_directory)
    sqlite_directory.add_credential(
        ADA, kind="license_plate", credential_key="license_plate:AB12", license_plate="AB12"
    )
    assert sqlite_directory.check_integrity() == []
    run_id = mark_run(sqlite_directory, owner_pid=1, owner_host=HOST)
    with sqlite_directory.engine.begin() as conn:
        conn.execute(sa.text("UPDATE credentials SET license_plate = 'XY99'"))
        conn.execute(sa.text("UPDATE users SET email_key = 'x@example.com' WHERE id = 1"))
        conn.execute(import_runs.update().values(finished_at=now_utc(), undone_by=run_id))
    problems = sqlite_directory.check_integrity()
    assert problems == [
        f"runs [{run_id}] are finished and still marked live",
        f"runs [{run_id}] are marked undone by no undo run",
        "user 1's email key is not its email's",
        "credential 1's key does not match its fields",
    ]
