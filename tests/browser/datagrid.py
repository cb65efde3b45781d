"""Editing an ipydatagrid DataGrid from the browser.

The grid draws its cells on a canvas, so a cell has no element to click: it is found by its
position. The sizes below are those the wizard's grid is made with (credkit.notebook.grid:
``base_column_size=130``, ``base_row_header_size=56``) and ipydatagrid 1.4's defaults for the
others. A double-click on a cell of an editable grid opens Lumino's text editor (a real
``<input>``) over it; the editor holds the cell's value, which tells us the right cell was hit.
"""

from __future__ import annotations

import time
from typing import Any

#: ipydatagrid's defaults (DataGrid.base_row_size, .base_column_header_size).
ROW_HEIGHT = 20
COLUMN_HEADER_HEIGHT = 20
#: The wizard's grid (RowGrid): the row header shows the spreadsheet row number.
ROW_HEADER_WIDTH = 56
COLUMN_WIDTH = 130
#: Lumino draws its scroll bars inside the grid's box.
SCROLLBAR = 15
EDITOR = ".lm-DataGrid-cellEditorInput"


def cell_center(grid: Any, row: int, column: int) -> tuple[float, float]:
    """Where the body cell at (row, column) of an unscrolled grid is on the page."""
    box = grid.bounding_box()
    assert box is not None, "the grid is not displayed"
    x = box["x"] + ROW_HEADER_WIDTH + column * COLUMN_WIDTH + COLUMN_WIDTH / 2
    y = box["y"] + COLUMN_HEADER_HEIGHT + row * ROW_HEIGHT + ROW_HEIGHT / 2
    right, bottom = box["x"] + box["width"] - SCROLLBAR, box["y"] + box["height"] - SCROLLBAR
    assert x < right and y < bottom, (
        f"cell ({row}, {column}) is at ({x:.0f}, {y:.0f}), outside the grid's visible area "
        f"{box}: make the browser window wider"
    )
    return x, y


def open_cell_editor(
    page: Any, grid: Any, row: int, column: int, *, expected: str, timeout_s: float = 20
) -> Any:
    """Double-click the cell until its editor opens showing expected; the editor's locator.

    Tries again (within timeout_s) when the editor does not open or shows another value: the
    grid may still be drawing the rows the kernel has just sent.
    """
    editor = page.locator(EDITOR)
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        grid.scroll_into_view_if_needed()
        page.mouse.dblclick(*cell_center(grid, row, column))
        try:
            editor.wait_for(state="visible", timeout=3_000)
        except Exception:  # Playwright's TimeoutError: the grid took no edit yet
            seen.append("(no editor)")
            continue
        value = editor.input_value()
        if value == expected:
            return editor
        seen.append(value)
        editor.press("Escape")
        time.sleep(0.5)
    raise AssertionError(
        f"double-clicking cell ({row}, {column}) should open an editor showing {expected!r}; "
        f"the attempts showed {seen}"
    )
