"""Deterministic content for Output widgets: tables rendered now, with no object addresses."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import pandas as pd
from pandas.io.formats.style import Styler


def show(output: widgets.Output, *objects: Any) -> None:
    """Replace an Output widget's content with objects (DataFrames, Stylers, plain text).

    The outputs are set directly rather than captured with ``with output: display(...)``:
    capture needs a running kernel (pytest has none), and a Styler's default text/plain is
    its object address, which would make every notebook output differ from run to run.
    """
    output.outputs = tuple(_display_data(item) for item in objects)


def _display_data(item: Any) -> dict[str, Any]:
    if isinstance(item, Styler):
        data = {"text/html": item.to_html(), "text/plain": item.data.to_string()}
    elif isinstance(item, pd.DataFrame):
        data = {"text/html": item._repr_html_(), "text/plain": repr(item)}
    else:
        text = str(item)
        data = {"text/html": f"<p>{html.escape(text)}</p>", "text/plain": text}
    return {"output_type": "display_data", "data": data, "metadata": {}}


#: Tables in widgets: text wraps (messages are never cut), header on the left.
TABLE_STYLE = (
    "<style>.credkit-table{border-collapse:collapse;font-size:12px;width:100%}"
    ".credkit-table th,.credkit-table td{border-bottom:1px solid #ddd;padding:3px 6px;"
    "text-align:left;vertical-align:top;white-space:normal;overflow-wrap:break-word}"
    ".credkit-table th{background:#f3f3f3;white-space:nowrap}</style>"
)


def frame_html(frame: pd.DataFrame, *, index: bool = True) -> str:
    """A DataFrame as an HTML table (values escaped, missing ones blank, text wrapped)."""
    shown = frame.astype(object).where(frame.notna(), "")
    table = shown.to_html(index=index, escape=True, border=0, classes="credkit-table")
    return TABLE_STYLE + table


def hide(widget: widgets.DOMWidget, hidden: bool = True) -> None:
    """Hide or show a widget without removing it from its parent."""
    widget.layout.display = "none" if hidden else None


def counted(count: int, noun: str) -> str:
    """A count with its noun, singular or plural: "1 row", "2,000 rows"."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
