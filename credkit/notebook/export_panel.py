"""The export panel: filter the directory's credentials, preview them, write or download a CSV."""

from __future__ import annotations

import html
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from credkit.columns import HEADERS
from credkit.directory import Directory
from credkit.export import ExportFilters, iter_export_rows, write_export
from credkit.findings import mask_entry_code
from credkit.notebook.downloads import csv_download_html
from credkit.notebook.outputs import counted, show
from credkit.notebook.runbook import resolve_path

PREVIEW_ROWS = 10
DEFAULT_FILE_NAME = "credentials-export.csv"
#: Left out of the preview: the directory's change times, which differ on every run of a
#: notebook and so would make its output impossible to check. The written CSV has them.
PREVIEW_HIDDEN = ["Modified"]


def preview_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows as the preview shows them: entry codes masked, PREVIEW_HIDDEN left out."""
    shown = rows.drop(columns=PREVIEW_HIDDEN).reset_index(drop=True)
    shown["Entry Code"] = shown["Entry Code"].map(mask_entry_code)
    return shown


class ExportPanel:
    """Filters, a preview, a "Write CSV" button and a download link for the export."""

    def __init__(
        self,
        directory: Directory,
        *,
        download_folder: str | Path | None = None,
        preview_rows: int = PREVIEW_ROWS,
    ) -> None:
        self.directory = directory
        self.download_folder = download_folder
        self.preview_rows = preview_rows
        self.matching = 0
        self.total = 0
        self.status = widgets.Dropdown(
            options=[("Any", ""), ("Active", "Active"), ("Inactive", "Inactive")],
            description="Status:",
        )
        self.card_type = widgets.Dropdown(options=[("Any", "")], description="Card type:")
        self.user = widgets.Text(
            description="User:",
            placeholder="part of an External ID or email",
            continuous_update=False,
        )
        for control in (self.status, self.card_type, self.user):
            control.observe(self.handle_filter_change, names="value")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _button: self.refresh())
        self.count = widgets.HTML()
        self.preview = widgets.Output()
        self.path = widgets.Text(value=DEFAULT_FILE_NAME, description="Write to:")
        self.write_button = widgets.Button(description="Write CSV", icon="save")
        self.write_button.on_click(self.handle_write_click)
        self.download_button = widgets.Button(description="Download link", icon="download")
        self.download_button.on_click(self.handle_download_click)
        self.message = widgets.HTML()
        self.link = widgets.HTML()
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.status, self.card_type, self.user, self.refresh_button]),
                self.count,
                self.preview,
                widgets.HBox([self.path, self.write_button, self.download_button]),
                self.message,
                self.link,
            ]
        )
        self.refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Display the panel itself as its widget (a notebook cell ending in ``panel``)."""
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def filters(self) -> ExportFilters:
        return ExportFilters(self.status.value, self.card_type.value, self.user.value)

    # --- preview -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the directory again: the card types it holds, the counts and the preview."""
        card_types: set[str] = set()
        self.total = 0
        for rows in iter_export_rows(self.directory):
            card_types.update(rows["Card Type"][rows["Card Type"] != ""])
            self.total += len(rows)
        chosen = self.card_type.value
        options = [("Any", ""), *((name, name) for name in sorted(card_types))]
        self.card_type.unobserve(self.handle_filter_change, names="value")
        self.card_type.options = options
        self.card_type.value = chosen if chosen in card_types else ""
        self.card_type.observe(self.handle_filter_change, names="value")
        self.show_preview()

    def show_preview(self) -> pd.DataFrame:
        """Count the matching rows and show the first ones; returns the preview shown."""
        first: list[pd.DataFrame] = []
        wanted = self.preview_rows
        self.matching = 0
        for rows in iter_export_rows(self.directory, keep=self.filters.apply):
            if wanted > 0:
                first.append(rows.head(wanted))
                wanted -= len(first[-1])
            self.matching += len(rows)
        head = pd.concat(first) if first else pd.DataFrame(columns=HEADERS, dtype=str)
        preview = preview_frame(head)
        self.count.value = (
            f"<p>{self.matching:,} of {self.total:,} credentials match"
            f"{'; the first ' + str(len(preview)) + ' below' if len(preview) else ''}.</p>"
        )
        shown = preview.style.hide(axis="index").set_uuid("credkit_preview")  # no 0..n index
        show(self.preview, shown if len(preview) else "No credential matches these filters.")
        self.link.value = ""  # a link made for other filters would mislead
        return preview

    def handle_filter_change(self, _change: Mapping[str, Any] | None = None) -> None:
        """A filter changed: preview again."""
        self.show_preview()

    # --- writing -----------------------------------------------------------------------------

    def write_csv(self, path: str | Path | None = None) -> int:
        """Write the filtered export to path (default: the path box); returns the row count."""
        destination = resolve_path(path if path is not None else self.path.value.strip())
        count = write_export(self.directory, destination, keep=self.filters.apply)
        # The name only: the message must not show the server's folders.
        self.message.value = (
            f"<p>Wrote {counted(count, 'row')} to {html.escape(destination.name)}.</p>"
        )
        return count

    def handle_write_click(self, _button: widgets.Button | None = None) -> None:
        """The Write CSV button; a path that cannot be written is reported, not raised."""
        try:
            self.write_csv()
        except OSError as error:
            self.message.value = (
                f'<p style="color:#b00020">Could not write the file: '
                f"{html.escape(error.strerror or type(error).__name__)}.</p>"
            )

    def download(self) -> str:
        """Make the download link of the filtered export; returns its HTML."""
        stream = io.StringIO()
        count = write_export(self.directory, stream, keep=self.filters.apply)
        self.link.value = csv_download_html(
            stream.getvalue(),
            Path(self.path.value.strip() or DEFAULT_FILE_NAME).name,
            rows=count,
            folder=self.download_folder,
        )
        return self.link.value

    def handle_download_click(self, _button: widgets.Button | None = None) -> None:
        """The Download link button."""
        self.download()
