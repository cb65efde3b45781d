"""The credential CSV's columns: their names and roles, and the review of a file's headers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
from rapidfuzz import fuzz, process

from credkit.findings import Code, finding, findings_frame, has_errors, quoted

#: The credential CSV's headers, in export order (SPEC: "The columns").
HEADERS = [
    "First Name",
    "Last Name",
    "User ID",
    "External ID",
    "Employee ID",
    "Email",
    "Card Type",
    "Facility Code",
    "Card Number",
    "Card Number Hex",
    "License Plate",
    "Entry Code",
    "Credential Status",
    "Modified",
]

#: Key columns, highest rank first: the first non-empty one picks the user.
KEY_HEADERS = ["User ID", "External ID", "Email"]

#: Columns that name a credential; a file needs at least one of them.
CREDENTIAL_HEADERS = ["Card Type", "Card Number", "Card Number Hex", "License Plate", "Entry Code"]

# Invisible characters (zero-width spaces and joiners, word joiner, BOM, soft hyphen) come
# with headers copied from web pages and documents; they fold away like spaces.
_FOLDED_AWAY = re.compile(r"[\s_\-\u200b\u200c\u200d\u2060\ufeff\u00ad]+")


def fold_header(header: str) -> str:
    """A header folded for matching: lower case, without spaces, underscores and hyphens."""
    return _FOLDED_AWAY.sub("", header).lower()


#: How similar (0-100, rapidfuzz ratio of folded headers) a header must be to be suggested.
SUGGESTION_CUTOFF = 80


@dataclass
class ColumnReview:
    """What the header row means: which position each expected column is read from."""

    positions: dict[str, int]  # expected header -> position in the file
    findings: pd.DataFrame
    suggestions: dict[str, str] = field(default_factory=dict)  # header as written -> suggested

    @property
    def blocking(self) -> bool:
        """Whether a column error stops the file from being reviewed row by row."""
        return has_errors(self.findings)


def review_columns(headers: list[str], mapping: Mapping[str, str] | None = None) -> ColumnReview:
    """Match a file's headers to the expected ones (SPEC: "Column review").

    mapping holds the operator's accepted choices, header as written -> expected header; it
    wins over every rule, so that an accepted suggestion or a renamed column is simply taken.
    """
    accepted = dict(mapping or {})
    unknown_targets = set(accepted.values()) - set(HEADERS)
    if unknown_targets:
        raise ValueError(f"mapping names unknown headers: {sorted(unknown_targets)}")
    folded_expected = {fold_header(header): header for header in HEADERS}
    positions: dict[str, int] = {}
    records: list[dict[str, object]] = []
    suggestions: dict[str, str] = {}
    for position, written in enumerate(headers):
        target, how = _match_header(written, accepted, folded_expected)
        if target is None:
            suggestion = _suggest(written, folded_expected)
            if suggestion and suggestion not in positions:
                suggestions[written] = suggestion
                records.append(
                    finding(
                        Code.HEADER_SUGGESTION,
                        row=1,
                        column=written,
                        value=suggestion,
                        written=quoted(written),
                        suggestion=suggestion,
                        mapping=f"{written}={suggestion}",
                    )
                )
            else:
                records.append(
                    finding(
                        Code.UNKNOWN_COLUMN,
                        row=1,
                        column=written,
                        written=quoted(written),
                        kind="credential",
                    )
                )
            continue
        if target in positions:
            records.append(
                finding(
                    Code.DUPLICATE_COLUMN,
                    row=1,
                    column=target,
                    value=written,
                    written=quoted(written),
                    target=target,
                    first=positions[target] + 1,
                    second=position + 1,
                )
            )
            continue
        positions[target] = position
        if how == "folded":
            records.append(
                finding(
                    Code.HEADER_FOLDED,
                    row=1,
                    column=target,
                    value=written,
                    written=quoted(written),
                    target=target,
                )
            )
    if not any(header in positions for header in KEY_HEADERS):
        records.append(
            finding(Code.MISSING_KEY_COLUMN, row=1, keys=", ".join(KEY_HEADERS)),
        )
    if not any(header in positions for header in CREDENTIAL_HEADERS):
        records.append(
            finding(Code.MISSING_CREDENTIAL_COLUMN, row=1),
        )
    return ColumnReview(positions, findings_frame(records), suggestions)


def _match_header(
    written: str, accepted: Mapping[str, str], folded_expected: Mapping[str, str]
) -> tuple[str | None, str]:
    if written in accepted:
        return accepted[written], "mapped"
    if written in HEADERS:
        return written, "exact"
    folded = folded_expected.get(fold_header(written))
    return (folded, "folded") if folded else (None, "")


def _suggest(written: str, folded_expected: Mapping[str, str]) -> str | None:
    folded = fold_header(written)
    if not folded:
        return None
    best = process.extractOne(
        folded, list(folded_expected), scorer=fuzz.ratio, score_cutoff=SUGGESTION_CUTOFF
    )
    # "Facility" is a prefix of "facilitycode": partial matches of a good length count too.
    if best is None and len(folded) >= 6:
        best = process.extractOne(
            folded, list(folded_expected), scorer=fuzz.partial_ratio, score_cutoff=95
        )
    return folded_expected[best[0]] if best else None
