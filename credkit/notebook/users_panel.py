"""The user-import runbook's panel: load a user file, see its columns and plan, import on a button."""

from __future__ import annotations

import html
import io
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from credkit.columns import fold_header
from credkit.connection import SetupError
from credkit.directory import Directory
from credkit.notebook.downloads import csv_download_html
from credkit.notebook.outputs import counted, frame_html, hide
from credkit.notebook.runbook import resolve_path, shown_path
from credkit.users import (
    ALL_USER_HEADERS,
    CREDENTIAL_HEADERS,
    UserImportResult,
    UserPlan,
    execute_users,
    plan_users,
)

#: What each column of a user file means, as the runbook lists them.
COLUMN_MEANINGS = {
    "First Name": "the user's first name (required)",
    "Last Name": "the user's last name (required)",
    "External ID": "key: matches an existing user first",
    "Employee ID": "informational",
    "Email": "key: matches an existing user when the External ID does not",
    "User Status": "Active or Suspended (empty: Active when new, as it is otherwise)",
    "Card Type": "credential: the card's format",
    "Facility Code": "credential: the card's facility code",
    "Card Number": "credential: the card's number",
    "Card Number Hex": "credential: the card's frame in hex",
    "License Plate": "credential: a license plate",
    "Entry Code": "credential: an entry code (replaces the user's old one)",
    "Credential Status": "Active or Inactive for the row's credentials",
}


def columns_table(headers: list[str] | None = None) -> pd.DataFrame:
    """The user-import columns, what each means, and (given a file's headers) whether it has it."""
    folded = {fold_header(str(header)) for header in headers or []}
    frame = pd.DataFrame(
        {
            "Column": ALL_USER_HEADERS,
            "Kind": ["credential" if h in CREDENTIAL_HEADERS else "user" for h in ALL_USER_HEADERS],
            "Meaning": [COLUMN_MEANINGS[h] for h in ALL_USER_HEADERS],
        }
    )
    if headers is not None:
        frame["In the file"] = ["yes" if fold_header(h) in folded else "" for h in frame["Column"]]
    return frame


def plan_frame(plan: UserPlan) -> pd.DataFrame:
    """The plan as the operator reads it: one line per row, its user and its credentials."""
    parts = plan.credentials_by_row()
    lines = []
    for row, planned in plan.rows.iterrows():
        user = plan.users[int(row)].after
        lines.append(
            {
                "Row": int(row),
                "Outcome": planned["outcome"],
                "User": f"{user['first_name'] or ''} {user['last_name'] or ''}".strip(),
                "User change": planned["user"],
                "Status": user["status"],
                "Credentials": "; ".join(
                    f"{words}: {outcome}" for words, outcome in parts.get(int(row), [])
                ),
                "Reason": planned["reason"],
            }
        )
    return pd.DataFrame(lines)


def _counts_text(counts: dict[str, int]) -> str:
    return " · ".join(f"{outcome} {count:,}" for outcome, count in counts.items())


class UserImportPanel:
    """Load a user file (a path on the server), show its columns and its plan, and import it
    when the operator presses Import: nothing before that writes to the directory."""

    def __init__(self, directory: Directory, operator: str | None = None) -> None:
        self.directory = directory
        self.operator = operator
        self.path: Path | None = None
        self.plan: UserPlan | None = None
        self.result: UserImportResult | None = None
        self.path_box = widgets.Text(placeholder="demo/users-with-credentials.csv",
                                     description="User file:")  # fmt: skip
        self.load_button = widgets.Button(description="Load", icon="folder-open")
        self.load_button.on_click(lambda _button: self.handle_load())
        self.message = widgets.HTML()
        self.columns = widgets.HTML()
        self.plan_counts = widgets.HTML()
        self.plan_table = widgets.HTML()
        self.import_button = widgets.Button(
            description="Import", button_style="success", icon="upload", disabled=True
        )
        self.import_button.on_click(lambda _button: self.handle_import())
        self.result_html = widgets.HTML()
        for box, name in (
            (self.plan_counts, "plan"),
            (self.import_button, "import"),
            (self.result_html, "result"),
            (self.message, "message"),
        ):
            box.add_class(f"credkit-users-{name}")  # fmt: skip
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.path_box, self.load_button]),
                self.message,
                self.columns,
                self.plan_counts,
                self.import_button,
                self.plan_table,
                self.result_html,
            ]
        )
        self.columns.value = "<h4>The columns of a user file</h4>" + frame_html(
            columns_table(), index=False
        )

    # --- loading -----------------------------------------------------------------------------

    def handle_load(self) -> None:
        """The Load button: a problem is shown in the panel, never lost in a log."""
        try:
            self.load(self.path_box.value)
        except (OSError, SetupError, ValueError) as error:
            self.message.value = f'<p style="color:#b00020">{html.escape(str(error))}</p>'

    def load(self, path: str | Path) -> UserPlan:
        """Plan the file (nothing written) and show its columns and plan."""
        self.path_box.value = str(path)
        resolved = resolve_path(path)
        if not resolved.is_file():
            raise ValueError(f"There is no file at {shown_path(resolved)}")
        self.path = resolved
        self.result = None
        self.result_html.value = ""
        self.plan = plan_users(self.directory, resolved)
        self.message.value = f"<p>Loaded {html.escape(shown_path(resolved))}.</p>"
        self._show_plan(self.plan)
        return self.plan

    def _show_plan(self, plan: UserPlan) -> None:
        self.columns.value = "<h4>The columns of a user file</h4>" + frame_html(
            columns_table(list(plan.source.headers)), index=False
        )
        if plan.rejected:
            self.plan_counts.value = "<p><b>The file is rejected</b>: nothing can be imported.</p>"
            self.plan_table.value = frame_html(plan.findings, index=False)
            self._enable_import()
            return
        self.plan_counts.value = (
            f"<p><b>Plan</b> (nothing written yet): users {_counts_text(plan.counts())}; "
            f"credentials {_counts_text(plan.credential_counts())}</p>"
        )
        findings = plan.findings[["row", "column", "code", "severity", "message"]]
        self.plan_table.value = (
            "<h4>Each row: its user and its credentials</h4>"
            + frame_html(plan_frame(plan), index=False)
            + ("<h4>Findings</h4>" + frame_html(findings, index=False) if len(findings) else "")
        )
        self._enable_import()

    def _enable_import(self) -> None:
        if self.result is not None:
            self.import_button.disabled = True
            self.import_button.description = "Imported"
            return
        count = 0 if self.plan is None or self.plan.rejected else int(
            self.plan.rows["outcome"].isin(("create", "update")).sum()
        )  # fmt: skip
        self.import_button.disabled = count == 0
        self.import_button.description = f"Import {counted(count, 'row')}" if count else "Import"

    # --- importing ---------------------------------------------------------------------------

    def handle_import(self) -> None:
        """The Import button; a failure is shown to the operator."""
        try:
            self.run_import()
        except Exception as error:  # a widget callback has nobody else to report to
            self.result_html.value = (
                f'<p style="color:#b00020">The import stopped: {html.escape(str(error))}; '
                "nothing of it was written.</p>"
            )
            self._enable_import()

    def run_import(self) -> UserImportResult:
        """Plan the file again (the directory may have changed) and import it."""
        if self.path is None:
            raise ValueError("load a file first")
        if self.result is not None:
            raise ValueError("this file was imported already: load it again to import again")
        self.import_button.disabled = True
        plan = plan_users(self.directory, self.path)
        result = execute_users(plan, self.directory, on_behalf_of=self.operator)
        self.result = result
        undo = (
            f"It is recorded as run {result.run_id}: <code>credkit runs undo {result.run_id}"
            "</code> removes the users it created and the credentials it added."
        )
        self.result_html.value = (
            f"<p><b>Imported</b>: users {_counts_text(result.counts)}; credentials "
            f"{_counts_text(result.credential_counts)}.</p><p>{undo}</p>"
        )
        if len(result.failed_rows):
            stream = io.StringIO()
            result.write_failed_rows(stream)
            link = csv_download_html(
                stream.getvalue(), f"{self.path.stem}-failed-rows.csv", rows=len(result.failed_rows)
            )
            self.result_html.value += (
                f"<p>The failed rows, to fix and import again:</p><p>{link}</p>"
            )
        self._enable_import()
        hide(self.import_button, False)
        return result
