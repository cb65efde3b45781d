"""The review's reports: a summary line, the file, column and row reports, and the chart."""

from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd

from credkit.notebook.charts import findings_chart
from credkit.notebook.outputs import counted, hide, show
from credkit.review import Review


def summary_text(review: Review) -> str:
    """One line of counts, as the operator reads it before anything else."""
    counts = review.summary()
    findings = f"{counted(counts['errors'], 'error')}, {counted(counts['warnings'], 'warning')}"
    if review.rejected:
        return (
            f"{review.file_name}: rejected, nothing can be imported until the file and column "
            f"errors below are resolved ({findings})."
        )
    return (
        f"{review.file_name}: {counted(counts['rows'], 'row')}, "
        f"{counts['rows_with_errors']:,} with errors, {counts['rows_passing']:,} passing "
        f"({findings})."
    )


class ReportsPanel:
    """Shows a review's reports as DataFrames, each in its own Output widget."""

    def __init__(self) -> None:
        self.summary = widgets.HTML()
        self.file_report = widgets.Output()
        self.column_report = widgets.Output()
        self.row_report = widgets.Output()
        self.chart = widgets.Output()
        for widget, name in (
            (self.summary, "credkit-summary"),
            (self.column_report, "credkit-column-report"),
            (self.row_report, "credkit-row-report"),
        ):
            widget.add_class(name)
        self._file_section = _section("File report", self.file_report)
        self.widget = widgets.VBox(
            [
                self.summary,
                self._file_section,
                _section("Column report", self.column_report),
                _section("Row report", self.row_report),
                _section("Findings by code and column", self.chart),
            ]
        )
        self.clear()

    def clear(self) -> None:
        """No file yet."""
        self.summary.value = "<p>No file loaded yet.</p>"
        for output in (self.file_report, self.column_report, self.row_report, self.chart):
            show(output)
        hide(self._file_section)

    def refresh(self, review: Review) -> None:
        """Show the reports of a review (after loading, re-reviewing or editing)."""
        self.summary.value = f"<p><b>{html.escape(summary_text(review))}</b></p>"
        hide(self._file_section, review.file.empty)
        show(self.file_report, _report(review.file))
        show(self.column_report, _report(review.columns, "No column findings."))
        show(self.row_report, _report(review.rows, "No row findings."))
        findings = review.findings
        show(self.chart, findings_chart(findings) if len(findings) else "No findings.")


def _report(findings: pd.DataFrame, empty: str = "No findings.") -> pd.DataFrame | str:
    return findings if len(findings) else empty


def _section(title: str, body: widgets.Widget) -> widgets.VBox:
    return widgets.VBox([widgets.HTML(f"<h4>{html.escape(title)}</h4>"), body])
