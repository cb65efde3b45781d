"""The migration runbook end to end: JupyterLab in Chromium, as an operator uses it.

JupyterLab is started as `make lab` starts it (tools/launch.py), with the current interpreter,
on working copies of the runbooks connected through the environment to a demo directory. The
operator picks Genetec Security Center as the source system, uploads the demo's Genetec export,
sees what the profile did, takes the decoded format of the mislabelled card as its fix, makes
the canonical file and imports; the test checks the directory row by row. Operator actions are
counted as in test_import_runbook.py and printed as "N operator actions". Screenshots of each
step at 1366x768 and 1920x1080 go to test-artifacts/browser/migration/.
"""

from __future__ import annotations

import csv
import re
from contextlib import suppress
from pathlib import Path

import pytest

from credkit.demo import GENETEC_FILE
from credkit.directory import Directory
from credkit.formats import REGISTRY
from tests.browser.datagrid import select_row
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
from tests.browser.test_import_runbook import Actions
from tests.runbooks import NOTEBOOKS, runbook_environment

NOTEBOOK = "migrate-from-another-system.ipynb"
BUDGET_SECONDS = 200
MAX_ACTIONS = 10
GENETEC = "Genetec Security Center (genetec)"
CORPORATE = "HID Corporate 1000-35"


@pytest.fixture
def demo(tmp_path: Path):
    base = tmp_path / "base"
    env = runbook_environment(base)
    directory = Directory(f"sqlite:///{base / 'demo' / 'credkit.db'}")
    yield directory, base, env
    directory.dispose()


def test_an_operator_migrates_a_genetec_export_in_jupyterlab(tmp_path: Path, demo) -> None:
    require_modules("playwright.sync_api", "jupyterlab", "ipywidgets", "ipydatagrid")
    require_chromium()
    deadline = Deadline(BUDGET_SECONDS)
    directory, base, env = demo
    export = base / "demo" / GENETEC_FILE
    with open(export, encoding="utf-8", newline="") as stream:
        source = list(csv.DictReader(stream))
    mislabelled = next(row for row in source if row["Card Number Hex"])
    decoded = REGISTRY.get(CORPORATE).decode(mislabelled["Card Number Hex"])
    fix_label = f"{CORPORATE} {decoded.facility_code}/{decoded.card_number}"
    before = directory.credentials_frame()

    lab_root = tmp_path / "lab"
    copies = launcher().working_copies(NOTEBOOKS, lab_root / "my-notebooks")
    assert lab_root / "my-notebooks" / NOTEBOOK in copies
    lab_env = launcher().environment(base, env["CREDKIT_DATABASE_URL"])

    from playwright.sync_api import expect

    actions = Actions()
    with (
        jupyter_lab(lab_root, tmp_path / "jupyter", lab_env) as lab,
        chromium_page(tmp_path / "chromium-profile") as page,
    ):
        shots = Screenshots(page, ARTIFACTS / "migration")
        try:
            # --- open the runbook and run it (not counted) -----------------------------------
            kernel_idle = run_all(page, lab.url(f"/lab/tree/my-notebooks/{NOTEBOOK}"), deadline)
            wizard = page.locator(".credkit-wizard")
            upload = wizard.locator(".widget-upload")
            upload.wait_for(timeout=deadline.ms(60))
            kernel_idle.wait_for(timeout=deadline.ms(30))
            header = page.get_by_text("Directory: sqlite:///demo/credkit.db")
            expect(header).to_be_visible(timeout=deadline.ms(10))
            shots.take("runbook-header", top=header)
            steps = wizard.locator(".credkit-steps")

            def click(locator, what: str) -> None:
                locator.click(timeout=deadline.ms(15))
                actions(what)

            def next_step(number: int) -> None:
                click(
                    wizard.get_by_role("button", name=re.compile(r"(^|\s)Next$")),
                    f"Next (to step {number})",
                )
                expect(wizard.locator(".credkit-step-current")).to_contain_text(
                    f"{number}.", timeout=deadline.ms(20)
                )

            # --- 1. the source system, then the file -----------------------------------------
            wizard.locator(".credkit-source-system select").select_option(
                label=GENETEC, timeout=deadline.ms(10)
            )
            actions(f"choose the source system {GENETEC}")
            expect(wizard.locator(".credkit-card-type-default select")).to_be_visible(
                timeout=deadline.ms(20)
            )
            shots.take("step1-source-system", top=steps)
            with page.expect_file_chooser(timeout=deadline.ms(10)) as chooser:
                click(upload, "click Upload CSV")
            chooser.value.set_files(str(export), timeout=deadline.ms(30))
            actions(f"pick {GENETEC_FILE}")

            # --- 2. what the profile did ------------------------------------------------------
            expect(wizard.locator(".credkit-step-current")).to_contain_text(
                "2. Review the columns", timeout=deadline.ms(30)
            )
            report = wizard.locator(".credkit-profile-report").first
            expect(report).to_contain_text(
                f"read {len(source)} source rows as {len(source) + 1} credentials",
                timeout=deadline.ms(20),
            )
            expect(report).to_contain_text("is read as 'Inactive'", timeout=deadline.ms(10))
            shots.take("step2-what-the-profile-did", top=steps)
            next_step(3)

            # --- 3. the mislabelled card: its decoded format as the fix ----------------------
            summary = wizard.locator(".credkit-summary")
            expect(summary).to_contain_text(
                f"{len(source) + 1} rows, 1 with errors", timeout=deadline.ms(20)
            )
            grid = wizard.locator(".ipydatagrid-widget .lm-DataGrid")
            grid.wait_for(timeout=deadline.ms(20))
            select_row(page, grid, 0)
            side = wizard.locator(".credkit-row-findings")
            expect(side).to_contain_text("hex-other-format", timeout=deadline.ms(20))
            shots.take("step3-decoded-candidates", top=steps)
            click(wizard.get_by_role("button", name=fix_label), f"click the fix {fix_label}")
            expect(summary).to_contain_text("0 with errors", timeout=deadline.ms(30))
            expect(side).to_contain_text("No findings", timeout=deadline.ms(20))
            shots.take("step3-fixed", top=steps)
            next_step(4)
            next_step(5)

            # --- 5. the canonical file, then Import ------------------------------------------
            click(
                wizard.get_by_role("button", name="Make the canonical file"),
                "click Make the canonical file",
            )
            download = wizard.locator("a.credkit-download")
            expect(download).to_contain_text(
                "genetec-export.canonical.csv", timeout=deadline.ms(20)
            )
            import_button = wizard.get_by_role(
                "button", name=re.compile(rf"Import {len(source) + 1} rows$")
            )
            expect(import_button).to_be_enabled(timeout=deadline.ms(10))
            shots.take("step5-plan-and-canonical-file", top=steps)
            click(import_button, "click Import")
            result = wizard.locator(".credkit-result")
            expect(result).to_contain_text("Imported", timeout=deadline.ms(60))
            expect(wizard.locator(".credkit-step-current")).to_contain_text("6. Result")
            shots.take("step6-result", top=steps)
            print(actions.report())
            assert len(actions.done) <= MAX_ACTIONS, actions.report()
            _check_directory(directory, source, before, decoded)
        except BaseException:
            with suppress(Exception):
                shots.take("failure")
            print(actions.report())
            print(f"--- JupyterLab's log ---\n{lab.log_tail(80)}")
            raise


def _check_directory(directory: Directory, source: list[dict], before, decoded) -> None:
    """Each source row's credentials, as the profile and the operator's fix made them."""
    after = directory.credentials_frame()
    new = after[~after["id"].isin(before["id"])]
    assert len(new) == len(source) + 1  # the row with a card and a PIN made two
    cards = new[new["kind"] == "card"]
    for row in source:
        data = row["Credential card data"].replace("|", "/")
        number = data.split("/")[1] if data else row["Card number"]
        if row["Card Number Hex"]:
            number = str(decoded.card_number)
        (found,) = cards[cards["card_number"] == number].to_dict("records")
        assert found["email"] == row["Email"]
        assert found["status"] == ("inactive" if row["Status"] == "Lost" else "active")
        if row["Card Number Hex"]:
            assert found["card_type"] == CORPORATE
            assert found["facility_code"] == str(decoded.facility_code)
        if row["PIN"]:
            (pin,) = new[new["kind"] == "entry_code"].to_dict("records")
            assert pin["email"] == row["Email"] and pin["entry_code"] == row["PIN"]
