"""Download links for CSV text: a data: URI link, or a FileLink when the file is too large."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from IPython.display import FileLink

from credkit.notebook.outputs import counted

#: The largest CSV offered as a data: URI link, in bytes.
#:
#: A data: URI is the first choice because nothing is written on the server: failed rows hold
#: the operator's entry codes unmasked, and a file left in the notebook's folder would keep
#: them there. But the link lives inside the widget's state, which the browser receives in one
#: message and the notebook may save: beyond a few MB that is slow and bloats the notebook, so
#: larger files are written to a folder the caller names and linked with a FileLink.
DATA_URI_LIMIT = 2 * 1024 * 1024
#: A download link that looks like the button it is.
BUTTON_STYLE = (
    "display:inline-block;padding:5px 14px;margin:4px 6px 4px 0;border-radius:3px;"
    "background:#1976d2;color:white;text-decoration:none;font-weight:600"
)


def csv_download_html(
    csv_text: str,
    file_name: str,
    *,
    rows: int | None = None,
    folder: str | Path | None = None,
    limit: int = DATA_URI_LIMIT,
) -> str:
    """HTML that lets the operator download csv_text as file_name (see DATA_URI_LIMIT)."""
    data = csv_text.encode("utf-8")
    rows_note = "" if rows is None else f" ({counted(rows, 'row')})"
    shown_name = html.escape(file_name)
    if len(data) <= limit:
        encoded = base64.b64encode(data).decode("ascii")
        return (
            f'<a download="{shown_name}" href="data:text/csv;charset=utf-8;base64,{encoded}" '
            f'target="_blank" class="credkit-download" style="{BUTTON_STYLE}">'
            f"\u2913 Download {shown_name}</a>{html.escape(rows_note)}"
        )
    size = f"{len(data) / 1_000_000:.1f} MB"
    if folder is None:
        return (
            f"<p>{shown_name}{html.escape(rows_note)} is {size}, too large for a download link: "
            "give a folder for downloads (download_folder=...) to get a link to a file.</p>"
        )
    path = Path(folder) / file_name
    path.write_bytes(data)
    return FileLink(str(path), result_html_suffix=html.escape(rows_note))._repr_html_()


def decode_data_uri(link_html: str) -> bytes:
    """The bytes of the first data: URI in some HTML (for tests and for notebooks that check)."""
    start = link_html.index("base64,") + len("base64,")
    end = link_html.index('"', start)
    return base64.b64decode(link_html[start:end])
