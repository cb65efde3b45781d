"""The sync-with-verkada runbook in JupyterLab in Chromium, against the loopback emulator of
Command's API: load the demo's Command export, upload the messy file, fix it, download the
corrected file, push with a key, and check what Command then holds.

JupyterLab is started as `make lab` starts it (tools/launch.py), with the current interpreter,
on working copies of the runbooks connected to a demo directory; Command's API is the emulator,
named by VERKADA_API_URL as an operator's environment would. Screenshots at 1366x768 go to
test-artifacts/browser/sync/ (not committed).
"""

from __future__ import annotations

import csv
import io
import re
from contextlib import suppress
from pathlib import Path

import pytest
import sqlalchemy as sa

from credkit.connectors.verkada.config import API_URL_ENV
from credkit.demo import COMMAND_EXPORT_FILE, MESSY_FILE
from credkit.directory import Directory, credentials, users
from credkit.notebook.grid import grid_columns
from tests.browser.datagrid import commit_cell, select_row
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
from tests.browser.test_import_runbook import _accepted_review, _rows_by_code
from tests.emulators.verkada import CommandEmulator
from tests.runbooks import NOTEBOOKS, runbook_environment

NOTEBOOK = "sync-with-verkada.ipynb"
KEY = "vkd_browser_3c8e1a6f2d"  # a secret: typed in the password field only
BUDGET_SECONDS = 200
CORRECTED = "30"


class Shots1366(Screenshots):
    """The brief's size only: 1366x768."""

    SIZES = ((1366, 768),)


@pytest.fixture
def demo(tmp_path: Path):
    base = tmp_path / "base"
    env = runbook_environment(base)
    directory = Directory(f"sqlite:///{base / 'demo' / 'credkit.db'}")
    yield directory, base, env
    directory.dispose()


def _local_state(directory: Directory) -> dict[str, tuple[str, bool]]:
    """The local directory as the emulator's credential_owners() names Command's state."""
    with directory.engine.connect() as conn:
        rows = conn.execute(
            sa.select(credentials.c.credential_key, users.c.user_id, credentials.c.status).join(
                users, credentials.c.user_pk == users.c.id
            )
        ).all()
    return {key: (user_id, status == "active") for key, user_id, status in rows}


def test_an_operator_corrects_the_messy_file_and_pushes_it_to_command(tmp_path: Path, demo) -> None:
    require_modules("playwright.sync_api", "jupyterlab", "ipywidgets", "ipydatagrid", "httpx")
    require_chromium()
    deadline = Deadline(BUDGET_SECONDS)
    directory, base, env = demo
    messy = base / "demo" / MESSY_FILE
    export = base / "demo" / COMMAND_EXPORT_FILE
    expected = _accepted_review(messy, directory)
    rows = list(expected.failing_rows)
    by_code = _rows_by_code(expected)
    table = expected.table

    lab_root = tmp_path / "lab"
    launcher().working_copies(NOTEBOOKS, lab_root / "my-notebooks")
    command = CommandEmulator(api_key=KEY)
    command.load_directory(directory)  # Command holds what its export says
    before = command.credential_owners()
    assert before == _local_state(directory)

    from playwright.sync_api import expect

    with (
        command.serving() as api_url,
        jupyter_lab(
            lab_root,
            tmp_path / "jupyter",
            launcher().environment(base, env["CREDKIT_DATABASE_URL"]) | {API_URL_ENV: api_url},
        ) as lab,
        chromium_page(tmp_path / "chromium-profile") as page,
    ):
        shots = Shots1366(page, ARTIFACTS / "sync")
        try:
            kernel_idle = run_all(page, lab.url(f"/lab/tree/my-notebooks/{NOTEBOOK}"), deadline)
            sync = page.locator(".credkit-sync")
            sync.wait_for(timeout=deadline.ms(60))
            kernel_idle.wait_for(timeout=deadline.ms(30))
            header = page.get_by_text("Directory: sqlite:///demo/credkit.db").first
            expect(header).to_be_visible(timeout=deadline.ms(10))
            shots.take("runbook-header", top=header)
            assert command.requests == 0  # Run All calls nobody

            # --- 1. the Command export ------------------------------------------------------
            with page.expect_file_chooser(timeout=deadline.ms(10)) as chooser:
                sync.locator(".credkit-export-upload").click(timeout=deadline.ms(10))
            chooser.value.set_files(str(export), timeout=deadline.ms(30))
            loaded = sync.locator(".credkit-export-result")
            expect(loaded).to_contain_text(f"Loaded {COMMAND_EXPORT_FILE}", timeout=deadline.ms(60))
            shots.take("export-loaded", top=sync)

            # --- 2. the messy file, reviewed and corrected ----------------------------------
            wizard = sync.locator(".credkit-wizard")
            with page.expect_file_chooser(timeout=deadline.ms(10)) as chooser:
                wizard.locator(".widget-upload").click(timeout=deadline.ms(10))
            chooser.value.set_files(str(messy), timeout=deadline.ms(30))
            expect(wizard.locator(".credkit-step-current")).to_contain_text(
                "2. Review the columns", timeout=deadline.ms(30)
            )
            wizard.get_by_role("button", name=re.compile(r"Accept header suggestions")).click()
            expect(wizard.get_by_text("The columns are accepted")).to_be_visible(
                timeout=deadline.ms(30)
            )
            steps = wizard.locator(".credkit-steps")
            next_button = wizard.get_by_role("button", name=re.compile(r"(^|\s)Next$"))
            next_button.click(timeout=deadline.ms(10))
            grid = wizard.locator(".ipydatagrid-widget .lm-DataGrid")
            grid.wait_for(timeout=deadline.ms(20))
            wizard.get_by_role("button", name=re.compile(r"Apply all computed fixes")).click()
            expect(
                wizard.get_by_text(re.compile(r"^All computed fixes: 3 rows edited"))
            ).to_be_visible(timeout=deadline.ms(30))
            # A bulk fix chooses the view's rows again: the frame it fixed and the row it split
            # in two (a card and a plate) leave the errors view.
            fixed = by_code["hex-parity"] + by_code["multiple-credentials"]
            rows = [row for row in rows if row not in fixed]
            expect(
                wizard.get_by_text(f"rows 1-{len(rows)} of {len(rows)} in this view")
            ).to_be_visible(timeout=deadline.ms(10))
            columns = ["Status", *grid_columns(expected)]
            (fc_row,) = by_code["facility-code-range"]
            commit_cell(page, grid, rows.index(fc_row), columns.index("Facility Code"), CORRECTED)
            side = wizard.locator(".credkit-row-findings")
            expect(side).to_contain_text("No findings", timeout=deadline.ms(20))
            (other_users,) = by_code["assigned-to-other-user"]
            select_row(page, grid, rows.index(other_users))
            expect(side).to_contain_text(f"Row {other_users}", timeout=deadline.ms(20))
            wizard.get_by_role("button", name="Reassign to this row's user").click()
            expect(wizard.get_by_role("button", name="Reassigned (undo)")).to_be_visible(
                timeout=deadline.ms(20)
            )
            wizard.get_by_role(
                "button", name=re.compile(r"Skip every row that still fails")
            ).click()
            expect(wizard.get_by_text("Every row that still fails is skipped.")).to_be_visible(
                timeout=deadline.ms(20)
            )
            shots.take("rows-corrected", top=steps)
            next_button.click(timeout=deadline.ms(10))
            next_button.click(timeout=deadline.ms(10))
            expect(wizard.locator(".credkit-step-current")).to_contain_text(
                "5. Write or push", timeout=deadline.ms(20)
            )
            plan = wizard.locator(".credkit-plan")
            expect(plan).to_contain_text("reassign 1", timeout=deadline.ms(20))
            expect(wizard.get_by_text(re.compile(r"Without an API key"))).to_be_visible()
            shots.take("write-or-push", top=steps)

            # --- 3a. the corrected file, downloaded ------------------------------------------
            wizard.locator(".credkit-write-corrected").click(timeout=deadline.ms(10))
            link = wizard.locator("a.credkit-download", has_text="corrected.csv")
            expect(link).to_be_visible(timeout=deadline.ms(20))
            with page.expect_download(timeout=deadline.ms(20)) as download:
                link.click()
            assert download.value.suggested_filename == "credentials-messy-corrected.csv"
            corrected = Path(download.value.path()).read_text(encoding="utf-8")
            written = list(csv.DictReader(io.StringIO(corrected)))
            assert {row["Facility Code"] for row in written} >= {CORRECTED}
            shots.take("corrected-downloaded", top=steps)
            assert command.writes == []

            # --- 3b. the push, with the key --------------------------------------------------
            expect(wizard.locator(".credkit-api-key input")).to_be_visible()
            assert wizard.locator("input[type='text']").filter(has_text=KEY).count() == 0
            wizard.locator(".credkit-api-key input").fill(KEY)
            push = wizard.get_by_role("button", name=re.compile(r"Push to Verkada"))
            expect(push).to_be_enabled(timeout=deadline.ms(20))
            push.click()
            result = wizard.locator(".credkit-push-result")
            expect(result).to_contain_text("Pushed", timeout=deadline.ms(60))
            expect(result).to_contain_text("reassigned 1", timeout=deadline.ms(10))
            expect(wizard.locator(".credkit-api-key input")).to_have_value("")
            kernel_idle.wait_for(timeout=deadline.ms(30))
            shots.take("pushed", top=wizard.locator(".credkit-plan"))
            assert KEY not in page.content()

            # --- Command holds the plan, and the local directory follows it -------------------
            after = command.credential_owners()
            assert after == _local_state(directory)
            changed = {key for key in after if before.get(key) != after[key]}
            assert len(changed) == len(written)  # every corrected row applied, once each
            assert len(command.writes) == len(written) + 1  # the reassign: remove, then add
            moved = [key for key in changed if key in before]
            assert [after[key][0] for key in moved] == [table.at[other_users, "User ID"]]
            fc_user = table.at[fc_row, "User ID"]
            assert any(owner == fc_user for owner, _active in (after[k] for k in changed))
        except BaseException:
            with suppress(Exception):
                shots.take("failure")
            print(f"--- JupyterLab's log ---\n{lab.log_tail(80)}")
            raise
