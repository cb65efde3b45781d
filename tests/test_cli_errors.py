"""Mistakes and faults on the command line: one or two lines saying what to do, a documented exit
status (2 a wrong option, 3 the directory or an output cannot be opened or written, 130 Ctrl-C),
never a traceback, never a secret, and nothing written that the command should not write."""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from click.testing import CliRunner, Result

from credkit.cli import main
from credkit.connection import display_url
from credkit.directory import Directory, NewUser, credentials, import_runs
from credkit.importer import execute_import, plan_import
from credkit.privileges import process_login
from credkit.review import review_bytes
from tests.conftest import clear_postgres, postgres_url
from tests.support import ADA, ALAN
from tests.test_notify import Mailbox, free_port

CREDKIT = [sys.executable, "-c", "from credkit.cli import main; main()"]


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def assert_refused(result: Result, status: int, *says: str) -> None:
    """The command stopped with status, no traceback, and a message that says each of says."""
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == status, output
    assert "Traceback" not in output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), repr(result.exception)
    for text in says:
        assert text in output, output


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file under path and its bytes, to show that a refused command changed nothing."""
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


@pytest.fixture
def demo(tmp_path: Path) -> tuple[str, Path]:
    """A small directory (SQLite) and its sample files, in a folder of their own."""
    folder = tmp_path / "demo"
    url = f"sqlite:///{folder / 'credkit.db'}"
    assert invoke("demo", "--users", "30", "--out", str(folder), "--db", url).exit_code == 0
    return url, folder


def run_count(url: str) -> int:
    with sa.create_engine(url).connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(import_runs)).scalar_one()


# --- item 2: an output onto the input or onto the directory -------------------------------------


@pytest.mark.parametrize("dry_run", [True, False])
def test_failed_rows_onto_the_input_is_refused_before_anything_is_read(demo, dry_run) -> None:
    url, folder = demo
    messy = folder / "credentials-messy.csv"
    before = messy.read_bytes()
    args = ["import", str(messy), "--map", "Facility Cod=Facility Code", "--db", url]
    result = invoke(*args, *(["--dry-run"] if dry_run else []), "--failed-rows", str(messy))
    assert_refused(result, 3, "is the input file", "choose another path")
    assert messy.read_bytes() == before
    assert run_count(url) == 0


def test_an_output_onto_the_input_through_another_name_is_refused(demo) -> None:
    url, folder = demo
    clean = folder / "credentials-clean.csv"
    link = folder / "hard-link.csv"
    os.link(clean, link)  # the same inode under another name
    result = invoke("import", str(clean), "--dry-run", "--db", url, "--failed-rows", str(link))
    assert_refused(result, 3, "is the input file")
    spelled = f"{folder}/../{folder.name}/./credentials-clean.csv"
    result = invoke("import", str(clean), "--db", url, "--failed-rows", spelled)
    assert_refused(result, 3, "is the input file")
    assert run_count(url) == 0


@pytest.mark.parametrize(
    "args",
    [
        ["export", "-o", "{db}"],
        ["import", "{folder}/credentials-clean.csv", "--failed-rows", "{db}"],
        ["import", "{folder}/credentials-clean.csv", "--dry-run", "--failed-rows", "{db}"],
        ["template", "-o", "{db}"],  # no --db: the environment's directory is protected
        ["demo", "--out", "{folder}", "--db", "sqlite:///{folder}/credentials-clean.csv"],
    ],
)
def test_an_output_onto_the_directory_database_is_refused(demo, args) -> None:
    url, folder = demo
    db = folder / "credkit.db"
    before = snapshot(folder)
    filled = [arg.format(db=db, folder=folder) for arg in args]
    result = invoke(*filled, env={"CREDKIT_DATABASE_URL": url})
    assert_refused(result, 3, "is the directory's database file", "choose another path")
    assert snapshot(folder) == before


@pytest.mark.parametrize("command", [["export", "--db", "{url}"], ["template"]])
def test_an_output_onto_another_sqlite_database_is_refused(demo, tmp_path, command) -> None:
    url, _ = demo
    other = tmp_path / "another-directory.sqlite"
    Directory(f"sqlite:///{other}").dispose()
    before = other.read_bytes()
    result = invoke(*[arg.format(url=url) for arg in command], "-o", str(other))
    assert_refused(result, 3, "is a SQLite database", "choose another path")
    assert other.read_bytes() == before


# --- item 5: secrets -----------------------------------------------------------------------------


def test_a_database_url_is_shown_without_its_password() -> None:
    url = "postgresql+psycopg://ops:S3cr3tPw@db.example.com:5432/credkit"
    assert display_url(url) == "postgresql+psycopg://ops:***@db.example.com:5432/credkit"
    assert display_url("sqlite:///demo/credkit.db") == "sqlite:///demo/credkit.db"
    assert "S3cr3tPw" not in display_url("not a url S3cr3tPw")


def test_an_unreachable_server_is_named_without_the_password() -> None:
    url = "postgresql+psycopg://ops:S3cr3tPw@127.0.0.1:1/credkit"
    for command in (["review", "x.csv"], ["export"], ["runs"], ["demo", "--out", "never"]):
        result = invoke(*command, "--db", url)
        assert_refused(result, 3, "cannot reach the database server at 127.0.0.1:1", "check")
        assert "S3cr3tPw" not in result.output
    assert not Path("never").exists()


def test_demo_on_a_filled_postgresql_directory_hides_the_password(tmp_path: Path) -> None:
    url = sa.engine.make_url(postgres_url())
    # The test server trusts every login, so any password is accepted: enough to see it hidden.
    with_password = url.set(password="S3cr3tPw").render_as_string(hide_password=False)
    clear_postgres(url)
    Directory(with_password).add_users([NewUser("Ada", "Lovelace", external_id="E1")])
    result = invoke("demo", "--users", "5", "--out", str(tmp_path), "--db", with_password)
    assert_refused(result, 1, "already has 1 users", ":***@")
    assert "S3cr3tPw" not in result.output


@contextlib.contextmanager
def mailbox_on_loopback() -> Iterator[tuple[Mailbox, dict[str, str]]]:
    """A real SMTP server on loopback, and the environment that points credkit at it."""
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, {"CREDKIT_SMTP_HOST": "127.0.0.1", "CREDKIT_SMTP_PORT": str(port),
                        "CREDKIT_SMTP_STARTTLS": "false"}  # fmt: skip
    finally:
        controller.stop()


def test_the_notification_attachment_masks_entry_codes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'credkit.db'}"
    Directory(url).add_users([NewUser("Ada", "Lovelace", user_id=ADA)])
    path = tmp_path / "codes.csv"
    path.write_text(f"User ID,Entry Code\n{ADA},731942\n{ADA},864209\n", encoding="utf-8")
    failed = tmp_path / "failed.csv"
    with mailbox_on_loopback() as (mailbox, env):
        args = ["import", str(path), "--db", url, "--notify", "ops@example.com"]
        result = invoke(*args, "--failed-rows", str(failed), env=env)
    assert result.exit_code == 1, result.output
    (message,) = mailbox.messages
    (attachment,) = list(message.iter_attachments())
    text = attachment.get_content()
    assert "\u2022\u2022\u2022\u202209" in text and "864209" not in text
    assert "864209" in failed.read_text(encoding="utf-8")  # the operator's own file keeps it


# --- item 6: each mistake gets its own message and status ---------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--encoding", "rot13", "not a text encoding"),
        ("--encoding", "base64", "not a text encoding"),
        ("--encoding", "no-such-codec", "not an encoding Python knows"),
        ("--delimiter", '"', "cannot separate columns"),
        ("--delimiter", "\u00a7", "cannot separate columns"),
        ("--delimiter", "\n", "cannot separate columns"),
    ],
)
@pytest.mark.parametrize("command", ["review", "import"])
def test_a_reading_option_that_cannot_work_is_refused(demo, command, option, value, says) -> None:
    url, folder = demo
    result = invoke(command, str(folder / "credentials-clean.csv"), option, value, "--db", url)
    assert_refused(result, 2, says, "e.g.")
    assert run_count(url) == 0


@pytest.mark.parametrize(
    "args",
    [
        ["import", "{folder}/credentials-clean.csv", "--failed-rows", "{folder}/missing/f.csv"],
        ["export", "-o", "{folder}/missing/out.csv"],
        ["template", "-o", "{folder}/missing/template.csv"],
    ],
)
def test_an_output_into_a_missing_folder_is_refused_before_the_import(demo, args) -> None:
    url, folder = demo
    db = [] if args[0] == "template" else ["--db", url]
    result = invoke(*[arg.format(folder=folder) for arg in args], *db)
    assert_refused(result, 3, f"the folder {folder / 'missing'} does not exist", "create it")
    assert run_count(url) == 0 and not (folder / "missing").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["export", "-o", "/dev/full"],
        ["template", "-o", "/dev/full"],
        ["import", "{folder}/credentials-messy.csv", "--map", "Facility Cod=Facility Code",
         "--dry-run", "--failed-rows", "/dev/full"],
    ],
)  # fmt: skip
def test_an_output_onto_a_full_device_is_a_clear_error(demo, args) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("this system has no /dev/full")
    url, folder = demo
    db = [] if args[0] == "template" else ["--db", url]
    result = invoke(*[arg.format(folder=folder) for arg in args], *db)
    assert_refused(result, 3, "could not write /dev/full: No space left on device", "free some")


def test_failed_rows_onto_a_full_device_after_the_import_says_the_run_stands(demo) -> None:
    url, folder = demo
    messy = str(folder / "credentials-messy.csv")
    result = invoke("import", messy, "--map", "Facility Cod=Facility Code", "--db", url,
                    "--failed-rows", "/dev/full")  # fmt: skip
    assert_refused(result, 3, "No space left on device", "run 1", "credkit runs")
    assert run_count(url) == 1


def test_a_failed_output_leaves_the_previous_file_whole(demo, tmp_path: Path) -> None:
    url, _ = demo
    out = tmp_path / "export.csv"
    assert invoke("export", "-o", str(out), "--db", url).exit_code == 0
    before = out.read_bytes()
    result = invoke("export", "-o", str(out), "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert_refused(result, 3, "no credkit directory")
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


@pytest.mark.parametrize(
    ("db", "says"),
    [
        ("sqlite:///{folder}/credentials-clean.csv", "is not a SQLite database"),
        ("sqlite:///{folder}", "names the folder"),
        ("sqlite:///{folder}/credkit.db?mode=ro", "uri=true"),
        ("not a url", "is not a database URL; write one like sqlite:///"),
        ("{folder}/credkit.db", "for a SQLite file write sqlite:///{folder}/credkit.db"),
        ("mysql://ops@localhost/credkit", "SQLite or PostgreSQL, not 'mysql'"),
        ("postgresql+asyncpg://ops@localhost/credkit", "write postgresql+psycopg://"),
        ("sqlite:///{folder}/missing/credkit.db", "no credkit directory"),
    ],
)
@pytest.mark.parametrize("command", ["review", "import", "export", "runs"])
def test_a_db_that_cannot_be_a_directory_is_refused(demo, command, db, says) -> None:
    url, folder = demo
    before = snapshot(folder)
    args = {"review": ["review", str(folder / "credentials-clean.csv")],
            "import": ["import", str(folder / "credentials-clean.csv")],
            "export": ["export"], "runs": ["runs"]}[command]  # fmt: skip
    result = invoke(*args, "--db", db.format(folder=folder))
    assert_refused(result, 3, says.format(folder=folder))
    assert snapshot(folder) == before


def test_a_missing_postgresql_driver_says_what_to_install(demo) -> None:
    url, folder = demo
    # An environment without the postgres extra: psycopg cannot be imported.
    code = "import sys; sys.modules['psycopg'] = None; from credkit.cli import main; main()"
    args = ["review", str(folder / "credentials-clean.csv")]
    completed = subprocess.run(
        [sys.executable, "-c", code, *args, "--db", "postgresql+psycopg://ops@localhost/x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 3, completed.stderr
    assert "Traceback" not in completed.stderr
    assert "pip install 'credkit[postgres]'" in completed.stderr


@contextlib.contextmanager
def postgresql_refusing_logins() -> Iterator[int]:
    """A stand-in PostgreSQL server on loopback that answers every login as a server does a
    wrong password: ErrorResponse FATAL 28P01 (the local test server trusts every login)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                with client:
                    while True:  # SSL and GSS requests are declined; the startup is refused
                        length = struct.unpack("!I", client.recv(4, socket.MSG_WAITALL))[0]
                        body = client.recv(length - 4, socket.MSG_WAITALL)
                        if struct.unpack("!I", body[:4])[0] in (80877103, 80877104):
                            client.sendall(b"N")
                            continue
                        fields = b"SFATAL\0VFATAL\0C28P01\0" + (
                            b'Mpassword authentication failed for user "ops"\0\0'
                        )
                        client.sendall(b"E" + struct.pack("!I", len(fields) + 4) + fields)
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        listener.close()


def test_a_refused_postgresql_login_says_to_check_the_password() -> None:
    with postgresql_refusing_logins() as port:
        url = f"postgresql+psycopg://ops:S3cr3tPw@127.0.0.1:{port}/credkit?sslmode=disable"
        result = invoke("runs", "--db", url)
    assert_refused(result, 3, "refused the login of 'ops'", "check the user and password")
    assert "S3cr3tPw" not in result.output


def test_a_postgresql_database_that_does_not_exist_is_named() -> None:
    url = sa.engine.make_url(postgres_url()).set(database="no_such_db")
    result = invoke("runs", "--db", url.render_as_string(hide_password=False))
    assert_refused(result, 3, "has no database 'no_such_db'", "createdb no_such_db")


def test_an_empty_postgresql_database_is_no_directory_for_reading_commands() -> None:
    url = postgres_url()
    clear_postgres(url)
    for command in (["runs"], ["runs", "show", "1"], ["export"], ["review", "x.csv"]):
        result = invoke(*command, "--db", url)
        assert_refused(result, 3, "no credkit directory at", "create one with `credkit demo`")
    assert sa.inspect(sa.create_engine(url)).get_table_names() == []


@pytest.mark.parametrize(
    ("value", "says"),
    [("x" * 256, "is 256 characters long; an operator name has at most 255"),
     ("ops\x1b]0;pwned\x07", "may not hold control characters")],
)  # fmt: skip
@pytest.mark.parametrize("command", ["import", "users import", "runs undo"])
def test_an_operator_name_the_directory_cannot_hold_is_refused(demo, command, value, says) -> None:
    url, folder = demo
    target = {"import": [str(folder / "credentials-clean.csv")], "users import": [
        str(folder / "credentials-clean.csv")], "runs undo": ["1"]}[command]  # fmt: skip
    before = snapshot(folder)
    result = invoke(*command.split(), *target, "--operator", value, "--db", url)
    assert_refused(result, 2, says)
    assert snapshot(folder) == before


def test_notify_with_a_line_feed_in_the_file_name_is_mailed_escaped(demo) -> None:
    url, folder = demo
    odd = folder / "clean\nBcc: everyone@example.com.csv"
    odd.write_bytes((folder / "credentials-clean.csv").read_bytes())
    with mailbox_on_loopback() as (mailbox, env):
        result = invoke("import", str(odd), "--db", url, "--notify", "ops@example.com", env=env)
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.output
    (message,) = mailbox.messages
    subject = "credkit import of clean\\nBcc: everyone@example.com.csv: all rows applied"
    assert message["Subject"].strip() == subject
    assert message["Bcc"] is None


@pytest.mark.parametrize(
    ("address", "says"),
    [("ops@example.com\nBcc: x@example.com", "line break"), ("not an address", "not an e-mail")],
)
def test_a_notify_address_that_cannot_work_is_refused_before_the_import(demo, address, says):
    url, folder = demo
    result = invoke("import", str(folder / "credentials-clean.csv"), "--db", url,
                    "--notify", address)  # fmt: skip
    assert_refused(result, 2, says)
    assert run_count(url) == 0


def test_a_wrong_smtp_port_is_refused_before_the_import(demo) -> None:
    url, folder = demo
    args = ["import", str(folder / "credentials-clean.csv"), "--db", url, "--notify", "o@x.org"]
    result = invoke(*args, env={"CREDKIT_SMTP_PORT": "smtp"})
    assert_refused(result, 3, "CREDKIT_SMTP_PORT", "set it to")
    assert run_count(url) == 0


def test_a_read_only_sqlite_uri_reads_and_refuses_writes(demo) -> None:
    url, folder = demo
    read_only = f"sqlite:///file:{folder / 'credkit.db'}?mode=ro&uri=true"
    clean = str(folder / "credentials-clean.csv")
    assert invoke("review", clean, "--db", read_only).exit_code == 0
    assert invoke("export", "--db", read_only).exit_code == 0
    assert invoke("runs", "--db", read_only).exit_code == 0
    assert_refused(invoke("import", clean, "--db", read_only), 3, "is read-only", "writable")
    assert run_count(url) == 0


@contextlib.contextmanager
def mounted(kind: list[str], source: str, target: Path) -> Iterator[None]:
    """A mount for the test's life; skips the test where this process may not mount."""
    target.mkdir(exist_ok=True)
    done = subprocess.run(["mount", *kind, source, str(target)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting needs root (or the capability to mount): {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_reading_commands_work_on_a_read_only_file_system(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    url = f"sqlite:///{folder / 'credkit.db'}"
    # In a process of its own, so that the WAL database is closed (no -wal or -shm file left).
    made = subprocess.run([*CREDKIT, "demo", "--users", "30", "--out", str(folder), "--db", url],
                          capture_output=True, env=python_path(), timeout=120)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith("credkit.db")) == [
        "credkit.db"
    ]
    view = tmp_path / "read-only"
    with mounted(["--bind"], str(folder), view):
        remount = ["mount", "-o", "remount,bind,ro", str(view)]
        if subprocess.run(remount, capture_output=True).returncode != 0:
            pytest.skip("this system cannot remount a bind mount read-only")
        read_only = f"sqlite:///{view / 'credkit.db'}"
        clean = str(view / "credentials-clean.csv")
        reviewed = invoke("review", clean, "--db", read_only)
        assert reviewed.exit_code == 0, reviewed.output
        exported = invoke("export", "--db", read_only)
        assert exported.exit_code == 0 and exported.output.count("\n") > 30
        assert invoke("runs", "--db", read_only).output.strip() == "No runs yet."
        assert invoke("import", clean, "--dry-run", "--db", read_only).exit_code == 0
        assert_refused(invoke("import", clean, "--db", read_only), 3, "is read-only")
        users = invoke("users", "import", clean, "--db", read_only)
        assert_refused(users, 3, "is read-only")


def python_path() -> dict[str, str]:
    """The environment for a credkit subprocess that imports this checkout's credkit."""
    return {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}


def plates_csv(path: Path, count: int) -> Path:
    lines = ["User ID,License Plate", *(f"{ADA if i % 2 else ALAN},P{i:06d}" for i in range(count))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def two_users(url: str) -> Directory:
    directory = Directory(url)
    directory.add_users([NewUser("Ada", "L", user_id=ADA), NewUser("Alan", "T", user_id=ALAN)])
    return directory


def test_a_full_disk_under_the_directory_is_a_clear_error(tmp_path: Path) -> None:
    disk = tmp_path / "small-disk"
    with mounted(["-t", "tmpfs", "-o", "size=512k"], "tmpfs", disk):
        url = f"sqlite:///{disk / 'credkit.db'}"
        two_users(url).dispose()
        plates = plates_csv(tmp_path / "plates.csv", 20_000)
        result = invoke("import", str(plates), "--db", url)
        assert_refused(result, 3, "is full", "free some space")
        directory = Directory(url, create=False)
        with directory.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
            stored = conn.execute(sa.select(sa.func.count()).select_from(credentials)).scalar()
        assert stored % 5_000 == 0  # whole batches only


def test_ctrl_c_during_an_import_is_one_line_and_whole_batches(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'credkit.db'}"
    two_users(url).dispose()
    plates = plates_csv(tmp_path / "plates.csv", 12_000)
    process = subprocess.Popen(
        [*CREDKIT, "import", str(plates), "--db", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=python_path(),
    )
    watcher = sa.create_engine(url)
    count = sa.select(sa.func.count()).select_from(credentials)
    deadline = time.monotonic() + 120
    stored = 0
    while stored == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # until the first batch is committed: the import is under way
        with watcher.connect() as conn:
            stored = conn.execute(count).scalar_one()
    process.send_signal(signal.SIGINT)
    _, stderr_bytes = process.communicate(timeout=60)
    stderr = stderr_bytes.decode()
    if process.returncode == 0:
        pytest.skip("the import finished before the interrupt arrived")
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == [
        "Error: interrupted: nothing is half-written (an import keeps the batches it had "
        "committed, see `credkit runs`); run the command again to finish"
    ]
    with watcher.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        stored = conn.execute(count).scalar_one()
    watcher.dispose()
    assert 0 < stored < 12_000 and stored % 5_000 == 0  # whole batches only
    again = invoke("import", str(plates), "--db", url)
    assert again.exit_code == 0, again.output
    assert Directory(url).credential_count() == 12_000


def test_export_into_a_pipe_closed_early_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'credkit.db'}"
    directory = two_users(url)
    with directory.engine.begin() as conn:  # ~200 KB of export: more than a pipe's buffer
        pk = conn.execute(sa.select(sa.func.min(credentials.c.user_pk))).scalar() or 1
        now = datetime.now(UTC)
        conn.execute(credentials.insert(), [
            {"user_pk": pk, "kind": "license_plate", "credential_key": f"license_plate:P{i}",
             "license_plate": f"P{i}", "status": "active", "modified": now}
            for i in range(3_000)
        ])  # fmt: skip
    directory.dispose()
    process = subprocess.Popen([*CREDKIT, "export", "--db", url], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=python_path())  # fmt: skip
    assert process.stdout is not None and process.stdout.readline().startswith(b"First Name,")
    process.stdout.close()  # as `| head -1` does
    stderr = process.stderr.read().decode()  # type: ignore[union-attr]
    assert process.wait(timeout=60) == 3, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert "standard output was closed" in stderr and "-o" in stderr


# --- item 7: reading commands never create a directory; --db before the subcommand ---------------


@pytest.mark.parametrize(
    "command",
    [["review", "{file}"], ["import", "{file}", "--dry-run"], ["export"], ["runs"],
     ["runs", "show", "1"], ["runs", "undo", "1"], ["import", "{file}"]],
)  # fmt: skip
def test_a_reading_command_never_creates_a_directory(demo, tmp_path, monkeypatch, command):
    _, folder = demo
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # where the default sqlite:///credkit.db would land
    args = [arg.format(file=folder / "credentials-clean.csv") for arg in command]
    result = invoke(*args)
    assert_refused(result, 3, "no credkit directory at sqlite:///credkit.db",
                   "create one with `credkit demo` or `credkit users import`")  # fmt: skip
    missing = f"sqlite:///{work / 'new' / 'folder' / 'credkit.db'}"
    assert_refused(invoke(*args, "--db", missing), 3, f"no credkit directory at {missing}")
    assert list(work.iterdir()) == []


def test_db_before_the_subcommand(demo, tmp_path, monkeypatch) -> None:
    url, folder = demo
    monkeypatch.chdir(tmp_path)
    clean = str(folder / "credentials-clean.csv")
    assert invoke("--db", url, "review", clean).exit_code == 0
    assert invoke("--db", url, "import", clean).exit_code == 0
    assert "credentials-clean.csv" in invoke("--db", url, "runs").output
    assert invoke("--db", url, "runs", "show", "1").exit_code == 0
    # After the subcommand wins over before it, which wins over the environment.
    elsewhere = f"sqlite:///{tmp_path / 'nothing-here.db'}"
    assert invoke("--db", elsewhere, "runs", "--db", url).exit_code == 0
    assert invoke("--db", url, "runs", env={"CREDKIT_DATABASE_URL": elsewhere}).exit_code == 0
    result = invoke("--db", elsewhere, "runs", "show", "1", env={"CREDKIT_DATABASE_URL": url})
    assert_refused(result, 3, f"no credkit directory at {elsewhere}")
    assert not (tmp_path / "nothing-here.db").exists() and not (tmp_path / "credkit.db").exists()


# --- item 8: terminal escapes, and runs show as a table -----------------------------------------

ESCAPES = "\x1b]0;pwned\x07\x1b[2J"


def test_runs_and_runs_show_escape_control_characters(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'credkit.db'}"
    directory = two_users(url)
    data = f"User ID,License Plate\n{ADA},AB12\n{ALAN},CD34\n".encode()
    plan = plan_import(review_bytes(data, directory, file_name=f"plates{ESCAPES}.csv"))
    execute_import(plan, directory, operator=f"ops{ESCAPES}")  # the library takes any name
    for args in (["runs"], ["runs", "show", "1"]):
        result = invoke(*args, "--db", url)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output
        assert "ops\\x1b]0;pwned\\x07\\x1b[2J" in result.output
        assert "plates\\x1b]0;pwned\\x07\\x1b[2J.csv" in result.output


def test_runs_show_is_a_table_in_row_order(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'credkit.db'}"
    two_users(url).dispose()
    plates = plates_csv(tmp_path / "plates.csv", 12)
    assert invoke("import", str(plates), "--db", url, "--operator", "ops").exit_code == 0
    assert invoke("runs", "undo", "1", "--db", url).exit_code == 0
    shown = invoke("runs", "show", "1", "--db", url)
    assert shown.exit_code == 0
    lines = shown.output.splitlines()
    login = process_login()  # the run's operator; --operator is the note beside it
    assert lines[0] == f"Run 1: credentials import of plates.csv by {login} for ops"
    assert "  undone by run 2" in lines
    assert "None" not in shown.output and "{" not in shown.output
    header = lines.index("row  action  credential")
    changes = [line.split() for line in lines[header + 1 :]]
    assert [int(row) for row, _, _ in changes] == list(range(2, 14))
    assert {action for _, action, _ in changes} == {"create"}
    with open(plates, encoding="utf-8") as stream:
        plates_in_file = [row["License Plate"] for row in csv.DictReader(stream)]
    assert [key.split(":")[-1] for _, _, key in changes] == plates_in_file
