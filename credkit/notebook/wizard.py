"""The import wizard, one step at a time: file, columns, rows, options, plan and import, result."""

from __future__ import annotations

import getpass
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from credkit.conversion import Conversion, read_source, review_source_table
from credkit.directory import Directory
from credkit.importer import REASSIGNABLE_CODES, ImportChoices, ImportResult, Plan
from credkit.notebook.choices import ReviewChoices
from credkit.notebook.fixes import BulkFixes, Edits, RowFix, pending_suggestions, row_fixes
from credkit.notebook.grid import ENTRY_CODE, RowGrid
from credkit.notebook.importing import ImportPanel
from credkit.notebook.outputs import hide
from credkit.notebook.reports import ReportsPanel
from credkit.notebook.source_panel import CanonicalFile, SourcePanel
from credkit.notebook.upload import FileChooser, configured_upload_limit_mib
from credkit.reading import CsvTable, read_csv_bytes
from credkit.review import Review, ReviewOptions, review_file, review_table
from credkit.splits import credential_parts
from credkit.workbook import is_workbook, read_workbook_bytes

STEPS = (
    "Choose the file",
    "Review the columns",
    "Review the rows",
    "Options",
    "Plan and import",
    "Result",
)
FILE, COLUMNS, ROWS, OPTIONS, PLAN, RESULT = range(len(STEPS))


@dataclass(frozen=True)
class Split:
    """Rows split into one row per credential, as the wizard's journal keeps them."""

    rows: tuple[int, ...]


def read_upload(data: bytes, name: str, options: ReviewOptions) -> CsvTable:
    """An uploaded file as credkit reads it: an Excel workbook (by its name's ending) from its
    first sheet, anything else as a CSV."""
    if is_workbook(name):
        return read_workbook_bytes(data, name, sheet=options.sheet, max_rows=options.max_rows)
    return read_csv_bytes(
        data, encoding=options.encoding, delimiter=options.delimiter, max_rows=options.max_rows
    )


def _names_several(review: Review, row: int) -> bool:
    """Whether a row of the review names more than one credential (so that it can be split)."""
    return row in review.table.index and len(credential_parts(review.table.loc[row].to_dict())) > 1


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
    ``skip_row``, ``reassign_row``, ``run_import``, ``go_to``. The operator's edits are kept
    and applied again whenever the file is reviewed again (new reading choices or options),
    because a review starts from the file.
    """

    #: The steps the indicator names (a wizard that ends otherwise names its own).
    steps: tuple[str, ...] = STEPS

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
        # The edits and splits in the order they were made, to make them again on a new
        # review of the file (a split changes which row a later edit means).
        self.journal: list[Edits | Split] = []
        self.skipped: set[int] = set()
        self.reassigned: set[int] = set()
        self.step = FILE
        self._source: _Source | None = None
        self.status = widgets.HTML()
        self.conversion: Conversion | None = None
        self.source = SourcePanel(on_change=self._source_changed)
        self.chooser = FileChooser(
            self.load_bytes,
            self.load_path,
            upload_limit_mib=upload_limit_mib or configured_upload_limit_mib(),
        )
        self.choices = ReviewChoices(on_change=self.review_again)
        self.reports = ReportsPanel()
        self.accept_button = widgets.Button(
            description="Accept header suggestions", button_style="primary", icon="check"
        )
        self.accept_button.layout = widgets.Layout(width="auto", align_self="flex-start")
        self.accept_button.on_click(lambda _button: self.accept_header_suggestions())
        self.columns_note = widgets.HTML()
        self.fixes = BulkFixes(
            on_edits=self._apply_bulk_edits,
            on_skip_failing=self.skip_failing_rows,
            on_split=self.split_rows,
        )
        self.grid = RowGrid(
            on_edits=self._apply_grid_edits,
            on_select=self._show_row_actions,
            describe_row=self.source_row,
        )
        self.importer = ImportPanel(directory, self.operator, download_folder=download_folder)
        self.importer.on_imported = lambda _result: self.go_to(RESULT)
        self.canonical = CanonicalFile(directory)
        self.again_button = widgets.Button(
            description="Import another file", icon="redo", layout=widgets.Layout(width="auto")
        )
        self.again_button.on_click(lambda _button: self.go_to(FILE))

        self.indicator = widgets.HTML()
        self.indicator.add_class("credkit-steps")
        self.back_button = widgets.Button(description="Back", icon="arrow-left")
        self.next_button = widgets.Button(description="Next", icon="arrow-right")
        self.next_button.add_class("credkit-next")
        self.back_button.on_click(lambda _button: self.go_to(self.step - 1))
        self.next_button.on_click(lambda _button: self.go_to(self.step + 1))
        self.next_note = widgets.HTML()
        self.pages = [
            widgets.VBox([self.source.widget, self.chooser.widget, self.status]),
            widgets.VBox(
                [
                    self.source.result_widget,
                    self.reports.column_widget,
                    self.choices.reading_box,
                    self.accept_button,
                    self.columns_note,
                ]
            ),
            widgets.VBox(
                [self.reports.summary, self.fixes.widget, self.grid.widget, self.reports.row_widget]
            ),
            widgets.VBox([self.choices.options_box]),
            widgets.VBox([self.importer.plan_widget, self.canonical.widget]),
            widgets.VBox([self.importer.result_widget, self.again_button]),
        ]
        self.widget = widgets.VBox(
            [
                self.indicator,
                *self.pages,
                widgets.HBox([self.back_button, self.next_button, self.next_note]),
            ]
        )
        self.widget.add_class("credkit-wizard")
        self._refresh_navigation()

    # --- steps -------------------------------------------------------------------------------

    def can_leave(self, step: int) -> tuple[bool, str]:
        """Whether Next may leave a step, and what to do first when it may not."""
        review = self.review
        if step == FILE and review is None:
            return False, "Choose a file first."
        if step == COLUMNS and review is not None and review.rejected:
            return False, "The file is rejected: answer the questions above first."
        if step == PLAN and self.importer.result is None:
            return False, "Press Import to go on."
        if step == RESULT:
            return False, ""
        return True, ""

    def go_to(self, step: int) -> None:
        """Show a step: any step before the current one, or a later one every step before it
        allows."""
        step = max(FILE, min(step, RESULT))
        for earlier in range(step):
            if earlier >= self.step:
                allowed, _ = self.can_leave(earlier)
                if not allowed:
                    step = earlier
                    break
        if step < PLAN and self.importer.result is not None and step != FILE:
            step = RESULT  # after the import, only a new file goes back
        self.step = step
        self._refresh_navigation()

    def _refresh_navigation(self) -> None:
        for index, page in enumerate(self.pages):
            hide(page, index != self.step)
        items = []
        for index, name in enumerate(self.steps):
            state = "current" if index == self.step else "done" if index < self.step else "next"
            style = {
                "current": "background:#1976d2;color:white;font-weight:bold",
                "done": "background:#dbe9f7;color:#0d3c6e",
                "next": "background:#eeeeee;color:#777777",
            }[state]
            items.append(
                f'<span class="credkit-step credkit-step-{state}" style="{style};'
                f'padding:4px 10px;border-radius:12px;margin-right:6px;white-space:nowrap">'
                f"{index + 1}. {html.escape(name)}</span>"
            )
        self.indicator.value = f'<div style="margin:6px 0 10px 0">{"".join(items)}</div>'
        allowed, why = self.can_leave(self.step)
        self.next_button.disabled = not allowed
        self.back_button.disabled = self.step == FILE
        hide(self.back_button, self.step == RESULT)
        hide(self.next_button, self.step in (PLAN, RESULT))
        self.next_note.value = f"<small>{html.escape(why)}</small>" if why else ""
        self._refresh_columns_step()

    def _refresh_columns_step(self) -> None:
        review = self.review
        pending = pending_suggestions(review)
        hide(self.accept_button, not pending)
        self.accept_button.description = (
            f"Accept header suggestions ({', '.join(f'{w} = {e}' for w, e in pending.items())})"
        )
        if review is None:
            self.columns_note.value = ""
        elif review.rejected:
            self.columns_note.value = (
                "<p>The file is rejected as it is: accept the suggestions or choose how to "
                "read it above, then press Next.</p>"
            )
        else:
            self.columns_note.value = "<p>The columns are accepted: press Next.</p>"

    # --- loading and reviewing ---------------------------------------------------------------

    def load_bytes(self, data: bytes, name: str = "upload.csv") -> Review:
        """Review a file held in memory (an upload) from scratch: new choices, no edits."""
        return self._load(_Source(name=Path(name).name, data=bytes(data)))

    def load_path(self, path: str | Path) -> Review:
        """Review a file on the server (no upload size limit) from scratch."""
        return self._load(_Source(name=Path(path).name, path=str(path)))

    def _load(self, source: _Source) -> Review:
        self._source = source
        self.edits, self.journal = {}, []
        self.skipped, self.reassigned = set(), set()
        self.grid.selected_row = None  # a row of the previous file means nothing here
        self.grid.revealed = set()
        self.choices.reset()
        review = self._review_source()
        self._show(review, new_file=True)
        self.step = FILE
        self.go_to(COLUMNS)
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
        self.conversion = None
        if self.source.chosen() is not None:
            review = self._review_converted(source, options)
        elif source.data is not None:
            self.source.profile_for(())
            table = read_upload(source.data, source.name, options)
            review = review_table(table, self.directory, options, file_name=source.name)
        else:
            self.source.profile_for(())
            review = review_file(str(source.path), self.directory, options)
        if not review.rejected:
            self._make_again(review)
        return review

    def _make_again(self, review: Review) -> None:
        """The edits and splits made so far, made again on a new review of the file, in
        their order (consecutive edits as one Review.edit)."""
        pending: Edits = {}

        def flush() -> None:
            kept = {(r, h): v for (r, h), v in pending.items() if r in review.table.index}
            if kept:
                review.edit(kept)
            pending.clear()

        for entry in self.journal:
            if isinstance(entry, Split):
                flush()
                rows = [row for row in entry.rows if _names_several(review, row)]
                if rows:
                    review.split(rows)
            else:
                pending.update(entry)
        flush()

    def _review_converted(self, source: _Source, options: Any) -> Review:
        """The file read as the source system writes it, converted by its profile (with the
        operator's settings), then reviewed."""
        if source.data is not None:
            table = read_upload(source.data, source.name, options)
        else:
            table = read_source(
                str(source.path), encoding=options.encoding, delimiter=options.delimiter
            )
        profile = self.source.profile_for(list(table.headers))
        assert profile is not None
        review, self.conversion = review_source_table(
            table, self.directory, options, profile, source.name
        )
        return review

    def _source_changed(self) -> None:
        """Another source system or setting: the rows mean something else, so the edits, skips
        and reassigns made so far go; the file is converted and reviewed again."""
        if self._source is None:
            return
        self.edits, self.journal = {}, []
        self.skipped, self.reassigned = set(), set()
        self.grid.selected_row = None
        self.review_again()
        if self.step > COLUMNS and self.importer.result is None:
            self.go_to(COLUMNS)

    def source_row(self, row: int) -> str:
        """Where a row of the converted file came from ("" without a profile)."""
        conversion = self.conversion
        split = self.review.parts.get(row) if self.review is not None else None
        if split is not None:  # a part of a split row: where that row came from
            row = split.row
        part = conversion.sources.get(row) if conversion is not None else None
        if part is None:
            return ""
        return f"source file {part.describe()}"

    def _show(self, review: Review, *, new_file: bool = False) -> None:
        self.review = review
        self.status.value = ""
        self.source.refresh(self.conversion, review.options.mapping)
        self.choices.refresh(review)
        self.reports.refresh(review)
        self.grid.reassigned = self.reassigned
        self.grid.refresh(review, self.skipped)
        self._refresh_plan(new_file=new_file)
        self._refresh_navigation()

    def _refresh_plan(self, *, new_file: bool = False) -> None:
        self.importer.refresh(self.review, self.import_choices(), new_file=new_file)
        self.canonical.refresh(self.review)
        self.fixes.refresh(self.review, failing=len(self.still_failing_rows()))
        self._show_row_actions(self.grid.selected_row)

    def import_choices(self) -> ImportChoices:
        """The rows skipped and reassigned one by one, for the plan and the run record."""
        return ImportChoices(frozenset(self.skipped), frozenset(self.reassigned))

    def still_failing_rows(self) -> list[int]:
        """Rows the plan fails that the operator has not skipped."""
        plan = self.importer.plan
        if plan is None:
            return []
        failing = plan.rows.index[plan.rows["outcome"].eq("fail").to_numpy()]
        return [int(row) for row in failing if row not in self.skipped]

    # --- correcting --------------------------------------------------------------------------

    def apply_edits(self, edits: Edits) -> pd.DataFrame:
        """Apply cell edits ((row, header) -> text) with Review.edit, then refresh every panel.

        Returns the findings of the rows re-checked (empty when nothing changed).
        """
        review = self._editable_review()
        changed = self._edit(review, edits)
        if changed is None:
            return review.rows.iloc[:0]
        self._after_edit(changed, edits)
        return changed

    def _apply_bulk_edits(self, edits: Edits) -> pd.DataFrame:
        """A bulk fix: the edits, then the view chosen again, so that the rows it fixed leave
        a view they no longer belong to and the rows shown match the view's count."""
        changed = self.apply_edits(edits)
        self.grid.show_rows()
        return changed

    def _apply_grid_edits(self, edits: Edits) -> None:
        """An edit typed in the grid: reported, not raised (a callback has nobody to raise to)."""
        try:
            self.apply_edits(edits)
        except (ValueError, KeyError) as problem:
            self._say(str(problem))

    def _after_edit(self, changed: pd.DataFrame, edits: Edits) -> None:
        """Refresh what the edit changed; the grid updates its cells in place."""
        assert self.review is not None
        self.reports.refresh(self.review)
        rows = set(changed["row"].dropna().astype(int)) | {row for row, _ in edits}
        self.grid.update_rows(sorted(rows))
        self._refresh_plan()

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
        self.journal.append(changes)
        return review.edit(changes)

    def _editable_review(self) -> Review:
        if self.review is None or self.review.rejected:
            raise ValueError("load a file whose columns are accepted before editing its rows")
        return self.review

    def apply_fix(self, code: str) -> Edits:
        """The computed fix of a finding code for every row with it."""
        return self.fixes.apply_fix(code)

    def apply_all_fixes(self) -> Edits:
        """Every computed fix of the file at once."""
        return self.fixes.apply_all()

    def apply_row_fix(self, fix: RowFix) -> None:
        """One row's fix (computed, or a suggestion the operator chose)."""
        if fix.split:
            self.split_rows([fix.row])
        else:
            self.apply_edits(fix.edits)

    def split_rows(self, rows: list[int]) -> pd.DataFrame:
        """Split rows that name several credentials into one row per credential
        (Review.split), then show them: the grid chooses its rows again. A skipped row's
        parts are skipped too. Returns the findings of the rows re-checked."""
        review = self._editable_review()
        rows = [row for row in dict.fromkeys(rows) if _names_several(review, row)]
        if not rows:
            return review.rows.iloc[:0]
        before = set(review.parts)
        changed = review.split(rows)
        self.journal.append(Split(tuple(rows)))
        for number in set(review.parts) - before:
            if review.parts[number].row in self.skipped:
                self.skipped.add(number)
        self.reports.refresh(review)
        self.grid.refresh(review, self.skipped)
        self._refresh_plan()
        return changed

    def accept_header_suggestions(self) -> Review | None:
        """Accept every header suggestion and review again."""
        self.choices.accept_suggestions()
        return self.review

    # --- rows set aside or reassigned --------------------------------------------------------

    def skip_row(self, row: int, skip: bool = True) -> None:
        """Skip a row (it is not imported; it fails as skipped by the operator), or take it back."""
        if skip:
            self.skipped.add(row)
        else:
            self.skipped.discard(row)
        self.grid.skipped = self.skipped
        self.grid.update_rows([row])
        self._refresh_plan()

    def skip_failing_rows(self) -> list[int]:
        """Skip every row that still fails; the rows skipped now."""
        rows = self.still_failing_rows()
        self.skipped.update(rows)
        self.grid.skipped = self.skipped
        self.grid.update_rows(rows)
        self._refresh_plan()
        return rows

    def reassign_row(self, row: int, reassign: bool = True) -> None:
        """Reassign this row's credential to the row's user (for this row only), or take it back."""
        if reassign:
            self.reassigned.add(row)
        else:
            self.reassigned.discard(row)
        self.grid.reassigned = self.reassigned
        self.grid.update_rows([row])  # its status: the findings the reassign answers go
        self._refresh_plan()

    def _show_row_actions(self, row: int | None) -> None:
        """The selected row's fixes, skip, reassign and reveal buttons, beside the grid."""
        review = self.review
        if review is None or review.rejected or row is None or row not in review.table.index:
            if hasattr(self, "grid"):  # not while the grid is being made
                self.grid.row_actions.children = ()
            return
        buttons: list[widgets.Widget] = []
        for fix in row_fixes(review, row):
            button = widgets.Button(
                description=fix.label,
                tooltip=f"{fix.code}: {fix.label}",
                button_style="success" if fix.computed else "",
                layout=widgets.Layout(width="auto"),
            )
            button.on_click(lambda _button, f=fix: self.apply_row_fix(f))
            buttons.append(button)
        codes = set(review.rows.loc[review.rows["row"].eq(row).fillna(False), "code"])
        if codes & set(REASSIGNABLE_CODES):
            chosen = row in self.reassigned
            reassign = widgets.Button(
                description="Reassigned (undo)" if chosen else "Reassign to this row's user",
                tooltip="Move this credential from its current owner to this row's user "
                "(this row only; the option for the whole file stays as it is)",
                button_style="info" if not chosen else "",
                layout=widgets.Layout(width="auto"),
            )
            reassign.on_click(lambda _button: self.reassign_row(row, not chosen))
            buttons.append(reassign)
        skipped = row in self.skipped
        skip = widgets.Button(
            description="Import this row after all" if skipped else "Skip this row",
            button_style="" if skipped else "warning",
            layout=widgets.Layout(width="auto"),
        )
        skip.on_click(lambda _button: self.skip_row(row, not skipped))
        buttons.append(skip)
        if review.table.at[row, ENTRY_CODE] and row not in self.grid.revealed:
            reveal = widgets.Button(
                description="Reveal the entry code", layout=widgets.Layout(width="auto")
            )
            reveal.on_click(lambda _button: self.grid.reveal_entry_code(row))
            buttons.append(reveal)
        self.grid.row_actions.children = tuple(buttons)

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
