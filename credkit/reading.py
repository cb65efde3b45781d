"""Reading credential CSV files: encoding, delimiter, exact row numbers and file-level findings.

The contract (SPEC "The file"): one header row, then one row per credential; every value is text;
UTF-8 with or without a byte-order mark; comma-delimited; at most ``MAX_ROWS`` data rows. A row is
named by its number as a spreadsheet shows it: the header is row 1, the first data row is row 2,
and a quoted value with line breaks stays in one row. Bad data never raises: every problem becomes
a finding. Exceptions are only for programming faults (wrong argument types or values).

The fast path is pyarrow's CSV reader, with every column typed as a string and blank lines kept
as rows (``ignore_empty_lines=False``), so that record k of the file is spreadsheet row k. Rows
with another number of fields than the header go to an ``invalid_row_handler``; pyarrow numbers
them only when it reads serially, so a file that has some is read a second time serially. They
are then split again with the ``csv`` module, repaired (padded, or cut with an ``extra-fields``
finding) and put back in place. Values spanning lines are only possible with a quote character,
so ``newlines_in_values`` is only turned on for files that hold one. A file that ends inside a
quoted value (a quote opened and never closed) is refused rather than read as one huge value.
A byte-order mark inside the file (two files joined together) is dropped like the leading one.
A file with NUL bytes that is not UTF-16 or UTF-32 is binary (or damaged): it is ``unreadable``,
whatever else is wrong with it.

Too many rows are found without converting the whole file: a file larger than
``_STREAM_THRESHOLD`` has its records counted while streaming, stopping at ``max_rows + 1``.
Blank rows (empty, or Excel's ``,,,,``) are no data rows and do not count.

Reading is bounded (README "Reading limits", ``credkit.defaults``): at most ``MAX_FILE_BYTES``
from one file, lines of at most ``MAX_LINE_BYTES`` and headers of at most ``MAX_COLUMNS``
columns, each checked before pyarrow parses anything. A path may name a pipe (``/dev/stdin``,
``<(...)``, a named pipe), read within the same bounds; a device or a socket is refused
unopened, and a named pipe that no program writes to within ``PIPE_WRITER_WAIT_SECONDS``.
"""

from __future__ import annotations

import codecs
import csv
import errno
import hashlib
import io
import os
import re
import selectors
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Generic, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from charset_normalizer import from_bytes

from credkit.columns import HEADERS
from credkit.defaults import (
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_LINE_BYTES,
    MAX_ROWS,
    PIPE_WRITER_WAIT_SECONDS,
)
from credkit.findings import Code, finding, findings_frame, quoted

T = TypeVar("T")

__all__ = [
    "FORMULA_TRIGGERS",
    "CsvTable",
    "Detection",
    "EncodingGuess",
    "add_formula_prefix",
    "detect_delimiter",
    "detect_encoding",
    "read_csv_bytes",
    "read_csv_file",
    "strip_formula_prefix",
    "trimmed_values",
]

#: The first characters a spreadsheet would run as a formula; export protects them with a ``'``.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_IS_TRIGGER = np.zeros(256, dtype=bool)
_IS_TRIGGER[list("".join(FORMULA_TRIGGERS).encode("ascii"))] = True
#: Bytes a value may end with when trimming could change it: control characters and the space
#: (every ASCII whitespace), DEL and every byte of a non-ASCII character (Unicode whitespace).
_MAY_TRIM = np.zeros(256, dtype=bool)
_MAY_TRIM[: ord(" ") + 1] = True
_MAY_TRIM[0x7F:] = True
#: Bytes a value may start with when trimming or removing export's prefix could change it.
_MAY_CHANGE_START = _MAY_TRIM.copy()
_MAY_CHANGE_START[ord("'")] = True

#: Delimiters a header may split on instead of the comma (SPEC: "wrong-delimiter").
_OTHER_DELIMITERS = (";", "\t")
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}

#: Bytes pyarrow parses at a time; a single record must fit in one block.
_BLOCK_SIZE = 1 << 20
#: Read with pyarrow's threads first (serially again only for a file with invalid rows).
_PARALLEL = True
#: Bytes read to find how many columns the header has (more when the header is longer).
_PROBE_SIZE = 1 << 16
#: Files larger than this have their records counted while streaming before being loaded.
_STREAM_THRESHOLD = 1 << 26
#: Bytes read at a time when streaming a file.
_CHUNK_SIZE = 1 << 22
#: How much of a file the cheap head checks (signatures, BOM, header line) look at.
_HEAD_SIZE = 1 << 16
#: Bytes scanned at a time by the numpy scans.
_SCAN_SIZE = 1 << 18
#: Work on the bytes in a background thread from this size on.
_THREADED_FROM = 1 << 20

_UTF8_BOM = codecs.BOM_UTF8
_UNICODE_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SAVE_AS_CSV = 'open it in Excel and save it as "CSV UTF-8 (Comma delimited) (*.csv)"'
_BINARY_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive", _SAVE_AS_CSV),
    (b"PK\x05\x06", "an Excel workbook (.xlsx) or another zip archive", _SAVE_AS_CSV),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel workbook (.xls)", _SAVE_AS_CSV),
    (b"%PDF-", "a PDF document", "export the data from its source as CSV UTF-8 instead"),
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it first"),
)
#: Encodings preferred, in order, among charset-normalizer's equally good guesses: the ones
#: spreadsheets and legacy Windows systems actually write.
_PREFERRED_GUESSES = ("cp1252", "iso8859-1", "iso8859-15", "cp1250", "cp1251", "mac-roman")
_NON_SPACE = re.compile(rb"[^ \t\r\n\f\v]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


# --------------------------------------------------------------------------------------------
# Public types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    """What the reader found and why it read the file the way it did."""

    encoding: str  #: "utf-8", "utf-8-sig", or the encoding the caller named
    encoding_named: bool  #: the caller named the encoding
    confidence: float | None  #: charset-normalizer's, for a non-UTF-8 guess; None when UTF-8
    looks_like: str | None  #: the encoding the bytes look like, when they are not UTF-8
    delimiter: str  #: the delimiter the file was (or would have been) read with
    delimiter_named: bool  #: the caller named the delimiter
    bom: bool  #: the file starts with a byte-order mark


@dataclass(frozen=True)
class EncodingGuess:
    """What :func:`detect_encoding` found in a file's bytes."""

    utf8: bool  #: the bytes decode as UTF-8 (with or without a BOM)
    encoding: str  #: the codec to read them with: "utf-8", "utf-8-sig", else ``looks_like``
    bom: bool  #: the bytes start with a byte-order mark (UTF-8, UTF-16 or UTF-32)
    looks_like: str | None  #: when not UTF-8, the encoding they look like (None: no idea)
    confidence: float | None  #: charset-normalizer's confidence in ``looks_like``
    alternatives: tuple[str, ...] = ()  #: other encodings that fit about as well
    error_offset: int | None = None  #: offset of the first byte that is not UTF-8


@dataclass
class CsvTable:
    """A CSV file read as text: its header, its rows by spreadsheet row number, its findings."""

    headers: list[str]  #: the header row as written (duplicates and blanks kept)
    rows: pd.DataFrame  #: one str column per header position (0..n-1); index "row"
    findings: pd.DataFrame  #: file- and row-shape findings (``findings_frame``)
    detection: Detection | None  #: how the file was read; None when nothing was decided
    sha256: str  #: of the raw bytes ("" when the file could not be opened)
    size: int  #: bytes
    readable: bool  #: False when a file-level error stopped reading


# --------------------------------------------------------------------------------------------
# Formula-injection prefix
# --------------------------------------------------------------------------------------------


def strip_formula_prefix(series: pd.Series) -> pd.Series:
    """The values with export's protecting ``'`` removed: ``'=SUM(A1)`` becomes ``=SUM(A1)``.

    Only a ``'`` followed by ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is removed;
    any other ``'`` (``'hello``) is left alone. Missing values stay missing.
    """
    if not isinstance(series, pd.Series):
        raise TypeError(f"strip_formula_prefix needs a pandas Series, not {type(series).__name__}")
    prefixed = _true(series.str.startswith("'"))
    if prefixed.any():
        prefixed &= _true(series.str[1:2].isin(FORMULA_TRIGGERS))
    if not prefixed.any():
        return series.copy()
    result = series.copy()
    result[prefixed] = series[prefixed].str[1:]
    return result


def trimmed_values(series: pd.Series) -> pd.Series:
    """The values as a review reads them: surrounding whitespace removed (``str.strip``), then
    export's protecting ``'`` (:func:`strip_formula_prefix`). Missing values stay missing."""
    if not isinstance(series, pd.Series):
        raise TypeError(f"trimmed_values needs a pandas Series, not {type(series).__name__}")
    if _unchanged_by_trimming(series):
        return series.copy()
    return strip_formula_prefix(series.str.strip())


def _unchanged_by_trimming(series: pd.Series) -> bool:
    """Whether no value of an Arrow text column starts or ends with a byte that trimming or
    removing the prefix could remove (so trimmed_values would return it as it is); False
    when that cannot be told cheaply (other storage, missing values).

    Trimming 250,000 values costs 2.5 ms a column even when nothing changes. Most columns
    (identifiers, e-mails, codes) hold no space, control, non-ASCII or ``'`` byte at all,
    which two vectorised comparisons of the column's bytes prove (0.3 ms); only the others
    have their values' edges looked at (_edges_unchanged)."""
    if not isinstance(series.array, pd.arrays.ArrowStringArray):
        return False
    chunks = _chunk_bytes(pa.array(series.array))
    return chunks is not None and all(
        _edges_unchanged(text, offsets) for text, offsets in chunks if offsets[-1] > offsets[0]
    )


def _chunk_bytes(column: pa.Array | pa.ChunkedArray) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Each chunk of an Arrow text column as numpy arrays of its bytes and of its values'
    offsets into them; None when a chunk is not string or large_string, or has missing values."""
    chunks = []
    for chunk in column.chunks if isinstance(column, pa.ChunkedArray) else [column]:
        if pa.types.is_large_string(chunk.type):
            width = np.int64
        elif pa.types.is_string(chunk.type):
            width = np.int32
        else:
            return None
        if chunk.null_count:
            return None
        if len(chunk) == 0:
            continue
        _, offsets, text = chunk.buffers()
        chunks.append(
            (
                np.frombuffer(text, np.uint8) if text is not None else np.empty(0, np.uint8),
                np.frombuffer(offsets, width)[chunk.offset : chunk.offset + len(chunk) + 1],
            )
        )
    return chunks


def _odd_bytes(text: np.ndarray) -> np.ndarray:
    """Where bytes are below "!" or above "~" (uint8 arithmetic wraps): every byte _MAY_TRIM
    names, so every byte a whitespace character can have."""
    return text - np.uint8(0x21) > np.uint8(0x7E - 0x21)


def _edges_unchanged(text: np.ndarray, offsets: np.ndarray) -> bool:
    """Whether no value of one Arrow text chunk (its bytes and offsets) starts with a byte in
    _MAY_CHANGE_START or ends with one in _MAY_TRIM."""
    used = text[offsets[0] : offsets[-1]]
    odd = _odd_bytes(used)
    odd |= used == ord("'")
    count = np.count_nonzero(odd)
    if not count:
        return True
    if count > len(offsets) // 4:  # many (spaces between words): look at every edge
        filled = offsets[1:] > offsets[:-1]
        starts, ends = offsets[:-1][filled], offsets[1:][filled]
        return not (_MAY_CHANGE_START[text[starts]].any() or _MAY_TRIM[text[ends - 1]].any())
    # Few: is any of them the first or the last byte of its value? (62 spaces in a column of
    # card numbers: 0.1 ms, against 2.7 ms for looking at every edge.)
    at = np.flatnonzero(odd) + offsets[0]
    value = np.searchsorted(offsets, at, side="right") - 1
    first = offsets[value] == at
    last = offsets[value + 1] == at + 1
    return not ((first & _MAY_CHANGE_START[text[at]]).any() or (last & _MAY_TRIM[text[at]]).any())


def add_formula_prefix(series: pd.Series) -> pd.Series:
    """The values protected for spreadsheets: a ``'`` before a leading ``=+-@``, tab or CR.

    :func:`strip_formula_prefix` undoes it, except for a value that itself starts with a ``'``
    followed by one of those characters (it is left as it is, and read back without its ``'``).
    """
    if not isinstance(series, pd.Series):
        raise TypeError(f"add_formula_prefix needs a pandas Series, not {type(series).__name__}")
    triggered = _true(series.str[:1].isin(FORMULA_TRIGGERS))
    if not triggered.any():
        return series.copy()
    result = series.copy()
    result[triggered] = "'" + series[triggered]
    return result


def _true(mask: pd.Series) -> pd.Series:
    """A boolean mask with missing values as False."""
    return mask.fillna(False).astype(bool)


# --------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------


def detect_delimiter(header_line: str) -> str:
    """The delimiter a header line splits on: ``","`` unless it splits on ``;`` or tab instead.

    The comma wins whenever the line splits on it; a line that splits on nothing is read as one
    comma-delimited column. Quoting is respected (``"a;b",c`` splits on the comma).
    """
    if not isinstance(header_line, str):
        raise TypeError(f"header_line must be str, not {type(header_line).__name__}")
    found = _LINE_BREAK.search(header_line)
    line = header_line[: found.start()] if found else header_line
    if _field_count(line, ",") > 1:
        return ","
    counts = {delimiter: _field_count(line, delimiter) for delimiter in _OTHER_DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] > 1 else ","


def detect_encoding(data: bytes) -> EncodingGuess:
    """Whether the bytes are UTF-8 and, when they are not, what they look like.

    A UTF-16 or UTF-32 byte-order mark, or NUL bytes that charset-normalizer reads as UTF-16/32,
    make the bytes not UTF-8 even though NUL is valid UTF-8.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes, not {type(data).__name__}")
    data = bytes(data)
    for bom, name in _UNICODE_BOMS:
        if data.startswith(bom):
            return EncodingGuess(False, name, True, name, 1.0)
    if b"\x00" in data:
        wide = _guess_wide(data)
        if wide is not None:
            return wide
    error = _utf8_error(data)
    if error is not None:
        return _guess_around(data, error)
    bom = data.startswith(_UTF8_BOM)
    return EncodingGuess(True, "utf-8-sig" if bom else "utf-8", bom, None, None)


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read_csv_bytes(
    data: bytes,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_rows: int = MAX_ROWS,
) -> CsvTable:
    """Read a credential CSV held in memory; every problem in it is a finding, never an error.

    ``encoding``: None expects UTF-8 (with or without a BOM) and makes anything else a
    ``not-utf8`` finding; a named encoding is always used. ``delimiter``: None expects commas and
    makes a header that splits on ``;`` or tab a ``wrong-delimiter`` finding; a named one is
    always used. ``max_rows``: more data rows than this is ``too-many-rows``. An unknown encoding
    name or a delimiter that is not one character raises ValueError (the caller's mistake).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes, not {type(data).__name__}")
    options = _Options.check(encoding, delimiter, max_rows)
    data = bytes(data)
    digest = _Background(_sha256, data)
    if len(data) > MAX_FILE_BYTES:
        return _Outcome([_file_too_large(len(data), max_rows)]).table(digest.result(), len(data))
    return _Reader(data, options).read().table(digest.result(), len(data))


def read_csv_file(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_rows: int = MAX_ROWS,
    sheet: str | None = None,
) -> CsvTable:
    """Read a credential CSV file, as :func:`read_csv_bytes` reads its bytes; a missing or
    unreadable path is an ``unreadable`` finding. An Excel workbook (``.xlsx``) is read by
    :mod:`credkit.workbook`, its first sheet unless ``sheet`` names one.

    A file larger than a few tens of megabytes has its records counted while streaming, so that
    one with more than ``max_rows`` data rows is refused without being loaded into memory; one
    larger than ``MAX_FILE_BYTES`` is refused unread. A pipe is read up to that size; a device
    or socket, or a named pipe without a writer, is a ``not-a-file`` finding.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
    options = _Options.check(encoding, delimiter, max_rows)
    from credkit import workbook  # imports this module: a workbook's table is a CsvTable

    if workbook.is_workbook(path):
        return workbook.read_workbook(path, sheet=sheet, max_rows=max_rows)
    try:
        opened = _open_input(path)
        if isinstance(opened, _Outcome):
            return opened.table("", 0)
        descriptor, is_pipe = opened
        with os.fdopen(descriptor, "rb") as stream:
            if is_pipe:
                piped = _read_pipe(stream.fileno(), path, options)
                if isinstance(piped, CsvTable):
                    return piped
                data = piped
            else:
                size = os.fstat(stream.fileno()).st_size
                if size > MAX_FILE_BYTES:  # refused unread (its hash would mean reading it)
                    return _Outcome([_file_too_large(size, max_rows)]).table("", size)
                if size > _STREAM_THRESHOLD:
                    refused = _refuse_large(path, stream, options)
                    if refused is not None:
                        stream.seek(0)
                        return refused.table(_hash_stream(stream), size)
                    stream.seek(0)
                # Bounded even where the size lies (files in /proc say 0).
                data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        return _unopenable(path, error)
    return read_csv_bytes(data, encoding=encoding, delimiter=delimiter, max_rows=max_rows)


def _open_input(path: str | os.PathLike[str]) -> tuple[int, bool] | _Outcome:
    """A descriptor for reading the path and whether it is a pipe; or, for what is not a
    regular file or a pipe (a device, a socket), the finding that refuses it, unopened.

    Opened non-blocking, so that a named pipe without a writer does not block the open.
    """
    refused = _refuse_special(path, os.stat(path).st_mode)
    if refused is not None:
        return refused
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags)
    mode = os.fstat(descriptor).st_mode  # what was opened, should the path have changed
    refused = _refuse_special(path, mode)
    if refused is not None:
        os.close(descriptor)
        return refused
    return descriptor, stat.S_ISFIFO(mode)


def _refuse_special(path: str | os.PathLike[str], mode: int) -> _Outcome | None:
    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode):
        return None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
    kind = (
        "a character device" if stat.S_ISCHR(mode)
        else "a block device" if stat.S_ISBLK(mode)
        else "a socket" if stat.S_ISSOCK(mode)
        else "not a regular file"
    )  # fmt: skip
    refused = finding(
        Code.NOT_A_FILE,
        row=1,
        path=os.fspath(path),
        kind=kind,
        why="reading a device such as /dev/zero never ends",
        todo="name the CSV file itself, or pipe it in (/dev/stdin)",
    )
    return _Outcome([refused])


def _read_pipe(
    descriptor: int, path: str | os.PathLike[str], options: _Options
) -> bytes | CsvTable:
    """What a pipe's writer sends, up to MAX_FILE_BYTES; a refusal when a named pipe has no
    writer within PIPE_WRITER_WAIT_SECONDS (an unnamed pipe, /dev/stdin, always has one)."""
    wait: float | None = PIPE_WRITER_WAIT_SECONDS if _is_named_pipe(descriptor, path) else None
    chunks: list[bytes] = []
    total = 0
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        while True:
            if not selector.select(wait):
                refused = finding(
                    Code.NOT_A_FILE,
                    row=1,
                    path=os.fspath(path),
                    kind="a named pipe",
                    why=f"no program wrote to it within {wait:g} second{'' if wait == 1 else 's'}",
                    todo="start the program that writes the CSV into it first, or name the CSV "
                    "file itself",
                )
                return _Outcome([refused]).table("", 0)
            wait = None  # a writer came: wait for the rest as long as it takes
            try:
                chunk = os.read(descriptor, _CHUNK_SIZE)
            except BlockingIOError:
                continue
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > MAX_FILE_BYTES:
                outcome = _Outcome([_file_too_large(total, options.max_rows, more=True)])
                return outcome.table("", total)
    return b"".join(chunks)


def _is_named_pipe(descriptor: int, path: str | os.PathLike[str]) -> bool:
    """Whether an open pipe has a name in the filesystem (made by mkfifo), rather than being a
    shell's pipe (``... | credkit review /dev/stdin``), which always has a writer."""
    try:
        return not os.readlink(f"/proc/self/fd/{descriptor}").startswith("pipe:")
    except OSError:  # no /proc: judge by the name
        return not os.fspath(path).startswith(("/dev/fd/", "/dev/stdin", "/proc/"))


# --------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    encoding: str | None
    delimiter: str | None
    max_rows: int

    @classmethod
    def check(cls, encoding: object, delimiter: object, max_rows: object) -> _Options:
        if encoding is not None:
            if not isinstance(encoding, str):
                raise TypeError(f"encoding must be str or None, not {type(encoding).__name__}")
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise ValueError(f"unknown encoding {encoding!r}") from None
        if delimiter is not None:
            if not isinstance(delimiter, str):
                raise TypeError(f"delimiter must be str or None, not {type(delimiter).__name__}")
            if len(delimiter) != 1 or delimiter in '"\r\n' or not delimiter.isascii():
                raise ValueError(f"delimiter must be one ASCII character, not {delimiter!r}")
        if isinstance(max_rows, bool) or not isinstance(max_rows, int):
            raise TypeError(f"max_rows must be int, not {type(max_rows).__name__}")
        if max_rows < 0:
            raise ValueError(f"max_rows must not be negative, not {max_rows}")
        return cls(encoding, delimiter, max_rows)

    @property
    def utf8_named(self) -> bool:
        return self.encoding is not None and codecs.lookup(self.encoding).name in (
            "utf-8",
            "utf-8-sig",
        )


class _Background(Generic[T]):
    """A function of large bytes run in a background thread (hashlib, numpy and pyarrow release
    the GIL, so it overlaps the parse); run inline for small inputs, where a thread costs more."""

    def __init__(self, function: Callable[..., T], data: bytes, *args: object) -> None:
        self._result: list[T] = []
        self._thread: threading.Thread | None = None
        if len(data) >= _THREADED_FROM:
            target = lambda: self._result.append(function(data, *args))  # noqa: E731
            self._thread = threading.Thread(target=target, daemon=True)
            self._thread.start()
        else:
            self._result.append(function(data, *args))

    def result(self) -> T:
        if self._thread is not None:
            self._thread.join()
        return self._result[0]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _scan(data: bytes, start: int, quoted: bool) -> tuple[bool, bool]:
    """Whether data[start:] has an odd number of quote characters, and whether a ``'`` is
    followed by a formula trigger anywhere (if not, no cell can start with export's prefix).
    ``quoted``: whether it holds a quote character at all.

    In slices that stay in the CPU cache: several times faster than whole-buffer comparisons.
    A file without quotes and without ``'`` (memchr tells in 1.2 ms) is not scanned (4 ms).
    """
    apostrophe = data.find(b"'", start) >= 0
    if not quoted and not apostrophe:
        return False, False
    view = np.frombuffer(data, np.uint8)[start:]
    quotes = 0
    prefixed = False
    for begin in range(0, len(view), _SCAN_SIZE):
        piece = view[begin : begin + _SCAN_SIZE + 1]  # one byte more: the one after a "'"
        if quoted:
            quotes += int(np.count_nonzero(piece[:_SCAN_SIZE] == ord('"')))
        elif prefixed:
            break
        if apostrophe and not prefixed:
            apostrophes = np.flatnonzero(piece[:-1] == ord("'"))
            prefixed = bool(apostrophes.size and _IS_TRIGGER[piece[apostrophes + 1]].any())
    return quotes % 2 == 1, prefixed


@dataclass
class _Outcome:
    """What reading decided, before the hash and size are attached."""

    findings: list[dict[str, object]]
    detection: Detection | None = None
    headers: list[str] | None = None
    rows: pd.DataFrame | None = None

    def table(self, sha256: str, size: int) -> CsvTable:
        headers = self.headers or []
        readable = self.rows is not None
        rows = self.rows if self.rows is not None else _empty_rows(len(headers))
        return CsvTable(
            headers=headers,
            rows=rows,
            # A problem of the whole file (its encoding, its kind) is reported at row 1, the
            # file's first row, so that every finding names a row.
            findings=findings_frame(
                [finding | {"row": finding.get("row") or 1} for finding in self.findings]
            ),
            detection=self.detection,
            sha256=sha256,
            size=size,
            readable=readable,
        )


class _Reader:
    """One read of one file's bytes, step by step; a step may stop it with findings."""

    def __init__(self, data: bytes, options: _Options) -> None:
        self.data = data
        self.options = options

    def read(self) -> _Outcome:
        stop = _head_problems(self.data, self.options)
        if stop is not None:
            return stop
        sep_line = _excel_sep_line(_head_line(self.data, self.options))
        if sep_line is not None:
            return _Outcome([sep_line])
        if self.options.encoding is not None and not self.options.utf8_named:
            return self._read_named_encoding()
        return self._read_utf8()

    def _read_utf8(self) -> _Outcome:
        data = self.data
        bom = data.startswith(_UTF8_BOM)
        start = len(_UTF8_BOM) if bom else 0
        # Sliced first: data[start:] would copy the whole file when it starts with a BOM.
        delimiter, wrong = _delimiter(_first_line(data[start : start + _HEAD_SIZE]), self.options)
        error = _utf8_error(data)
        nul = data.find(b"\x00")
        wide = _guess_wide(data) if nul >= 0 else None
        if wide is not None:
            detection = self._detection("utf-8", bom, delimiter, wide)
            return _Outcome([_not_utf8(wide, None), *wrong], detection)
        if nul >= 0:  # not UTF-16/32: a binary or damaged file, whatever else is wrong with it
            encoding = self.options.encoding or ("utf-8-sig" if bom else "utf-8")
            detection = self._detection(encoding, bom, delimiter)
            return _Outcome([_nul_bytes(_row_at(data, nul, delimiter))], detection)
        if error is not None:
            guess = _guess_around(data, error)
            detection = self._detection("utf-8", bom, delimiter, guess)
            row = _row_at(data, error, delimiter)
            return _Outcome([_not_utf8(guess, row), *wrong], detection)
        detection = self._detection(
            self.options.encoding or ("utf-8-sig" if bom else "utf-8"), bom, delimiter
        )
        if wrong:
            return _Outcome(wrong, detection)
        return self._parse(data, start, delimiter, detection)

    def _read_named_encoding(self) -> _Outcome:
        data, encoding = self.data, str(self.options.encoding)
        bom = data.startswith((_UTF8_BOM, *(mark for mark, _ in _UNICODE_BOMS)))
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            delimiter = self.options.delimiter or ","
            row = _row_at(data, error.start, delimiter)
            where = f" in row {row}" if row is not None else ""
            refused = finding(
                Code.UNREADABLE,
                row=row,
                problem=f"byte 0x{data[error.start]:02X}{where} is not valid in {encoding}",
                todo='name the encoding it is in (or re-save it as "CSV UTF-8")',
            )
            detection = self._detection(encoding, bom, delimiter)
            return _Outcome([refused], detection)
        text = text.removeprefix("\ufeff")
        if not text.strip():
            return _Outcome([_empty_file()])
        delimiter, wrong = _delimiter(_first_line(text), self.options)
        detection = self._detection(encoding, bom, delimiter)
        if wrong:
            return _Outcome(wrong, detection)
        payload = text.encode("utf-8")
        nul = payload.find(b"\x00")
        if nul >= 0:
            return _Outcome([_nul_bytes(_row_at(payload, nul, delimiter))], detection)
        return self._parse(payload, 0, delimiter, detection)

    def _detection(
        self, encoding: str, bom: bool, delimiter: str, guess: EncodingGuess | None = None
    ) -> Detection:
        return Detection(
            encoding=encoding,
            encoding_named=self.options.encoding is not None,
            confidence=guess.confidence if guess else None,
            looks_like=guess.looks_like if guess else None,
            delimiter=delimiter,
            delimiter_named=self.options.delimiter is not None,
            bom=bom,
        )

    def _parse(self, data: bytes, start: int, delimiter: str, detection: Detection) -> _Outcome:
        parsed = _parse(data, start, delimiter, self.options.max_rows)
        if isinstance(parsed, dict):
            return _Outcome([parsed], detection)
        headers, rows, findings = parsed
        return _Outcome(findings, detection, headers, rows)


def _delimiter(header_line: str, options: _Options) -> tuple[str, list[dict[str, object]]]:
    """The delimiter to read with, and a wrong-delimiter finding when the header splits on
    another one than the comma (only when the caller named none)."""
    if options.delimiter is not None:
        return options.delimiter, []
    found = detect_delimiter(header_line)
    if found == ",":
        return ",", []
    spelled, command_line = ("\\t", "tab") if found == "\t" else (found, f"'{found}'")
    wrong = finding(
        Code.WRONG_DELIMITER,
        row=1,
        value=found,
        delimiter_name=_DELIMITER_NAMES[found],
        spelled=spelled,
        command_line=command_line,
    )
    return ",", [wrong]


def _head_problems(data: bytes, options: _Options, whole: bool = True) -> _Outcome | None:
    """Problems seen in the first bytes alone: empty, a binary signature, a UTF-16/32 BOM.
    (Emptiness only when data is the whole file.)"""
    if whole and (options.encoding is None or options.utf8_named):
        start = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
        if _NON_SPACE.search(data, start) is None:
            return _Outcome([_empty_file()])
    for signature, what, todo in _BINARY_SIGNATURES:
        if data.startswith(signature):
            problem = f"it looks like {what}, not a CSV file"
            return _Outcome([finding(Code.UNREADABLE, problem=problem, todo=todo)])
    if options.encoding is not None:
        return None
    for bom, name in _UNICODE_BOMS:
        if data.startswith(bom):
            guess = EncodingGuess(False, name, True, name, 1.0)
            line = _first_line(data[: 4 * _HEAD_SIZE].decode(name, errors="replace"))
            delimiter, wrong = _delimiter(line, options)
            detection = Detection(
                "utf-8", False, 1.0, name, delimiter, options.delimiter is not None, True
            )
            return _Outcome([_not_utf8(guess, None), *wrong], detection)
    return None


_Parsed = tuple[list[str], pd.DataFrame, list[dict[str, object]]]


def _parse(data: bytes, start: int, delimiter: str, max_rows: int) -> _Parsed | dict[str, object]:
    """The header, the rows by spreadsheet row number and the shape findings; or one finding
    that stops the read. data[start:] is valid UTF-8 (a BOM, when there is one, is before it).
    """
    if _holds(data, _UTF8_BOM, start):
        # A byte-order mark inside the file (files joined together, a tool that writes one per
        # line) is no part of the text, no more than the leading one: it is removed. Row numbers
        # stay exact, since it holds no line break, quote or delimiter.
        data = data[:start] + data[start:].replace(_UTF8_BOM, b"")
        if _NON_SPACE.search(data, start) is None:
            return _empty_file()
    too_long = _line_limits(data, start, delimiter)
    if too_long is not None:
        return too_long
    quoted = data.find(b'"', start) >= 0  # only then can a value hold a line break
    scan = _Background(_scan, data, start, quoted)
    # pyarrow cannot read a file of one record that has no line break after it: end it with one
    # (this adds no record, and a file that ends inside a quoted value is refused below).
    ended = data if data.endswith((b"\n", b"\r")) else data + b"\n"
    payload = pa.py_buffer(ended).slice(start)
    try:
        try:
            parsed = _arrow_records(payload, delimiter, max_rows + 1, quoted)
        except pa.ArrowInvalid as error:
            if "straddl" not in str(error):
                raise
            # A record longer than a block: read the whole file as one block (it is in memory).
            parsed = _arrow_records(
                payload, delimiter, max_rows + 1, quoted, block_size=payload.size + 1
            )
    except (pa.ArrowException, ValueError) as error:
        # pyarrow cannot split a file whose header opens a quote it never closes.
        return _unclosed_quote(data, start, delimiter, 1, scan) or _parse_failed(error)
    if parsed is None:
        return _too_many_rows(max_rows)
    table, invalid = parsed
    records = table.num_rows + len(invalid)
    unclosed = _unclosed_quote(data, start, delimiter, records, scan)
    if unclosed is not None:
        return unclosed
    prefixed = scan.result()[1]
    headers = [str(value) for value in table.slice(0, 1).to_pylist()[0].values()]
    if all(not header.strip() for header in headers):
        return finding(
            Code.UNREADABLE,
            row=1,
            problem="row 1 is blank, but it must be the header row (the column names)",
            todo="remove the blank lines above the header",
        )
    frame, findings = _assemble(table.slice(1), invalid, delimiter)
    if frame.empty:
        rows = "no data rows" if records == 1 else "every row under it is blank"
        findings.append(finding(Code.NO_ROWS, row=2, what="The file", rows=rows))
    if prefixed:
        for position in frame.columns:
            frame[position] = strip_formula_prefix(frame[position])
    return headers, frame, findings


def _line_limits(data: bytes, start: int, delimiter: str) -> dict[str, object] | None:
    """The finding for a header with more than MAX_COLUMNS columns or a line longer than
    MAX_LINE_BYTES, found before anything is parsed; None when the file is within both."""
    head = data[start : start + MAX_LINE_BYTES + 1]
    found = re.search(rb"[\r\n]", head)
    header = head[: found.start()] if found else head
    whole = found is not None or len(data) - start <= MAX_LINE_BYTES
    columns = _field_count(header.decode("utf-8", errors="replace"), delimiter)
    if columns > MAX_COLUMNS:
        return _too_many_columns(columns, whole)
    if len(data) - start <= MAX_LINE_BYTES or _breaks_often(data, start, MAX_LINE_BYTES):
        return None  # no line can be longer than the whole file, or than the stretches
    longest, offset = _longest_line(data, start)
    if longest <= MAX_LINE_BYTES:
        return None
    return _line_too_long(1 if offset == start else _row_at(data, offset, delimiter), longest)


def _breaks_often(data: bytes, start: int, limit: int) -> bool:
    """Whether every stretch of limit // 2 bytes of data[start:], from start on, holds a line
    break, so that no line is longer than limit (a longer line would hold a whole stretch).
    memchr finds a break in each stretch at once: 0.01 ms for the 35 MB benchmark file,
    against _longest_line's 16 ms; only a file where this fails is measured line by line."""
    stretch = max(limit // 2, 1)
    for begin in range(start, len(data) - stretch + 1, stretch):
        end = begin + stretch
        if data.find(b"\n", begin, end) < 0 and data.find(b"\r", begin, end) < 0:
            return False
    return True


def _holds(data: bytes, needle: bytes, start: int) -> bool:
    """Whether data[start:] holds needle: memchr for its first byte first (1.2 ms for 35 MB,
    where bytes.find of the whole needle takes 28 ms), the whole needle only from there."""
    first = data.find(needle[:1], start)
    return first >= 0 and data.find(needle, first) >= 0


def _longest_line(data: bytes, start: int) -> tuple[int, int]:
    """The length of the longest line in data[start:] (CR, LF and CRLF end lines) and the
    offset it starts at; scanned in slices, so that no array as large as the file is made."""
    view = np.frombuffer(data, np.uint8)[start:]
    longest, longest_at, line_start = 0, 0, 0
    for begin in range(0, len(view), _SCAN_SIZE):
        piece = view[begin : begin + _SCAN_SIZE]
        breaks = np.flatnonzero((piece == 0x0A) | (piece == 0x0D)) + begin
        if not breaks.size:
            continue
        starts = np.concatenate(([line_start], breaks[:-1] + 1))
        lengths = breaks - starts
        at = int(np.argmax(lengths))
        if lengths[at] > longest:
            longest, longest_at = int(lengths[at]), int(starts[at])
        line_start = int(breaks[-1]) + 1
    if len(view) - line_start > longest:
        longest, longest_at = len(view) - line_start, line_start
    return longest, start + longest_at


def _arrow_records(
    payload: pa.Buffer,
    delimiter: str,
    max_records: int,
    newlines: bool,
    block_size: int = _BLOCK_SIZE,
) -> tuple[pa.Table, list[tuple[int, str]]] | None:
    """Every record as an all-string table (the header is its first row), and the records that
    do not have the header's number of fields, by record number; None past max_records.
    ``newlines``: whether a value may hold a line break (the payload holds a quote character).

    Read in parallel first: pyarrow then cannot number the invalid rows, so a file that has
    some is read again serially, which numbers them.
    """
    columns = _column_count(payload, delimiter, block_size)
    if payload.size > _STREAM_THRESHOLD and _over_limit(
        payload, delimiter, columns, max_records, "utf8"
    ):
        return None  # refused before a large file is converted whole
    invalid: list[tuple[int | None, str]] = []

    def keep_invalid(row: Any) -> str:
        invalid.append((row.number, row.text))
        return "skip"

    # large_string: what pandas stores its text as, so that to_pandas need not cast every
    # column's offsets (6 ms of a 250,000-row read).
    convert = pacsv.ConvertOptions(
        column_types={f"f{i}": pa.large_string() for i in range(columns)},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        check_utf8=False,  # validated already, and faster
    )
    parse = _parse_options(delimiter, keep_invalid, newlines=newlines)
    table = pacsv.read_csv(
        pa.BufferReader(payload),
        _read_options(block_size=block_size, threads=_PARALLEL),
        parse,
        convert,
    )
    records = table.num_rows + len(invalid)
    if records > max_records and _non_blank_records(table, invalid, delimiter) > max_records:
        return None
    if all(number is not None for number, _ in invalid):
        return table, sorted(invalid)  # type: ignore[arg-type]
    invalid.clear()
    del table
    reader = pacsv.open_csv(
        pa.BufferReader(payload), _read_options(block_size=block_size), parse, convert
    )
    batches = list(reader)  # the first read counted the records: within max_records
    if any(number is None or number < 1 for number, _ in invalid):  # pragma: no cover
        raise RuntimeError("pyarrow did not number an invalid row read serially")
    return pa.Table.from_batches(batches, schema=reader.schema), sorted(invalid)  # type: ignore[arg-type]


def _assemble(
    body: pa.Table, invalid: list[tuple[int, str]], delimiter: str
) -> tuple[pd.DataFrame, list[dict[str, object]]]:
    """The data rows as a frame indexed by row number: the parsed ones, the repaired invalid
    ones put back in place, the blank ones dropped (each with its finding)."""
    columns = body.num_columns
    last = body.num_rows + len(invalid) + 1  # the header is record 1
    numbers = np.arange(2, last + 1)
    if invalid:
        numbers = np.setdiff1d(numbers, np.array([n for n, _ in invalid]), assume_unique=True)
    blank = _blank_mask(body)
    frame = body.to_pandas()
    frame.columns = pd.RangeIndex(columns)
    frame.index = pd.Index(numbers, dtype="int64", name="row", copy=False)  # numbers is new
    blank_numbers = [int(n) for n in numbers[blank]] if blank is not None else []

    findings: list[dict[str, object]] = []
    repaired: dict[int, list[str]] = {}
    for number, text in invalid:
        fields = _split_record(text, delimiter)
        if all(not field.strip() for field in fields):
            blank_numbers.append(number)  # blank, however many (empty) fields it has
            continue
        if len(fields) > columns:
            extra = len(fields) - columns
            dropped = "field was" if extra == 1 else f"{extra} fields were"
            findings.append(
                finding(
                    Code.EXTRA_FIELDS,
                    row=number,
                    fields=len(fields),
                    columns=columns,
                    dropped=dropped,
                )
            )
            fields = fields[:columns]
        repaired[number] = fields + [""] * (columns - len(fields))
    if repaired:
        extra_rows = pd.DataFrame(
            list(repaired.values()),
            index=pd.Index(list(repaired), dtype="int64", name="row"),
            columns=pd.RangeIndex(columns),
            dtype="str",
        )
        frame = pd.concat([frame, extra_rows]).sort_index(kind="stable")
        frame.index.name = "row"
    if blank_numbers:
        blank_numbers.sort()
        for number in blank_numbers:
            findings.append(finding(Code.BLANK_ROW, row=number))
        frame = frame.drop(index=blank_numbers, errors="ignore")  # blank invalid rows: not in it
    return frame, findings


def _column_count(payload: pa.Buffer, delimiter: str, block_size: int) -> int:
    """How many fields the header row has, as pyarrow splits it (read from a small first block
    when the header fits in one)."""
    head = payload.slice(0, min(payload.size, MAX_LINE_BYTES + 1)).to_pybytes()
    end = re.search(rb"[\r\n]", head)
    if end is not None and b'"' not in head[: end.start()]:
        # Without quotes, pyarrow splits the first line on every delimiter: counted here, since
        # pyarrow's probe infers a type for every column (9 s for 16,384 columns).
        return head.count(delimiter.encode("ascii"), 0, end.start()) + 1
    for size in (min(_PROBE_SIZE, block_size), block_size):
        try:
            probe = pacsv.open_csv(
                pa.BufferReader(payload),
                read_options=_read_options(block_size=size),
                parse_options=_parse_options(delimiter, lambda row: "skip"),
                convert_options=pacsv.ConvertOptions(check_utf8=False),
            )
        except pa.ArrowInvalid:
            if size == block_size:
                raise
            continue
        try:
            return len(probe.schema)
        finally:
            probe.close()
    raise AssertionError("unreachable")  # pragma: no cover


def _read_options(
    encoding: str = "utf8", block_size: int = _BLOCK_SIZE, threads: bool = False
) -> pacsv.ReadOptions:
    # Serial reading (use_threads=False) is what gives invalid rows their record number.
    return pacsv.ReadOptions(
        use_threads=threads,
        block_size=block_size,
        autogenerate_column_names=True,
        encoding=encoding,
    )


def _parse_options(
    delimiter: str, on_invalid: Callable[[Any], str], newlines: bool = True
) -> pacsv.ParseOptions:
    return pacsv.ParseOptions(
        delimiter=delimiter,
        quote_char='"',
        double_quote=True,
        escape_char=False,
        newlines_in_values=newlines,
        ignore_empty_lines=False,  # blank lines are rows: they count for the row numbers
        invalid_row_handler=on_invalid,
    )


def _count_records(
    source: pa.Buffer | pa.NativeFile,
    delimiter: str,
    *,
    limit: int | None = None,
    encoding: str | None = None,
) -> int:
    """Records (header and blank ones included), parsed as the reader parses; stops past limit.

    The bytes are read as Latin-1 unless an encoding is named: every byte decodes, and the
    characters that shape a CSV (delimiter, quote, line breaks) are the same in any ASCII-based
    encoding.
    """
    invalid = 0

    def count_invalid(row: Any) -> str:
        nonlocal invalid
        invalid += 1
        return "skip"

    reader = pacsv.open_csv(
        source if not isinstance(source, pa.Buffer) else pa.BufferReader(source),
        read_options=_read_options(encoding or "latin-1"),
        parse_options=_parse_options(delimiter, count_invalid),
        convert_options=pacsv.ConvertOptions(
            include_columns=["f0"], column_types={"f0": pa.binary()}, check_utf8=False
        ),
    )
    records = 0
    try:
        for batch in reader:
            records += batch.num_rows
            if limit is not None and records + invalid > limit:
                break
    finally:
        reader.close()  # stops its read-ahead, which would otherwise go on reading the source
    return records + invalid


def _non_blank_records(
    table: pa.Table, invalid: list[tuple[int | None, str]], delimiter: str
) -> int:
    """The records that are not blank, the header included: a blank row (an empty line, or
    Excel's ``,,,,``) is no data row, so it does not count towards max_rows."""
    blank = _blank_mask(table.slice(1))
    blank_rows = int(blank.sum()) if blank is not None else 0
    blank_invalid = sum(1 for _, text in invalid if _is_blank_record(text, delimiter))
    return table.num_rows + len(invalid) - blank_rows - blank_invalid


def _is_blank_record(text: str, delimiter: str) -> bool:
    return all(not field.strip() for field in _split_record(text, delimiter))


def _over_limit(
    source: pa.Buffer | str,
    delimiter: str,
    columns: int,
    limit: int,
    encoding: str | None,
) -> bool:
    """Whether a file (a buffer, or a path to stream) has more than limit records that are not
    blank, counted while streaming: first all records (cheap), then, only when those are too
    many, the ones that are not blank."""
    with _stream_of(source) as stream:
        if _count_records(stream, delimiter, limit=limit, encoding=encoding) <= limit:
            return False
    with _stream_of(source) as stream:
        return _count_non_blank(stream, delimiter, columns, limit, encoding) > limit


def _stream_of(source: pa.Buffer | str) -> pa.NativeFile:
    return pa.BufferReader(source) if isinstance(source, pa.Buffer) else pa.OSFile(source)


def _count_non_blank(
    source: pa.NativeFile, delimiter: str, columns: int, limit: int, encoding: str | None
) -> int:
    """Records that are not blank (as _count_records counts records); stops past limit."""
    invalid = 0

    def count_invalid(row: Any) -> str:
        nonlocal invalid
        invalid += not _is_blank_record(row.text, delimiter)
        return "skip"

    reader = pacsv.open_csv(
        source,
        read_options=_read_options(encoding or "latin-1"),
        parse_options=_parse_options(delimiter, count_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types={f"f{i}": pa.string() for i in range(columns)}, check_utf8=False
        ),
    )
    records = 0
    try:
        for batch in reader:
            blank = _blank_mask(pa.Table.from_batches([batch]))
            records += batch.num_rows - (int(blank.sum()) if blank is not None else 0)
            if records + invalid > limit:
                break
    finally:
        reader.close()
    return records + invalid


def _row_at(data: bytes, offset: int, delimiter: str, encoding: str | None = None) -> int | None:
    """The spreadsheet row that holds the byte at offset (None when it cannot be told)."""
    try:
        # "x" makes the record the offset falls in count, even when it starts there.
        sample = pa.py_buffer(data[:offset] + b"x\n")  # the line break keeps pyarrow happy
        return _count_records(sample, delimiter, encoding=encoding)
    except (pa.ArrowException, ValueError, UnicodeError):
        return None


def _unclosed_quote(
    data: bytes, start: int, delimiter: str, records: int, scan: _Background[tuple[bool, bool]]
) -> dict[str, object] | None:
    """The finding for a CSV in data[start:] that ends inside a quoted value, or None.

    Only possible with an odd number of quote characters (``scan`` counted them). A quote is
    then added after a line break: if the file ended inside a quoted value, that quote closes
    it and the record count stays the same; otherwise it starts one more record.
    """
    if not scan.result()[0]:
        return None
    # The closing line break keeps pyarrow from failing on a file of one unended record.
    closed = data[start:] + (b'"\n' if data.endswith((b"\n", b"\r")) else b'\n"\n')
    try:
        if _count_records(pa.py_buffer(closed), delimiter) != records:
            return None
    except (pa.ArrowException, ValueError):
        return None
    return finding(
        Code.UNREADABLE,
        row=records,
        problem=f'row {records} opens a quoted value (a field starting with ") that is never '
        "closed, so the rest of the file would be read as one value",
        todo="close the quote or remove it",
    )


def _blank_mask(body: pa.Table) -> np.ndarray | None:
    """Rows whose every field is empty or whitespace; None when there is none."""
    if any(_never_blank(column) for column in body.columns):
        return None
    mask = None
    for column in body.columns:
        blank = pc.or_(pc.equal(pc.binary_length(column), 0), pc.utf8_is_space(column))
        mask = blank if mask is None else pc.and_(mask, blank)
        if not pc.any(mask).as_py():
            return None
    if mask is None:
        return None
    return mask.to_numpy(zero_copy_only=False).astype(bool)


def _never_blank(column: pa.ChunkedArray) -> bool:
    """Whether a column surely has no empty or whitespace value: none is empty and no byte can
    be part of a whitespace character (0.3 ms for 250,000 names, against 2 ms for
    utf8_is_space); False when that cannot be told so cheaply."""
    chunks = _chunk_bytes(column)
    if chunks is None:
        return False
    for text, offsets in chunks:
        if (offsets[1:] == offsets[:-1]).any() or _odd_bytes(text[offsets[0] : offsets[-1]]).any():
            return False
    return True


def _split_record(text: str, delimiter: str) -> list[str]:
    """The fields of one record's raw text, as the csv module splits them."""
    record = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    return [str(field) for field in record]


def _field_count(line: str, delimiter: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:
        return line.count(delimiter) + 1


def _first_line(data: bytes | str) -> str:
    """The first physical line of a file's start (bytes decoded as UTF-8, leniently)."""
    text = data[:_HEAD_SIZE]
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    found = _LINE_BREAK.search(text)
    return text[: found.start()] if found else text


def _head_line(data: bytes, options: _Options) -> str:
    """The file's first line as text (without a byte-order mark), in the encoding it is read in."""
    if options.encoding is None or options.utf8_named:  # sliced first: no copy of the file
        return _first_line(data[: len(_UTF8_BOM) + _HEAD_SIZE].removeprefix(_UTF8_BOM))
    head = data[:_HEAD_SIZE].removeprefix(_UTF8_BOM).decode(options.encoding, errors="replace")
    return _first_line(head.removeprefix("\ufeff"))


def _utf8_error(data: bytes) -> int | None:
    """The offset of the first byte that is not UTF-8, or None when all of it is."""
    if data.isascii():
        return None
    try:  # pyarrow's SIMD validation is several times faster than decoding
        offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
        array = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
        array.validate(full=True)
        return None
    except pa.ArrowInvalid:
        pass
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start
    return None  # pragma: no cover - pyarrow and Python agree on UTF-8


def _guess(sample: bytes) -> tuple[str | None, float | None, tuple[str, ...]]:
    """charset-normalizer's best guess for the bytes, its confidence and the runners-up."""
    matches = list(from_bytes(sample))
    if not matches:
        return None, None, ()
    best_chaos = matches[0].chaos
    tied = [match for match in matches if match.chaos <= best_chaos + 1e-9]
    names = [_codec_name(match.encoding) for match in tied]
    chosen = next((name for name in _PREFERRED_GUESSES if name in names), names[0])
    match = tied[names.index(chosen)]
    alternatives = tuple(dict.fromkeys(n for n in names if n != chosen))[:3]
    return chosen, round(1.0 - match.chaos, 3), alternatives


def _guess_around(data: bytes, error: int) -> EncodingGuess:
    """The guess for bytes that stop being UTF-8 at offset error, from the bytes around it
    (the first non-UTF-8 byte may be far into a large file)."""
    sample = data[max(0, error - _HEAD_SIZE) : error + 4 * _HEAD_SIZE]
    looks_like, confidence, alternatives = _guess(sample)
    bom = data.startswith(_UTF8_BOM)
    return EncodingGuess(
        False, looks_like or "unknown", bom, looks_like, confidence, alternatives, error
    )


def _guess_wide(data: bytes) -> EncodingGuess | None:
    """A UTF-16/32 guess for BOM-less bytes with NUL bytes in them, or None."""
    sample = data[: 4 * _HEAD_SIZE]
    if len(sample) % 2:
        sample = sample[:-1]
    match = from_bytes(sample).best()
    if match is None or not match.encoding.startswith(("utf_16", "utf_32")):
        return None
    name = _codec_name(match.encoding)
    return EncodingGuess(False, name, False, name, round(1.0 - match.chaos, 3))


def _codec_name(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:  # pragma: no cover - charset-normalizer only names Python codecs
        return name


def _not_utf8(guess: EncodingGuess, row: int | None) -> dict[str, object]:
    where = f" (the first byte that is not UTF-8 is in row {row})" if row is not None else ""
    if guess.looks_like is None:
        name, looks = (
            "cp1252",
            ", and its encoding could not be recognised (cp1252 is the usual one)",
        )
    else:
        name = guess.looks_like
        others = f" (or {', '.join(guess.alternatives)})" if guess.alternatives else ""
        looks = f"; it looks like {name}{others}"
    return finding(
        Code.NOT_UTF8, row=row, value=guess.looks_like, where=where, guess=looks, encoding=name
    )


def _file_too_large(size: int, max_rows: int, more: bool = False) -> dict[str, object]:
    return finding(
        Code.FILE_TOO_LARGE,
        row=1,
        value=str(size),
        size=f"{'more than ' if more else ''}{size:,}",
        max_bytes=MAX_FILE_BYTES,
        max_mib=MAX_FILE_BYTES // 2**20,
        max_rows=max_rows,
    )


def _line_too_long(row: int | None, length: int) -> dict[str, object]:
    where = f"Row {row} has" if row is not None else "The file has"
    return finding(
        Code.ROW_TOO_LONG,
        row=row,
        value=str(length),
        where=where,
        length=length,
        max_bytes=MAX_LINE_BYTES,
        max_mib=MAX_LINE_BYTES // 2**20,
    )


def _too_many_columns(columns: int, whole: bool) -> dict[str, object]:
    count = f"{columns:,}" if whole else f"more than {columns:,}"
    return finding(
        Code.TOO_MANY_COLUMNS,
        row=1,
        value=str(columns),
        count=count,
        max_columns=MAX_COLUMNS,
        needed=len(HEADERS),
    )


#: The line Excel writes (and reads) first to name a CSV's delimiter: ``sep=,``.
_SEP_LINE = re.compile(r'"?sep=.?"?[ \t]*', re.IGNORECASE)


def _excel_sep_line(first_line: str) -> dict[str, object] | None:
    """The finding for a file whose first line is Excel's ``sep=`` line, or None."""
    if _SEP_LINE.fullmatch(first_line) is None:
        return None
    return finding(Code.EXCEL_SEP_LINE, row=1, value=first_line, line=quoted(first_line))


def _empty_file() -> dict[str, object]:
    return finding(Code.EMPTY_FILE, row=1, what="The file")


def _nul_bytes(row: int | None) -> dict[str, object]:
    where = f" in row {row}" if row is not None else ""
    return finding(
        Code.UNREADABLE,
        row=row,
        problem=f"it has NUL bytes{where}, so it is not a text CSV file (it may be binary, or "
        "damaged)",
        todo='export the data again as "CSV UTF-8"',
    )


def _too_many_rows(max_rows: int) -> dict[str, object]:
    return finding(
        Code.TOO_MANY_ROWS,
        row=max_rows + 2,
        what="The file",
        count=f"more than {max_rows:,}",
        max_rows=max_rows,
    )


def _parse_failed(error: Exception) -> dict[str, object]:
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return finding(
        Code.UNREADABLE,
        problem=f"it cannot be parsed as CSV ({detail})",
        todo="check that it is a CSV file; if it is, open it in a spreadsheet and save it again "
        'as "CSV UTF-8"',
    )


def _unopenable(path: str | os.PathLike[str], error: OSError) -> CsvTable:
    reason = error.strerror or str(error)
    if isinstance(error, FileNotFoundError):
        problem, todo = f"there is no file at {os.fspath(path)!s}", "check the path"
    elif isinstance(error, IsADirectoryError):
        problem, todo = f"{os.fspath(path)!s} is a folder, not a file", "name the CSV file in it"
    else:
        problem = f"{os.fspath(path)!s} cannot be opened ({reason})"
        todo = "check that it exists and that you may read it"
    return _Outcome([finding(Code.UNREADABLE, problem=problem, todo=todo)]).table("", 0)


def _refuse_large(
    path: str | os.PathLike[str], stream: BinaryIO, options: _Options
) -> _Outcome | None:
    """For a large file: the head problems, or too many rows, found without loading it."""
    head = stream.read(_HEAD_SIZE)
    stop = _head_problems(head, options, whole=False)
    if stop is not None:
        return stop
    if options.encoding is None or options.utf8_named:
        line = _first_line(head.removeprefix(_UTF8_BOM))
    else:
        line = _first_line(head.decode(options.encoding, errors="replace"))
    sep_line = _excel_sep_line(line)
    if sep_line is not None:
        return _Outcome([sep_line])
    delimiter, wrong = _delimiter(line, options)
    if wrong:
        return _Outcome(wrong)
    limit = options.max_rows + 1
    encoding = None if options.encoding is None or options.utf8_named else options.encoding
    columns = _field_count(line, delimiter)
    try:
        over = _over_limit(os.fspath(path), delimiter, columns, limit, encoding)
    except (pa.ArrowException, ValueError, UnicodeError, TypeError):
        return None  # the full read reports what is wrong
    if over:
        return _Outcome([_too_many_rows(options.max_rows)])
    return None


def _hash_stream(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(_CHUNK_SIZE), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _empty_rows(columns: int) -> pd.DataFrame:
    frame = pd.DataFrame(
        {position: pd.Series([], dtype="str") for position in range(columns)},
        index=pd.Index([], dtype="int64", name="row"),
    )
    frame.columns = pd.RangeIndex(columns)
    return frame
