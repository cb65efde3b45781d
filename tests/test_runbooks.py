"""Runbooks and walkthroughs: which directory they use, where relative paths start, what Run All
leaves behind, and the working copies `make lab` opens."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ipywidgets")
nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

from credkit.connection import SetupError  # noqa: E402
from credkit.defaults import DATABASE_URL_ENV  # noqa: E402
from credkit.demo import MESSY_FILE  # noqa: E402
from credkit.notebook import ImportWizard, connect_runbook  # noqa: E402
from credkit.notebook.runbook import BASE_DIR_ENV, resolve_url  # noqa: E402
from tests.conftest import postgres_url  # noqa: E402
from tests.runbooks import NOTEBOOKS, REPO, RUNBOOK_URL, is_walkthrough, runbook_environment  # noqa: E402

ALL_NOTEBOOKS = sorted(NOTEBOOKS.glob("*.ipynb"))
RUNBOOKS = [path for path in ALL_NOTEBOOKS if not is_walkthrough(path)]
WALKTHROUGHS = [path for path in ALL_NOTEBOOKS if is_walkthrough(path)]


def _launch_module():
    spec = importlib.util.spec_from_file_location("launch", REPO / "tools" / "launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def demo_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A base folder holding demo/credkit.db, named in the environment as `make lab` names it."""
    for name, value in runbook_environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    return tmp_path


# --- the directory and the paths ---------------------------------------------------------------


def test_a_runbook_uses_the_environments_directory_relative_to_the_base_folder(
    demo_base: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))  # the kernel's folder: not the base
    connection = connect_runbook()
    assert not connection.throwaway
    assert Path(connection.directory.engine.url.database) == demo_base / "demo" / "credkit.db"
    assert connection.header() == (
        "Directory: sqlite:///demo/credkit.db\n"
        "Location: demo/credkit.db\n"
        "Holds 200 users and 341 credentials."
    )
    assert not (Path.cwd() / "demo").exists()


def test_the_parameter_wins_over_the_environment(demo_base: Path) -> None:
    other = demo_base / "other"
    runbook_environment(other)
    connection = connect_runbook("sqlite:///other/demo/credkit.db")
    assert "Location: other/demo/credkit.db" in connection.header()


def test_a_sqlite_file_that_does_not_exist_is_refused_and_not_created(demo_base: Path) -> None:
    with pytest.raises(SetupError, match=r"no directory at nowhere/credkit\.db.*make demo"):
        connect_runbook("sqlite:///nowhere/credkit.db")
    assert not (demo_base / "nowhere").exists()


def test_without_a_directory_a_runbook_works_on_a_throwaway_demo_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    connection = connect_runbook()
    assert connection.throwaway
    header = connection.header()
    assert header.startswith("Directory: a throwaway demo directory in a temporary folder")
    assert "200 users" in header and DATABASE_URL_ENV in header
    assert str(connection.location) not in header  # no machine path


@pytest.mark.postgres
def test_the_header_hides_the_password() -> None:
    url = postgres_url()
    with_password = re.sub(r"//([^:@/]+)(:[^@]*)?@", r"//\1:s3cret-pw@", url, count=1)
    header = connect_runbook(with_password).header()
    assert "s3cret-pw" not in header and "***" in header
    assert "Location: " in header and " on " in header


def test_absolute_and_memory_urls_are_left_alone(demo_base: Path) -> None:
    assert resolve_url("sqlite:////srv/credkit.db") == "sqlite:////srv/credkit.db"
    assert resolve_url("sqlite://") == "sqlite://"
    assert resolve_url(RUNBOOK_URL) == f"sqlite:///{demo_base / 'demo' / 'credkit.db'}"


def test_the_path_box_takes_paths_relative_to_the_base_folder(
    demo_base: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("kernel-folder"))
    wizard = ImportWizard(connect_runbook().directory, operator="tester")
    wizard.chooser.path.value = f"demo/{MESSY_FILE}"
    wizard.chooser.load_button.click()
    assert wizard.review is not None and wizard.review.file_name == MESSY_FILE
    assert wizard.chooser.message.value == ""
    wizard.chooser.path.value = "demo/missing.csv"
    wizard.chooser.load_button.click()
    message = wizard.chooser.message.value
    assert "No file at &#x27;demo/missing.csv&#x27;" in message and BASE_DIR_ENV in message
    assert str(demo_base) not in message


# --- the notebooks as stored, and as run -------------------------------------------------------


def test_there_are_runbooks_and_labelled_walkthroughs() -> None:
    assert {path.name for path in RUNBOOKS} >= {
        "import-credentials.ipynb",
        "export-credentials.ipynb",
    }
    for path in WALKTHROUGHS:
        first = nbformat.read(path, as_version=4).cells[0].source
        assert first.startswith("# Walkthrough") and "throwaway demo directory" in first
        assert "CREDKIT_DATABASE_URL" in first


@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS, ids=lambda path: path.name)
def test_stored_outputs_hold_no_machine_path(notebook: Path) -> None:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    outputs = json.dumps([cell.get("outputs", []) for cell in cells])
    found = re.search(r"(/tmp/|/home/|/root/|/work/|/Users/|[A-Z]:\\\\)[^\"\s]*", outputs)
    assert found is None, f"{notebook.name} stores a machine path: {found.group(0)!r}"


@pytest.mark.parametrize("notebook", RUNBOOKS, ids=lambda path: path.name)
def test_a_runbook_prints_its_directory_in_its_stored_output(notebook: Path) -> None:
    cells = nbformat.read(notebook, as_version=4).cells
    printed = "".join(
        output.get("text", "")
        for cell in cells
        if cell.cell_type == "code" and "connect_runbook(" in cell.source
        for output in cell.outputs
    )
    assert printed.startswith(f"Directory: {RUNBOOK_URL}\nLocation: demo/credkit.db\n")


def _checkout_files() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--others", "--cached", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    ignored = subprocess.run(
        ["git", "ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    names = set(listed.split("\0")) | set(ignored.split("\0"))
    return {name for name in names if name and "__pycache__" not in name}


def _run_together(notebooks: list[Path], cwd: Path, env: dict[str, str]) -> dict[str, str]:
    """Run notebooks one after the other in one kernel started in cwd with env (a kernel start
    costs seconds), the namespace reset between them; what each printed, by name."""
    combined = nbformat.v4.new_notebook()
    owners: list[str] = []
    for notebook in notebooks:
        combined.cells.append(nbformat.v4.new_code_cell("%reset -f"))
        owners.append("")
        for cell in nbformat.read(notebook, as_version=4).cells:
            if cell.cell_type == "code":
                combined.cells.append(nbformat.v4.new_code_cell(cell.source))
                owners.append(notebook.name)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # the kernel inherits it
    try:
        client = nbclient.NotebookClient(combined, timeout=120, kernel_name="python3")
        client.execute(cwd=str(cwd))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    printed = {notebook.name: "" for notebook in notebooks}
    for owner, cell in zip(owners, combined.cells, strict=True):
        if owner:
            printed[owner] += "".join(output.get("text", "") for output in cell.outputs)
    return printed


def _printed(notebook: Path) -> str:
    return "".join(
        output.get("text", "")
        for cell in nbformat.read(notebook, as_version=4).cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def test_every_notebook_runs_from_the_repository_root_without_a_directory() -> None:
    """nbval runs them in notebooks/ with CREDKIT_DATABASE_URL; this is the other way round.
    Run All writes no file into the checkout."""
    before = _checkout_files()
    env = {k: v for k, v in os.environ.items() if k not in (DATABASE_URL_ENV, BASE_DIR_ENV)}
    printed = _run_together(ALL_NOTEBOOKS, REPO, env)
    for runbook in RUNBOOKS:
        assert printed[runbook.name].startswith("Directory: a throwaway demo directory")
    assert _checkout_files() - before == set()


def test_a_runbook_run_from_the_repository_root_prints_what_it_stored(tmp_path: Path) -> None:
    before = _checkout_files()
    printed = _run_together(RUNBOOKS, REPO, dict(os.environ) | runbook_environment(tmp_path))
    assert printed == {runbook.name: _printed(runbook) for runbook in RUNBOOKS}
    assert _checkout_files() - before == set()


# --- make lab's working copies -----------------------------------------------------------------


def test_working_copies_are_made_once_and_never_overwritten(tmp_path: Path) -> None:
    launch = _launch_module()
    target = tmp_path / "my-notebooks"
    copied = launch.working_copies(NOTEBOOKS, target)
    assert sorted(path.name for path in copied) == [path.name for path in ALL_NOTEBOOKS]
    edited = target / "import-credentials.ipynb"
    edited.write_text("{}")
    assert launch.working_copies(NOTEBOOKS, target) == []
    assert edited.read_text() == "{}"
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "my-notebooks/import-credentials.ipynb"], cwd=REPO
    )
    assert ignored.returncode == 0, "my-notebooks/ must be git-ignored"


def test_make_lab_runs_the_launcher_on_the_demo_directory() -> None:
    launch = _launch_module()
    makefile = (REPO / "Makefile").read_text()
    assert "tools/launch.py lab $(DEMO_DB)" in makefile
    assert "tools/launch.py app $(DEMO_DB)" in makefile
    env = launch.environment(REPO)
    assert env[DATABASE_URL_ENV] == "sqlite:///demo/credkit.db"
    assert env[BASE_DIR_ENV] == str(REPO)
    command = launch.lab_command(sys.executable, REPO, "my-notebooks/import-credentials.ipynb")
    assert f"--config={REPO / 'jupyter_server_config.py'}" in command
    assert command[-1] == "my-notebooks/import-credentials.ipynb"
