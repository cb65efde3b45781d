"""Fixes computed from a finding: for one row, for every row with a code, or for the whole file;
and suggestions (guesses) that are only ever applied one row at a time, on a click."""

from __future__ import annotations

import html
from collections.abc import Callable, Collection
from dataclasses import dataclass

import ipywidgets as widgets
import pandas as pd

from credkit.decode import Candidate, UnreadableValue
from credkit.decode import candidates as decoded_candidates
from credkit.formats import REGISTRY, CardFormat
from credkit.notebook.outputs import counted
from credkit.review import Review
from credkit.schema import normalize_plate, strip_hex_noise
from credkit.splits import credential_parts

Edits = dict[tuple[int, str], str]
HEX = "Card Number Hex"
NOTHING_LEFT = "<p>Nothing left to fix or skip in bulk.</p>"


@dataclass(frozen=True)
class RowFix:
    """One way to answer one row's finding: the cells it sets, or the row split into one row
    per credential (Review.split); computed, or only a guess."""

    row: int
    code: str
    label: str
    edits: Edits
    computed: bool = True  # False: a suggestion, never applied in bulk
    split: bool = False  # True: the fix splits the row (edits is empty)


def canonical_card_types(card_types: pd.Series) -> pd.Series:
    """Card types by their registry names (aliases and other spellings replaced)."""
    return card_types.map(_canonical_name)


def _canonical_name(name: str) -> str:
    found = REGISTRY.find(name)
    return found.name if found else name


def _card_format(review: Review, row: int) -> CardFormat | None:
    return REGISTRY.find(review.table.at[row, "Card Type"])


def _int(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


def _frame_from_numbers(review: Review, row: int) -> Edits:
    """The hex computed from the row's facility code and card number."""
    card_format = _card_format(review, row)
    number = _int(review.table.at[row, "Card Number"])
    if card_format is None or number is None:
        return {}
    facility = _int(review.table.at[row, "Facility Code"])
    if card_format.has_facility_code and facility is None:
        return {}
    try:
        return {(row, HEX): card_format.encode(facility, number)}
    except ValueError:  # the numbers are out of the format's range: no frame to compute
        return {}


def _numbers_from_frame(review: Review, row: int) -> Edits:
    """The facility code and card number decoded from the row's hex (a frame whose parity
    checks; otherwise the digits are not trustworthy)."""
    card_format = _card_format(review, row)
    if card_format is None or card_format.layout is None:
        return {}
    try:
        decoded = card_format.decode(strip_hex_noise(pd.Series([review.table.at[row, HEX]]))[0])
    except ValueError:
        return {}
    if not decoded.parity_valid:
        return {}
    edits = {(row, "Card Number"): str(decoded.card_number)}
    if decoded.facility_code is not None:
        edits[(row, "Facility Code")] = str(decoded.facility_code)
    return edits


#: How many decoded candidates a row offers as fixes (the finding names as many).
CANDIDATE_FIXES = 5


def _decoded_candidates(review: Review, row: int, other_than: CardFormat | None) -> list[Candidate]:
    """The formats the row's frame is a valid frame of, best first: for a frame without a
    Card Type every one; for a frame whose parity fails for its type (``other_than``), the
    other formats written in as many hex digits."""
    frame = str(strip_hex_noise(pd.Series([review.table.at[row, HEX]])).iloc[0])
    if not frame:
        return []
    try:
        found = [c for c in decoded_candidates(frame) if c.parity == "valid"]
    except UnreadableValue:
        return []
    if other_than is not None:
        found = [
            c
            for c in found
            if c.card_type != other_than.name and len(c.hex) == other_than.hex_digits
        ]
    return found[:CANDIDATE_FIXES]


def _candidate_fix(row: int, candidate: Candidate) -> tuple[str, Edits, bool]:
    """A decoded candidate as the cells it sets: Card Type, Facility Code, Card Number and the
    frame as the format writes it. A guess among several readings: applied one row at a time."""
    facility = "" if candidate.facility_code is None else str(candidate.facility_code)
    shown = f"{facility}/{candidate.card_number}" if facility else str(candidate.card_number)
    edits = {
        (row, "Card Type"): candidate.card_type,
        (row, "Facility Code"): facility,
        (row, "Card Number"): str(candidate.card_number),
        (row, HEX): candidate.hex,
    }
    return f"{candidate.card_type} {shown}", edits, False


def _one(review: Review, row: int, header: str, correct: Callable[[pd.Series], pd.Series]) -> Edits:
    current = review.table.at[row, header]
    corrected = str(correct(pd.Series([current])).iloc[0])
    return {(row, header): corrected} if corrected != current else {}


def fixes_for(review: Review, row: int, code: str) -> list[RowFix]:
    """The fixes offered for one row's finding of code (none when nothing can be computed)."""
    table = review.table
    candidates: list[tuple[str, Edits, bool]] = []
    if code == "card-type-alias":
        edits = _one(review, row, "Card Type", canonical_card_types)
        candidates.append((f"Card Type: {next(iter(edits.values()), '')}", edits, True))
    elif code == "plate-normalized":
        edits = _one(review, row, "License Plate", normalize_plate)
        candidates.append((f"License Plate: {next(iter(edits.values()), '')}", edits, True))
    elif code == "hex-prefix":
        edits = _one(review, row, HEX, strip_hex_noise)
        candidates.append((f"Hex: {next(iter(edits.values()), '')}", edits, True))
    elif code in ("hex-parity", "hex-mismatch", "hex-byte-order"):
        edits = _frame_from_numbers(review, row)
        hex_value = next(iter(edits.values()), "")
        candidates.append((f"Hex from the numbers: {hex_value}", edits, True))
        if code == "hex-mismatch":
            decoded = _numbers_from_frame(review, row)
            shown = ", ".join(f"{h} {v}" for (_, h), v in decoded.items())
            candidates.append((f"Numbers from the hex: {shown}", decoded, True))
    elif code == "card-type-candidates":
        for candidate in _decoded_candidates(review, row, None):
            candidates.append(_candidate_fix(row, candidate))
    elif code == "hex-other-format":
        stated = _card_format(review, row)
        if stated is not None:
            for candidate in _decoded_candidates(review, row, stated):
                candidates.append(_candidate_fix(row, candidate))
    elif code == "entry-code-leading-zeros":
        code_text = table.at[row, "Entry Code"]
        padded = code_text.zfill(4) if len(code_text) < 4 else "0" + code_text
        candidates.append(
            ("Entry code with a leading zero (a guess)", {(row, "Entry Code"): padded}, False)
        )
    fixes = [
        RowFix(row, code, label, edits, computed)
        for label, edits, computed in candidates
        if edits and any(table.at[r, h] != v for (r, h), v in edits.items())
    ]
    if code == "multiple-credentials":
        fixes += _split_fix(review, row)
    return fixes


def _split_fix(review: Review, row: int) -> list[RowFix]:
    """The row split into one row per credential it names (computed: nothing is guessed)."""
    parts = credential_parts(review.table.loc[row].to_dict())
    if len(parts) < 2:
        return []
    named = [_credential_name(part) for part in parts]
    label = f"Split into {len(parts)} rows: {', '.join(named)}"
    return [RowFix(row, "multiple-credentials", label, {}, computed=True, split=True)]


def _credential_name(part: dict[str, str]) -> str:
    if part["License Plate"]:
        return "the License Plate"
    if part["Entry Code"]:
        return "the Entry Code"
    return "the card"


def row_fixes(review: Review, row: int) -> list[RowFix]:
    """Every fix offered for one row, in the order of its findings."""
    codes = review.rows.loc[review.rows["row"].eq(row).fillna(False).astype(bool), "code"]
    return [fix for code in dict.fromkeys(codes) for fix in fixes_for(review, row, code)]


def computed_fixes(
    review: Review | None, code: str | None = None, rows: Collection[int] | None = None
) -> list[RowFix]:
    """The first computed fix of every finding (of one code, or of every code; of some rows,
    or of all): what a bulk fix applies. Suggestions are left out."""
    if review is None or review.rejected:
        return []
    findings = review.rows.dropna(subset=["row"])
    if code is not None:
        findings = findings[findings["code"] == code]
    if rows is not None:
        findings = findings[findings["row"].isin(list(rows))]
    chosen = []
    for row, finding_code in dict.fromkeys(
        zip(findings["row"].astype(int), findings["code"], strict=True)
    ):
        computed = [fix for fix in fixes_for(review, row, finding_code) if fix.computed]
        if computed:
            chosen.append(computed[0])
    return chosen


def merged_edits(fixes: list[RowFix]) -> Edits:
    """The edits of several fixes as one (a later fix of the same cell wins)."""
    edits: Edits = {}
    for fix in fixes:
        edits.update(fix.edits)
    return edits


def rows_to_split(fixes: list[RowFix]) -> list[int]:
    """The rows that several fixes split, in order."""
    return list(dict.fromkeys(fix.row for fix in fixes if fix.split))


def pending_suggestions(review: Review | None) -> dict[str, str]:
    """Header suggestions not accepted yet (header as written -> suggested header)."""
    if review is None or review.column_review is None:
        return {}
    accepted = dict(review.options.mapping)
    return {w: e for w, e in review.column_review.suggestions.items() if w not in accepted}


class BulkFixes:
    """The bulk buttons: every computed fix at once, the fix of one code for every row, and
    skipping every row that still fails."""

    def __init__(
        self,
        on_edits: Callable[[Edits], object],
        on_skip_failing: Callable[[], object],
        on_split: Callable[[list[int]], object] | None = None,
    ) -> None:
        self._on_edits = on_edits
        self._on_skip_failing = on_skip_failing
        self._on_split = on_split
        self.review: Review | None = None
        self.buttons: dict[str, widgets.Button] = {}
        self.message = widgets.HTML()
        self.button_box = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([self.button_box, self.message])
        self.refresh(None, failing=0)

    def refresh(self, review: Review | None, *, failing: int) -> None:
        """The buttons this review offers; failing is the count of failing rows not skipped."""
        self.review = review
        buttons: dict[str, widgets.Button] = {}
        fixes = computed_fixes(review)
        if fixes:
            buttons["all"] = _button(f"Apply all computed fixes ({len(fixes):,})", "success")
            buttons["all"].on_click(lambda _button: self.apply_all())
        by_code: dict[str, int] = {}
        for fix in fixes:
            by_code[fix.code] = by_code.get(fix.code, 0) + 1
        for code, count in by_code.items():
            button = _button(f"Fix every {code} ({count})")
            button.on_click(lambda _button, c=code: self.apply_fix(c))
            buttons[code] = button
        if failing:
            buttons["skip-failing"] = _button(
                f"Skip every row that still fails ({failing})", "warning"
            )
            buttons["skip-failing"].on_click(lambda _button: self._skip_failing())
        self.buttons = buttons
        self.button_box.children = tuple(buttons.values())
        if not buttons:
            self.message.value = NOTHING_LEFT
        elif self.message.value == NOTHING_LEFT:
            self.message.value = ""

    def apply_all(self) -> Edits:
        """Every computed fix of the file at once; returns the edits made."""
        return self._apply(computed_fixes(self.review), "All computed fixes")

    def apply_fix(self, code: str) -> Edits:
        """The computed fix of one code, for every row with it; returns the edits made."""
        return self._apply(computed_fixes(self.review, code), f"Fix every {code}")

    def _apply(self, fixes: list[RowFix], what: str) -> Edits:
        """The fixes' edits, then the rows they split (after the edits, which name the rows
        as they were), then the computed fixes of the rows the split made."""
        edits = merged_edits(fixes)
        split = rows_to_split(fixes) if self._on_split is not None else []
        edited = {row for row, _ in edits}
        if edits:
            self._on_edits(edits)
        if split and self._on_split is not None:
            self._on_split(split)
            review = self.review
            parts = set(review.parts) if review is not None else set()
            later = [fix for fix in computed_fixes(review, rows=parts) if not fix.split]
            more = merged_edits(later)
            if more:
                self._on_edits(more)
                edits = edits | more
                edited |= {row for row, _ in more}
        done = f"{counted(len(edited), 'row')} edited"
        if split:
            done += f", {counted(len(split), 'row')} split into one row per credential"
        self.message.value = f"<p>{html.escape(what)}: {done}.</p>"
        return edits

    def _skip_failing(self) -> None:
        self._on_skip_failing()
        self.message.value = "<p>Every row that still fails is skipped.</p>"


def _button(description: str, style: str = "") -> widgets.Button:
    return widgets.Button(
        description=description, button_style=style, layout=widgets.Layout(width="auto")
    )
