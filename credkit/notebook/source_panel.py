"""The wizard's source system: the profile a file is converted with, what it did, and the
operator's choices saved as a profile of their own (mapping memory)."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
from collections.abc import Callable, Sequence
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from credkit.columns import HEADERS
from credkit.conversion import Conversion
from credkit.corrected import corrected_frame
from credkit.directory import Directory
from credkit.formats import REGISTRY
from credkit.notebook.downloads import csv_download_html
from credkit.notebook.outputs import counted, hide
from credkit.notebook.runbook import resolve_path
from credkit.profiles import (
    Profile,
    ProfileError,
    builtin_profiles,
    load_profile,
    mapping_profile,
    save_profile,
)
from credkit.review import Review

#: The choice of no profile: the file is a credkit credential CSV.
NO_PROFILE = ""
#: The choice of a profile file on the server (an operator's saved profile).
PROFILE_FILE = "file:"
#: Card types for cards the file names none for: the profile's own, or none (the review then
#: decodes each frame and offers the formats it can be).
PROFILE_CARD_TYPE, DECODE_CARD_TYPE = "profile", "decode"
IGNORE = ""
_CELL = ' style="padding:2px 12px 2px 0;text-align:left;vertical-align:top;white-space:nowrap"'
_TEXT = ' style="padding:2px 0;text-align:left;vertical-align:top;white-space:normal"'


def source_options() -> list[tuple[str, str]]:
    """The source system dropdown: none, every built-in profile, a saved profile file."""
    options = [("None: a credkit credential CSV", NO_PROFILE)]
    options += [(f"{load_profile(name).system} ({name})", name) for name in builtin_profiles()]
    options.append(("A saved profile file...", PROFILE_FILE))
    return options


def read_columns(profile: Profile) -> set[str]:
    """The source headers a profile reads (case folded)."""
    named = [*profile.columns, *profile.card_columns, *(rule.column for rule in profile.skip)]
    if profile.combined_column:
        named.append(profile.combined_column)
    return {header.strip().casefold() for header in named}


def conversion_html(conversion: Conversion, profile: Profile) -> str:
    """What the profile did: the summary, then every value changed and every row skipped or
    split, by the source file's row."""
    found = conversion.findings
    changed = int(found["code"].eq("profile-value-changed").sum())
    skipped = int(found["code"].isin(["profile-row-skipped", "profile-no-card"]).sum())
    split = int(found["code"].eq("profile-row-split").sum())
    summary = (
        f"<p>The profile <b>{html.escape(profile.name)}</b> ({html.escape(profile.system)}) read "
        f"{counted(len(conversion.source.rows), 'source row')} as "
        f"{counted(len(conversion.table), 'credential')}: {counted(changed, 'value')} changed, "
        f"{counted(split, 'row')} split into several credentials, "
        f"{skipped:,} not carried over (rows skipped, cards meaning no card). The rows below are the source "
        "file's; the grid's rows are the converted file's (its side panel names both).</p>"
    )
    if found.empty:
        return summary
    lines = []
    for item in found.itertuples():
        row = "" if pd.isna(item.row) else str(int(item.row))
        column = item.column if isinstance(item.column, str) else ""
        value = item.value if isinstance(item.value, str) else ""
        lines.append(
            f"<tr><td{_CELL}>{row}</td><td{_CELL}>{html.escape(column)}</td>"
            f"<td{_CELL}>{html.escape(value)}</td><td{_CELL}>{html.escape(item.code)}</td>"
            f"<td{_TEXT}>{html.escape(item.message)}</td></tr>"
        )
    return (
        summary
        + '<table class="credkit-profile-report" style="border-collapse:collapse;font-size:12px">'
        f"<thead><tr><th{_CELL}>Source row</th><th{_CELL}>Column</th><th{_CELL}>Written</th>"
        f"<th{_CELL}>Code</th><th{_TEXT}>What the profile did</th></tr></thead>"
        f"<tbody>{''.join(lines)}</tbody></table>"
    )


class SourcePanel:
    """The source system choice and its settings; ``profile_for(headers)`` is the profile the
    file is converted with (None: no conversion), ``on_change`` is called when it changes."""

    def __init__(self, on_change: Callable[[], object]) -> None:
        self._on_change = on_change
        self._file_profile: Profile | None = None
        self.profile: Profile | None = None  # the one last used, with the operator's choices
        self.conversion: Conversion | None = None
        self.system = widgets.Dropdown(
            options=source_options(), value=NO_PROFILE, description="Source system:"
        )
        self.system.style.description_width = "initial"
        self.system.layout.width = "460px"
        self.system.add_class("credkit-source-system")
        self.system.observe(lambda _change: self._system_changed(), names="value")
        self.profile_path = widgets.Text(
            placeholder="path of a saved profile, e.g. profiles/site.toml",
            description="Profile file:",
            layout=widgets.Layout(width="460px"),
        )
        self.use_button = widgets.Button(description="Use this profile", icon="check")
        self.use_button.on_click(lambda _button: self.use_profile_file())
        self.path_box = widgets.HBox([self.profile_path, self.use_button])
        self.card_type = widgets.Dropdown(description="Cards without a format:")
        self.card_type.style.description_width = "initial"
        self.card_type.layout.width = "460px"
        self.card_type.add_class("credkit-card-type-default")
        self.card_type.observe(lambda _change: self._changed(), names="value")
        self.extra_columns: dict[str, widgets.Dropdown] = {}
        self.extra_box = widgets.VBox()
        self.report = widgets.HTML()
        self.report.add_class("credkit-profile-report")
        self.save_path = widgets.Text(placeholder="e.g. profiles/site.toml", description="Save as:")
        self.save_button = widgets.Button(
            description="Save these choices as a profile", icon="save", disabled=True
        )
        self.save_button.layout.width = "auto"
        self.save_button.on_click(lambda _button: self._save_clicked())
        self.save_message = widgets.HTML()
        self.save_box = widgets.VBox(
            [widgets.HBox([self.save_path, self.save_button]), self.save_message]
        )
        self.message = widgets.HTML()
        self.settings = widgets.VBox([self.card_type, self.extra_box])
        self.widget = widgets.VBox(
            [self.system, self.path_box, self.settings, self.message],
            layout=widgets.Layout(margin="0 0 10px 0"),
        )
        self.result_widget = widgets.VBox([self.report, self.save_box])
        self._system_changed(notify=False)

    # --- the choice --------------------------------------------------------------------------

    def chosen(self) -> Profile | None:
        """The profile chosen, as written (before the operator's settings)."""
        value = self.system.value
        if value == NO_PROFILE:
            return None
        if value == PROFILE_FILE:
            return self._file_profile
        return load_profile(value)

    def use_profile_file(self, path: str | None = None) -> Profile | None:
        """Load the profile file typed in the path box (relative to the base folder)."""
        if path is not None:
            self.profile_path.value = path
        typed = self.profile_path.value.strip()
        if not typed:
            self.say("Type the path of the profile file first.", error=True)
            return None
        try:
            self._file_profile = load_profile(resolve_path(typed))
        except ProfileError:
            self._file_profile = None
            self.say(f"{typed!r} is not a profile file credkit can read.", error=True)
            return None
        self.say(f"Using the profile {self._file_profile.name!r} from {typed}.")
        self._system_changed()
        return self._file_profile

    def profile_for(self, headers: Sequence[str]) -> Profile | None:
        """The profile to convert a file with these headers: the one chosen, with the card type
        the operator chose and the source columns the operator mapped (by default, a column
        the profile does not read whose name is one of credkit's headers is read as it)."""
        profile = self.chosen()
        if profile is None:
            self.profile = None
            return None
        self._offer_extra_columns(profile, headers)
        extra = {
            header: box.value
            for header, box in self.extra_columns.items()
            if box.value != IGNORE and header in headers
        }
        card_type = profile.card_type
        if self.card_type.value == DECODE_CARD_TYPE:
            card_type = None
        elif self.card_type.value not in (PROFILE_CARD_TYPE, None):
            card_type = self.card_type.value
        self.profile = dataclasses.replace(
            profile, columns={**profile.columns, **extra}, card_type=card_type
        )
        return self.profile

    def _offer_extra_columns(self, profile: Profile, headers: Sequence[str]) -> None:
        read = read_columns(profile)
        unread = [h for h in headers if h.strip() and h.strip().casefold() not in read]
        if list(self.extra_columns) == unread:
            return
        by_fold = {header.casefold(): header for header in HEADERS}
        boxes = {}
        for header in unread:
            box = widgets.Dropdown(
                options=[("not read", IGNORE), *[(h, h) for h in HEADERS]],
                value=by_fold.get(header.strip().casefold(), IGNORE),
                description=f"Read {header!r} as:",
            )
            box.style.description_width = "initial"
            box.layout.width = "460px"
            box.observe(lambda _change: self._changed(), names="value")
            boxes[header] = box
        self.extra_columns = boxes
        self.extra_box.children = (
            (widgets.HTML("<small>Columns the profile does not read:</small>"), *boxes.values())
            if boxes
            else ()
        )

    def _system_changed(self, notify: bool = True) -> None:
        hide(self.path_box, self.system.value != PROFILE_FILE)
        profile = self.chosen()
        hide(self.settings, profile is None)
        self.extra_columns = {}
        self.extra_box.children = ()
        own = profile.card_type if profile is not None else None
        options = [
            (f"the profile's: {own}" if own else "the profile's: none", PROFILE_CARD_TYPE),
            ("none: decode each frame and offer its formats", DECODE_CARD_TYPE),
            *[(name, name) for name in REGISTRY.names()],
        ]
        self.card_type.unobserve_all("value")
        self.card_type.options = options
        self.card_type.index = 0  # the profile's own (its label changed with the profile)
        self.card_type.observe(lambda _change: self._changed(), names="value")
        if notify:
            self._changed()

    def _changed(self) -> None:
        self._on_change()

    # --- what the profile did, and saving it -------------------------------------------------

    def refresh(self, conversion: Conversion | None, mapping: Sequence[tuple[str, str]] = ()):
        """Show what the conversion did (nothing without a profile); mapping is the header
        mapping the operator accepted, saved when there is no profile."""
        self.conversion = conversion
        self._mapping = tuple(mapping)
        if conversion is None or self.profile is None:
            self.report.value = ""
        else:
            self.report.value = conversion_html(conversion, self.profile)
        self.save_button.disabled = self.profile is None and not self._mapping

    def profile_to_save(self, name: str) -> Profile | None:
        """The profile the Save button writes: the one used, with the operator's choices, or
        (without one) the header mapping the operator accepted."""
        if self.profile is not None:
            return dataclasses.replace(self.profile, name=name)
        if self._mapping:
            return mapping_profile(self._mapping, name=name)
        return None

    def save(self, path: str | Path) -> Path:
        """Write the profile (mapping memory), to choose again as "A saved profile file"."""
        target = resolve_path(path)
        profile = self.profile_to_save(target.stem)
        if profile is None:
            raise ProfileError("choose a source system or accept a header mapping first")
        return save_profile(profile, target)

    def _save_clicked(self) -> None:
        typed = self.save_path.value.strip()
        if not typed:
            self.say(
                "Type where to save the profile first (e.g. profiles/site.toml).",
                error=True,
                where=self.save_message,
            )
            return
        try:
            self.save(typed)
        except (OSError, ProfileError) as problem:
            reason = problem.strerror if isinstance(problem, OSError) else str(problem)
            self.say(
                f"Cannot save the profile to {typed}: {reason}",
                error=True,
                where=self.save_message,
            )
            return
        self.say(
            f'Saved the profile to {typed}: choose "A saved profile file" and type this path '
            "to use it again (or `credkit review FILE --profile PATH`).",
            where=self.save_message,
        )

    def say(self, text: str, *, error: bool = False, where: widgets.HTML | None = None) -> None:
        """A message under the choice, or where named ("" clears it)."""
        color = "#b00020" if error else "inherit"
        shown = f'<p style="color:{color}">{html.escape(text)}</p>' if text else ""
        (where or self.message).value = shown


class CanonicalFile:
    """The reviewed file as credkit's canonical credential CSV, offered as a download (the
    passing rows, after the operator's edits): the migration's output when the import is done
    elsewhere, by the CLI or another directory. Made on a click; nothing is written here."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.review: Review | None = None
        self.button = widgets.Button(
            description="Make the canonical file", icon="file", disabled=True
        )
        self.button.layout.width = "auto"
        self.button.add_class("credkit-canonical")
        self.button.on_click(lambda _button: self.make())
        self.link = widgets.HTML()
        self.widget = widgets.VBox(
            [
                widgets.HTML(
                    "<p>Or take the file elsewhere: the rows that pass, in credkit's columns "
                    "(`credkit import FILE` reads it as it is).</p>"
                ),
                widgets.HBox([self.button, self.link]),
            ]
        )

    def refresh(self, review: Review | None) -> None:
        """A new review or an edit: the file made before is out of date."""
        self.review = review
        self.link.value = ""
        self.button.disabled = review is None or review.rejected or review.passing_rows.empty

    def make(self) -> str:
        """The download link of the canonical file (also shown beside the button)."""
        review = self.review
        if review is None or review.rejected:
            raise ValueError("load a file whose columns are accepted first")
        frame = corrected_frame(review, self.directory)
        stream = io.StringIO()
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(HEADERS)
        writer.writerows(frame.itertuples(index=False, name=None))
        name = f"{Path(review.file_name).stem}.canonical.csv"
        self.link.value = csv_download_html(stream.getvalue(), name, rows=len(frame))
        return self.link.value
