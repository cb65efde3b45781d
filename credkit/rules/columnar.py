"""Arrow kernels for the rules' pandas columns: regex search and hash lookups, in C."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def arrow_strings(values: pd.Series | pd.Index | np.ndarray) -> pa.Array:
    """A column of text (None or NaN where missing) as an Arrow string array."""
    array = getattr(values, "array", values)
    try:
        converted = pa.array(array, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        converted = pa.array(np.asarray(array, dtype=object), from_pandas=True, type=pa.string())
    if isinstance(converted, pa.ChunkedArray):
        converted = converted.combine_chunks()
    if converted.type != pa.string():
        converted = converted.cast(pa.string())
    return converted


def contains(values: pd.Series, pattern: str) -> pd.Series:
    """values.str.contains(pattern) through RE2 (pandas falls back to one Python re.search per
    value for some patterns on Arrow strings); missing values do not match."""
    found = pc.match_substring_regex(arrow_strings(values), pattern)
    return pd.Series(pc.fill_null(found, False).to_numpy(zero_copy_only=False), index=values.index)


def is_in(values: pd.Series, wanted: object) -> pd.Series:
    """values.isin(wanted) as one Arrow hash lookup (pandas' isin on Arrow strings converts
    ``wanted`` through a Python list comprehension: seconds at 250,000 values)."""
    found = pc.is_in(arrow_strings(values), value_set=arrow_strings(np.asarray(wanted, object)))
    return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index)


def positions(keys: pd.Series | np.ndarray, among: pd.Index | pd.Series) -> np.ndarray:
    """Each key's position in ``among`` (unique values), -1 where it is not there or missing."""
    found = pc.index_in(arrow_strings(keys), value_set=arrow_strings(among))
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def taken(values: pd.Series | np.ndarray, at: np.ndarray) -> np.ndarray:
    """values[at] as an object array, None where at is -1."""
    values = np.asarray(values, dtype=object)
    out = np.full(len(at), None, dtype=object)
    hit = at >= 0
    out[hit] = values[at[hit]]
    return out


def first_positions(keys: pd.Series) -> np.ndarray:
    """For each key, the position of the first row (in the frame's order) with the same key;
    -1 where the key is missing."""
    array = arrow_strings(keys)
    codes = positions(array, pc.unique(pc.drop_null(array)))
    first = np.full(codes.max() + 1 if len(codes) else 0, -1, dtype=np.int64)
    order = np.arange(len(codes))[::-1]
    present = codes[::-1] >= 0
    first[codes[::-1][present]] = order[present]  # the last write, the first row, wins
    return np.where(codes >= 0, first[np.maximum(codes, 0)] if len(first) else -1, -1)


def first_occurrences(values: pa.Array) -> np.ndarray:
    """For each value, the position of the first element equal to it; -1 where it is missing.
    One Arrow hash pass (dictionary_encode), then integers only."""
    codes = pc.fill_null(pc.dictionary_encode(values).indices, -1).to_numpy(zero_copy_only=False)
    codes = codes.astype(np.int64, copy=False)
    present = codes >= 0
    if not present.any():
        return np.full(len(codes), -1, dtype=np.int64)
    first = np.full(int(codes.max()) + 1, len(codes), dtype=np.int64)
    np.minimum.at(first, codes[present], np.flatnonzero(present))
    return np.where(present, first[np.maximum(codes, 0)], -1)


class KeyIndex:
    """Positions in one Arrow array of unique text keys, for lookups repeated against it (a
    directory snapshot's keys): many keys at once through one Arrow hash lookup; a few (an
    edited row's) by binary search in a sort made on first use and kept, so that looking up
    one key costs nothing like the array's size."""

    #: Up to this many keys are looked up one by one (a hash lookup builds its table anew).
    FEW = 256

    def __init__(self, keys: pa.Array) -> None:
        self.keys = keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys
        self._order: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def positions(self, wanted: pa.Array) -> np.ndarray:
        """Each wanted key's position in keys (int64), -1 where it is not there or missing."""
        if len(wanted) > self.FEW:
            found = pc.index_in(wanted, value_set=self.keys)
            return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        return np.array([self._position(key) for key in wanted.to_pylist()], dtype=np.int64)

    def _position(self, key: str | None) -> int:
        if key is None:
            return -1
        if self._order is None:  # nulls (none expected) sort last and are left out
            order = pc.sort_indices(self.keys).to_numpy(zero_copy_only=False)
            self._order = order[: len(order) - self.keys.null_count]
        order, keys = self._order, self.keys
        low, high = 0, len(order)
        while low < high:  # Arrow sorts text by its UTF-8 bytes: Python's order of str
            middle = (low + high) // 2
            if keys[int(order[middle])].as_py() < key:
                low = middle + 1
            else:
                high = middle
        if low < len(order) and keys[int(order[low])].as_py() == key:
            return int(order[low])
        return -1


def text_array(values: pd.Series | pd.Index | np.ndarray) -> pa.Array:
    """arrow_strings, converting an object column straight from its NumPy values (twice as
    fast as through pandas' own Arrow conversion)."""
    if isinstance(values, pd.Series | pd.Index) and values.dtype == object:
        values = values.to_numpy()
    return arrow_strings(values)
