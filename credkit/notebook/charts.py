"""The findings chart: counts by code and column, as a styled table with bars."""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

from credkit.columns import HEADERS

#: The column label of findings about a whole row, the header row or the file.
NO_COLUMN = "(row or file)"
SEVERITY_ORDER = {"error": 0, "warning": 1}


def findings_by_column_and_code(findings: pd.DataFrame) -> pd.DataFrame:
    """Finding counts: one row per (severity, code), one column per CSV column, and a Total.

    Columns follow the CSV's order (then any unexpected header, then NO_COLUMN); rows put
    errors first, then the most frequent codes.
    """
    if findings.empty:
        empty = pd.MultiIndex.from_tuples([], names=["severity", "code"])
        return pd.DataFrame(index=empty, columns=["Total"], dtype="int64")
    column = findings["column"].fillna(NO_COLUMN).rename("column")
    counts = pd.crosstab([findings["severity"], findings["code"]], column)
    present = set(counts.columns)
    ordered = [h for h in HEADERS if h in present]
    ordered += sorted(present - set(HEADERS) - {NO_COLUMN})
    ordered += [NO_COLUMN] if NO_COLUMN in present else []
    counts = counts[ordered]
    counts["Total"] = counts.sum(axis=1)
    counts.columns.name = None
    totals = counts["Total"]
    order = sorted(
        counts.index, key=lambda key: (SEVERITY_ORDER.get(key[0], 2), -totals[key], key[1])
    )
    return counts.loc[order]


def findings_chart(findings: pd.DataFrame) -> Styler:
    """The counts as a table with a bar in each cell, zeros left blank.

    A styled table rather than a plot: it needs no plotting library and renders the same
    HTML on every run (the fixed uuid replaces pandas' random table id), so notebooks that
    show it can be checked with nbval.
    """
    counts = findings_by_column_and_code(findings)
    return (
        counts.style.set_uuid("credkit_findings")
        .bar(color="#f4a6a6", vmin=0, axis=None)
        .format(lambda count: "" if count == 0 else str(count))
    )
