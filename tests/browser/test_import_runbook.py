"""The import runbook end to end: JupyterLab (and Voilà) in Chromium, as an operator uses them.

The servers are started as `make lab` and `make app` start them (tools/launch.py), with the
current interpreter, on working copies of the runbooks connected through the environment to a
demo directory. The operator uploads the demo's messy file and takes it to a finished import;
every operator action is counted (one per click, file pick and committed cell value; moving
between cells and scrolling are not) and the count printed as "N operator actions". Then a
12 MiB upload, over Jupyter Server's default 10 MiB websocket limit. Screenshots of each step
at 1366x768 and 1920x1080 go to test-artifacts/browser/.

Debian's Chromium (/usr/bin/chromium) is required: without it the tests are skipped, except
under CI (CI=true), where they fail.
"""

from __future__ import annotations

import csv
import re
from contextlib import suppress
from pathlib import Path

import pandas as pd
import pytest

from credkit.columns import HEADERS
from credkit.demo import CLEAN_FILE, MESSY_FILE
from credkit.directory import Directory
from credkit.formats import REGISTRY
from credkit.notebook.grid import grid_columns
from credkit.review import Review, ReviewOptions, review_file
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
    voila_app,
)
from tests.runbooks import NOTEBOOKS, runbook_environment

NOTEBOOK = "import-credentials.ipynb"
#: The JupyterLab test, JupyterLab and Chromium included, stays under about three minutes.
BUDGET_SECONDS = 200
MAX_ACTIONS = 12
#: Facility Code 300 is out of range for a 26-bit card; the badge says 30.
CORRECTED = "30"
LARGE_FILE = "credentials-large.csv"
LARGE_BYTES = 12 * 1024 * 1024  # over Jupyter Server's default 10 MiB websocket messages
HID26 = "Standard 26-bit Wiegand"


class Actions:
    """The operator's actions, counted as the issue counts them, with what each was."""

    def __init__(self) -> None:
        self.done: list[str] = []

    def __call__(self, what: str) -> None:
        self.done.append(what)

    def report(self) -> str:
        listed = "\n".join(f"  {number}. {what}" for number, what in enumerate(self.done, 1))
        return f"{len(self.done)} operator actions\n{listed}"


@pytest.fixture
def demo(tmp_path: Path):
    """A base folder with demo/credkit.db and its sample files, and the variables `make lab`
    sets for it."""
    base = tmp_path / "base"
    env = runbook_environment(base)
    directory = Directory(f"sqlite:///{base / 'demo' / 'credkit.db'}")
    yield directory, base, env
    directory.dispose()


def test_an_operator_imports_the_messy_file_in_jupyterlab(tmp_path: Path, demo) -> None:
    require_modules("playwright.sync_api", "jupyterlab", "ipywidgets", "ipydatagrid")
    require_chromium()
    deadline = Deadline(BUDGET_SECONDS)
    directory, base, env = demo
    messy = base / "demo" / MESSY_FILE
    expected = _accepted_review(messy, directory)
    rows = list(expected.failing_rows)  # the grid's rows, in order, until a bulk fix
    by_code = _rows_by_code(expected)
    credentials_before = len(directory.credentials_frame())

    # Working copies, as `make lab` makes them; the runbook reads the directory from env.
    lab_root = tmp_path / "lab"
    copies = launcher().working_copies(NOTEBOOKS, lab_root / "my-notebooks")
    assert lab_root / "my-notebooks" / NOTEBOOK in copies
    large = _large_credentials_csv(base / "demo" / CLEAN_FILE, tmp_path / LARGE_FILE, LARGE_BYTES)
    lab_env = launcher().environment(base, env["CREDKIT_DATABASE_URL"])

    from playwright.sync_api import expect

    actions = Actions()
    with (
        jupyter_lab(lab_root, tmp_path / "jupyter", lab_env) as lab,
        chromium_page(tmp_path / "chromium-profile") as page,
    ):
        shots = Screenshots(page, ARTIFACTS / "lab")
        try:
            # --- open the runbook and run it (before the first action: not counted) ----------
            kernel_idle = run_all(page, lab.url(f"/lab/tree/my-notebooks/{NOTEBOOK}"), deadline)
            wizard = page.locator(".credkit-wizard")
            upload = wizard.locator(".widget-upload")
            upload.wait_for(timeout=deadline.ms(60))
            kernel_idle.wait_for(timeout=deadline.ms(30))
            header = page.get_by_text("Directory: sqlite:///demo/credkit.db")
            expect(header).to_be_visible(timeout=deadline.ms(10))
            shots.take("runbook-header", top=header)
            steps = wizard.locator(".credkit-steps")
            shots.take("step1-choose-file", top=steps)

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

            # --- 1. upload the messy file: the columns step, rejected until accepted ---------
            with page.expect_file_chooser(timeout=deadline.ms(10)) as chooser:
                click(upload, "click Upload CSV")
            chooser.value.set_files(str(messy), timeout=deadline.ms(30))
            actions(f"pick {MESSY_FILE}")
            expect(wizard.locator(".credkit-step-current")).to_contain_text(
                "2. Review the columns", timeout=deadline.ms(30)
            )
            column_report = wizard.locator(".credkit-column-report")
            expect(column_report).to_contain_text("header-suggestion", timeout=deadline.ms(10))
            expect(wizard.get_by_role("button", name=re.compile(r"(^|\s)Next$"))).to_be_disabled()
            shots.take("step2-columns-rejected", top=steps)
            click(
                wizard.get_by_role("button", name=re.compile(r"Accept header suggestions")),
                "click Accept header suggestions (Facility Cod = Facility Code)",
            )
            expect(wizard.get_by_text("The columns are accepted")).to_be_visible(
                timeout=deadline.ms(30)
            )
            shots.take("step2-columns-accepted", top=steps)
            next_step(3)

            # --- 3. the rows: fixes, one corrected cell, a suggestion, reassign, skips --------
            summary = wizard.locator(".credkit-summary")
            expect(summary).to_contain_text(
                f"{len(expected.table)} rows, {len(rows)} with errors", timeout=deadline.ms(20)
            )
            grid = wizard.locator(".ipydatagrid-widget .lm-DataGrid")
            grid.wait_for(timeout=deadline.ms(20))
            shots.take("step3-rows-as-uploaded", top=steps)
            click(
                wizard.get_by_role("button", name=re.compile(r"Apply all computed fixes")),
                "click Apply all computed fixes",
            )
            expect(
                wizard.get_by_text(re.compile(r"^All computed fixes: 3 rows edited"))
            ).to_be_visible(timeout=deadline.ms(30))
            # The row with two credentials is split in two by the same click.
            expect(
                wizard.get_by_text(re.compile(r"1 row split into one row per credential"))
            ).to_be_visible(timeout=deadline.ms(10))
            # A bulk fix chooses the view's rows again: the frame it fixed and the split row
            # leave the errors view (edits made in the grid afterwards keep their rows in place).
            fixed = by_code["hex-parity"] + by_code["multiple-credentials"]
            rows = [row for row in rows if row not in fixed]
            expect(
                wizard.get_by_text(f"rows 1-{len(rows)} of {len(rows)} in this view")
            ).to_be_visible(timeout=deadline.ms(10))

            columns = ["Status", *grid_columns(expected)]
            (fc_row,) = by_code["facility-code-range"]
            commit_cell(page, grid, rows.index(fc_row), columns.index("Facility Code"), CORRECTED)
            actions(f"commit Facility Code {CORRECTED} in row {fc_row}")
            side = wizard.locator(".credkit-row-findings")
            expect(side).to_contain_text(f"Row {fc_row}", timeout=deadline.ms(20))
            expect(side).to_contain_text("No findings", timeout=deadline.ms(20))
            shots.take("step3-cell-corrected", top=steps)

            (short_code,) = by_code["entry-code-leading-zeros"]
            select_row(page, grid, rows.index(short_code))
            expect(side).to_contain_text(f"Row {short_code}", timeout=deadline.ms(20))
            click(
                wizard.get_by_role("button", name="Entry code with a leading zero (a guess)"),
                f"click the entry code suggestion of row {short_code}",
            )
            (other_users,) = by_code["assigned-to-other-user"]
            select_row(page, grid, rows.index(other_users))
            expect(side).to_contain_text(f"Row {other_users}", timeout=deadline.ms(20))
            shots.take("step3-row-actions", top=steps)
            click(
                wizard.get_by_role("button", name="Reassign to this row's user"),
                f"click Reassign this credential (row {other_users})",
            )
            expect(wizard.get_by_role("button", name="Reassigned (undo)")).to_be_visible(
                timeout=deadline.ms(20)
            )
            click(
                wizard.get_by_role("button", name=re.compile(r"Skip every row that still fails")),
                "click Skip every row that still fails",
            )
            expect(wizard.get_by_text("Every row that still fails is skipped.")).to_be_visible(
                timeout=deadline.ms(20)
            )
            shots.take("step3-rows-ready", top=steps)
            next_step(4)
            shots.take("step4-options", top=steps)
            next_step(5)

            # --- 5. the plan, then Import -----------------------------------------------------
            plan = wizard.locator(".credkit-plan")
            expect(plan).to_contain_text("nothing written yet", timeout=deadline.ms(20))
            skipped = sorted(by_code["unknown-user"] + by_code["duplicate-in-file"])
            expect(plan).to_contain_text(f"fail {len(skipped)}", timeout=deadline.ms(10))
            expect(plan).to_contain_text("reassign 1", timeout=deadline.ms(10))
            # The split row is imported as its two credentials: one row more to apply.
            to_apply = len(expected.table) + 1 - len(skipped)
            import_button = wizard.get_by_role(
                "button", name=re.compile(rf"Import {to_apply} rows$")
            )
            expect(import_button).to_be_enabled(timeout=deadline.ms(10))
            shots.take("step5-plan", top=steps)
            click(import_button, "click Import")
            result = wizard.locator(".credkit-result")
            expect(result).to_contain_text("Imported", timeout=deadline.ms(60))
            expect(result).to_contain_text(f"failed {len(skipped)}.", timeout=deadline.ms(10))
            expect(result).to_contain_text("credkit runs undo", timeout=deadline.ms(10))
            expect(wizard.locator(".credkit-step-current")).to_contain_text("6. Result")
            shots.take("step6-result", top=steps)
            print(actions.report())
            assert len(actions.done) <= MAX_ACTIONS, actions.report()

            # --- the directory, read by credkit itself ---------------------------------------
            _check_directory(directory, expected, by_code, credentials_before)

            # --- a 12 MiB upload gets through (jupyter_server_config.py) ----------------------
            wizard.get_by_role("button", name=re.compile(r"Import another file$")).click()
            with page.expect_file_chooser(timeout=deadline.ms(10)) as chooser:
                upload.click(timeout=deadline.ms(10))
            chooser.value.set_files(str(large), timeout=deadline.ms(30))
            count = sum(1 for _ in large.open(encoding="utf-8")) - 1
            expect(wizard.locator(".credkit-step-current")).to_contain_text(
                "2. Review the columns", timeout=deadline.ms(90)
            )
            expect(wizard).not_to_contain_text("did not reach the kernel", timeout=deadline.ms(5))
            next_step_button = wizard.get_by_role("button", name=re.compile(r"(^|\s)Next$"))
            next_step_button.click(timeout=deadline.ms(10))
            expect(summary).to_contain_text(
                f"{count:,} rows, 0 with errors", timeout=deadline.ms(60)
            )
            shots.take("large-file-reviewed", top=steps)
        except BaseException:
            with suppress(Exception):
                shots.take("failure")
            print(actions.report())
            print(f"--- JupyterLab's log ---\n{lab.log_tail(80)}")
            raise


def test_the_app_serves_the_runbook_without_code(tmp_path: Path, demo) -> None:
    require_modules("playwright.sync_api", "voila", "ipywidgets", "ipydatagrid")
    require_chromium()
    deadline = Deadline(120)
    _directory, base, env = demo
    launch = launcher()
    app_root = launch.app_folder(NOTEBOOKS, tmp_path / "my-notebooks" / "app")
    assert sorted(path.name for path in app_root.iterdir()) == sorted(launch.APP_NOTEBOOKS)

    from playwright.sync_api import expect

    app_env = launch.environment(base, env["CREDKIT_DATABASE_URL"], app=True)
    with (
        voila_app(app_root, tmp_path / "voila", app_env) as app,
        chromium_page(tmp_path / "chromium-profile") as page,
    ):
        shots = Screenshots(page, ARTIFACTS / "app")
        try:
            page.goto(app.url(f"/voila/render/{NOTEBOOK}"), timeout=deadline.ms(60))
            wizard = page.locator(".credkit-wizard")
            wizard.wait_for(timeout=deadline.ms(60))
            expect(page.get_by_text("Directory: sqlite:///demo/credkit.db")).to_be_visible(
                timeout=deadline.ms(10)
            )
            expect(page.get_by_text("connect_runbook(")).to_have_count(0)  # no code shown
            shots.take("app-opened")
            with page.expect_file_chooser(timeout=deadline.ms(10)) as chooser:
                wizard.locator(".widget-upload").click(timeout=deadline.ms(10))
            chooser.value.set_files(str(base / "demo" / MESSY_FILE), timeout=deadline.ms(30))
            expect(wizard.locator(".credkit-column-report")).to_contain_text(
                "header-suggestion", timeout=deadline.ms(30)
            )
            shots.take("app-columns")
            page.goto(app.url("/voila/render/export-credentials.ipynb"), timeout=deadline.ms(60))
            expect(page.get_by_role("button", name=re.compile(r"Write CSV$"))).to_be_visible(
                timeout=deadline.ms(60)
            )
            shots.take("app-export")
            page.goto(app.url("/voila/render/sync-with-verkada.ipynb"), timeout=deadline.ms(60))
            expect(page.locator(".credkit-sync")).to_contain_text(
                "1. Load the credentials export from Command", timeout=deadline.ms(60)
            )
            expect(page.get_by_text("VerkadaSyncPanel(")).to_have_count(0)  # no code shown
            shots.take("app-sync")
        except BaseException:
            with suppress(Exception):
                shots.take("failure")
            print(f"--- Voila's log ---\n{app.log_tail(80)}")
            raise


# --- the files and the directory ---------------------------------------------------------------


def _accepted_review(path: Path, directory: Directory) -> Review:
    first = review_file(path, directory)
    assert first.rejected and first.column_review is not None
    assert first.column_review.suggestions == {"Facility Cod": "Facility Code"}
    options = ReviewOptions(mapping=tuple(first.column_review.suggestions.items()))
    return review_file(path, directory, options)


def _rows_by_code(review: Review) -> dict[str, list[int]]:
    grouped = review.rows.dropna(subset=["row"]).groupby("code")["row"]
    return {code: sorted(int(row) for row in rows) for code, rows in grouped}


def _large_credentials_csv(clean: Path, path: Path, size: int) -> Path:
    """A valid credential CSV of about size bytes: a new license plate a row, for the users of
    the demo's clean file."""
    with open(clean, encoding="utf-8", newline="") as stream:
        user_columns = HEADERS[: HEADERS.index("Email") + 1]  # First Name ... Email
        people = [{h: row[h] for h in user_columns} for row in csv.DictReader(stream)]
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=HEADERS, lineterminator="\n")
        writer.writeheader()
        number = 0
        while stream.tell() < size:
            row = people[number % len(people)] | {
                "License Plate": f"BT{number:07d}",
                "Credential Status": "Active",
            }
            writer.writerow(row)
            number += 1
    return path


def _check_directory(
    directory: Directory, review: Review, by_code: dict[str, list[int]], before: int
) -> None:
    """Every row as the operator left it, in the directory."""
    table = review.table
    credentials = directory.credentials_frame()
    cards = credentials[credentials["kind"] == "card"]

    def card(row: int) -> pd.DataFrame:
        return cards[
            (cards["card_type"] == REGISTRY.get(table.at[row, "Card Type"]).name)
            & (cards["card_number"] == table.at[row, "Card Number"])
        ]

    # Computed fixes: the canonical card type, the frame computed from the numbers, the plate.
    (alias,) = by_code["card-type-alias"]
    assert list(card(alias)["card_type"]) == [HID26]
    (parity,) = by_code["hex-parity"]
    fixed_frame = REGISTRY.get(HID26).encode(
        int(table.at[parity, "Facility Code"]), int(table.at[parity, "Card Number"])
    )
    assert list(card(parity)["card_number_hex"]) == [fixed_frame]
    (plate_row,) = by_code["plate-normalized"]
    plate = re.sub(r"[^A-Z0-9]", "", table.at[plate_row, "License Plate"].upper())
    assert plate in set(credentials["license_plate"].dropna())
    # Corrected by hand: Facility Code 300 -> 30.
    (fc_row,) = by_code["facility-code-range"]
    assert list(card(fc_row)["facility_code"]) == [CORRECTED]
    assert list(card(fc_row)["user_id"]) == [table.at[fc_row, "User ID"]]
    # The suggestion taken: the entry code with its leading zero.
    (short_code,) = by_code["entry-code-leading-zeros"]
    codes = credentials.loc[credentials["user_id"] == table.at[short_code, "User ID"]]
    assert "0" + table.at[short_code, "Entry Code"] in set(codes["entry_code"].dropna())
    # Reassigned for this row only: the card now belongs to the row's user.
    (other_users,) = by_code["assigned-to-other-user"]
    assert list(card(other_users)["user_id"]) == [table.at[other_users, "User ID"]]
    # Skipped: nothing of theirs written.
    (unknown,) = by_code["unknown-user"]
    assert table.at[unknown, "External ID"] not in set(credentials["external_id"])
    (duplicate,) = by_code["duplicate-in-file"]
    assert len(card(duplicate)) == 1  # its first occurrence, once
    # Split: the row's card and its plate, both the row's user's.
    (two,) = by_code["multiple-credentials"]
    assert list(card(two)["user_id"]) == [table.at[two, "User ID"]]
    plates = credentials.loc[credentials["user_id"] == table.at[two, "User ID"], "license_plate"]
    assert table.at[two, "License Plate"] in set(plates.dropna())
    created = 1 + 1 + 1 + 1 + 1 + 2  # the good row, alias, parity, plate, corrected, split
    assert len(credentials) == before + created  # the entry code replaced one, the move none
