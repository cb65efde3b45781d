"""The operator's review choices (encoding, delimiter, header mapping, rule options) as widgets."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
import pandas as pd

from credkit.notebook.outputs import hide
from credkit.review import Review, ReviewOptions

#: "utf-8" reads as credkit does by default (UTF-8 with or without a BOM, else ``not-utf8``);
#: "auto" takes the encoding the file report detected.
ENCODING_CHOICES = [
    ("UTF-8 (expected)", "utf-8"),
    ("auto (as detected)", "auto"),
    ("cp1252 (Windows Western)", "cp1252"),
    ("latin-1", "latin-1"),
    ("UTF-16", "utf-16"),
]
#: "," reads as credkit does by default (commas, else ``wrong-delimiter``).
DELIMITER_CHOICES = [
    ("comma (expected)", ","),
    ("auto (as detected)", "auto"),
    ("semicolon", ";"),
    ("tab", "\t"),
]
WIDE = widgets.Layout(width="auto")


class ReviewChoices:
    """Widgets whose values make a ReviewOptions; any change calls on_change (to review again).

    The reading choices show only where the review asks for them: the encoding when the file
    is not UTF-8, the delimiter when the header splits on another one, a checkbox per header
    suggestion. Once chosen they stay visible, so that the operator can take them back.
    """

    def __init__(self, on_change: Callable[[], object]) -> None:
        self._on_change = on_change
        self._quiet = False
        self.detected_encoding: str | None = None
        self.detected_delimiter: str | None = None
        self.suggestions: dict[str, str] = {}  # header as written -> suggested expected header
        self.mapping: dict[str, str] = {}  # the accepted ones
        self._file_codes: set[str] = set()  # the codes of the last file report
        self.encoding = widgets.Dropdown(
            options=ENCODING_CHOICES, value="utf-8", description="Encoding:"
        )
        self.delimiter = widgets.Dropdown(
            options=DELIMITER_CHOICES, value=",", description="Delimiter:"
        )
        self.encoding_note = widgets.HTML()
        self.delimiter_note = widgets.HTML()
        self.encoding_row = widgets.HBox([self.encoding, self.encoding_note])
        self.delimiter_row = widgets.HBox([self.delimiter, self.delimiter_note])
        self.mapping_box = widgets.VBox()
        self.reassign = widgets.Checkbox(
            value=False,
            description="Reassign credentials that belong to other users to this file's users",
            indent=False,
            layout=WIDE,
        )
        self.overwrite_newer = widgets.Checkbox(
            value=False,
            description="Overwrite changes made in the directory after a row's Modified time",
            indent=False,
            layout=WIDE,
        )
        for control in (self.encoding, self.delimiter, self.reassign, self.overwrite_newer):
            control.observe(self.handle_change, names="value")
        self.reading_box = widgets.VBox([self.encoding_row, self.delimiter_row, self.mapping_box])
        self.options_box = widgets.VBox([self.reassign, self.overwrite_newer])
        self._show_reading_rows()

    # --- values ------------------------------------------------------------------------------

    def options(self) -> ReviewOptions:
        """The choices as review options."""
        return ReviewOptions(
            reassign=self.reassign.value,
            overwrite_newer=self.overwrite_newer.value,
            encoding=self._encoding(),
            delimiter=self._delimiter(),
            mapping=tuple(sorted(self.mapping.items())),
        )

    def _encoding(self) -> str | None:
        if self.encoding.value == "auto":
            return self.detected_encoding
        return None if self.encoding.value == "utf-8" else self.encoding.value

    def _delimiter(self) -> str | None:
        if self.delimiter.value == "auto":
            return self.detected_delimiter
        return None if self.delimiter.value == "," else self.delimiter.value

    # --- what the review asks for ------------------------------------------------------------

    def reset(self) -> None:
        """Back to credkit's defaults, for a new file (nothing re-reviewed)."""
        with self._quietly():
            self.encoding.value = "utf-8"
            self.delimiter.value = ","
            self.reassign.value = False
            self.overwrite_newer.value = False
        self.detected_encoding = self.detected_delimiter = None
        self.suggestions, self.mapping = {}, {}
        self._file_codes = set()
        self._build_mapping_box()
        self._show_reading_rows()

    def refresh(self, review: Review) -> None:
        """Show the choices this review asks for."""
        self._file_codes = set(review.file["code"])
        # Remembered: once the file is read with the chosen encoding, the finding is gone.
        if "not-utf8" in self._file_codes:
            self.detected_encoding = _finding_value(review.file, "not-utf8")
        if "wrong-delimiter" in self._file_codes:
            self.detected_delimiter = _finding_value(review.file, "wrong-delimiter")
        if review.column_review is not None:
            self.suggestions = dict(review.column_review.suggestions)
        self._build_mapping_box()
        self._show_reading_rows()

    def accept_suggestions(self) -> None:
        """Accept every header suggestion at once, then review again."""
        if not set(self.suggestions.items()) - set(self.mapping.items()):
            return
        self.mapping.update(self.suggestions)
        self._build_mapping_box()
        self._on_change()

    # --- handlers ----------------------------------------------------------------------------

    def handle_change(self, _change: Mapping[str, Any] | None = None) -> None:
        """A dropdown or checkbox changed: review again with the new options."""
        if not self._quiet:
            self._on_change()

    def handle_mapping_change(self, written: str, expected: str, accepted: bool) -> None:
        """A header suggestion's checkbox changed: use (or stop using) the mapping."""
        if accepted:
            self.mapping[written] = expected
        else:
            self.mapping.pop(written, None)
        self._on_change()

    # --- widgets -----------------------------------------------------------------------------

    def _build_mapping_box(self) -> None:
        # New checkboxes every time: their observers then never fire for values set here.
        boxes = []
        for written in sorted(set(self.suggestions) | set(self.mapping)):
            expected = self.mapping.get(written) or self.suggestions[written]
            box = widgets.Checkbox(
                value=written in self.mapping,
                description=f"Read column {written!r} as {expected!r}",
                indent=False,
                layout=WIDE,
            )
            box.observe(
                lambda change, w=written, e=expected: self.handle_mapping_change(
                    w, e, bool(change["new"])
                ),
                names="value",
            )
            boxes.append(box)
        self.mapping_box.children = tuple(boxes)

    def _show_reading_rows(self) -> None:
        codes = self._file_codes
        hide(self.encoding_row, "not-utf8" not in codes and self.encoding.value == "utf-8")
        hide(self.delimiter_row, "wrong-delimiter" not in codes and self.delimiter.value == ",")
        self.encoding_note.value = _detected_note(self.detected_encoding, "encoding")
        self.delimiter_note.value = _detected_note(
            {"\t": "tab", ";": "semicolon"}.get(self.detected_delimiter or ""), "delimiter"
        )

    @contextmanager
    def _quietly(self) -> Iterator[None]:
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False


def _finding_value(findings: pd.DataFrame, code: str) -> str | None:
    values = findings.loc[findings["code"] == code, "value"].dropna()
    return str(values.iloc[0]) if len(values) else None


def _detected_note(detected: str | None, what: str) -> str:
    if detected is None:
        return ""
    return f"<small>The file's {what} looks like <b>{html.escape(detected)}</b>.</small>"
