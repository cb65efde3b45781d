"""The editable grid of the file's rows, with the findings of the selected row beside it."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
import pandas as pd
from ipydatagrid import DataGrid

from credkit.columns import HEADERS
from credkit.notebook.outputs import frame_html
from credkit.review import Review

#: Rows sent to the grid at most: the browser receives the whole grid at every refresh.
GRID_ROW_LIMIT = 1_000
ERRORS_ONLY = "Rows with errors"
ALL_ROWS = "All rows"
#: The grid's index: the row number as a spreadsheet shows it (the header is row 1).
ROW_LABEL = "Row"

Edits = dict[tuple[int, str], str]


def grid_frame(
    review: Review | None, *, errors_only: bool, limit: int = GRID_ROW_LIMIT
) -> pd.DataFrame:
    """The rows the grid shows: the 14 columns as text, indexed by spreadsheet row number."""
    if review is None or review.rejected:
        table = pd.DataFrame(columns=HEADERS, dtype=str)
    else:
        table = review.table.loc[review.failing_rows] if errors_only else review.table
    frame = table[HEADERS].head(limit).copy()
    frame.index = pd.Index(frame.index.astype(int), name=ROW_LABEL)
    return frame


def row_findings(review: Review, row: int) -> pd.DataFrame:
    """The findings of one row (entry codes are already masked in them)."""
    at_row = review.rows["row"].eq(row).fillna(False).astype(bool)
    return review.rows.loc[at_row, ["column", "code", "severity", "message"]]


class RowGrid:
    """An ipydatagrid DataGrid of the rows; each cell edit goes to on_edits as
    ``{(row, header): value}``, for Review.edit.

    The grid keeps its rows when a cell is edited and only updates their values: the
    browser names an edited cell by its position in the grid's data, so the rows must not
    move under edits still on their way. Rows that are fixed leave the errors-only view when
    the operator presses "Refresh rows" (and at every re-review or bulk fix).
    """

    def __init__(self, on_edits: Callable[[Edits], object]) -> None:
        self._on_edits = on_edits
        self.review: Review | None = None
        self.selected_row: int | None = None
        self.rows_shown = widgets.ToggleButtons(options=[ERRORS_ONLY, ALL_ROWS], value=ERRORS_ONLY)
        self.rows_shown.observe(self.handle_rows_shown, names="value")
        self.refresh_button = widgets.Button(description="Refresh rows", icon="refresh")
        self.refresh_button.on_click(lambda _button: self.show_rows())
        self.shown = grid_frame(None, errors_only=True)
        self.grid = DataGrid(
            self.shown,
            editable=True,
            selection_mode="cell",
            base_column_size=130,
            base_row_header_size=56,
            layout=widgets.Layout(height="320px", flex="3 1 0%"),
        )
        self.grid.add_class("credkit-grid")
        self.grid.on_cell_change(self.handle_cell_change)
        self.grid.on_cell_click(self.handle_cell_click)
        self.note = widgets.HTML()
        self.findings = widgets.HTML(layout=widgets.Layout(flex="1 1 0%", overflow="auto"))
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.rows_shown, self.refresh_button]),
                self.note,
                widgets.HBox([self.grid, self.findings]),
            ]
        )
        self.show_rows()

    @property
    def errors_only(self) -> bool:
        return self.rows_shown.value == ERRORS_ONLY

    # --- refreshing --------------------------------------------------------------------------

    def refresh(self, review: Review | None) -> None:
        """A new review (new file, new options, bulk fix): choose the rows again."""
        self.review = review
        if review is None or self.selected_row not in review.table.index:
            self.selected_row = None
        self.show_rows()

    def show_rows(self) -> None:
        """Send the rows to show to the grid, and describe them."""
        self.shown = grid_frame(self.review, errors_only=self.errors_only)
        self.grid.data = self.shown
        self._describe()
        self.select_row(self.selected_row)

    def update_values(self) -> None:
        """After an edit: the same rows, with their values and findings as reviewed now."""
        if self.review is None:
            return
        self.shown = self.review.table.loc[self.shown.index, HEADERS].rename_axis(ROW_LABEL)
        self.grid.data = self.shown
        self._describe()
        self.select_row(self.selected_row)

    def _describe(self) -> None:
        review = self.review
        if review is None:
            self.note.value = "<p>Load a file to see its rows.</p>"
            return
        if review.rejected:
            self.note.value = "<p>The file is rejected: there are no rows to correct yet.</p>"
            return
        total = len(review.failing_rows) if self.errors_only else len(review.table)
        what = "rows with errors" if self.errors_only else "rows"
        parts = [f"{total:,} {what}"]
        if total > len(self.shown):
            parts.append(f"the first {len(self.shown):,} shown")
        fixed = self.shown.index.difference(review.failing_rows)
        if self.errors_only and len(fixed):
            parts.append(f"{len(fixed)} shown here fixed now (Refresh rows hides them)")
        hint = "Edit a cell to correct it; click a row to see its findings."
        self.note.value = f"<p>{html.escape('; '.join(parts))}. {hint}</p>"

    # --- handlers ----------------------------------------------------------------------------

    def handle_rows_shown(self, _change: Mapping[str, Any] | None = None) -> None:
        """The errors-only / all-rows toggle."""
        self.show_rows()

    def handle_cell_change(self, cell: Mapping[str, Any]) -> None:
        """DataGrid's on_cell_change: ``cell["row"]`` is the position in the grid's data
        (not the spreadsheet row, and not the position on screen when sorted)."""
        header = cell["column"]
        if header not in HEADERS:
            return
        row = int(self.shown.index[int(cell["row"])])
        value = "" if cell["value"] is None or pd.isna(cell["value"]) else str(cell["value"])
        self.selected_row = row
        self._on_edits({(row, header): value})

    def handle_cell_click(self, cell: Mapping[str, Any]) -> None:
        """DataGrid's on_cell_click: ``primary_key_row`` is the position in the grid's data."""
        position = cell.get("primary_key_row")
        if cell.get("region") not in ("body", "row-header") or position is None:
            return
        if 0 <= int(position) < len(self.shown):
            self.select_row(int(self.shown.index[int(position)]))

    def select_row(self, row: int | None) -> None:
        """Show one row's findings beside the grid."""
        self.selected_row = row
        if self.review is None or row is None:
            self.findings.value = ""
            return
        found = row_findings(self.review, row)
        title = f"<h4>Row {row}</h4>"
        if found.empty:
            self.findings.value = title + "<p>No findings: this row can be imported.</p>"
        else:
            self.findings.value = title + frame_html(found, index=False)
