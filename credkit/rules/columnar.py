"""Arrow kernels for the rules' pandas columns: regex search, hash lookups, conversions."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

T = TypeVar("T")

#: Rows from which the rules run Arrow work on other threads (beside, SnapshotLookup.user_rows):
#: a whole file's, never an edit's few (~22 ms, which a thread's start would only add to).
ROWS_BESIDE = 20_000


def beside(work: Callable[..., T], *args: object, many: bool) -> Callable[[], T]:
    """work(*args), given by the callable returned. Where many (a whole file's rows), work starts
    now on another thread: Arrow's kernels release the GIL, so it runs while the caller does its
    own numpy and Python work, on the machine's second core. Otherwise it runs here, at once."""
    if not many:
        result = work(*args)
        return lambda: result
    pool = ThreadPoolExecutor(max_workers=1)
    running = pool.submit(work, *args)
    pool.shutdown(wait=False)  # its thread ends when work does
    return running.result


def arrow_strings(
    values: pd.Series | pd.Index | np.ndarray | pa.Array | pa.ChunkedArray,
) -> pa.Array:
    """A column of text (None or NaN where missing) as an Arrow string array."""
    if isinstance(values, pd.Series | pd.Index) and values.dtype == object:
        values = values.to_numpy()  # straight from NumPy: twice as fast as through pandas
    if isinstance(values, pa.ChunkedArray):  # pa.array converts one value at a time: 0.25 s
        values = values.combine_chunks()  # for 250,000 keys, where this takes 2 ms
    array = getattr(values, "array", values)
    if isinstance(array, pa.Array):
        converted = array
    else:
        try:
            converted = pa.array(array, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            converted = pa.array(
                np.asarray(array, dtype=object), from_pandas=True, type=pa.string()
            )
    if isinstance(converted, pa.ChunkedArray):  # one chunk (as pandas' Arrow text mostly is)
        converted = converted.chunk(0) if converted.num_chunks == 1 else converted.combine_chunks()
    if converted.type != pa.string():
        converted = converted.cast(pa.string())
    return converted


def arrow_text(values: pd.Series | pd.Index | np.ndarray) -> pa.Array | pa.ChunkedArray:
    """arrow_strings without the copies: pandas' own Arrow text is handed over as it is stored
    (large_string, in the chunks the reader made); Arrow's kernels take either width, and
    chunks. Anything else as arrow_strings converts it."""
    array = getattr(values, "array", values)
    if hasattr(array, "__arrow_array__"):
        converted = pa.array(array)
        if pa.types.is_string(converted.type) or pa.types.is_large_string(converted.type):
            return converted
    return arrow_strings(values)


def contains(values: pd.Series, pattern: str) -> pd.Series:
    """values.str.contains(pattern) through RE2 (pandas falls back to one Python re.search per
    value for some patterns on Arrow strings); missing values do not match."""
    found = pc.match_substring_regex(arrow_strings(values), pattern)
    return pd.Series(pc.fill_null(found, False).to_numpy(zero_copy_only=False), index=values.index)


def positions(keys: pd.Series | np.ndarray, among: pd.Index | pd.Series) -> np.ndarray:
    """Each key's position in ``among`` (unique values), -1 where it is not there or missing."""
    found = pc.index_in(arrow_strings(keys), value_set=arrow_strings(among))
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


#: Cells that cells_at reads one by one, at most (more: one take of the column).
FEW_CELLS = 1_000


def cells_at(column: pd.Series, labels: pd.Index) -> pd.Series:
    """column[labels], as pandas gives it. A few cells of Arrow text are read one by one: a
    lookup by label in the reader's column (34 chunks at 250,000 rows) joins the chunks on
    every call (~0.8 ms, where 125 cells one by one take ~0.07 ms)."""
    text = pa.array(column.array) if hasattr(column.array, "__arrow_array__") else None
    if (
        text is None
        or len(labels) > FEW_CELLS
        or not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type))
        or not column.index.is_unique
    ):
        return column[labels]
    at = column.index.get_indexer(labels)
    if (at < 0).any():  # a label the column lacks: fails as column[labels] does
        return column[labels]
    missing = column.dtype.na_value
    cells = [missing if cell is None else cell for cell in (text[i].as_py() for i in at.tolist())]
    return pd.Series(cells, index=labels, dtype=object, name=column.name)


def taken(values: pd.Series | np.ndarray, at: np.ndarray) -> np.ndarray:
    """values[at] as an object array, None where at is -1."""
    values = np.asarray(values, dtype=object)
    out = np.full(len(at), None, dtype=object)
    hit = at >= 0
    out[hit] = values[at[hit]]
    return out


def python_values(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Arrow values as a pandas object column holds them: Python values (Timestamps for
    times), None where missing."""
    values = one_array(values)
    out = np.full(len(values), None, dtype=object)
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    present = values.drop_null()
    if pa.types.is_timestamp(present.type):
        out[valid] = pd.DatetimeIndex(present.to_pandas()).astype(object)
    else:
        out[valid] = present.to_numpy(zero_copy_only=False).astype(object)
    return out


#: Units of an Arrow timestamp per second.
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def whole_seconds(times: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Arrow timestamps as int64 seconds since the epoch, floored (as pandas' floor("s")), and
    where they are known: comparing integers in numpy costs nothing like parsing the times
    again in pandas."""
    raw = pc.fill_null(times.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
    known = truth(pc.is_valid(times))
    return np.floor_divide(raw, _PER_SECOND[times.type.unit]), known


def matches(values: pa.Array, pattern: str) -> np.ndarray:
    """RE2 search of pattern in each value, as a numpy bool array; missing values do not match."""
    found = pc.match_substring_regex(values, pattern)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def non_ascii(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Where a text value holds any character outside ASCII (missing values do not). Text
    whose bytes are all ASCII, the common case, is settled by one numpy pass over its data
    buffers (~1 ms for 250,000 emails, where string_is_ascii took ~9 ms)."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    if all(_ascii_bytes(chunk) for chunk in chunks):
        return np.zeros(len(values), dtype=bool)
    return ~truth(pc.string_is_ascii(values), True)


def _ascii_bytes(chunk: pa.Array) -> bool:
    """Whether every byte of a text chunk's data buffer is ASCII (False: look value by value;
    the buffer may hold bytes of no value, as a slice's does)."""
    if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
        return False
    data = chunk.buffers()[2]
    if data is None or data.size == 0:
        return True
    return int(np.frombuffer(data, dtype=np.uint8).max()) < 0x80


def one_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Arrow values as one array: a chunked one's chunks joined once (a take or a kernel on the
    reader's 34 chunks joins them again on every call)."""
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def byte_lengths(text: pa.Array | pa.ChunkedArray, missing: int = 0) -> np.ndarray:
    """Each text's length in bytes as numpy, ``missing`` where it is missing: with none
    missing (nearly always) no fill is needed, which cost twice the lengths (~0.3 ms at
    250,000 rows)."""
    lengths = pc.binary_length(text)
    if lengths.null_count:
        lengths = pc.fill_null(lengths, missing)
    return lengths.to_numpy(zero_copy_only=False)


def truth(values: pa.Array | pa.ChunkedArray, missing: bool = False) -> np.ndarray:
    """An Arrow boolean array as numpy, ``missing`` where it is null."""
    return pc.fill_null(values, missing).to_numpy(zero_copy_only=False)


class KeyIndex:
    """A hash index of one column of keys (text, None where missing): the position of each key's
    first row in the column, built once and asked many times. Many keys are looked up in one
    Arrow index_in; a few keys (a re-review of one edited row) in a Python dict of the column,
    built the second time a few are asked (the first time, one pass over the column finds
    them), so that from then on asking costs nothing like a pass over the whole column. Missing
    and empty keys match nothing."""

    FEW = 512

    def __init__(self, column: pa.Array) -> None:
        self.column = column
        self._first: dict[str, int] | None = None
        self._asked_few = 0
        self._has_empty: bool | None = None

    def __len__(self) -> int:
        return len(self.column)

    def positions(self, keys: pa.Array) -> np.ndarray:
        """Each key's row in the column, -1 where it has none."""
        if len(keys) > self.FEW:
            return self._many(keys)
        wanted = keys.to_pylist()
        if not any(wanted):
            return np.full(len(wanted), -1, dtype=np.int64)
        self._asked_few += 1
        if self._first is not None or self._asked_few > 1:
            found = self._index()
        else:  # the rows that hold any of these keys, by one pass; the first of each stays
            given = pa.array([key for key in wanted if key], pa.string())
            hits = np.flatnonzero(truth(pc.is_in(self.column, value_set=given)))
            found = {}
            for at, key in zip(hits.tolist(), self.column.take(hits).to_pylist(), strict=True):
                found.setdefault(key, at)
        return np.array([found.get(key, -1) if key else -1 for key in wanted], dtype=np.int64)

    def positions_and_firsts(self, keys: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """positions(keys), and first_occurrences(keys): many keys in one Arrow pass, looking the
        keys and the column up among the keys (one hash table of the keys, where positions and
        first_occurrences built one of the column and one of the keys: 47 ms against 64 ms for
        250,000 keys and as many rows)."""
        if len(keys) <= self.FEW:
            return self.positions(keys), first_occurrences(keys)
        column = self.column if self.column.type == keys.type else self.column.cast(keys.type)
        found = pc.index_in(
            pa.chunked_array([keys, column], keys.type), value_set=keys, skip_nulls=True
        )
        found = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        firsts, in_keys = found[: len(keys)], found[len(keys) :]
        # The column's rows each first key is at; where the column repeats a key, its first row.
        rows = np.flatnonzero(in_keys >= 0)
        named, first_row = np.unique(in_keys[rows], return_index=True)
        row_of_first = np.full(len(keys), -1, dtype=np.int64)
        row_of_first[named] = rows[first_row]
        at = np.where(firsts >= 0, row_of_first[np.maximum(firsts, 0)], -1)
        return self._empty_named_nobody(keys, at), firsts

    def _index(self) -> dict[str, int]:
        if self._first is None:  # written last to first, so that the first row stays
            column = self.column.to_pylist()
            self._first = dict(zip(reversed(column), range(len(column) - 1, -1, -1), strict=True))
        return self._first

    def _many(self, keys: pa.Array) -> np.ndarray:
        at = pc.index_in(keys, value_set=self.column, skip_nulls=True)
        at = pc.fill_null(at, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        return self._empty_named_nobody(keys, at)

    def _empty_named_nobody(self, keys: pa.Array, at: np.ndarray) -> np.ndarray:
        """at, -1 for each empty key: an empty key names nobody, even where the column holds one."""
        if self._has_empty is None:
            self._has_empty = bool(pc.any(pc.equal(self.column, "")).as_py())
        if self._has_empty:
            at[truth(pc.equal(keys, ""))] = -1
        return at


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
