"""FindingsBuilder: findings collected as whole masked columns, messages from the catalogue."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from credkit.findings import CATALOGUE, FINDING_COLUMNS, TEMPLATES, findings_frame, mask_entry_code

#: A message value: one for every row (a scalar), per row (a Series on the rows' index), or
#: per flagged row (a function of the flagged rows' index, so that text such as a quoted cell
#: is built only for the few rows that have the finding).
Field = object | pd.Series | Callable[[pd.Index], pd.Series]


def template(key: str) -> str:
    """A catalogued message template, by code or ``code:variant``: a key that is not in the
    catalogue fails when the rule module that names it is imported."""
    if key not in TEMPLATES:
        raise KeyError(f"no message template {key!r} in credkit.findings")
    return key


class FindingsBuilder:
    """Collects findings as whole masked columns, so that no rule loops over rows."""

    def __init__(self, rows: pd.DataFrame) -> None:
        self.rows = rows
        self.parts: list[pd.DataFrame] = []

    def add(
        self,
        mask: pd.Series,
        code: str,
        column: str | None,
        value: pd.Series | None | str = "column",
        **fields: Field,
    ) -> None:
        """One finding for each row where mask is true, its message the template ``code`` (a
        code, or ``code:variant``) filled with ``fields``; ``value`` is the cell's own value
        ("column"), a Series, or None."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        key, code = code, code.split(":", 1)[0]
        index = mask.index[mask.to_numpy()]
        if isinstance(value, str):  # "column": the cell's own value
            value = self.rows.loc[index, column] if column else None
        elif value is not None:
            value = value.loc[index]
        if column == "Entry Code" and value is not None:
            value = value.map(mask_entry_code)
        self.parts.append(
            pd.DataFrame(
                {
                    "row": index,
                    "column": column,
                    "value": None if value is None else np.asarray(value, dtype=object),
                    "code": code,
                    "severity": CATALOGUE[code].severity,
                    "message": messages(key, index, fields),
                },
                columns=FINDING_COLUMNS,
            )
        )

    def extend(self, findings: pd.DataFrame) -> None:
        if len(findings):
            self.parts.append(findings)

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return findings_frame()
        return findings_frame(pd.concat(self.parts, ignore_index=True))


def messages(key: str, index: pd.Index, fields: dict[str, Field]) -> str | np.ndarray:
    """The template filled in for each flagged row (one string when no field varies)."""
    text = TEMPLATES[key]
    per_row = {}
    scalars = {}
    for name, field in fields.items():
        if callable(field):
            field = field(index)
        if isinstance(field, pd.Series):
            per_row[name] = (
                field.loc[index].tolist()
                if len(field) != len(index) or not field.index.equals(index)
                else field.tolist()
            )
        else:
            scalars[name] = field
    if not per_row:
        return text.format(**scalars)
    names = list(per_row)
    return np.asarray(
        [
            text.format(**scalars, **dict(zip(names, values, strict=True)))
            for values in zip(*per_row.values(), strict=True)
        ],
        dtype=object,
    )
