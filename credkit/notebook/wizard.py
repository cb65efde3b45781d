"""The import wizard: choose a file, review it, correct it, plan and import, top to bottom."""

from __future__ import annotations

import getpass
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from credkit.directory import Directory
from credkit.importer import ImportResult, Plan
from credkit.notebook.choices import ReviewChoices
from credkit.notebook.fixes import BulkFixes
from credkit.notebook.grid import Edits, RowGrid
from credkit.notebook.importing import ImportPanel
from credkit.notebook.reports import ReportsPanel
from credkit.notebook.upload import FileChooser, configured_upload_limit_mib
from credkit.review import Review, review_bytes, review_file


@dataclass(frozen=True)
class _Source:
    """Where the file under review comes from: uploaded bytes, or a path on the server."""

    name: str
    data: bytes | None = None
    path: str | None = None


class ImportWizard:
    """The credential import as one widget (``wizard.widget``), for operators.

    Every step is a plain method, so notebooks and tests can drive it without a browser:
    ``load_bytes``/``load_path``, ``review_again``, ``apply_edits``, ``apply_fix``,
    ``run_import``. The operator's edits are kept and applied again whenever the file is
    reviewed again (new reading choices or options), because a review starts from the file.
    """

    def __init__(
        self,
        directory: Directory,
        operator: str | None = None,
        *,
        download_folder: str | Path | None = None,
        upload_limit_mib: float | None = None,
    ) -> None:
        self.directory = directory
        self.operator = operator or getpass.getuser()
        self.review: Review | None = None
        self.edits: Edits = {}
        self._source: _Source | None = None
        self.status = widgets.HTML()
        self.chooser = FileChooser(
            self.load_bytes,
            self.load_path,
            upload_limit_mib=upload_limit_mib or configured_upload_limit_mib(),
        )
        self.choices = ReviewChoices(on_change=self.review_again)
        self.reports = ReportsPanel()
        self.fixes = BulkFixes(
            on_edits=self.apply_edits, on_accept_suggestions=self.choices.accept_suggestions
        )
        self.grid = RowGrid(on_edits=self._apply_grid_edits)
        self.importer = ImportPanel(directory, self.operator, download_folder=download_folder)
        self.widget = widgets.VBox(
            [
                _heading("1. Choose the credential file"),
                self.chooser.widget,
                self.status,
                _heading("2. Reading choices"),
                self.choices.reading_box,
                _heading("3. Reports"),
                self.reports.widget,
                _heading("4. Correct the rows"),
                self.fixes.widget,
                self.grid.widget,
                _heading("5. Options"),
                self.choices.options_box,
                _heading("6. Plan and import"),
                self.importer.widget,
            ]
        )

    # --- loading and reviewing ---------------------------------------------------------------

    def load_bytes(self, data: bytes, name: str = "upload.csv") -> Review:
        """Review a file held in memory (an upload) from scratch: new choices, no edits."""
        return self._load(_Source(name=Path(name).name, data=bytes(data)))

    def load_path(self, path: str | Path) -> Review:
        """Review a file on the server (no upload size limit) from scratch."""
        return self._load(_Source(name=Path(path).name, path=str(path)))

    def _load(self, source: _Source) -> Review:
        self._source = source
        self.edits = {}
        self.grid.selected_row = None  # a row of the previous file means nothing here
        self.choices.reset()
        review = self._review_source()
        self._show(review, new_file=True)
        return review

    def review_again(self) -> Review | None:
        """Review the file again with the current choices, then apply the edits made so far."""
        if self._source is None:
            return None
        review = self._review_source()
        self._show(review)
        return review

    def _review_source(self) -> Review:
        source = self._source
        if source is None:
            raise ValueError("no file loaded")
        options = self.choices.options()
        if source.data is not None:
            review = review_bytes(source.data, self.directory, options, file_name=source.name)
        else:
            review = review_file(str(source.path), self.directory, options)
        if not review.rejected:
            kept = {(r, h): v for (r, h), v in self.edits.items() if r in review.table.index}
            if kept:
                review.edit(kept)
        return review

    def _show(self, review: Review, *, new_file: bool = False) -> None:
        self.review = review
        self.status.value = ""
        self.choices.refresh(review)
        self.reports.refresh(review)
        self.fixes.refresh(review)
        self.grid.refresh(review)
        self.importer.refresh(review, new_file=new_file)

    # --- correcting --------------------------------------------------------------------------

    def apply_edits(self, edits: Edits) -> pd.DataFrame:
        """Apply cell edits ((row, header) -> text) with Review.edit, then refresh every panel.

        Returns the findings of the rows re-checked (empty when nothing changed).
        """
        review = self._editable_review()
        changed = self._edit(review, edits)
        if changed is not None:
            self._show(review)
        return changed if changed is not None else review.rows.iloc[:0]

    def _apply_grid_edits(self, edits: Edits) -> None:
        """An edit typed in the grid: the grid keeps its rows (see RowGrid)."""
        try:
            review = self._editable_review()
        except ValueError as problem:
            self._say(str(problem))
            return
        if self._edit(review, edits) is None:
            return
        self.reports.refresh(review)
        self.fixes.refresh(review)
        self.grid.update_values()
        self.importer.refresh(review)

    def _edit(self, review: Review, edits: Edits) -> pd.DataFrame | None:
        """Review.edit for the cells that really change; None when none does."""
        for row, header in edits:
            if header not in review.table.columns or row not in review.table.index:
                raise KeyError(f"no cell at row {row}, column {header!r}")
        changes = {
            (row, header): value.strip()
            for (row, header), value in edits.items()
            if review.table.at[row, header] != value.strip()
        }
        if not changes:
            return None
        self.edits.update(changes)
        return review.edit(changes)

    def _editable_review(self) -> Review:
        if self.review is None or self.review.rejected:
            raise ValueError("load a file whose columns are accepted before editing its rows")
        return self.review

    def apply_fix(self, code: str) -> Edits:
        """The bulk fix for a finding code (see credkit.notebook.fixes.FIXES)."""
        return self.fixes.apply_fix(code)

    def accept_header_suggestions(self) -> Review | None:
        """Accept every header suggestion and review again."""
        self.choices.accept_suggestions()
        return self.review

    # --- planning and importing --------------------------------------------------------------

    @property
    def plan(self) -> Plan | None:
        """The plan of the review as it is now (None before a file, or for a rejected one)."""
        return self.importer.plan

    @property
    def result(self) -> ImportResult | None:
        """The last import's result."""
        return self.importer.result

    def run_import(self) -> ImportResult:
        """Import the reviewed file, as the Import button does."""
        return self.importer.run_import()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Display the wizard itself as its widget (a notebook cell ending in ``wizard``)."""
        return self.widget._repr_mimebundle_(**kwargs)

    def _say(self, text: str) -> None:
        self.status.value = f'<p style="color:#b00020">{html.escape(text)}</p>'


def _heading(text: str) -> widgets.HTML:
    return widgets.HTML(f"<h3>{html.escape(text)}</h3>")
