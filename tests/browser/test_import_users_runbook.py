"""The user-import runbook in JupyterLab and Chromium: Run All shows the directory, the columns
and the plan and writes nothing; the Import button imports. Screenshots at 1366x768 and
1920x1080 go to test-artifacts/browser/users/.

Debian's Chromium (/usr/bin/chromium) is required: without it the test is skipped, except
under CI (CI=true), where it fails.
"""

from __future__ import annotations

from pathlib import Path

from credkit.directory import Directory
from tests.browser.helpers import (
    ARTIFACTS,
    Deadline,
    Screenshots,
    chromium_page,
    jupyter_lab,
    launcher,
    require_chromium,
    require_modules,
    run_all,
)
from tests.runbooks import NOTEBOOKS, runbook_environment

NOTEBOOK = "import-users.ipynb"
BUDGET_SECONDS = 180


def counts(directory: Directory) -> tuple[int, int]:
    return len(directory.users_frame()), directory.credential_count()


def test_run_all_plans_and_only_the_import_button_writes(tmp_path: Path) -> None:
    require_modules("playwright.sync_api", "jupyterlab", "ipywidgets")
    require_chromium()
    deadline = Deadline(BUDGET_SECONDS)
    base = tmp_path / "base"
    env = runbook_environment(base)
    directory = Directory(f"sqlite:///{base / 'demo' / 'credkit.db'}")
    before = counts(directory)
    lab_root = tmp_path / "lab"
    launcher().working_copies(NOTEBOOKS, lab_root / "my-notebooks")
    lab_env = launcher().environment(base, env["CREDKIT_DATABASE_URL"])

    from playwright.sync_api import expect

    try:
        with (
            jupyter_lab(lab_root, tmp_path / "jupyter", lab_env) as lab,
            chromium_page(tmp_path / "chromium-profile") as page,
        ):
            shots = Screenshots(page, ARTIFACTS / "users")
            kernel_idle = run_all(page, lab.url(f"/lab/tree/my-notebooks/{NOTEBOOK}"), deadline)
            plan = page.locator(".credkit-users-plan")
            expect(plan).to_contain_text("users create 6", timeout=deadline.ms(60))
            kernel_idle.wait_for(timeout=deadline.ms(30))
            header = page.get_by_text("Directory: sqlite:///demo/credkit.db").first
            expect(header).to_be_visible(timeout=deadline.ms(10))
            shots.take("runbook-header", top=header)
            shots.take("columns-and-plan", top=plan)
            table = page.get_by_text("Each row: its user and its credentials")
            shots.take("plan-rows", top=table)
            assert counts(directory) == before, "Run All must write nothing"

            button = page.locator(".credkit-users-import")
            expect(button).to_contain_text("Import 7 rows", timeout=deadline.ms(10))
            button.click(timeout=deadline.ms(10))
            result = page.locator(".credkit-users-result")
            expect(result).to_contain_text("Imported", timeout=deadline.ms(60))
            expect(result).to_contain_text("credkit runs undo 1", timeout=deadline.ms(10))
            expect(button).to_contain_text("Imported", timeout=deadline.ms(10))
            shots.take("imported", top=result)
            assert counts(directory) == (before[0] + 6, before[1] + 18)
    finally:
        directory.dispose()
