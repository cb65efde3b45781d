"""The editable grid of the file's rows: tinted cells, views with counts, pages, masked entry
codes, and the selected row's findings and actions beside it."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
import pandas as pd
from ipydatagrid import DataGrid, TextRenderer, VegaExpr

from credkit.columns import HEADERS
from credkit.findings import FINDING_COLUMNS, mask_entry_code
from credkit.importer import REASSIGNABLE_CODES
from credkit.review import Review
from credkit.splits import labelled_findings

#: Rows on one page of the grid: the browser receives a whole page at every page change.
PAGE_SIZE = 200
VIEW_ERRORS = "errors"
VIEW_WARNINGS = "warnings"
VIEW_ALL = "all"
#: The grid's index: the row number as a spreadsheet shows it (the header is row 1).
ROW_LABEL = "Row"
#: The row's status: "ok", "skipped", or a marker and column per finding ("✖ Facility Code;").
STATUS = "Status"
ERROR_MARK, WARNING_MARK = "\u2716", "\u26a0"
ROW_LEVEL = "(row)"
ERROR_TINT, WARNING_TINT, SKIPPED_TINT = "#f8c9c9", "#fbe7b5", "#e4e4e4"
#: Credential columns first: these are the ones the review's findings are usually about.
CREDENTIAL_COLUMNS = HEADERS[HEADERS.index("Card Type") : HEADERS.index("Modified")]
KEY_COLUMNS = HEADERS[HEADERS.index("User ID") : HEADERS.index("Card Type")]
ENTRY_CODE = "Entry Code"
#: Shown once a row is split: which credential of which file row each part is.
PART = "Credential"

Edits = dict[tuple[int, str], str]


def open_findings(
    review: Review, reassigned: set[int] | frozenset[int] = frozenset()
) -> pd.DataFrame:
    """The row findings still to answer: less those a row's reassign answers (the plan
    answers them the same way)."""
    findings = review.rows
    if not reassigned or findings.empty:
        return findings
    answered = findings["code"].isin(REASSIGNABLE_CODES) & findings["row"].isin(list(reassigned))
    return findings[~answered.fillna(False).astype(bool)]


def row_status(
    review: Review,
    skipped: set[int] | frozenset[int] = frozenset(),
    reassigned: set[int] | frozenset[int] = frozenset(),
) -> pd.Series:
    """Each row's status text: "ok", "skipped", or "✖ Column;" / "⚠ Column;" per finding
    (the findings a row's reassign answers left out)."""
    status = pd.Series("ok", index=review.table.index, dtype=object)
    findings = open_findings(review, reassigned).dropna(subset=["row"])
    if len(findings):
        # One entry per column, its worst finding's mark, errors first: a column with an error
        # and a warning is named once, so that the status fits its column.
        worst = pd.DataFrame(
            {
                "row": findings["row"].astype(int),
                "column": findings["column"].fillna(ROW_LEVEL),
                "rank": findings["severity"].ne("error").astype(int),
            }
        ).sort_values(["row", "rank", "column"], kind="stable")
        worst = worst.drop_duplicates(["row", "column"])
        marks = worst["rank"].map({0: ERROR_MARK, 1: WARNING_MARK})
        entries = marks + " " + worst["column"] + ";"
        ordered = entries.groupby(worst["row"]).agg(" ".join)
        status.loc[ordered.index.intersection(status.index)] = ordered
    status.loc[status.index.intersection(list(skipped))] = "skipped"
    return status


def grid_columns(review: Review | None, *, show_empty: bool = False) -> list[str]:
    """The columns for the job: the key column rows use, the credential columns, the rest;
    columns empty in the whole file left out unless show_empty."""
    table = review.table if review is not None and not review.rejected else None
    key_order = KEY_COLUMNS
    if table is not None:  # the key column most rows are matched by, first
        key_order = sorted(KEY_COLUMNS, key=lambda column: -int(table[column].astype(bool).sum()))
    ordered = list(dict.fromkeys([*key_order[:1], *CREDENTIAL_COLUMNS, *key_order, *HEADERS]))
    if table is None or show_empty:
        return ordered
    return [c for c in ordered if table[c].astype(bool).any()]


def view_rows(
    review: Review, view: str, reassigned: set[int] | frozenset[int] = frozenset()
) -> pd.Index:
    """The rows of a view: with errors, with warnings only, all, or "code:<code>"; in the
    file's order (the parts of a split row after it). A row's errors that its reassign
    answers do not count."""
    if view == VIEW_ALL:
        return review.table.index
    rows = open_findings(review, reassigned).dropna(subset=["row"])
    failing = (
        review.failing_rows
        if not reassigned
        else pd.Index(sorted(set(rows.loc[rows["severity"] == "error", "row"].astype(int))))
    )
    if view == VIEW_ERRORS:
        chosen = failing
    elif view == VIEW_WARNINGS:
        warned = pd.Index(sorted(set(rows.loc[rows["severity"] == "warning", "row"].astype(int))))
        chosen = warned.difference(failing)
    else:
        code = view.removeprefix("code:")
        chosen = pd.Index(sorted(set(rows.loc[rows["code"] == code, "row"].astype(int))))
    if review.parts:  # the table's order: a split row's parts follow it
        return review.table.index[review.table.index.isin(chosen)]
    return chosen


def view_options(
    review: Review | None, reassigned: set[int] | frozenset[int] = frozenset()
) -> list[tuple[str, str]]:
    """The views with their counts, for the dropdown."""
    if review is None or review.rejected:
        return [("Rows with errors (0)", VIEW_ERRORS)]
    errors = len(view_rows(review, VIEW_ERRORS, reassigned))
    warnings = len(view_rows(review, VIEW_WARNINGS, reassigned))
    options = [
        (f"Rows with errors ({errors:,})", VIEW_ERRORS),
        (f"Rows with warnings only ({warnings:,})", VIEW_WARNINGS),
        (f"All rows ({len(review.table):,})", VIEW_ALL),
    ]
    found = open_findings(review, reassigned)
    codes = found.dropna(subset=["row"]).groupby("code")["row"].nunique()
    options += [(f"Only {code} ({count:,})", f"code:{code}") for code, count in codes.items()]
    return options


def row_findings(
    review: Review, row: int, reassigned: set[int] | frozenset[int] = frozenset()
) -> pd.DataFrame:
    """The findings of one row still to answer (entry codes are already masked in them),
    the rows their messages name as the operator reads them."""
    found = open_findings(review, reassigned)
    at_row = found["row"].eq(row).fillna(False).astype(bool)
    return labelled_findings(review, found.loc[at_row, FINDING_COLUMNS])[
        ["column", "code", "severity", "message"]
    ]


#: Pixels per character of the grid's 12px font, the cell padding, and the widths allowed.
CHARACTER_PX, PADDING_PX = 7.0, 16
#: A header's text is wider than a value's, and shares its cell with the filter icon.
HEADER_CHARACTER_PX, HEADER_PADDING_PX = 7.4, 28
MIN_WIDTH, MAX_WIDTH = 44, 240
#: The status marks (✖, ⚠) are drawn about twice as wide as a letter.
MARK_EXTRA_PX = 7
ROW_HEADER_WIDTH = 58
ROW_PX, GRID_MIN_HEIGHT, GRID_MAX_HEIGHT = 20, 120, 440


def fitted_widths(frame: pd.DataFrame) -> dict[str, int]:
    """Column widths fitted to the header and the values shown, the status column's marks
    counted wider than letters, so that no status is cut."""
    widths = {}
    for column in frame.columns:
        values = frame[column].astype(str)
        drawn = values.str.len() * CHARACTER_PX
        if column == STATUS:
            marks = values.str.count(f"[{ERROR_MARK}{WARNING_MARK}]")
            drawn = drawn + marks * MARK_EXTRA_PX
        longest = max([0.0, *drawn.tolist()])
        width = int(
            max(longest + PADDING_PX, len(column) * HEADER_CHARACTER_PX + HEADER_PADDING_PX)
        )
        widths[column] = max(MIN_WIDTH, min(MAX_WIDTH, width))
    return widths


def findings_list_html(found: pd.DataFrame) -> str:
    """A row's findings for the narrow panel: the column and code, then the message in full."""
    items = []
    for finding in found.itertuples():
        colour = "#b00020" if finding.severity == "error" else "#8a6d00"
        column = finding.column if isinstance(finding.column, str) else "The row"
        items.append(
            f'<li style="margin-bottom:6px"><b>{html.escape(column)}</b>: '
            f'<span style="color:{colour}">{html.escape(finding.code)} '
            f"({html.escape(finding.severity)})</span><br>{html.escape(finding.message)}</li>"
        )
    return f'<ul style="padding-left:18px;margin:4px 0">{"".join(items)}</ul>'


def _tint(header: str) -> VegaExpr:
    status = f"cell.metadata.data['{STATUS}']"
    return VegaExpr(
        f"indexof({status}, '{ERROR_MARK} {header};') >= 0 ? '{ERROR_TINT}' : "
        f"indexof({status}, '{WARNING_MARK} {header};') >= 0 ? '{WARNING_TINT}' : "
        f"{status} == 'skipped' ? '{SKIPPED_TINT}' : 'white'"
    )


def _status_tint() -> VegaExpr:
    status = f"cell.metadata.data['{STATUS}']"
    return VegaExpr(
        f"indexof({status}, '{ERROR_MARK}') >= 0 ? '{ERROR_TINT}' : "
        f"indexof({status}, '{WARNING_MARK}') >= 0 ? '{WARNING_TINT}' : "
        f"{status} == 'skipped' ? '{SKIPPED_TINT}' : 'white'"
    )


class RowGrid:
    """An ipydatagrid DataGrid of one page of a view's rows; each cell edit goes to on_edits
    as ``{(row, header): value}``, for Review.edit.

    An edit changes only the cells it changes (``set_cell_value``), so the grid neither
    reloads nor scrolls; rows fixed by it leave the errors view at the next view or page
    change. Entry codes are masked until one is revealed (``reveal_entry_code``).
    """

    def __init__(
        self,
        on_edits: Callable[[Edits], object],
        on_select: Callable[[int | None], object] | None = None,
        describe_row: Callable[[int], str] | None = None,
    ) -> None:
        self._on_edits = on_edits
        self._on_select = on_select
        self._describe_row = describe_row  # where a row came from (a converted file's source)
        self._updating = False
        # Cells we set, which the browser echoes: (position, column, value), and the same
        # with the column's index, which is how the browser names it.
        self._echoes: list[tuple[int, str, Any]] = []
        self._echo_indices: list[tuple[int, Any, Any]] = []
        self.review: Review | None = None
        self.skipped: set[int] = set()
        self.reassigned: set[int] = set()  # rows whose credential the operator reassigned
        self.revealed: set[int] = set()  # rows whose entry code is shown in clear
        self.selected_row: int | None = None
        self.page = 0
        self.rows: pd.Index = pd.Index([], dtype=int)  # the view's rows, every page
        self.view = widgets.Dropdown(options=view_options(None), description="Show:")
        self.view.layout.width = "340px"
        self.view.observe(self._handle_view, names="value")
        self.show_empty = widgets.Checkbox(
            value=False, description="Show empty columns", indent=False
        )
        self.show_empty.layout.width = "170px"
        self.show_empty.observe(lambda _change: self.show_rows(), names="value")
        self.previous_page = widgets.Button(description="Previous page", icon="arrow-left")
        self.next_page = widgets.Button(description="Next page", icon="arrow-right")
        self.previous_page.on_click(lambda _button: self.show_rows(page=self.page - 1))
        self.next_page.on_click(lambda _button: self.show_rows(page=self.page + 1))
        self.page_label = widgets.HTML()
        self.shown = self._frame()
        self.grid = DataGrid(
            self.shown,
            editable=True,
            selection_mode="cell",
            column_widths=fitted_widths(self.shown),
            base_row_header_size=ROW_HEADER_WIDTH,
            renderers=self._renderers(),
            layout=widgets.Layout(height="340px", flex="1 1 0%"),
        )
        self.grid.add_class("credkit-grid")
        self.grid.on_cell_change(self.handle_cell_change)
        self.grid.on_cell_click(self.handle_cell_click)
        self.note = widgets.HTML()
        self.findings = widgets.HTML()
        self.findings.add_class("credkit-row-findings")
        self.row_actions = widgets.VBox()
        self.side = widgets.VBox(
            [self.findings, self.row_actions],
            layout=widgets.Layout(flex="0 0 230px", overflow="auto", padding="0 0 0 8px"),
        )
        self.widget = widgets.VBox(
            [
                widgets.HBox(
                    [
                        self.view,
                        self.show_empty,
                        self.previous_page,
                        self.next_page,
                        self.page_label,
                    ]
                ),
                self.note,
                widgets.HBox([self.grid, self.side]),
            ]
        )
        self.show_rows()

    # --- what is shown -----------------------------------------------------------------------

    def _frame(self, rows: pd.Index | None = None, page: pd.Index | None = None) -> pd.DataFrame:
        """The rows as the grid shows them; page (default: rows) is the page they are on,
        whose rows decide whether the Credential column is shown."""
        review = self.review
        if review is None or review.rejected or rows is None:
            return pd.DataFrame(columns=[STATUS, *HEADERS], dtype=str).rename_axis(ROW_LABEL)
        columns = grid_columns(review, show_empty=self.show_empty.value)
        frame = review.table.loc[rows, columns].copy()
        if ENTRY_CODE in frame.columns:
            hidden = ~frame.index.isin(list(self.revealed))
            frame.loc[hidden, ENTRY_CODE] = frame.loc[hidden, ENTRY_CODE].map(mask_entry_code)
        frame.insert(0, STATUS, row_status(review, self.skipped, self.reassigned).loc[rows])
        on_page = rows if page is None else page
        if review.parts and on_page.isin(list(review.parts)).any():
            # Which credential of a split row each part is (only on a page with parts).
            frame.insert(1, PART, [_part_label(review, int(row)) for row in frame.index])
        frame.index = pd.Index(frame.index.astype(int), name=ROW_LABEL)
        return frame

    def _renderers(self) -> dict[str, TextRenderer]:
        renderers = {header: TextRenderer(background_color=_tint(header)) for header in HEADERS}
        renderers[STATUS] = TextRenderer(background_color=_status_tint())
        return renderers

    def refresh(self, review: Review | None, skipped: set[int] | None = None) -> None:
        """A new review (new file, new options, bulk fix): the view's rows chosen again."""
        self.review = review
        if skipped is not None:
            self.skipped = skipped
        if review is None or self.selected_row not in review.table.index:
            self.selected_row = None
        self._set_view_options()
        self.show_rows()

    def _set_view_options(self) -> None:
        """The views with their current counts, keeping the chosen one (rows not re-sent)."""
        chosen = self.view.value
        options = view_options(self.review, self.reassigned)
        self.view.unobserve(self._handle_view, names="value")
        self.view.options = options
        self.view.value = chosen if chosen in [value for _, value in options] else VIEW_ERRORS
        self.view.observe(self._handle_view, names="value")

    def _handle_view(self, _change: Mapping[str, Any]) -> None:
        self.show_rows(page=0)

    def show_rows(self, page: int | None = None) -> None:
        """Send one page of the view's rows to the grid, and describe them."""
        review = self.review
        self.rows = (
            view_rows(review, self.view.value, self.reassigned)
            if review is not None and not review.rejected
            else pd.Index([], dtype=int)
        )
        pages = max(1, -(-len(self.rows) // PAGE_SIZE))
        self.page = min(max(0, self.page if page is None else page), pages - 1)
        on_page = self.rows[self.page * PAGE_SIZE : (self.page + 1) * PAGE_SIZE]
        self.shown = self._frame(on_page)
        self._updating = True
        try:
            self.grid.data = self.shown
            self.grid.column_widths = fitted_widths(self.shown)
            # As tall as the page's rows (header and scroll bar included), within bounds.
            height = (len(self.shown) + 1) * ROW_PX + 40
            self.grid.layout.height = f"{max(GRID_MIN_HEIGHT, min(GRID_MAX_HEIGHT, height))}px"
        finally:
            self._updating = False
        self.previous_page.disabled = self.page == 0
        self.next_page.disabled = self.page >= pages - 1
        self.page_label.value = f"<span>Page {self.page + 1:,} of {pages:,}</span>"
        self._describe()
        self.select_row(self.selected_row)

    def update_rows(self, rows: pd.Index | list[int]) -> None:
        """After an edit: the changed values and statuses of rows on this page, cell by cell
        (the grid keeps its place)."""
        if self.review is None:
            return
        on_page = self.shown.index.intersection(pd.Index(list(rows)))
        fresh = self._frame(on_page, page=self.shown.index)
        if list(fresh.columns) != list(self.shown.columns):
            # The edit filled a column empty until now (hidden) or emptied one: the page is
            # sent again with its columns, once.
            self._set_view_options()
            self.show_rows()
            return
        self._updating = True
        try:
            for row in on_page:
                for column in fresh.columns:
                    value = fresh.at[row, column]
                    if self.shown.at[row, column] != value:
                        # handle_cell_change keeps the echo it will get (set_cell_value
                        # calls it at once, with the cell's position and column index).
                        self.grid.set_cell_value(column, int(row), value)
                        self.shown.at[row, column] = value
            widths = fitted_widths(self.shown)
            if widths != self.grid.column_widths:  # a fix made a value longer (a card type)
                self.grid.column_widths = widths
        finally:
            self._updating = False
        self._set_view_options()
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
        first = self.page * PAGE_SIZE
        shown = f"rows {first + 1:,}-{first + len(self.shown):,} of {len(self.rows):,} in this view"
        if not len(self.rows):
            shown = "no rows in this view"
        # Rows edited in place stay on the page (it does not move); say which left the view.
        left = self.shown.index.difference(view_rows(review, self.view.value, self.reassigned))
        if len(left):
            listed = ", ".join(str(row) for row in left[:10])
            shown += (
                f"; {'row' if len(left) == 1 else 'rows'} {listed} no longer "
                "in this view (shown until the view or page changes)"
            )
        hint = (
            "Red cells have errors, yellow ones warnings; select a cell to see why beside the "
            "grid. Double-click a cell to correct it."
        )
        self.note.value = f"<p>{html.escape(shown)}. {html.escape(hint)}</p>"

    # --- handlers ----------------------------------------------------------------------------

    def handle_cell_change(self, cell: Mapping[str, Any]) -> None:
        """DataGrid's on_cell_change: ``cell["row"]`` is the position in the grid's data
        (not the spreadsheet row, and not the position on screen when sorted)."""
        position, value = int(cell["row"]), cell["value"]
        by_index = (position, cell.get("column_index"), value)
        if self._updating:  # our own set_cell_value: the browser will report it again
            self._echoes.append((position, cell["column"], value))
            self._echo_indices.append(by_index)
            del self._echoes[:-_ECHOES_KEPT], self._echo_indices[:-_ECHOES_KEPT]
            return
        # The browser reports our own set_cell_value again, later; by then a view change may
        # have put another row at that position, or another column at that index (a split
        # adds the Credential column), which must not receive the value. The browser names
        # the column by its index, so the echo is known by the index where it has one.
        if cell.get("column_index") is not None and by_index in self._echo_indices:
            found = self._echo_indices.index(by_index)
        elif (position, cell["column"], value) in self._echoes:
            found = self._echoes.index((position, cell["column"], value))
        else:
            found = -1
        if found >= 0:
            del self._echoes[found], self._echo_indices[found]
            return
        header = cell["column"]
        if header not in HEADERS:
            return
        row = int(self.shown.index[int(cell["row"])])
        value = "" if cell["value"] is None or pd.isna(cell["value"]) else str(cell["value"])
        self.shown.at[row, header] = value
        if header == ENTRY_CODE and row not in self.revealed and value == _masked(self, row):
            return  # the masked text committed unchanged: no edit
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
        """Show one row's findings beside the grid (and tell the wizard, for its actions)."""
        self.selected_row = row
        if self.review is None or row is None:
            self.findings.value = "<p><i>Select a cell to see its row's findings here.</i></p>"
        else:
            found = row_findings(self.review, row, self.reassigned)
            origin = self._describe_row(row) if self._describe_row is not None else ""
            title = f"<h4>Row {html.escape(self.review.row_label(row))}</h4>"
            if origin:
                title += f"<p><small>From {html.escape(origin)}.</small></p>"
            if row in self.skipped:
                title += "<p><b>Skipped</b>: this row will not be imported.</p>"
            if row in self.reassigned:
                title += (
                    "<p><b>Reassigned</b>: its credential moves to this row's user at the "
                    "import.</p>"
                )
            if found.empty:
                self.findings.value = title + "<p>No findings: this row can be imported.</p>"
            else:
                self.findings.value = title + findings_list_html(found)
        if self._on_select is not None:
            self._on_select(row)

    def reveal_entry_code(self, row: int) -> None:
        """Show one row's entry code in clear in the grid (the operator asked for it)."""
        self.revealed.add(row)
        self.update_rows([row])


#: The cells set in place whose echo from the browser is still awaited, at most.
_ECHOES_KEPT = 1_000


def _part_label(review: Review, row: int) -> str:
    """A split row's part as the Credential column shows it ("2 of 2 of row 7"); "" else."""
    part = review.parts.get(row)
    return "" if part is None else f"{part.part} of {part.parts} of row {part.row}"


def _masked(grid: RowGrid, row: int) -> str:
    review = grid.review
    return "" if review is None else mask_entry_code(review.table.at[row, ENTRY_CODE])
