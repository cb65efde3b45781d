"""The command line under arbitrary option values and paths (hypothesis): never a traceback, an
exit status from the documented set, no password or full entry code in what it prints, and the
directory unchanged whenever the command was refused (status 2 or 3)."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credkit.cli import main
from credkit.directory import Directory, NewUser, entry_code_key
from tests.support import ADA, ALAN

#: The documented exit statuses (130, an interrupt, is not fuzzed).
EXIT_STATUSES = {0, 1, 2, 3}
PASSWORD = "S3cr3tPw9"
#: Eleven digits: longer than any group of a UUID, so a match is a leaked code, not an id.
ADA_CODE, ALAN_CODE, FILE_CODE = "73194286051", "55123498762", "86420753119"
SECRETS = [PASSWORD, ADA_CODE, ALAN_CODE, FILE_CODE]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, str]:
    """A directory with entry codes, a credential file that holds codes, and named paths."""
    root = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{root / 'credkit.db'}"
    directory = Directory(url)
    directory.add_users(
        [
            NewUser("Ada", "Lovelace", external_id="E1", user_id=ADA),
            NewUser("Alan", "Turing", external_id="E2", user_id=ALAN),
        ]
    )
    for user, code in ((ADA, ADA_CODE), (ALAN, ALAN_CODE)):
        directory.add_credential(
            user, kind="entry_code", credential_key=entry_code_key(code), entry_code=code
        )
    directory.dispose()
    credentials = root / "credentials.csv"
    credentials.write_text(
        "User ID,License Plate,Entry Code\n"
        f"{ADA},AB12,\n{ADA},,{ALAN_CODE}\n{ALAN},,{FILE_CODE}\n{ALAN},,{FILE_CODE}\n",
        encoding="utf-8",
    )
    (root / "folder").mkdir()
    return {
        "root": str(root),
        "url": url,
        "db": str(root / "credkit.db"),
        "credentials": str(credentials),
        "missing": str(root / "missing" / "out.csv"),
        "folder": str(root / "folder"),
        "out": str(root / "out.csv"),
        "full": "/dev/full",
    }


def directory_state(db: str) -> str:
    """A digest of everything the directory holds (its logical content, not its file's bytes)."""
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        dump = "\n".join(conn.connection.dbapi_connection.iterdump())
    engine.dispose()
    return hashlib.sha256(dump.encode()).hexdigest()


text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
#: Where an output may be sent (the input file too, for --failed-rows).
outputs = st.sampled_from(["db", "missing", "folder", "out", "full"])
database_urls = (
    st.sampled_from(
        [
            "{url}",
            "{url}",
            "sqlite:///{missing}",
            "sqlite:///{credentials}",
            "sqlite:///{folder}",
            "sqlite:///{db}?mode=ro",
            "sqlite:///file:{db}?mode=ro&uri=true",
            f"postgresql+psycopg://ops:{PASSWORD}@127.0.0.1:1/credkit",
            f"mysql://ops:{PASSWORD}@localhost/credkit",
            "not a url",
            "{db}",
        ]
    )
    | text
)


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    """A command with a draw of its options: sensible values, hostile ones, and noise."""
    command = draw(
        st.sampled_from(
            ["review", "import", "export", "template", "runs", "runs show", "runs undo", "users"]
        )
    )
    args: list[str] = {
        "review": ["review", "{credentials}"],
        "import": ["import", "{credentials}"],
        "export": ["export", "-o", "{" + draw(outputs) + "}"],
        "template": ["template", "-o", "{" + draw(outputs) + "}"],
        "runs": ["runs"],
        "runs show": ["runs", "show", str(draw(st.integers(-2, 3)))],
        "runs undo": ["runs", "undo", str(draw(st.integers(-2, 3)))],
        "users": ["users", "import", "{credentials}"],
    }[command]
    if command in ("review", "import"):
        if draw(st.booleans()):
            args += ["--encoding", draw(st.sampled_from(["utf-8", "cp1252", "rot13"]) | text)]
        if draw(st.booleans()):
            args += ["--delimiter", draw(st.sampled_from([",", ";", "tab", '"', "\u00a7"]) | text)]
        if draw(st.booleans()):
            args += ["--map", draw(st.sampled_from(["Plate=License Plate"]) | text)]
    if command == "import":
        if draw(st.booleans()):
            args.append("--dry-run")
        if draw(st.booleans()):
            args += ["--failed-rows", "{" + draw(outputs | st.just("credentials")) + "}"]
        if draw(st.booleans()):
            args += ["--notify", draw(st.sampled_from(["ops@example.com\nBcc: x@y.z"]) | text)]
    if command in ("import", "users", "runs undo") and draw(st.booleans()):
        args += ["--operator", draw(st.sampled_from(["x" * 256, "ops\x1b[2J"]) | text)]
    if command != "template":
        where = draw(st.sampled_from(["after", "before", "none"]))
        url = draw(database_urls)
        if where == "after":
            args += ["--db", url]
        elif where == "before":
            args = ["--db", url, *args]
    return args


def leaked(output: str) -> list[str]:
    return [
        s for s in SECRETS if re.search(rf"(?<![0-9A-Za-z]){re.escape(s)}(?![0-9A-Za-z])", output)
    ]


@settings(
    max_examples=int(
        os.environ.get("CREDKIT_FUZZ_EXAMPLES", "40")
    ),  # more: CREDKIT_FUZZ_EXAMPLES=600
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(arguments=command_lines())
def test_the_command_line_never_fails_badly(world, monkeypatch, arguments) -> None:
    monkeypatch.chdir(world["folder"])  # a default ./credkit.db would land here (and be seen)
    filled = [
        re.sub(r"\{(\w+)\}", lambda m: world.get(m.group(1), m.group()), value)
        for value in arguments
    ]
    before = directory_state(world["db"])
    result = CliRunner().invoke(main, filled, env={"CREDKIT_DATABASE_URL": None})
    output = result.output
    assert "Traceback" not in output, (filled, output)
    assert result.exit_code in EXIT_STATUSES, (filled, output, result.exception)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), (filled, repr(result.exception))
    assert not leaked(output), (filled, output)
    # The one exception: the failed rows could not be written after the import was done, and
    # the message says so (the import cannot wait for an output that fails only when written).
    if result.exit_code in (2, 3) and "the import itself is done: run" not in output:
        assert directory_state(world["db"]) == before, (filled, output)
    default = Path(world["folder"]) / "credkit.db"
    if filled[0] == "users" or "users" in filled[2:3]:
        default.unlink(missing_ok=True)  # a user import may create the default directory
    assert not default.exists(), filled  # nothing else may
    assert Path(world["credentials"]).read_text(encoding="utf-8").startswith("User ID,")
