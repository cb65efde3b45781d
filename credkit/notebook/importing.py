"""The plan, the Import button with its progress bar, and the result with the failed rows."""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from credkit.directory import Directory
from credkit.importer import (
    APPLIED,
    OUTCOMES,
    ImportChoices,
    ImportResult,
    Plan,
    execute_import,
    plan_import,
)
from credkit.notebook.downloads import csv_download_html
from credkit.notebook.outputs import counted, frame_html, hide
from credkit.review import Review
from credkit.splits import labelled_text

OUTCOME_LABELS = {
    "create": "created",
    "update": "updated",
    "reassign": "reassigned",
    "unchanged": "unchanged",
    "fail": "failed",
}


def counts_text(counts: dict[str, int], labels: dict[str, str] | None = None) -> str:
    """Outcome counts in the importer's order, e.g. "create 3 · update 0 · ... · fail 7"."""
    return " · ".join(f"{(labels or {}).get(o, o)} {counts.get(o, 0):,}" for o in OUTCOMES)


def rows_to_apply(plan: Plan | None) -> int:
    """How many rows a plan would write (created, updated or reassigned)."""
    return 0 if plan is None else int(plan.rows["outcome"].isin(APPLIED).sum())


#: Rows of the plan listed under its counts at most (the download has them all).
PLAN_ROWS_SHOWN = 200


def plan_table(plan: Plan, limit: int = PLAN_ROWS_SHOWN) -> pd.DataFrame:
    """The rows that fail or change, as the operator reads them: Row, Outcome, Reason."""
    changing = plan.rows[plan.rows["outcome"] != "unchanged"].head(limit)
    review = plan.review
    if review.parts:  # a split row's parts as "7, credential 2 of 2", in messages too
        return pd.DataFrame(
            {
                "Row": [review.row_label(int(row)) for row in changing.index],
                "Outcome": changing["outcome"].to_numpy(),
                "Reason": [labelled_text(review, str(text)) for text in changing["reason"]],
            }
        )
    return pd.DataFrame(
        {
            "Row": changing.index.astype(int),
            "Outcome": changing["outcome"].to_numpy(),
            "Reason": changing["reason"].to_numpy(),
        }
    )


def failed_rows_csv(result: ImportResult) -> str:
    """The failed rows as ImportResult writes them, as text."""
    stream = io.StringIO()
    result.write_failed_rows(stream)
    return stream.getvalue()


class ImportPanel:
    """Shows the plan of a review, runs the import, and shows its result.

    One import per file: after an import the button stays disabled until a file is loaded
    again, because the plan shown was made before the import changed the directory.
    """

    def __init__(
        self,
        directory: Directory,
        operator: str,
        *,
        download_folder: str | Path | None = None,
    ) -> None:
        self.directory = directory
        self.operator = operator
        self.download_folder = download_folder
        self.on_imported: Callable[[ImportResult], object] | None = None
        self.review: Review | None = None
        self.choices = ImportChoices()
        self.plan: Plan | None = None
        self.result: ImportResult | None = None
        self.plan_counts = widgets.HTML()
        self.plan_table = widgets.HTML()
        self.import_button = widgets.Button(
            description="Import", button_style="success", icon="upload", disabled=True
        )
        self.import_button.on_click(self.handle_import_click)
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="Importing:")
        self.result_counts = widgets.HTML()
        self.failed_download = widgets.HTML()
        # Stable names for the browser test and for operators' own styling.
        self.plan_counts.add_class("credkit-plan")
        self.import_button.add_class("credkit-import")
        self.result_counts.add_class("credkit-result")
        self.plan_widget = widgets.VBox(
            [
                self.plan_counts,
                widgets.HBox([self.import_button, self.progress]),
                self.plan_table,
            ]
        )
        self.result_widget = widgets.VBox([self.result_counts, self.failed_download])
        self.widget = widgets.VBox([self.plan_widget, self.result_widget])
        self.refresh(None, new_file=True)

    def refresh(
        self,
        review: Review | None,
        choices: ImportChoices | None = None,
        *,
        new_file: bool = False,
    ) -> None:
        """Plan the review as it is now; a new file also clears the last import's result."""
        self.review = review
        self.choices = choices or ImportChoices()
        if new_file:
            self.result = None
            self.result_counts.value = self.failed_download.value = ""
            self.progress.value = 0
            hide(self.progress)
        if review is None or review.rejected:
            self.plan = None
            reason = "Load a file first." if review is None else "The file is rejected."
            self.plan_counts.value = f"<p>No plan: {reason}</p>"
            self.plan_table.value = ""
        elif self.result is None:
            self.plan = plan_import(review, self.choices)
            self.plan_counts.value = (
                "<p><b>Plan</b> (nothing written yet): "
                f"{html.escape(counts_text(self.plan.counts()))}</p>"
            )
            self.plan_table.value = _plan_rows_html(self.plan)
        self._enable_import()

    def _enable_import(self) -> None:
        if self.result is not None:
            self.import_button.disabled = True
            self.import_button.description = "Imported"
            return
        count = rows_to_apply(self.plan)
        self.import_button.disabled = count == 0
        self.import_button.description = f"Import {counted(count, 'row')}" if count else "Import"

    # --- importing ---------------------------------------------------------------------------

    def handle_import_click(self, _button: widgets.Button | None = None) -> None:
        """The Import button; a failure is shown to the operator rather than lost in a log."""
        try:
            self.run_import()
        except Exception as error:  # a widget callback has nobody else to report to
            self.result_counts.value = (
                f'<p style="color:#b00020">The import stopped: {html.escape(str(error))}. '
                "Batches already written stay written; importing again re-checks every row.</p>"
            )
            self._enable_import()

    def run_import(self) -> ImportResult:
        """Import the review as planned now, with the progress bar following the batches."""
        if self.review is None or self.review.rejected:
            raise ValueError("there is no reviewed file to import")
        if self.result is not None:
            raise ValueError("this file was imported already: load it again to import again")
        plan = plan_import(self.review, self.choices)  # the review may have changed since
        self.import_button.disabled = True
        hide(self.progress, False)
        self.progress.value = 0
        self.progress.max = max(1, rows_to_apply(plan))
        result = execute_import(
            plan, self.directory, operator=self.operator, progress=self._advance
        )
        self.progress.value = self.progress.max
        self.result = result
        self._show_result(result)
        self._enable_import()
        if self.on_imported is not None:
            self.on_imported(result)
        return result

    def _advance(self, done: int, total: int) -> None:
        self.progress.max = max(1, total)
        self.progress.value = done

    def _show_result(self, result: ImportResult) -> None:
        if self.plan is not None:
            self.plan_counts.value = (
                "<p><b>Plan</b> (as before the import; load the file again to import again): "
                f"{html.escape(counts_text(self.plan.counts()))}</p>"
            )
        counts = result.counts()
        undo = (
            f"It is recorded as run {result.run_id}: <code>credkit runs show {result.run_id}"
            f"</code> lists its changes, <code>credkit runs undo {result.run_id}</code> reverts "
            "them (refused if the directory changed since)."
        )
        self.result_counts.value = (
            f"<p><b>Imported</b>: {html.escape(counts_text(counts, OUTCOME_LABELS))}.</p>"
            f"<p>{undo}</p>"
        )
        if result.failed_rows.empty:
            self.failed_download.value = "<p>No row failed.</p>"
            return
        source = self.review.file_name if self.review is not None else "credentials.csv"
        file_name = f"{Path(source).stem}-failed-rows.csv"
        link = csv_download_html(
            failed_rows_csv(result),
            file_name,
            rows=len(result.failed_rows),
            folder=self.download_folder,
        )
        self.failed_download.value = (
            f"<p>The failed rows, with their errors, to fix and import again:</p><p>{link}</p>"
        )


def _plan_rows_html(plan: Plan) -> str:
    table = plan_table(plan)
    if table.empty:
        return "<p>Every row is unchanged: there is nothing to import.</p>"
    changing = int((plan.rows["outcome"] != "unchanged").sum())
    more = (
        f"<p><small>The first {len(table):,} of {changing:,} rows that fail or change.</small></p>"
        if changing > len(table)
        else ""
    )
    return "<h4>The rows that fail or change</h4>" + frame_html(table, index=False) + more
