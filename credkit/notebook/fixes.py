"""Bulk fixes: one button per fixable finding code, each editing every row that has it."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as widgets
import pandas as pd

from credkit.formats import REGISTRY
from credkit.notebook.outputs import counted
from credkit.review import Review
from credkit.schema import normalize_plate, strip_hex_noise

Edits = dict[tuple[int, str], str]


def canonical_card_types(card_types: pd.Series) -> pd.Series:
    """Card types by their registry names (aliases and other spellings replaced)."""
    return card_types.map(_canonical_name)


def _canonical_name(name: str) -> str:
    found = REGISTRY.find(name)
    return found.name if found else name


@dataclass(frozen=True)
class Fix:
    """How to fix a finding code: the column it is about, and the corrected values."""

    code: str
    header: str
    label: str
    correct: Callable[[pd.Series], pd.Series]


#: The codes whose correction is certain (every one is a warning the review already resolved).
FIXES = {
    fix.code: fix
    for fix in (
        Fix("card-type-alias", "Card Type", "Use canonical card type names", canonical_card_types),
        Fix("plate-normalized", "License Plate", "Normalise license plates", normalize_plate),
        Fix("hex-prefix", "Card Number Hex", "Remove 0x and spaces from hex", strip_hex_noise),
    )
}


def fix_edits(review: Review, code: str) -> Edits:
    """The edits that fix every row with a finding of code (only cells that change)."""
    fix = FIXES[code]
    at_code = review.rows["code"] == code
    rows = pd.Index(sorted(set(review.rows.loc[at_code, "row"].dropna().astype(int))))
    rows = rows.intersection(review.table.index)
    current = review.table.loc[rows, fix.header]
    corrected = fix.correct(current)
    changed = corrected != current
    return {(int(row), fix.header): str(value) for row, value in corrected[changed].items()}


def fixable_counts(review: Review | None) -> dict[str, int]:
    """How many rows each fixable code would edit (codes with none left out)."""
    if review is None or review.rejected:
        return {}
    counts = {code: len(fix_edits(review, code)) for code in FIXES}
    return {code: count for code, count in counts.items() if count}


def pending_suggestions(review: Review | None) -> dict[str, str]:
    """Header suggestions not accepted yet (header as written -> suggested header)."""
    if review is None or review.column_review is None:
        return {}
    accepted = dict(review.options.mapping)
    return {w: e for w, e in review.column_review.suggestions.items() if w not in accepted}


class BulkFixes:
    """The bulk-fix buttons: a fix per fixable code present, and accepting header suggestions."""

    def __init__(
        self,
        on_edits: Callable[[Edits], object],
        on_accept_suggestions: Callable[[], object],
    ) -> None:
        self._on_edits = on_edits
        self._on_accept_suggestions = on_accept_suggestions
        self.review: Review | None = None
        self.buttons: dict[str, widgets.Button] = {}
        self.message = widgets.HTML()
        self.button_box = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([self.button_box, self.message])
        self.refresh(None)

    def refresh(self, review: Review | None) -> None:
        """One button per fix this review offers."""
        self.review = review
        buttons: dict[str, widgets.Button] = {}
        pending = pending_suggestions(review)
        if pending:
            button = widgets.Button(
                description=f"Accept header suggestions ({len(pending)})",
                tooltip=", ".join(f"{w} = {e}" for w, e in sorted(pending.items())),
                layout=widgets.Layout(width="auto"),
            )
            button.on_click(lambda _button: self.accept_suggestions())
            buttons["header-suggestion"] = button
        for code, count in fixable_counts(review).items():
            button = widgets.Button(
                description=f"{FIXES[code].label} ({count})",
                tooltip=code,
                layout=widgets.Layout(width="auto"),
            )
            button.on_click(lambda _button, c=code: self.apply_fix(c))
            buttons[code] = button
        self.buttons = buttons
        self.button_box.children = tuple(buttons.values())
        self.message.value = "" if buttons else "<p>No bulk fixes apply to this file.</p>"

    def apply_fix(self, code: str) -> Edits:
        """Edit every row with a finding of code; returns the edits made."""
        if self.review is None:
            return {}
        edits = fix_edits(self.review, code)
        if edits:
            self._on_edits(edits)
        self.message.value = (
            f"<p>{html.escape(FIXES[code].label)}: {counted(len(edits), 'row')} edited.</p>"
        )
        return edits

    def accept_suggestions(self) -> None:
        """Accept every header suggestion (the file is reviewed again with the mapping)."""
        self._on_accept_suggestions()
        self.message.value = "<p>Header suggestions accepted; the file was reviewed again.</p>"
