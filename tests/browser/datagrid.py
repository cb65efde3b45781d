"""Finding rows of an ipydatagrid DataGrid from the browser.

The grid draws its cells on a canvas, so a cell has no element to click: a row is found by its
position (rows are ipydatagrid's default 20 px, under a 20 px header), and the columns are
reached from the first one with the arrow keys, whatever their fitted widths. Typing into a
selected cell of an editable grid opens Lumino's text editor (a real ``<input>``) over it.
"""

from __future__ import annotations

from typing import Any

from credkit.notebook.grid import ROW_HEADER_WIDTH, ROW_PX

COLUMN_HEADER_HEIGHT = 20
#: Lumino draws its scroll bars inside the grid's box.
SCROLLBAR = 15
EDITOR = ".lm-DataGrid-cellEditorInput"


def first_cell(grid: Any, row: int) -> tuple[float, float]:
    """Where, on the page, a point inside the first body cell of a row of the unscrolled grid is."""
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None, "the grid is not displayed"
    x = box["x"] + ROW_HEADER_WIDTH + 8
    y = box["y"] + COLUMN_HEADER_HEIGHT + row * ROW_PX + ROW_PX / 2
    assert y < box["y"] + box["height"] - SCROLLBAR, f"row {row} is below the grid's visible area"
    return x, y


def select_row(page: Any, grid: Any, row: int) -> None:
    """Click a row's first cell (moving between cells: not an operator action)."""
    page.mouse.click(*first_cell(grid, row))


def commit_cell(page: Any, grid: Any, row: int, column: int, value: str) -> None:
    """Select the row's first cell, move right to the column with the arrow keys, type value
    (the first key opens the editor) and commit it with Enter."""
    editor = page.locator(EDITOR)
    select_row(page, grid, row)
    for _ in range(column):
        page.keyboard.press("ArrowRight")
    page.keyboard.type(value[0])
    editor.wait_for(state="visible", timeout=10_000)
    editor.press("ControlOrMeta+a")
    editor.press_sequentially(value)
    editor.press("Enter")
