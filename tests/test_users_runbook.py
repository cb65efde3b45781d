"""The user-import runbook: it shows the credential columns and the plan, and writes only on
Import (nbval runs notebooks/import-users.ipynb itself; this drives its panel)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("ipywidgets")

from credkit.demo import USERS_FILE  # noqa: E402
from credkit.notebook import connect_runbook  # noqa: E402
from credkit.notebook.users_panel import UserImportPanel, columns_table  # noqa: E402
from credkit.runs import list_runs  # noqa: E402
from tests.runbooks import NOTEBOOKS, runbook_environment  # noqa: E402

RUNBOOK = NOTEBOOKS / "import-users.ipynb"


@pytest.fixture
def connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name, value in runbook_environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    connected = connect_runbook()
    yield connected
    connected.directory.dispose()


def test_the_columns_include_the_credential_columns_and_what_the_file_has() -> None:
    table = columns_table(["first name", "Last_Name", "Email", "Entry Code"])
    credential = table[table["Kind"] == "credential"]["Column"].tolist()
    assert credential == [
        "Card Type", "Facility Code", "Card Number", "Card Number Hex", "License Plate",
        "Entry Code", "Credential Status",
    ]  # fmt: skip
    has = dict(zip(table["Column"], table["In the file"], strict=True))
    assert has["First Name"] == has["Last Name"] == has["Entry Code"] == "yes"
    assert has["Card Number"] == ""


def test_loading_plans_and_writes_nothing_only_import_writes(connection) -> None:
    before = connection.counts()
    panel = UserImportPanel(connection.directory, operator="runbook test")
    plan = panel.load(f"demo/{USERS_FILE}")
    assert plan.counts() == {"create": 6, "update": 1, "unchanged": 0, "fail": 2}
    assert "Card Type" in panel.columns.value and "credential" in panel.columns.value
    assert "Each row: its user and its credentials" in panel.plan_table.value
    assert "row 10, credential 2 of 2" in panel.plan_table.value
    assert panel.import_button.description == "Import 7 rows"
    assert connection.counts() == before and list_runs(connection.directory).empty
    panel.handle_import()
    users, credentials = connection.counts()
    assert (users, credentials) == (before[0] + 6, before[1] + 18)
    (run,) = list_runs(connection.directory).to_dict("records")
    assert run["kind"] == "users" and run["on_behalf_of"] == "runbook test"
    assert f"run {run['id']}" in panel.result_html.value
    assert "failed rows" in panel.result_html.value
    assert panel.import_button.disabled and panel.import_button.description == "Imported"


def test_a_missing_file_is_said_in_the_panel(connection) -> None:
    panel = UserImportPanel(connection.directory)
    panel.path_box.value = "demo/nowhere.csv"
    panel.handle_load()
    assert "There is no file at demo/nowhere.csv" in panel.message.value
    assert panel.import_button.disabled


def test_the_runbook_prints_its_directory_and_the_plan() -> None:
    import nbformat

    notebook = nbformat.read(RUNBOOK, as_version=4)
    printed = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert printed.startswith("Directory: sqlite:///demo/credkit.db\nLocation: demo/credkit.db")
    assert "Credential Status credential" in printed
    assert "Users: {'create': 6, 'update': 1, 'unchanged': 0, 'fail': 2}" in printed
    assert not any(
        "panel.handle_import" in cell.source or "run_import" in cell.source
        for cell in notebook.cells
    ), "Run All must not import: only the Import button writes"
