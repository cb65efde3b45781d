"""The findings chart: counts by code and column, as a stacked bar chart (matplotlib)."""

from __future__ import annotations

import base64
import io

import pandas as pd

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


def findings_chart(findings: pd.DataFrame) -> str:
    """The counts as an HTML image: one bar per finding code, split by column, errors first.

    Drawn with matplotlib's Agg backend into a PNG inside the HTML (no file, no display), its
    metadata left out so that the same findings always give the same bytes.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.figure import Figure

    counts = findings_by_column_and_code(findings).drop(columns="Total")
    if counts.empty:
        return "<p>No findings.</p>"
    counts = counts.iloc[::-1]  # barh draws bottom-up: the first row at the top
    labels = [f"{code} ({severity})" for severity, code in counts.index]
    figure = Figure(figsize=(8, 0.45 * len(counts) + 1.2), dpi=96)
    axes = figure.subplots()
    left = pd.Series(0, index=counts.index)
    colours = pyplot.get_cmap("tab20")
    for number, column in enumerate(counts.columns):
        values = counts[column]
        if values.sum() == 0:
            continue
        axes.barh(labels, values, left=left, label=column, color=colours(number % 20))
        left = left + values
    axes.set_xlabel("findings")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.legend(title="column", loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    figure.tight_layout()
    stream = io.BytesIO()
    figure.savefig(stream, format="png", metadata={"Software": None})
    encoded = base64.b64encode(stream.getvalue()).decode("ascii")
    return (
        '<img class="credkit-chart" alt="Findings by code and column" '
        f'src="data:image/png;base64,{encoded}"/>'
    )
