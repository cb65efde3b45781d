"""The migration runbook (notebooks/migrate-from-another-system.ipynb): nbval runs it on a demo
directory as `make lab` names it, and its wizard takes the demo's Genetec export to an import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ipywidgets")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbval")

from credkit.demo import GENETEC_FILE  # noqa: E402
from credkit.notebook import connect_runbook  # noqa: E402
from tests.runbooks import NOTEBOOKS, REPO, runbook_environment  # noqa: E402

RUNBOOK = NOTEBOOKS / "migrate-from-another-system.ipynb"


def _code_cells() -> list[str]:
    return [c.source for c in nbformat.read(RUNBOOK, as_version=4).cells if c.cell_type == "code"]


def test_nbval_runs_the_migration_runbook_and_it_leaves_nothing_behind() -> None:
    before = set(NOTEBOOKS.iterdir())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(RUNBOOK)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "passed" in done.stdout
    assert set(NOTEBOOKS.iterdir()) == before


def test_the_runbook_writes_nothing_on_run_all() -> None:
    code = "\n".join(_code_cells())
    for writer in ("run_import", "execute_import", ".save(", "save_profile", "write_"):
        assert writer not in code
    assert "# NBVAL_IGNORE_OUTPUT" in _code_cells()[-1]  # the live widget


def test_the_runbooks_wizard_imports_the_genetec_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runbook's cells, with source_system = "genetec", then what an operator clicks."""
    for name, value in runbook_environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for source in _code_cells():
        exec(compile(source, str(RUNBOOK), "exec"), namespace)  # noqa: S102
        if "source_system = None" in source:
            namespace["source_system"] = "genetec"
    wizard = namespace["wizard"]
    assert wizard.source.system.value == "genetec"
    wizard.chooser.path.value = f"demo/{GENETEC_FILE}"
    wizard.chooser.load_button.click()
    assert "read 6 source rows as 7 credentials" in wizard.source.report.value
    wizard.next_button.click()
    (row,) = wizard.review.failing_rows
    wizard.grid.select_row(int(row))
    (fix,) = [b for b in wizard.grid.row_actions.children if b.description.startswith("HID Corp")]
    fix.click()
    wizard.next_button.click()
    wizard.next_button.click()
    link = wizard.canonical.make()
    assert "genetec-export.canonical.csv" in link
    before = connect_runbook().directory.credential_count()
    wizard.importer.import_button.click()
    assert wizard.result.counts()["create"] == 7
    assert connect_runbook().directory.credential_count() == before + 7
