"""The catalogue of finding codes and the findings table that every credkit report is made of."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from credkit.defaults import MASK_CHARACTER, MASK_VISIBLE_DIGITS

Severity = Literal["error", "warning"]
Level = Literal["file", "columns", "row"]

#: The columns of every findings DataFrame, in order.
FINDING_COLUMNS = ["row", "column", "value", "code", "severity", "message"]


@dataclass(frozen=True)
class FindingKind:
    """One stable finding code: its severity, the level it is found at, and a short title."""

    code: str
    severity: Severity
    level: Level
    title: str


def _kinds(level: Level, severity: Severity, entries: dict[str, str]) -> list[FindingKind]:
    return [FindingKind(code, severity, level, title) for code, title in entries.items()]


_CATALOGUE_ENTRIES: list[FindingKind] = [
    *_kinds(
        "file",
        "error",
        {
            "not-utf8": "The file is not UTF-8",
            "wrong-delimiter": "The header splits on another delimiter than a comma",
            "empty-file": "The file is empty",
            "no-rows": "The file has a header but no data rows",
            "too-many-rows": "The file has more data rows than credkit accepts",
            "unreadable": "The file cannot be read as CSV",
            "not-a-file": "The path is a device, a socket or a pipe without a writer",
            "file-too-large": "The file has more bytes than credkit reads from one file",
            "row-too-long": "A row has more bytes than credkit reads in one row",
            "too-many-columns": "The header has more columns than credkit reads",
            "excel-sep-line": "The first line is Excel's sep= line, not the header",
            "sheet-not-found": "The Excel workbook has no sheet of that name",
        },
    ),
    *_kinds("row", "error", {"extra-fields": "A row has more fields than the header"}),
    *_kinds("row", "warning", {"blank-row": "A row is blank and was skipped"}),
    *_kinds(
        "columns",
        "warning",
        {
            "header-folded": "A header matched after folding case, spaces and punctuation",
            "unknown-column": "A column is not part of the credential CSV and is ignored",
            "xlsx-numbers": "Excel stored a column's cells as numbers: digits may be lost",
        },
    ),
    *_kinds(
        "columns",
        "error",
        {
            "header-suggestion": "A header is close to an expected one; accept the mapping to use it",
            "duplicate-column": "The same column appears twice",
            "missing-key-column": "No key column (User ID, External ID or Email)",
            "missing-credential-column": "No credential column (card, License Plate or Entry Code)",
            "missing-name-column": "A user file has no First Name or Last Name column",
        },
    ),
    *_kinds(
        "row",
        "error",
        {
            "missing-key": "The row has no key to pick its user",
            "unknown-user": "No user has the row's key",
            "keys-disagree": "The row's keys name different users",
            "no-credential": "The row names no credential",
            "multiple-credentials": "The row names more than one credential",
            "unknown-card-type": "The card type is not in the registry",
            "facility-code-required": "The card format needs a facility code",
            "facility-code-not-allowed": "The card format has no facility code",
            "facility-code-range": "The facility code is outside the format's range",
            "card-number-range": "The card number is outside the format's range",
            "not-digits": "The value must be digits only",
            "scientific-notation": "Excel has turned the number into scientific notation",
            "hex-invalid": "The hex value is not valid for the card format",
            "hex-parity": "The hex frame's parity bits are wrong",
            "hex-mismatch": "The hex value disagrees with the facility code or card number",
            "hex-byte-order": "The hex serial number is the card number in reversed byte order",
            "plate-invalid": "The license plate is not 2 to 10 letters or digits",
            "entry-code-invalid": "The entry code is not 4 to 16 digits",
            "entry-code-leading-zeros": "The entry code looks like it lost leading zeros",
            "status-invalid": "The credential status is not Active or Inactive",
            "modified-invalid": "The Modified time is not in a recognised form",
            "stale": "The directory changed this credential after the row was exported",
            "duplicate-in-file": "The same credential appears earlier in the file",
            "assigned-to-other-user": "The credential belongs to another user",
            "entry-code-in-use": "The entry code belongs to another user",
            "missing-name": "A user row has an empty First Name or Last Name",
            "email-invalid": "The email address is not valid",
            "user-conflict": "Another user already has this External ID or Email",
            "field-too-long": "The value is longer than the directory can store",
            "hex-old-form": "The hex value is the card number in hex, the form used before "
            "the format had a layout; the hex is now the whole frame",
            "user-status-invalid": "The user status is not Active or Suspended",
            "write-refused": "The directory refused the row's write: it changed since the plan",
        },
    ),
    *_kinds(
        "row",
        "warning",
        {
            "key-unmatched": "A lower-ranked key matches no user",
            "name-mismatch": "The name differs from the directory's",
            "card-type-alias": "The card type is an alias or non-canonical spelling",
            "hex-prefix": "The hex value had a 0x prefix or spaces",
            "plate-normalized": "The license plate was normalised",
            "entry-code-replaced": "The user's entry code will be replaced",
            "email-lookalike": "The email has look-alike characters (fullwidth, ligatures, ...)",
            "hex-leading-zeros": "The hex value has more leading zeros than the format's width",
            "modified-in-future": "The Modified time is in the future",
            "card-type-candidates": "A frame without a Card Type: the formats it can be",
            "hex-other-format": "The frame's parity fails for its Card Type but holds for another",
            "profile-value-changed": "A source profile changed a value (the original is kept)",
            "profile-row-skipped": "A source profile skipped a row it cannot carry over",
            "profile-row-split": "A source row holds several credentials, one output row each",
            "profile-no-card": "A source value that means no card was not carried over",
            "entry-code-withheld": "Entry codes are withheld from this login: not checked "
            "against the directory",
        },
    ),
]

#: Every finding code credkit produces, by code. Codes are stable: never rename one.
CATALOGUE: dict[str, FindingKind] = {kind.code: kind for kind in _CATALOGUE_ENTRIES}

#: The codes as a string enum (``Code.HEX_PARITY == "hex-parity"``), so that a misspelt code
#: fails when the module that uses it is imported, not when the rule first fires.
Code = StrEnum("Code", {code.upper().replace("-", "_"): code for code in CATALOGUE})

# Message templates, by code: ``str.format`` fields filled with the values a rule passes
# (``message(Code.X, value=...)``). Rules pass values, never text. Values that quote a cell go
# through ``quoted`` before they are passed. A code without a template here still takes a
# finished message (being moved: ``finding(..., text=...)``, transitional).

#: Templates of the row rules (credkit/rules). A code with more than one wording has one
#: template per variant, keyed ``code:variant`` (the finding's code is the part before ":").
_RULE_TEMPLATES: dict[str, str] = {
    # fields
    "not-digits": "{column} must be digits only, not {value}",
    "scientific-notation": "{column} {value} is in scientific notation: Excel has already lost "
    "digits. Re-export the source with the column formatted as Text",
    "hex-invalid": "{column} {value} is not hexadecimal",
    "plate-invalid": "License Plate {value} must be 2 to 10 letters or digits (spaces and "
    "hyphens removed)",
    "entry-code-invalid": "Entry Code {value} must be 4 to 16 digits",
    "entry-code-leading-zeros": "Entry Code {value} has fewer than 4 digits: it probably lost "
    "leading zeros (format the column as Text before saving)",
    "status-invalid": "Credential Status {value} must be Active or Inactive",
    "modified-invalid": "Modified {value} is not ISO 8601 (2026-11-25T14:03:00Z) or "
    "MM/DD/YYYY HH:MM[:SS] [AM|PM]",
    "modified-in-future": "Modified {written} is in the future, so this row can never be found "
    "stale: check the time (and the clock of the system that wrote it); an export writes the "
    "time of the last change",
    "field-too-long": "{header} is {length} characters long; the directory stores at most "
    "{limit}: shorten it",
    # keys
    "missing-key": "The row has no User ID, External ID or Email to find its user",
    "unknown-user": "No user has {key} {written}; a credential import never creates users",
    "unknown-user:removed": "The row's user was removed from the directory after the review",
    "keys-disagree": "{key} {written} belongs to a different user than the {chosen} of this row",
    "key-unmatched": "{key} {written} matches no user; the row's {chosen} picked its user",
    "name-mismatch": "{header} {written} differs from the directory's {directory}",
    "email-lookalike": "Email {written} has look-alike characters ({characters}); it matches "
    "only an email written with them",
    # credentials
    "no-credential": "The row names no credential: fill Card Type with Card Number or Card "
    "Number Hex, or License Plate, or Entry Code",
    "no-credential:card": "Card Type needs a Card Number or a Card Number Hex",
    "multiple-credentials": "The row names {named}; put each credential on a row of its own",
    "plate-normalized": "License Plate {written} is stored as {stored}",
    # cards
    "unknown-card-type": "Card Type {written} is not a known card format{hint} (see "
    "`credkit formats`)",
    "unknown-card-type:empty": "Card Type is empty: name the card format (see `credkit formats`)",
    "card-type-alias": "Card Type {written} is read as {canonical}",
    "hex-prefix": "Card Number Hex {written} is read as {cleaned}",
    "hex-invalid:no-digits": "Card Number Hex {written} has no hex digits, only a 0x prefix or "
    "spaces: write the card's hex value, or leave the cell empty",
    "hex-invalid:too-wide": "Card Number Hex is wider than {format}'s {bits} bits ({digits} hex "
    "digits)",
    "hex-leading-zeros": "Card Number Hex {written} has more digits than {format}'s {digits} hex "
    "digits; the extra ones are leading zeros and it is read as {read}",
    "facility-code-required": "{format} cards need a Facility Code",
    "facility-code-not-allowed": "{format} cards have no facility code; leave Facility Code empty",
    "facility-code-range": "Facility Code must be 0 to {max} for {format}",
    "card-number-range": "Card Number must be 0 to {max} for {format}",
    "hex-parity": "Card Number Hex is not a valid {format} frame: its parity bits are wrong (a "
    "digit was mistyped or the frame belongs to another format)",
    "hex-mismatch": "Card Number Hex decodes to facility code {facility} and card number "
    "{number}, not the row's Facility Code and Card Number",
    "hex-mismatch:serial": "Card Number Hex is {number} in decimal, not the row's Card Number",
    "hex-byte-order": "Card Number Hex is the Card Number with its bytes in reverse order: the "
    "reader that produced one of them reads the serial number the other way round",
    "hex-old-form": "Card Number Hex {written} is the Card Number in hexadecimal, the form used "
    "before credkit knew {format}'s layout; Card Number Hex is now the whole frame: write the "
    "frame {frame} instead",
    "hex-old-form:no-frame": "Card Number Hex {written} is the Card Number in hexadecimal, the "
    "form used before credkit knew {format}'s layout; Card Number Hex is now the whole frame: "
    "the frame cannot be computed ({reason})",
    # ownership
    "assigned-to-other-user": "{credential} belongs to another user (User ID {owner}); import "
    "with reassign to move it to this row's user",
    "entry-code-in-use": "{credential} belongs to another user (User ID {owner}); import with "
    "reassign to move it to this row's user",
    "stale": "The directory changed this credential at {changed}, after this row's Modified; "
    "export again, or overwrite newer changes",
    "entry-code-replaced": "The user's current entry code will be replaced by this one",
    # duplicates
    "duplicate-in-file": "{credential} is already on row {first}",
    "duplicate-in-file:entry-code": "This user already gets an entry code on row {first}",
}

#: Templates of reading the file, its columns, the import, users and conversion. A field that
#: quotes a cell is passed through ``quoted``; ``{problem}``/``{todo}``-style fields are the part
#: that varies between the ways one code arises (say what is wrong, then what to do).
_OTHER_TEMPLATES: dict[str, str] = {
    # reading the file (credkit/reading.py, credkit/workbook.py)
    "not-utf8": 'The file is not UTF-8{where}{guess}. Re-save it as "CSV UTF-8", or read it '
    'again naming its encoding: encoding="{encoding}" (on the command line --encoding '
    "{encoding}).",
    "wrong-delimiter": "The header row splits on {delimiter_name}, not commas. Re-save the file "
    'as "CSV UTF-8" (comma-delimited), or read it again naming the delimiter: '
    'delimiter="{spelled}" (on the command line --delimiter {command_line}).',
    "empty-file": "{what} is empty: it needs a header row and one row per credential.",
    "no-rows": "{what} has a header row but {rows}: add one row per credential under it.",
    "too-many-rows": "{what} has {count} data rows; credkit reads at most {max_rows:,} from one "
    "file. Split it into files of at most {max_rows:,} rows, each with the header row.",
    "unreadable": "The file cannot be read: {problem}; {todo}, then read it again.",
    "not-a-file": "{path} is {kind}, not a CSV file ({why}): {todo}.",
    "file-too-large": "The file has {size} bytes; credkit reads at most {max_bytes:,} bytes "
    "({max_mib} MiB) from one file, far more than {max_rows:,} credential rows need. Check that "
    "it is the right file; split a larger one into files of at most {max_rows:,} rows, each with "
    "the header row.",
    "row-too-long": "{where} a line of {length:,} bytes; credkit reads lines of at most "
    "{max_bytes:,} bytes ({max_mib} MiB), far more than any credential row needs. The file is "
    "damaged or not a credential file (a value that long is no credential): fix or remove that "
    "row, then read the file again.",
    "too-many-columns": "The header row has {count} columns; credkit reads at most "
    "{max_columns:,} (the most a spreadsheet has), and a credential file needs {needed}. Remove "
    "the columns that are not credential columns (or export only those), then read the file "
    "again.",
    "excel-sep-line": "Row 1 is {line}, a line Excel adds to name the delimiter, not the header "
    "row. Delete that first line so that the header is row 1 (or save the file again as "
    '"CSV UTF-8"), then read the file again.',
    "sheet-not-found": "The workbook has no sheet {sheet}; its sheets are {sheets}: name one of "
    "them.",
    "extra-fields": "Row {row} has {fields} fields but the header has {columns}; the extra "
    "{dropped} dropped. A value probably contains an unquoted delimiter: put that value in "
    "double quotes.",
    "blank-row": "Row {row} is blank and was skipped.",
    "xlsx-numbers": "Excel stored {written} as numbers ({where}): they are read as plain digits, "
    "but leading zeros and any digits past the 15th may already be lost; format the column as "
    "Text in Excel and enter them again.",
    # the columns (credkit/columns.py, credkit/users.py)
    "header-folded": "Column {written} is read as {target!r}",
    "unknown-column": "Column {written} is not a {kind} column and is ignored",
    "header-suggestion": "Column {written} looks like {suggestion!r}; accept the mapping "
    "({mapping}) to use it, or rename the column",
    "duplicate-column": "Column {written} repeats {target!r} (columns {first} and {second}); "
    "remove one of them",
    "missing-key-column": "The file needs a key column to find each row's user: {keys}",
    "missing-credential-column": "The file needs a credential column: Card Type with Card Number "
    "or Card Number Hex, License Plate, or Entry Code",
    "missing-name-column": "The file has no {header} column: add it, with each user's {header}",
    # the user import (credkit/users.py)
    "missing-name": "{header} is empty: every user needs a First Name and a Last Name",
    "email-invalid": "{email} is not an email address: correct it, or leave the cell empty",
    "user-conflict": "Another user already has this External ID or Email: correct the row, or "
    "update that user instead",
    "user-status-invalid": "User Status {written} is neither Active nor Suspended: write one of "
    "them, or leave the cell empty",
    "write-refused": "The directory refused the row (changed since the plan?): {detail}; review "
    "the file again",
    # frame hints (credkit/frame_hints.py)
    "card-type-candidates": "Card Number Hex {hex} can be a frame of: {candidates} (best first; "
    "see `credkit decode {hex_digits}`)",
    "hex-other-format": "Card Number Hex {hex} fails {card_type}'s parity but is a valid frame "
    "of: {candidates}; is the Card Type right?",
    # migration profiles (credkit/conversion.py)
    "profile-value-changed": "{source} is read as {result}",
    "profile-row-skipped": "Row {row} is skipped: {column} is {written}, {reason}",
    "profile-row-split": "Row {row} holds {count} credentials, written as output rows {first} to "
    "{last}; findings about them name row {row}, credential 1 of {count} and so on",
    "profile-no-card": "Row {row}: card number {number} means no card in {system}; no card is "
    "carried over{rest}",
    # the review (credkit/review.py)
    "entry-code-withheld": "The directory withholds entry codes from your login, so whether this "
    "one is in use, or replaces the user's, was not checked; a manager's import checks it",
}

TEMPLATES: dict[str, str] = {**_RULE_TEMPLATES, **_OTHER_TEMPLATES}


def message(code: str, **values: object) -> str:
    """The message of a finding of this code, from its catalogued template and the values."""
    return TEMPLATES[code].format(**values)  # KeyError: an uncatalogued code or template


def finding(
    code: str,
    /,
    *,
    row: int | None = None,
    column: str | None = None,
    value: str | None = None,
    text: str | None = None,
    **values: object,
) -> dict[str, object]:
    """One finding as a record: the catalogue gives its severity and, from ``values``, its
    message (``finding(Code.BLANK_ROW, row=7)``; ``row``, ``column`` and ``value`` fill the
    template's fields of those names too).

    ``text`` is transitional, for the codes whose templates the rules package has not written
    yet (the user import's ``keys-disagree``, ``duplicate-in-file``, ``missing-key`` and
    ``email-lookalike``): a finished message, used as it is. Nothing else may pass one.
    """
    kind = CATALOGUE[code]  # a KeyError here is a programming fault: an uncatalogued code
    if text is None:
        text = message(code, row=row, column=column, value=value, **values)
    return {
        "row": row,
        "column": column,
        "value": value,
        "code": code,
        "severity": kind.severity,
        "message": text,
    }


def findings_frame(
    records: Iterable[Mapping[str, object]] | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """A findings DataFrame with the standard columns and types, sorted by row."""
    if records is None:  # a copy of the one empty frame: making it cost ~1 ms, each rule's
        return _no_findings().copy()  # that finds nothing, and the edit of a clean row
    frame = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records or ()))
    size = len(frame)
    row = frame["row"] if "row" in frame.columns else [None] * size
    columns: dict[str, object] = {"row": pd.array(row, dtype="Int64")}
    for name in FINDING_COLUMNS[1:]:
        given = frame[name] if name in frame.columns else None
        if name == "message":
            columns[name] = _arrow_texts(given, size, None)
        elif name == "value":
            columns[name] = _values(given, size)
        else:
            columns[name] = _texts(given, size)
    return object_frame(_sorted_by_row(columns, release=size >= _RELEASE_AFTER))


@functools.cache
def _no_findings() -> pd.DataFrame:
    return findings_frame(())


#: From this many findings, findings_frame hands the memory Arrow freed back to the system.
_RELEASE_AFTER = 20_000


#: A findings frame keeps its messages as Arrow strings (pandas' "str"; a message is never
#: missing), the one text that every finding has its own copy of: as Python strings, 250,000
#: findings' messages and long values took 170-180 MB of a review's peak. Values stay Python
#: objects (None where missing, as every reader expects), shortened before they become them.
_ARROW_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


def _values(column: pd.Series | None, size: int) -> np.ndarray:
    """The value column as objects (None where missing), each shortened to VALUE_LENGTH:
    a column of Arrow strings is shortened there, so that no long text becomes a Python one."""
    if column is None or pd.api.types.is_object_dtype(column.dtype):
        return _shortened_values(_texts(column, size))
    texts = _arrow_texts(column, size, VALUE_LENGTH)
    if isinstance(texts, np.ndarray):  # not text: _arrow_texts shortened it as objects
        return texts
    return _texts(pd.Series(texts, copy=False), size)


def _arrow_texts(column: pd.Series | None, size: int, limit: int | None) -> object:
    """A column as Arrow strings, each shortened to limit characters; an object array (as
    _texts) where it holds anything but text."""
    if column is None:
        return pd.array(pa.nulls(size, pa.string()), dtype=_ARROW_TEXT)
    values = arrow_texts([column])
    if values is None:
        values = _texts(column, size)
        return _shortened_values(values) if limit else values
    if limit is not None and len(values):
        lengths = pc.utf8_length(values)
        too_long = pc.greater(lengths, limit)
        if pc.any(too_long).as_py():
            cut = pc.utf8_replace_slice(values, start=limit - 1, stop=2**31 - 1, replacement="…")
            values = pc.if_else(too_long, cut, values)
    return pd.array(values, dtype=_ARROW_TEXT)


def arrow_texts(pieces: list[object]) -> pa.ChunkedArray | None:
    """Columns of text (Series, pandas arrays, object arrays; None or NaN where missing)
    joined as one Arrow string array (in chunks: joining them would copy every text); None
    when any piece holds something else than text."""
    arrays = []
    for piece in pieces:
        dtype = getattr(piece, "dtype", None)
        if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
            array = pa.array(getattr(piece, "array", piece))
        elif pd.api.types.infer_dtype(piece, skipna=True) in ("string", "empty"):
            objects = piece.to_numpy(dtype=object) if hasattr(piece, "to_numpy") else piece
            array = pa.array(objects, type=pa.string(), from_pandas=True)
        else:
            return None
        arrays.extend(array.chunks if isinstance(array, pa.ChunkedArray) else [array])
    arrays = [a if a.type == pa.string() else a.cast(pa.string()) for a in arrays]
    return pa.chunked_array(arrays, pa.string())


_FINDING_LABELS = pd.Index(FINDING_COLUMNS)  # immutable, so shared by every findings frame


def object_frame(columns: dict[str, object]) -> pd.DataFrame:
    """A DataFrame of these columns (equally long arrays), object arrays kept as object (not
    inferred as str).

    The object columns are laid out as one block and the others set into it: a DataFrame built
    from a dict of Series cost half a millisecond, most of an edit's findings_frame.
    """
    names = list(columns)
    size = len(next(iter(columns.values()))) if columns else 0
    block = np.empty((size, len(names)), dtype=object)
    others = {}
    for at, (name, values) in enumerate(columns.items()):
        if isinstance(values, np.ndarray) and values.dtype == object:
            block[:, at] = values
        else:
            others[name] = values
    labels = _FINDING_LABELS if names == FINDING_COLUMNS else pd.Index(names)
    frame = pd.DataFrame(block, columns=labels, dtype=object, copy=False)
    for name, values in others.items():
        frame[name] = values
    return frame


def _texts(column: pd.Series | None, size: int) -> np.ndarray:
    """A column as an object array, None wherever a value is missing."""
    if column is None:
        return np.full(size, None, dtype=object)
    if not pd.api.types.is_object_dtype(column.dtype):
        # one Python string for each distinct text (a column name, a code), not one per row
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        texts = np.append(np.asarray(uniques, dtype=object), None)
        return texts[codes]  # code -1, a missing value: the None at the end
    values = column.to_numpy(dtype=object, copy=True)
    missing = pd.isna(values)
    if missing.any():
        values[missing] = None
    return values


def _shortened_values(values: np.ndarray) -> np.ndarray:
    """shortened() on each value, touching only the strings over the limit."""
    long = [
        at
        for at, value in enumerate(values.tolist())
        if isinstance(value, str) and len(value) > VALUE_LENGTH
    ]
    for at in long:
        values[at] = shortened(values[at])
    return values


def _sorted_by_row(columns: dict[str, object], release: bool) -> dict[str, object]:
    """The columns in row order (stable, missing rows first), as sort_values sorts them.

    With release, Arrow's allocator hands back what each column's copies freed before the
    next column is sorted: it keeps freed memory otherwise, and the texts of 250,000 findings
    sorted all at once (each chunked column joined, then taken) added 100 MB to a review's peak.
    """
    keys = columns["row"].to_numpy(dtype="float64", na_value=-np.inf)
    if len(keys) > 1 and not (keys[1:] >= keys[:-1]).all():
        order = np.argsort(keys, kind="stable")
        for name, values in columns.items():
            columns[name] = values[order] if isinstance(values, np.ndarray) else values.take(order)
            if release:
                pa.default_memory_pool().release_unused()
    elif release:
        pa.default_memory_pool().release_unused()
    return columns


#: How much of a value a message quotes, and how much the value column keeps.
QUOTED_LENGTH = 40
VALUE_LENGTH = 100


def quoted(value: object, limit: int = QUOTED_LENGTH) -> str:
    """A value as a message quotes it: repr'd (so invisible characters show), and shortened,
    because a 10 MB cell must not make a 10 MB message."""
    text = str(value)
    return (
        repr(text) if len(text) <= limit else repr(text[:limit]) + f"… ({len(text):,} characters)"
    )


def shortened(value: object, limit: int = VALUE_LENGTH) -> object:
    """A finding's value, cut to limit characters, the last one an ellipsis.

    Idempotent: a shortened value is not cut again, so that every findings_frame that a
    finding passes through does not make another copy of each long value.
    """
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def mask_entry_code(value: object) -> str:
    """An entry code as reports show it: all but the last digits replaced by dots (``••••56``)."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    if not text:
        return text
    tail = text[-MASK_VISIBLE_DIGITS:] if len(text) > MASK_VISIBLE_DIGITS else ""
    visible = tail if tail.isascii() and tail.isdigit() else ""  # never a control character
    return MASK_CHARACTER * 4 + visible


def has_errors(findings: pd.DataFrame) -> bool:
    """Whether any finding in the frame is an error."""
    return bool((findings["severity"] == "error").any())


def catalogue_table() -> pd.DataFrame:
    """The catalogue as a table (code, severity, level, title, message template), for
    ``credkit codes`` and the documentation."""
    return pd.DataFrame(
        [
            (k.code, k.severity, k.level, k.title, TEMPLATES.get(k.code, ""))
            for k in CATALOGUE.values()
        ],
        columns=["code", "severity", "level", "title", "template"],
    )
