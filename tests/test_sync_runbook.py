"""The sync-with-verkada runbook: its panel pushed by its buttons against the loopback emulator of
Command's API, and the notebook itself run (Run All) without pushing anything."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

pytest.importorskip("ipywidgets")
pytest.importorskip("ipydatagrid")
pytest.importorskip("httpx")
nbformat = pytest.importorskip("nbformat")

from credkit.connection import SetupError  # noqa: E402
from credkit.connectors.verkada import VerkadaLimits  # noqa: E402
from credkit.connectors.verkada.config import API_URL_ENV  # noqa: E402
from credkit.demo import COMMAND_EXPORT_FILE, MESSY_FILE, create_demo  # noqa: E402
from credkit.directory import Directory  # noqa: E402
from credkit.notebook.downloads import decode_data_uri  # noqa: E402
from credkit.notebook.runbook import RunbookDirectory  # noqa: E402
from credkit.notebook.verkada_panel import PUSH_NEEDS, SYNC_STEPS, VerkadaSyncPanel  # noqa: E402
from credkit.notebook.wizard import PLAN, ROWS  # noqa: E402
from credkit.privileges import MANAGER_ROLE, VIEWER_ROLE  # noqa: E402
from credkit.roles import grant_role, setup_roles  # noqa: E402
from credkit.runs import list_runs  # noqa: E402
from tests.conftest import clear_postgres, postgres_url  # noqa: E402
from tests.emulators.verkada import CommandEmulator  # noqa: E402
from tests.runbooks import NOTEBOOKS, REPO, runbook_environment  # noqa: E402
from tests.test_runbooks import _checkout_files, _printed, _run_together  # noqa: E402
from tests.test_verkada import expected_state  # noqa: E402

KEY = "vkd_sync_5e2b7d0c9a"  # a secret: never shown, never stored
RUNBOOK = NOTEBOOKS / "sync-with-verkada.ipynb"
QUICK = VerkadaLimits(
    requests_per_window=1000, backoff_initial_seconds=0.01, backoff_max_seconds=0.05
)
# Rows of the demo's messy file (credkit.demo.messy_rows; see tests/test_widgets.py).
FC_300, SHORT_CODE, OTHER_USERS_CARD = 4, 6, 11


@pytest.fixture
def command() -> Iterator[CommandEmulator]:
    emulator = CommandEmulator(api_key=KEY)
    with emulator.serving() as url:
        emulator.url = url  # type: ignore[attr-defined]
        yield emulator


@pytest.fixture
def organisation(
    command: CommandEmulator, tmp_path: Path
) -> Iterator[tuple[CommandEmulator, Directory, Path]]:
    """Command holding the demo organisation; an empty local directory; the demo's files."""
    source = Directory(f"sqlite:///{tmp_path / 'source.db'}")
    create_demo(source, tmp_path, user_count=50)
    command.load_directory(source)
    source.dispose()
    local = Directory(f"sqlite:///{tmp_path / 'local.db'}")
    yield command, local, tmp_path
    local.dispose()


def test_the_panel_loads_the_export_corrects_writes_and_pushes(organisation) -> None:
    command, local, folder = organisation
    connection = RunbookDirectory(local, "sqlite:///local.db", "local.db", throwaway=False)
    panel = VerkadaSyncPanel(connection, operator="tester", limits=QUICK)
    assert "Holds 0 users and 0 credentials." in panel.header.value
    assert panel.push_button.disabled and html_text(PUSH_NEEDS) in panel.push_note.value

    # 1. The Command export, loaded as the directory (as with `credkit directory load`).
    loaded = panel.load_export_path(folder / COMMAND_EXPORT_FILE)
    assert loaded.exit_status == 0 and loaded.counts["users_added"] == 50
    assert "Holds 50 users and" in panel.header.value
    assert f"Loaded {COMMAND_EXPORT_FILE}" in panel.export_result.value

    # 2. The messy file, reviewed and corrected with the wizard's buttons.
    wizard = panel.wizard
    wizard.load_bytes((folder / MESSY_FILE).read_bytes(), MESSY_FILE)
    wizard.accept_button.click()
    wizard.go_to(ROWS)
    wizard.fixes.buttons["all"].click()
    code = wizard.review.table.at[SHORT_CODE, "Entry Code"]
    wizard.apply_edits({(FC_300, "Facility Code"): "30", (SHORT_CODE, "Entry Code"): "0" + code})
    wizard.reassign_row(OTHER_USERS_CARD)
    wizard.fixes.buttons["skip-failing"].click()
    wizard.go_to(PLAN)
    assert wizard.step == PLAN and SYNC_STEPS[-1] in wizard.indicator.value
    assert "Import" not in wizard.indicator.value  # this wizard writes or pushes
    plan = wizard.plan.counts()
    # Failing: the unknown user and the duplicate (skipped); the row with a card and a plate
    # was split in two by Apply all computed fixes, and both are written.
    assert plan["fail"] == 2 and plan["reassign"] == 1
    assert wizard.review.row_label(12) == "8, credential 2 of 2"
    assert not panel.corrected_button.disabled and panel.push_button.disabled  # no key yet

    # The corrected file, as a download button: the rows that do not fail, canonical.
    before_files = set(os.listdir(folder))
    panel.corrected_button.click()
    corrected = decode_data_uri(panel.corrected_download.value).decode()
    rows = list(csv.DictReader(io.StringIO(corrected)))
    assert len(rows) == sum(n for outcome, n in plan.items() if outcome != "fail")
    assert 'download="credentials-messy-corrected.csv"' in panel.corrected_download.value
    assert "credentials-messy-failed-rows.csv" in panel.corrected_download.value
    assert set(os.listdir(folder)) == before_files  # nothing written on the server
    assert command.writes == []  # writing the file calls nobody

    # 3. The push, with the key typed in the password field.
    before = command.credential_owners()
    panel.url.value = command.url  # type: ignore[attr-defined]
    panel.key.value = KEY
    assert not panel.push_button.disabled
    panel.push_button.click()
    result = panel.pushed
    assert result is not None, panel.push_result.value
    assert result.counts() == plan | {"fail": 0}
    assert command.credential_owners() == expected_state(
        before, result.review.resolved, result.rows
    )
    writes = len(command.writes)
    assert writes == plan["create"] + plan["update"] + 2 * plan["reassign"]
    assert panel.key.value == "" and panel.push_button.disabled  # the key is not kept
    assert KEY not in panel.widget.__repr__() and KEY not in panel.push_result.value
    assert "Pushed" in panel.push_result.value
    assert panel.corrected_download.value == ""  # the file offered was of the plan before

    # The local directory followed: the same file plans all unchanged, and a second push
    # makes no write call.
    assert wizard.plan.counts()["unchanged"] == len(rows)
    panel.key.value = KEY
    panel.push_button.click()
    assert panel.pushed.counts()["unchanged"] == len(rows)
    assert len(command.writes) == writes


def test_a_refused_key_is_said_beside_the_push_and_nothing_is_written(organisation) -> None:
    command, local, folder = organisation
    connection = RunbookDirectory(local, "sqlite:///local.db", "local.db", throwaway=False)
    panel = VerkadaSyncPanel(connection, operator="tester", limits=QUICK)
    panel.load_export_bytes((folder / COMMAND_EXPORT_FILE).read_bytes(), COMMAND_EXPORT_FILE)
    panel.wizard.load_path(folder / MESSY_FILE)
    panel.wizard.accept_button.click()
    panel.wizard.go_to(PLAN)
    panel.url.value = command.url  # type: ignore[attr-defined]
    panel.key.value = "not-the-key"
    panel.push_button.click()
    assert "refused the API key" in panel.push_result.value
    assert "not-the-key" not in panel.push_result.value and panel.key.value == ""
    assert command.writes == []


def test_the_corrected_file_offered_goes_when_the_plan_changes(organisation) -> None:
    """The download links are of the plan they were written from: an edit, a new file or a
    push takes them off the screen (Write again for the current plan)."""
    command, local, folder = organisation
    connection = RunbookDirectory(local, "sqlite:///local.db", "local.db", throwaway=False)
    panel = VerkadaSyncPanel(connection, operator="tester", limits=QUICK)
    panel.load_export_path(folder / COMMAND_EXPORT_FILE)
    wizard = panel.wizard
    wizard.load_path(folder / MESSY_FILE)
    wizard.accept_button.click()
    wizard.go_to(PLAN)
    panel.corrected_button.click()
    assert "credentials-messy-corrected.csv" in panel.corrected_download.value

    wizard.fixes.buttons["skip-failing"].click()  # a new review: its plan differs
    assert panel.corrected_download.value == ""
    panel.corrected_button.click()
    assert "credentials-messy-corrected.csv" in panel.corrected_download.value
    wizard.load_path(folder / MESSY_FILE)  # a new file
    assert panel.corrected_download.value == ""

    wizard.accept_button.click()
    wizard.fixes.buttons["skip-failing"].click()
    wizard.go_to(PLAN)
    panel.corrected_button.click()
    panel.url.value = command.url  # type: ignore[attr-defined]
    panel.key.value = KEY
    panel.push_button.click()
    assert panel.pushed is not None, panel.push_result.value
    assert panel.corrected_download.value == "" and "Pushed" in panel.push_result.value
    panel.corrected_button.click()  # Write again: the file of pushing again, every row there
    rows = list(
        csv.DictReader(io.StringIO(decode_data_uri(panel.corrected_download.value).decode()))
    )
    assert len(rows) == panel.wizard.plan.counts()["unchanged"]


#: PostgreSQL logins of the privilege test (cluster-wide: a prefix no other test uses).
SYNC_VIEWER, SYNC_MANAGER = "h6sync_viewer", "h6sync_manager"


def test_a_viewer_sees_why_load_and_push_are_disabled_and_cannot_load(
    command: CommandEmulator, tmp_path: Path
) -> None:
    """On a shared PostgreSQL directory a viewer may review but not write: the Load and Push
    buttons are disabled with the database's one-line reason; a manager's are not."""
    url = postgres_url()
    clear_postgres(url)
    directory = Directory(url)  # the owner's: its tables, for the roles' grants
    owner = sa.create_engine(url)
    setup_roles(owner, url)
    with owner.begin() as conn:
        for login in (SYNC_VIEWER, SYNC_MANAGER):
            if not conn.execute(
                sa.text("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :l)"), {"l": login}
            ).scalar_one():
                conn.exec_driver_sql(f"CREATE ROLE {login} LOGIN")
    grant_role(owner, SYNC_VIEWER, VIEWER_ROLE)
    grant_role(owner, SYNC_MANAGER, MANAGER_ROLE)
    owner.dispose()
    source = Directory(f"sqlite:///{tmp_path / 'source.db'}")
    create_demo(source, tmp_path, user_count=20)
    source.dispose()

    def panel_as(login: str) -> VerkadaSyncPanel:
        login_url = sa.make_url(url).set(username=login, password=None)
        directory = Directory(login_url.render_as_string(hide_password=False))
        location = str(login_url.database)
        connection = RunbookDirectory(directory, url, location, throwaway=False)
        return VerkadaSyncPanel(connection, operator="tester", limits=QUICK)

    try:
        manager = panel_as(SYNC_MANAGER)
        assert manager.refusal is None and not manager.export_chooser.load_button.disabled
        assert manager.load_export_path(tmp_path / COMMAND_EXPORT_FILE).exit_status == 0
        manager.directory.dispose()

        viewer = panel_as(SYNC_VIEWER)
        reason = f"your login {SYNC_VIEWER} may not import credentials into the directory"
        assert viewer.refusal is not None and viewer.refusal.startswith(reason)
        assert "\n" not in viewer.refusal and MANAGER_ROLE in viewer.refusal
        assert viewer.export_chooser.load_button.disabled and viewer.export_chooser.upload.disabled
        assert html_text(viewer.refusal) in viewer.export_result.value
        assert "Holds 20 users" in viewer.header.value  # the header still says where this is
        # The review works (a viewer may review), the push stays disabled with its reason.
        viewer.wizard.load_path(tmp_path / MESSY_FILE)
        viewer.wizard.accept_button.click()
        viewer.wizard.go_to(PLAN)
        assert viewer.wizard.plan is not None
        viewer.url.value = command.url  # type: ignore[attr-defined]
        viewer.key.value = KEY
        assert viewer.push_button.disabled and html_text(viewer.refusal) in viewer.push_note.value
        # Called anyway (as a test or a script would), both refuse before anything is written.
        runs = len(list_runs(directory))
        with pytest.raises(SetupError, match=reason):
            viewer.load_export_path(tmp_path / COMMAND_EXPORT_FILE)
        with pytest.raises(SetupError, match=reason):
            viewer.push()
        assert viewer.key.value == "" and command.requests == 0 and command.writes == []
        assert len(list_runs(directory)) == runs == 1  # the manager's load only
        viewer.directory.dispose()
    finally:
        directory.dispose()
        clear_postgres(url)


def html_text(text: str) -> str:
    from html import escape

    return escape(text)


# --- the notebook ------------------------------------------------------------------------------


def test_run_all_with_the_emulator_pushes_nothing_and_prints_what_it_stored(
    command: CommandEmulator, tmp_path: Path
) -> None:
    """Run All, from the repository root, with Command's API at hand (VERKADA_API_URL): the
    runbook prints what it stored and calls nobody; no file is left in the checkout."""
    before = _checkout_files()
    env = dict(os.environ) | runbook_environment(tmp_path) | {API_URL_ENV: command.url}  # type: ignore[attr-defined]
    printed = _run_together([RUNBOOK], REPO, env)
    assert printed[RUNBOOK.name] == _printed(RUNBOOK)
    assert command.requests == 0 and command.writes == []
    assert _checkout_files() - before == set()


def test_the_runbook_prints_its_directory_and_what_the_push_needs() -> None:
    printed = _printed(RUNBOOK)
    assert printed.startswith("Directory: sqlite:///demo/credkit.db\nLocation: demo/credkit.db\n")
    assert "API key" in printed and "offline" in printed
    first = nbformat.read(RUNBOOK, as_version=4).cells[0].source
    assert first.startswith("# Sync with Verkada Command")
