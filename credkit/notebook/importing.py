"""The plan, the Import button with its progress bar, and the result with the failed rows."""

from __future__ import annotations

import html
import io
from pathlib import Path

import ipywidgets as widgets

from credkit.directory import Directory
from credkit.importer import APPLIED, OUTCOMES, ImportResult, Plan, execute_import, plan_import
from credkit.notebook.downloads import csv_download_html
from credkit.notebook.outputs import counted, hide, show
from credkit.review import Review

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
        self.review: Review | None = None
        self.plan: Plan | None = None
        self.result: ImportResult | None = None
        self.plan_counts = widgets.HTML()
        self.plan_table = widgets.Output()
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
        self.widget = widgets.VBox(
            [
                self.plan_counts,
                self.plan_table,
                widgets.HBox([self.import_button, self.progress]),
                self.result_counts,
                self.failed_download,
            ]
        )
        self.refresh(None, new_file=True)

    def refresh(self, review: Review | None, *, new_file: bool = False) -> None:
        """Plan the review as it is now; a new file also clears the last import's result."""
        self.review = review
        if new_file:
            self.result = None
            self.result_counts.value = self.failed_download.value = ""
            self.progress.value = 0
            hide(self.progress)
        if review is None or review.rejected:
            self.plan = None
            reason = "Load a file first." if review is None else "The file is rejected."
            self.plan_counts.value = f"<p>No plan: {reason}</p>"
            show(self.plan_table)
        else:
            self.plan = plan_import(review)
            when = (
                "nothing written yet"
                if self.result is None
                else "as before the import; load the file again to import again"
            )
            self.plan_counts.value = (
                f"<p><b>Plan</b> ({when}): {html.escape(counts_text(self.plan.counts()))}</p>"
            )
            show(self.plan_table, self.plan.rows)
        self._enable_import()

    def _enable_import(self) -> None:
        count = rows_to_apply(self.plan)
        self.import_button.disabled = self.result is not None or count == 0
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
        plan = plan_import(self.review)  # the review may have been edited since it was shown
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
        self.result_counts.value = (
            f"<p><b>Imported</b>: {html.escape(counts_text(counts, OUTCOME_LABELS))}. "
            "The run is recorded in the directory (see <code>credkit runs</code>).</p>"
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
            f"<p>The failed rows, with their errors, to fix and import again: {link}</p>"
        )
