"""The review's reports: a summary line, the file, column and row reports, and the chart."""

from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd

from credkit.notebook.charts import findings_by_column_and_code, findings_chart
from credkit.notebook.outputs import counted, frame_html, hide
from credkit.review import Review
from credkit.splits import labelled_findings

#: Report rows shown at most (the chart counts them all).
REPORT_ROWS_SHOWN = 200


def summary_text(review: Review) -> str:
    """One line of counts, as the operator reads it before anything else."""
    counts = review.summary()
    findings = f"{counted(counts['errors'], 'error')}, {counted(counts['warnings'], 'warning')}"
    if review.rejected:
        return (
            f"{review.file_name}: rejected, nothing can be imported until the file and column "
            f"errors below are resolved ({findings})."
        )
    if review.parts:  # the rows of the file and the rows they are once split
        split = len({part.row for part in review.parts.values()})
        file_rows = counts["rows"] - len(review.parts) + split
        return (
            f"{review.file_name}: {counted(file_rows, 'row')}, "
            f"{counted(counts['rows'], 'credential row')} once {counted(split, 'row')} "
            f"{'is' if split == 1 else 'are'} split; "
            f"{counts['rows_with_errors']:,} with errors, {counts['rows_passing']:,} passing "
            f"({findings})."
        )
    return (
        f"{review.file_name}: {counted(counts['rows'], 'row')}, "
        f"{counts['rows_with_errors']:,} with errors, {counts['rows_passing']:,} passing "
        f"({findings})."
    )


def report_html(findings: pd.DataFrame, empty: str, limit: int = REPORT_ROWS_SHOWN) -> str:
    """A findings report as the operator reads it: Row, Column, Value, Code, Severity and the
    message in full; no index, blanks for what is missing."""
    if findings.empty:
        return f"<p>{html.escape(empty)}</p>"
    shown = findings.head(limit)[["row", "column", "value", "code", "severity", "message"]]
    shown = shown.astype(object).where(shown.notna(), "")
    # A number, or a split row's part as its label gives it ("7, credential 2 of 2").
    shown["row"] = shown["row"].map(lambda row: row if isinstance(row, str) else str(int(row)))
    table = frame_html(shown.rename(columns=str.capitalize), index=False)
    more = len(findings) - len(shown)
    return table + (f"<p><small>and {more:,} more.</small></p>" if more > 0 else "")


class ReportsPanel:
    """Shows a review's reports: the file and columns (for the columns step), the rows and the
    chart (for the rows step)."""

    def __init__(self) -> None:
        self.summary = widgets.HTML()
        self.file_report = widgets.HTML()
        self.column_report = widgets.HTML()
        self.row_report = widgets.HTML()
        self.chart = widgets.HTML()
        for widget, name in (
            (self.summary, "credkit-summary"),
            (self.column_report, "credkit-column-report"),
            (self.row_report, "credkit-row-report"),
        ):
            widget.add_class(name)
        self._file_section = _section("File report", self.file_report)
        self.column_widget = widgets.VBox(
            [self._file_section, _section("Column report", self.column_report)]
        )
        # Drawn when opened (and again after a change while open): a drawing costs ~0.4 s,
        # too much for every edit.
        self.chart_box = widgets.Accordion(children=[self.chart], selected_index=None)
        self.chart_box.set_title(0, "Chart: findings by code and column")
        self.chart_box.observe(lambda _change: self._draw_chart(), names="selected_index")
        self._findings = None
        self._drawn_counts: str | None = None
        self.row_widget = widgets.VBox([_section("Row report", self.row_report), self.chart_box])
        self.widget = widgets.VBox([self.summary, self.column_widget, self.row_widget])
        self.clear()

    def clear(self) -> None:
        """No file yet."""
        self.summary.value = "<p>No file loaded yet.</p>"
        for report in (self.file_report, self.column_report, self.row_report, self.chart):
            report.value = ""
        self._findings, self._drawn_counts = None, None
        hide(self._file_section)

    def refresh(self, review: Review) -> None:
        """Show the reports of a review (after loading, re-reviewing or editing)."""
        self.summary.value = f"<p><b>{html.escape(summary_text(review))}</b></p>"
        hide(self._file_section, review.file.empty)
        self.file_report.value = report_html(review.file, "No file findings.")
        self.column_report.value = report_html(review.columns, "No column findings.")
        self.row_report.value = report_html(
            labelled_findings(review, review.rows), "No row findings."
        )
        self._findings = review.findings
        self._draw_chart()

    def _draw_chart(self) -> None:
        if self.chart_box.selected_index is None or self._findings is None:
            return
        counts = findings_by_column_and_code(self._findings).to_json()
        if counts != self._drawn_counts:
            self.chart.value = findings_chart(self._findings)
            self._drawn_counts = counts


def _section(title: str, body: widgets.Widget) -> widgets.VBox:
    return widgets.VBox([widgets.HTML(f"<h4>{html.escape(title)}</h4>"), body])
