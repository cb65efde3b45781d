"""Plain-text renderings of reports for the terminal."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from credkit.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:  # pandas on first use: the command line imports this module for printable
    pd = lazy_module("pandas")

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


def _when(moment: object, layout: str = "%Y-%m-%d %H:%M:%S") -> str:
    return "-" if moment is None or pd.isna(moment) else f"{moment:{layout}}Z"


def _counts_text(counts: object) -> str:
    if not isinstance(counts, dict) or not counts:
        return "no counts"
    return ", ".join(f"{printable(str(name))} {count}" for name, count in counts.items())


def _operator_text(run: Any) -> str:
    """The login that ran it, and whom it was for when the operator noted someone else."""
    fields = run if isinstance(run, pd.Series) else run._asdict()
    operator = printable(str(fields["operator"]))
    noted = fields.get("on_behalf_of")
    if isinstance(noted, str) and noted and noted != fields["operator"]:
        return f"{operator} for {printable(noted)}"
    return operator


def _run_counts_text(run: object) -> str:
    """A finished run's counts; a running or interrupted one's state and what it wrote so far."""
    state = getattr(run, "state", "finished")
    if state == "finished":
        return _counts_text(run.counts)
    return f"{state} ({int(run.written or 0)} changes written)"


def _undone_text(undone_by: object) -> str:
    return "" if undone_by is None or pd.isna(undone_by) else f"undone by run {int(undone_by)}"


def runs_text(runs: pd.DataFrame) -> str:
    """The run list as the terminal shows it, one aligned line per run, newest first."""
    if runs.empty:
        return "No runs yet."
    table = pd.DataFrame(
        {
            "run": runs["id"].astype(str),
            "started": runs["started_at"].map(lambda t: _when(t, "%Y-%m-%d %H:%M")),
            "kind": runs["kind"].map(printable),
            "operator": [_operator_text(run) for run in runs.itertuples()],
            "file": runs["file_name"].map(printable),
            "counts": [_run_counts_text(run) for run in runs.itertuples()],
            "undone": runs["undone_by"].map(_undone_text),
        }
    )
    return aligned_table(table)


def run_text(run: pd.Series, changes: pd.DataFrame) -> str:
    """One run: who imported what and when, its counts, then its changes in row order."""
    from credkit.findings import mask_entry_code

    options = run.get("options")
    chosen = [name for name, value in options.items() if value] if isinstance(options, dict) else []
    lines = [
        f"Run {int(run['id'])}: {printable(str(run['kind']))} import of "
        f"{printable(str(run['file_name']))} by {_operator_text(run)}",
        f"  started   {_when(run['started_at'])}",
        f"  finished  {_when(run['finished_at'])}",
        f"  counts    {_counts_text(run['counts'])}",
        f"  options   {', '.join(printable(str(name)) for name in chosen) or 'none'}",
    ]
    undone = _undone_text(run.get("undone_by"))
    if undone:
        lines.append(f"  {undone}")
    if changes.empty:
        lines += ["", "No credential changes."]
        return "\n".join(lines)

    def shown_key(key: str) -> str:
        kind, _, value = key.partition(":")
        return printable(f"{kind}:{mask_entry_code(value)}" if kind == "entry_code" else key)

    ordered = changes.assign(_row=changes["row"].fillna(-1)).sort_values(
        ["_row", "id"], kind="stable"
    )
    table = pd.DataFrame(
        {
            "row": ordered["row"].map(lambda row: "-" if pd.isna(row) else str(int(row))),
            "action": ordered["action"].map(printable),
            "credential": ordered["credential_key"].map(shown_key),
        }
    )
    return "\n".join([*lines, "", aligned_table(table)])


def aligned_table(table: pd.DataFrame) -> str:
    """Columns of text padded to their widest cell, the header first (numbers right-aligned)."""
    widths = {name: max([len(name), *table[name].map(len)]) for name in table.columns}
    right = {"run", "row"}

    def cell(name: str, text: str) -> str:
        return text.rjust(widths[name]) if name in right else text.ljust(widths[name])

    lines = ["  ".join(cell(name, name) for name in table.columns).rstrip()]
    for values in table.itertuples(index=False):
        lines.append(
            "  ".join(cell(n, v) for n, v in zip(table.columns, values, strict=True)).rstrip()
        )
    return "\n".join(lines)
