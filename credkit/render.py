"""Plain-text renderings of reports for the terminal."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from credkit.review import Review

# Control characters and bidirectional overrides from a file must not reach the terminal:
# an escape sequence in a header could clear the screen or retitle the window.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text with control and bidi characters written as escapes (``\\x1b``)."""
    return _UNPRINTABLE.sub(lambda match: match.group().encode("unicode_escape").decode(), text)


#: How many rows of each finding code the text summary lists before "and N more".
SHOWN_ROWS_PER_CODE = 5


def findings_text(findings: pd.DataFrame, shown: int = SHOWN_ROWS_PER_CODE) -> str:
    """Findings grouped by code, errors first: a count, the title, and the first few rows."""
    if findings.empty:
        return "No findings."
    lines = []
    ordered = findings.assign(_is_error=findings["severity"] != "error")
    for (_, code), group in ordered.groupby(["_is_error", "code"], sort=True):
        severity = group["severity"].iloc[0]
        lines.append(f"{severity} {code}: {len(group)}")
        for finding in group.head(shown).itertuples(index=False):
            where = f"row {finding.row}" if pd.notna(finding.row) else "file"
            column = f", {printable(finding.column)}" if finding.column else ""
            lines.append(f"  {where}{column}: {printable(finding.message)}")
        if len(group) > shown:
            lines.append(f"  ... and {len(group) - shown} more")
    return "\n".join(lines)


def review_text(review: Review) -> str:
    """A review as the terminal shows it: each report's findings, then a summary line."""
    sections = []
    for title, findings in (
        ("File", review.file),
        ("Columns", review.columns),
        ("Rows", review.rows),
    ):
        if len(findings):
            sections.append(f"{title}:\n{findings_text(findings)}")
    summary = review.summary()
    if review.rejected:
        verdict = "File rejected: fix the file or column errors above and review again."
    else:
        verdict = (
            f"{summary['rows']} rows: {summary['rows_passing']} pass, "
            f"{summary['rows_with_errors']} with errors; {summary['warnings']} warnings."
        )
    sections.append(verdict)
    return "\n\n".join(sections)
