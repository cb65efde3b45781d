"""FindingsBuilder: findings collected as whole masked columns, messages from the catalogue."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from credkit.findings import (
    CATALOGUE,
    FINDING_COLUMNS,
    TEMPLATES,
    arrow_texts,
    findings_frame,
    mask_entry_code,
    object_frame,
)
from credkit.rules.columnar import cells_at

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
        self._parts: list[dict[str, object] | pd.DataFrame] = []  # columns, or findings frames

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
        flagged = _flagged(mask)
        if not flagged.any():
            return
        key, code = code, code.split(":", 1)[0]
        index = mask.index[flagged]
        if isinstance(value, str):  # "column": the cell's own value
            value = self._cells(column, index) if column else None
        elif value is not None:
            value = value.loc[index]
        if column == "Entry Code" and isinstance(value, pd.Series):
            value = value.map(mask_entry_code)
        elif column == "Entry Code" and value is not None:
            value = np.array([mask_entry_code(cell) for cell in value], dtype=object)
        self._parts.append(
            {
                "row": index.to_numpy(dtype=object),
                "column": column,
                "value": None if value is None else np.asarray(value, dtype=object),
                "code": code,
                "severity": CATALOGUE[code].severity,
                "message": messages(key, index, fields),
            }
        )

    def _cells(self, column: str, labels: pd.Index) -> np.ndarray:
        """The rows' cells of this column at these labels, as objects (``rows.loc[labels,
        column]``, read one by one for a few: columnar.cells_at)."""
        return np.asarray(cells_at(self.rows[column], labels), dtype=object)

    def extend(self, findings: pd.DataFrame) -> None:
        if len(findings):
            self._parts.append(findings)

    @property
    def parts(self) -> list[pd.DataFrame]:
        """The findings so far, one frame for each rule's findings (not yet findings_frame's
        types), for a rule that reads earlier findings."""
        return [
            part
            if isinstance(part, pd.DataFrame)
            else object_frame({name: _column(part, name) for name in FINDING_COLUMNS})
            for part in self._parts
        ]

    def frame(self) -> pd.DataFrame:
        """The findings collected, as one findings frame: each part's columns are joined as
        arrays, and the frame is built once (a DataFrame per part and a concat of them cost
        more than the rules themselves on the one row an edit re-checks). Values and messages
        stay Arrow strings where a part holds them so."""
        if not self._parts:
            return findings_frame()
        columns: dict[str, object] = {}
        for name in FINDING_COLUMNS:
            pieces = [_column(part, name) for part in self._parts]
            texts = arrow_texts(pieces) if name in ("value", "message") else None
            if texts is not None:
                columns[name] = pd.array(texts, dtype="str")
            else:
                columns[name] = np.concatenate([_objects(piece) for piece in pieces])
        return findings_frame(object_frame(columns))


def _flagged(mask: pd.Series) -> np.ndarray:
    """The mask as a numpy bool array, missing not flagged (a bool column as it is: asking
    pandas to fill missing values copies every mask, ~25 us each)."""
    if mask.dtype == bool:
        return mask.to_numpy()
    return mask.to_numpy(dtype=bool, na_value=False)


def _column(part: dict[str, object] | pd.DataFrame, name: str) -> object:
    """One column of a part: its Series, or an object array (a scalar repeated)."""
    if isinstance(part, pd.DataFrame):
        if name not in part.columns:
            return np.full(len(part), None, dtype=object)
        return part[name]
    values = part[name]
    if isinstance(values, np.ndarray):
        return values.astype(object, copy=False)
    column = np.empty(len(part["row"]), dtype=object)
    column[:] = values
    return column


def _objects(piece: object) -> np.ndarray:
    return piece.to_numpy(dtype=object) if isinstance(piece, pd.Series) else piece


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
