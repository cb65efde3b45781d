"""The sync-with-verkada panel: load a Command export, review and correct a file, then write the
corrected file or push it to Command through its API (only on a button)."""

from __future__ import annotations

import csv
import html
import io
import tempfile
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from credkit.connection import SetupError
from credkit.connectors.verkada.config import (
    API_URL_ENV,
    DEFAULT_API_URL,
    VerkadaLimits,
    VerkadaSettings,
    api_url,
)
from credkit.corrected import corrected_frame
from credkit.importer import ImportResult
from credkit.loading import LoadResult, load_export
from credkit.notebook.downloads import csv_download_html
from credkit.notebook.importing import OUTCOME_LABELS, counts_text, failed_rows_csv
from credkit.notebook.outputs import counted, hide
from credkit.notebook.runbook import RunbookDirectory
from credkit.notebook.upload import FileChooser, configured_upload_limit_mib
from credkit.notebook.wizard import STEPS, ImportWizard
from credkit.privileges import require
from credkit.review import ReviewOptions

#: The wizard's steps here: the last one writes the corrected file or pushes, not imports.
SYNC_STEPS = (*STEPS[:4], "Write or push")
#: What the push needs, said whatever the key field holds (and printed by the runbook).
PUSH_NEEDS = (
    "Without an API key this runbook works offline: load the Command export, review and "
    "correct the file, and download the corrected file for Command's own importer. To push "
    "the changes through Command's API instead, type an API key with read/write access to "
    "Access Control in the API key field (it is used for the push only, never shown or "
    f"stored) and check the API URL (from {API_URL_ENV}, else {DEFAULT_API_URL})."
)


class _SyncWizard(ImportWizard):
    """The import wizard whose last step writes or pushes (the panel fills that step)."""

    steps = SYNC_STEPS

    def can_leave(self, step: int) -> tuple[bool, str]:
        """The last step is where this wizard ends: its buttons write or push."""
        if step >= len(self.steps) - 1:
            return False, ""
        return super().can_leave(step)


def corrected_csv(frame: pd.DataFrame) -> str:
    """A corrected frame as CSV text, as credkit.corrected writes the file."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(list(frame.columns))
    writer.writerows(frame.itertuples(index=False, name=None))
    return stream.getvalue()


class VerkadaSyncPanel:
    """The runbook's widget (``panel.widget``); every step is also a method, for tests:
    ``load_export_path``/``load_export_bytes``, ``wizard`` (the review and corrections),
    ``write_corrected``, ``push``."""

    def __init__(
        self,
        connection: RunbookDirectory,
        operator: str | None = None,
        *,
        limits: VerkadaLimits | None = None,
        upload_limit_mib: float | None = None,
    ) -> None:
        self.connection = connection
        self.directory = connection.directory
        self.limits = limits or VerkadaLimits()
        self.loaded: LoadResult | None = None
        self.pushed: ImportResult | None = None
        self.refusal: str | None = None  # why the login may not load or push (asked below)
        limit = upload_limit_mib or configured_upload_limit_mib()
        self.header = widgets.HTML()
        self.header.add_class("credkit-directory")
        self.export_chooser = FileChooser(
            self.load_export_bytes, self.load_export_path, upload_limit_mib=limit
        )
        self.export_chooser.upload.description = "Upload export"
        self.export_chooser.upload.layout = widgets.Layout(width="auto")
        self.export_chooser.upload.add_class("credkit-export-upload")
        self.export_chooser.path.placeholder = "path on the server, e.g. demo/command-export.csv"
        self.export_result = widgets.HTML()
        self.export_result.add_class("credkit-export-result")
        self.wizard = _SyncWizard(self.directory, operator, upload_limit_mib=limit)

        self.corrected_button = widgets.Button(
            description="Write corrected file", icon="download", button_style="primary"
        )
        self.corrected_button.layout = widgets.Layout(width="auto")
        self.corrected_button.add_class("credkit-write-corrected")
        self.corrected_button.on_click(lambda _button: self._guarded(self.write_corrected))
        self.corrected_download = widgets.HTML()
        self.corrected_download.add_class("credkit-corrected-download")
        self.url = widgets.Text(
            value=api_url(), description="API URL:", layout=widgets.Layout(width="420px")
        )
        self.key = widgets.Password(
            description="API key:",
            placeholder="Verkada API key (read/write)",
            layout=widgets.Layout(width="420px"),
        )
        self.key.add_class("credkit-api-key")
        self.key.observe(lambda _change: self._refresh_push(), names="value")
        self.push_button = widgets.Button(
            description="Push to Verkada", icon="cloud-upload", button_style="danger"
        )
        self.push_button.layout = widgets.Layout(width="auto")
        self.push_button.add_class("credkit-push")
        self.push_button.on_click(lambda _button: self._guarded(self.push))
        self.push_note = widgets.HTML()
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="Pushing:")
        hide(self.progress)
        self.push_result = widgets.HTML()
        self.push_result.add_class("credkit-push-result")
        importer = self.wizard.importer
        self.wizard.pages[len(SYNC_STEPS) - 1].children = (
            importer.plan_counts,
            widgets.HTML("<h4>Write the corrected file (for Command's own importer)</h4>"),
            widgets.HBox([self.corrected_button]),
            self.corrected_download,
            widgets.HTML("<h4>Or push the changes to Command through its API</h4>"),
            self.url,
            self.key,
            widgets.HBox([self.push_button, self.progress]),
            self.push_note,
            self.push_result,
            importer.plan_table,
        )
        self.widget = widgets.VBox(
            [
                self.header,
                widgets.HTML("<h3>1. Load the credentials export from Command</h3>"),
                self.export_chooser.widget,
                self.export_result,
                widgets.HTML("<h3>2. Review and correct a file, then write it or push it</h3>"),
                self.wizard.widget,
            ]
        )
        self.widget.add_class("credkit-sync")
        # Every change of the review (new file, edits, skips, a load, a push) ends in a new plan:
        # follow it. The corrected file offered was of the plan before: it goes (Write again).
        original_refresh = self.wizard._refresh_plan

        def refresh_plan(*, new_file: bool = False) -> None:
            original_refresh(new_file=new_file)
            self.corrected_download.value = ""
            if new_file:
                self.push_result.value = ""
                self.pushed = None
            elif self.pushed is not None:  # the plan of pushing again, not of the push made
                importer.plan_counts.value = importer.plan_counts.value.replace(
                    "(nothing written yet)", "(of pushing again, after the push below)"
                )
            self._refresh_push()

        self.wizard._refresh_plan = refresh_plan  # type: ignore[method-assign]
        # A load and a push both write the directory: what `credkit directory load` and
        # `credkit import --to verkada` need. Asked once, so that a viewer sees at once why
        # they cannot (each action asks again: a grant or a revoke may come in between).
        self.refusal = self._refusal()
        if self.refusal:
            for control in (self.export_chooser.upload, self.export_chooser.load_button):
                control.disabled = True
            self.export_result.value = _reason_html(self.refusal)
        self._refresh_header()
        self._refresh_push()

    # --- the export --------------------------------------------------------------------------

    def _refusal(self) -> str | None:
        """Why the connected login may not load or push (one line), or None when it may."""
        try:
            self._require()
        except SetupError as error:
            return str(error)
        return None

    def _require(self) -> None:
        """SetupError unless the login may write the directory (credkit.privileges)."""
        require(self.directory.engine, "import", self.directory.url)

    def load_export_path(self, path: str | Path) -> LoadResult:
        """Load a Command credentials export (a file on the server) as the directory."""
        self._require()
        result = load_export(path, self.directory, operator=self.wizard.operator)
        self._after_load(result, Path(path).name)
        return result

    def load_export_bytes(self, data: bytes, name: str = "command-export.csv") -> LoadResult:
        """Load an uploaded export (through a temporary file, removed at once)."""
        self._require()
        with tempfile.TemporaryDirectory(prefix="credkit-export-") as folder:
            path = Path(folder) / Path(name).name
            path.write_bytes(bytes(data))
            result = load_export(path, self.directory, operator=self.wizard.operator)
        self._after_load(result, Path(name).name)
        return result

    def _after_load(self, result: LoadResult, name: str) -> None:
        self.loaded = result
        counts = result.counts
        if result.rejected:
            self.export_result.value = (
                f'<p style="color:#b00020">{html.escape(name)} was rejected: nothing was '
                "loaded. Is it Command's credentials export (its 14 columns)?</p>"
            )
        else:
            failed = counts["fail"]
            self.export_result.value = (
                f"<p><b>Loaded {html.escape(name)}</b> as run {result.run_id}: users "
                f"added {counts['users_added']:,}, updated {counts['users_updated']:,}, gone "
                f"{counts['users_gone']:,}; credentials "
                f"{html.escape(counts_text(counts, OUTCOME_LABELS))}, gone {counts['gone']:,}."
                + (f" {counted(failed, 'row')} with errors were not loaded." if failed else "")
                + "</p>"
            )
        self._refresh_header()
        self.wizard.review_again()  # the file under review, against the new directory

    def _refresh_header(self) -> None:
        self.header.value = (
            '<pre style="margin:0 0 6px 0;white-space:pre-wrap">'
            f"{html.escape(self.connection.header())}</pre>"
        )

    # --- the corrected file ------------------------------------------------------------------

    def rows_to_write(self) -> list[int]:
        """The rows the plan does not fail (after the operator's skips and reassigns)."""
        plan = self.wizard.plan
        if plan is None:
            raise ValueError("review a file whose columns are accepted first")
        return [int(row) for row in plan.rows.index[plan.rows["outcome"].ne("fail").to_numpy()]]

    def corrected_text(self) -> str:
        """The corrected file as text: the rows that pass, in SPEC's export form."""
        review = self.wizard.review
        assert review is not None
        return corrected_csv(corrected_frame(review, self.directory, self.rows_to_write()))

    def write_corrected(self) -> str:
        """The Write button: the corrected file (and the failed rows) as download buttons;
        nothing is written on the server. Returns the corrected file's text."""
        rows = self.rows_to_write()
        review = self.wizard.review
        assert review is not None
        text = self.corrected_text()
        stem = Path(review.file_name).stem
        links = [csv_download_html(text, f"{stem}-corrected.csv", rows=len(rows))]
        result = ImportResult(None, self.wizard.plan.rows, _failed(self.wizard), dry_run=True)
        if not result.failed_rows.empty:
            links.append(
                csv_download_html(
                    failed_rows_csv(result), f"{stem}-failed-rows.csv", rows=len(result.failed_rows)
                )
            )
        self.corrected_download.value = "<p>" + " ".join(links) + "</p>"
        return text

    # --- the push ----------------------------------------------------------------------------

    def push(self) -> ImportResult:
        """The Push button: the corrected rows pushed to Command with the key typed (cleared
        afterwards); the local directory follows what Command accepted."""
        try:
            from credkit.connectors.verkada.push import push_to_verkada
        except ImportError as error:  # httpx or tenacity missing
            raise ValueError(
                f"pushing needs the verkada extra ({error}): pip install 'credkit[verkada]'"
            ) from None

        key = self.key.value.strip()
        if not key:
            raise ValueError("type the Verkada API key first: " + PUSH_NEEDS)
        try:
            self._require()
        except SetupError:
            self.key.value = ""  # not kept for a push the directory refuses
            raise
        review = self.wizard.review
        text = self.corrected_text()
        assert review is not None
        options = self.wizard.choices.options()
        push_options = ReviewOptions(
            reassign=options.reassign or bool(self.wizard.reassigned),
            overwrite_newer=options.overwrite_newer,
        )
        settings = VerkadaSettings(key, api_url(self.url.value.strip() or None), self.limits)
        self.push_button.disabled = True
        hide(self.progress, False)
        self.progress.value = 0
        try:
            with tempfile.TemporaryDirectory(prefix="credkit-push-") as folder:
                path = Path(folder) / f"{Path(review.file_name).stem}-corrected.csv"
                path.write_text(text, encoding="utf-8", newline="")
                result = push_to_verkada(
                    path,
                    self.directory,
                    settings,
                    operator=self.wizard.operator,
                    options=push_options,
                    progress=self._advance,
                )
        finally:
            self.key.value = ""  # the key serves one push: it is not kept in the widget
        self.progress.value = self.progress.max
        self.pushed = result
        self.corrected_download.value = ""  # the file offered was of the plan before the push
        self._show_push(result)
        self._refresh_header()
        self.wizard.review_again()  # against the directory as the push left it
        return result

    def _advance(self, done: int, total: int) -> None:
        self.progress.max = max(1, total)
        self.progress.value = done

    def _show_push(self, result: Any) -> None:
        calls = result.calls
        text = (
            f"<p><b>Pushed</b> as run {result.run_id}: "
            f"{html.escape(counts_text(result.counts(), OUTCOME_LABELS))}. "
            f"{counted(calls.requests, 'API call')} ({calls.writes:,} writes, "
            f"{calls.retries:,} retries). Push again to check: every row is then unchanged.</p>"
        )
        if not result.failed_rows.empty:
            failed = failed_rows_csv(result)
            name = (
                f"{Path(result.review.file_name).stem.removesuffix('-corrected')}-failed-rows.csv"
            )
            text += "<p>" + csv_download_html(failed, name, rows=len(result.failed_rows)) + "</p>"
        self.push_result.value = text

    def _refresh_push(self) -> None:
        plan = self.wizard.plan
        ready = plan is not None
        self.corrected_button.disabled = not ready
        self.push_button.disabled = bool(self.refusal) or not (ready and self.key.value.strip())
        if self.refusal:
            self.push_note.value = _reason_html(self.refusal)
            return
        self.push_note.value = (
            ""
            if self.key.value.strip()
            else f'<div style="font-size:0.85em;line-height:1.4;margin:4px 0">'
            f"{html.escape(PUSH_NEEDS)}</div>"
        )

    def _guarded(self, action: Any) -> None:
        """A button's action; a failure is shown beside the push, not lost in a log."""
        try:
            action()
        except Exception as error:  # a widget callback has nobody else to report to
            self.push_result.value = (
                f'<p style="color:#b00020">Stopped: {html.escape(str(error))}</p>'
            )
            self._refresh_push()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def _reason_html(reason: str) -> str:
    """Why a button is disabled, on one line beside it."""
    return f'<p class="credkit-refusal" style="color:#b00020">{html.escape(reason)}</p>'


def _failed(wizard: ImportWizard) -> pd.DataFrame:
    from credkit.importer import failed_rows_frame

    assert wizard.review is not None and wizard.plan is not None
    return failed_rows_frame(wizard.review, wizard.plan.rows)
