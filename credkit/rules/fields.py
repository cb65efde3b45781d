"""Field rules, each field on its own (the checks of CredentialRow, normalisers, lengths): not-digits,
scientific-notation, hex-invalid, plate-invalid, entry-code-invalid, entry-code-leading-zeros,
status-invalid, modified-invalid, modified-in-future, field-too-long."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute as pc
import sqlalchemy as sa

from credkit.directory import users
from credkit.findings import (
    FINDING_COLUMNS,
    TEMPLATES,
    Code,
    findings_frame,
    mask_entry_code,
    object_frame,
    quoted,
)
from credkit.rules.builder import FindingsBuilder
from credkit.rules.columnar import (
    arrow_text,
    byte_lengths,
    contains,
    matches,
    one_array,
    truth,
)

if TYPE_CHECKING:  # the card rules' checks of the card cells (that module imports this one)
    from credkit.rules.cards import CardCellShapes

# Every check is vectorised (a whole column at once): at 250,000 rows an element-wise
# check costs seconds. Empty cells pass every check here; which fields a row needs is a
# cross-field rule (credkit.rules), not a per-field one.

SCIENTIFIC = r"^[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+$"
HEX_NOISE = re.compile(r"^\s*0[xX]|\s+")  # the prefix and spaces a hex value may carry
PLATE_SEPARATORS = r"[\s\-]+"
MODIFIED_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
)


def normalize_plate(plates: pd.Series) -> pd.Series:
    """License plates as stored: upper case, without spaces and hyphens."""
    return _rewrite(
        plates,
        r"[\s\-a-z]",
        lambda part: part.str.replace(PLATE_SEPARATORS, "", regex=True).str.upper(),
    )


def strip_hex_noise(hex_values: pd.Series) -> pd.Series:
    """Hex values without a ``0x`` prefix and spaces, upper case."""
    return _rewrite(
        hex_values,
        r"[\sxXa-f]",
        lambda part: part.str.replace(HEX_NOISE, "", regex=True).str.upper(),
    )


def _rewrite(values: pd.Series, needs: str, rewrite: Callable[[pd.Series], pd.Series]) -> pd.Series:
    # pandas runs a regex replace one Python call per value; a regex search is vectorised.
    # Most values need no rewriting, so rewrite only those that do.
    affected = contains(values, needs)
    if not affected.any():
        return values
    result = values.copy()
    result[affected] = rewrite(values[affected])
    return result


def parse_modified(values: pd.Series) -> pd.Series:
    """Modified times as UTC timestamps (NaT where empty or not a recognised form).

    ISO 8601 first (no offset means UTC), then the forms Excel writes (``MM/DD/YYYY HH:MM``).
    """
    # The two forms nearly every file holds, in their exact shapes, Arrow parses (as pandas
    # does, and with the same impossible times left NaT); everything else (other ISO forms,
    # AM/PM, nonsense) pandas parses as before, but for what no form can read. 11 ms at 250,000
    # rows where pandas alone took 45 ms.
    text = arrow_text(values)
    lengths = byte_lengths(text)
    stamps = np.full(len(text), _NAT, dtype=np.int64)  # microseconds
    by_arrow = np.zeros(len(text), dtype=bool)
    settled = np.zeros(len(text), dtype=bool)  # parsed by Arrow, or sure to be NaT
    for length, shape, parse, failure_is_final in _EXACT_MODIFIED_FORMS:
        at = np.flatnonzero(lengths == length)  # a cheap sieve before the shape
        candidates = one_array(text.take(at))
        fits = _fits(candidates, shape)
        at = at[fits]
        parsed, ok = parse(candidates if fits.all() else candidates.filter(fits))
        stamps[at[ok]] = parsed[ok]
        by_arrow[at[ok]] = True
        settled[at if failure_is_final else at[ok]] = True
    if not by_arrow.any():
        return _parse_modified_by_pandas(values)
    # pandas' unit for the whole column: microseconds once its ISO 8601 pass parses anything,
    # else seconds (the Excel forms hold whole seconds, and so does a column of NaT);
    # nanoseconds (rare) only pandas gives.
    iso = bool(by_arrow[lengths == _ISO_LENGTH].any())
    unit = "us" if iso else "s"
    rest = np.flatnonzero(~settled & (lengths > 0))
    rest = rest[matches(text.take(rest), _MAY_BE_A_TIME)]
    if len(rest):
        parsed = _parse_modified_by_pandas(values.iloc[rest])
        if parsed.dtype.unit == "ns":
            return _parse_modified_by_pandas(values)
        unit = "us" if iso else parsed.dtype.unit
        stamps[rest] = parsed.dt.as_unit("us").dt.tz_localize(None).to_numpy().view(np.int64)
    naive = pd.Series(stamps.view("M8[us]"), index=values.index, name=values.name)
    return naive.dt.tz_localize("UTC").dt.as_unit(unit)


#: What a text pandas could read as a time holds: a digit (pandas' formats take any Unicode
#: digit, its ISO 8601 form ASCII ones), or the words "now" and "today" it reads as times.
#: Any other text ("yesterday") is NaT without asking pandas (five parses, ~5 ms).
_MAY_BE_A_TIME = r"\p{Nd}|(?i:now|today)"


def _fits(text: pyarrow.Array, shape: str) -> np.ndarray:
    """Which texts, all of the shape's byte length and none missing, are of the shape: "0" for
    any ASCII digit, "1" for 1-9, any other character itself. The bytes are compared as one
    numpy table (a row a text) where RE2 took three times as long (1 against 3 ms for 57,000)."""
    width = len(shape)
    if not len(text):
        return np.zeros(0, dtype=bool)
    offsets_type = np.int64 if pyarrow.types.is_large_string(text.type) else np.int32
    offsets = np.frombuffer(text.buffers()[1], dtype=offsets_type)[text.offset :]
    first = int(offsets[0])
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)[first : first + width * len(text)]
    table = data.reshape(len(text), width)
    low, high = _SHAPE_BOUNDS[shape]
    return ((table >= low) & (table <= high)).all(axis=1)


def _bounds(shape: str) -> tuple[np.ndarray, np.ndarray]:
    """Each position's lowest and highest byte in a shape of _fits."""
    low = np.array([ord(c) for c in shape], dtype=np.uint8)  # "0" and "1" are their own
    high = np.array([ord("9") if c in "01" else ord(c) for c in shape], dtype=np.uint8)
    return low, high


def _iso_utc(text: pyarrow.Array) -> tuple[np.ndarray, np.ndarray]:
    """Times (microseconds) of YYYY-MM-DDTHH:MM:SSZ texts, and which are valid: Arrow's ISO
    8601 cast is strict (an impossible time fails it, and then all are left to pandas)."""
    try:
        stamps = pc.cast(text, pyarrow.timestamp("us", tz="UTC"))
    except pyarrow.ArrowInvalid:
        return np.zeros(len(text), dtype=np.int64), np.zeros(len(text), dtype=bool)
    return _microseconds(stamps), np.ones(len(text), dtype=bool)


def _excel_minutes(text: pyarrow.Array) -> tuple[np.ndarray, np.ndarray]:
    """Times (microseconds) of MM/DD/YYYY HH:MM texts, and which are valid: strptime takes any
    day to 31 and carries it into the next month (February 30 is March 2) where pandas finds no
    time, so a time whose day is not the one written is not valid."""
    stamps = pc.strptime(text, format="%m/%d/%Y %H:%M", unit="us", error_is_null=True)
    written_day = pc.cast(pc.utf8_slice_codeunits(text, 3, 5), pyarrow.int64())
    return _microseconds(stamps), truth(pc.equal(pc.day(stamps), written_day))


def _microseconds(stamps: pyarrow.Array) -> np.ndarray:
    return pc.fill_null(stamps.cast(pyarrow.int64()), _NAT).to_numpy(zero_copy_only=False)


_NAT = np.iinfo(np.int64).min
_ISO_LENGTH = 20
#: The exact shapes of the two usual Modified forms (byte length, shape for _fits, parser, and
#: whether a text of the shape that the parser fails is NaT): ISO 8601 in UTC to the second
#: (Arrow's cast fails all texts for one impossible time: pandas reads them), and Excel's
#: MM/DD/YYYY HH:MM (years from 1000, as pandas reads them; Arrow and pandas were found to
#: read and fail the same of 300,000 such texts, every month, day, hour and minute 00-99).
_EXACT_MODIFIED_FORMS = (
    (_ISO_LENGTH, "0000-00-00T00:00:00Z", _iso_utc, False),
    (16, "00/00/1000 00:00", _excel_minutes, True),
)
_SHAPE_BOUNDS = {shape: _bounds(shape) for _, shape, _, _ in _EXACT_MODIFIED_FORMS}


def _parse_modified_by_pandas(values: pd.Series) -> pd.Series:
    """parse_modified of any values, by pandas: one to_datetime for each form in turn."""
    text = values.str.strip()
    given = text != ""
    everything = bool(given.all())
    if not everything:  # only the cells that hold something are parsed (an empty one is NaT)
        text = text[given]
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    for excel_format in MODIFIED_FORMATS:
        missing = parsed.isna() & (text != "")
        if not missing.any():
            break
        parsed = parsed.where(
            ~missing, pd.to_datetime(text[missing], format=excel_format, utc=True, errors="coerce")
        )
    if everything:
        return parsed
    at = np.where(given.to_numpy(dtype=bool), np.cumsum(given.to_numpy(dtype=bool)) - 1, -1)
    return pd.Series(parsed.array.take(at, allow_fill=True), index=values.index, name=values.name)


def digits_only(values: pd.Series) -> pd.Series:
    """Empty, or decimal digits; scientific notation is left to its own check."""
    return values.str.fullmatch(r"[0-9]*") | values.str.fullmatch(SCIENTIFIC)


def not_scientific(values: pd.Series) -> pd.Series:
    """Not a number Excel has turned into scientific notation (it lost digits doing so)."""
    return ~values.str.fullmatch(SCIENTIFIC)


def hex_digits(values: pd.Series) -> pd.Series:
    """Empty, or hexadecimal digits once a 0x prefix and spaces are removed."""
    return strip_hex_noise(values).str.fullmatch(r"[0-9A-F]*")


def license_plate(values: pd.Series) -> pd.Series:
    """Empty, or 2 to 10 letters or digits once normalised."""
    normalised = normalize_plate(values)
    return (values == "") | normalised.str.fullmatch(r"[A-Z0-9]{2,10}")


def entry_code(values: pd.Series) -> pd.Series:
    """Empty, or 4 to 16 digits (a shorter all-digit code is left to its own check)."""
    return values.str.fullmatch(r"([0-9]{4,16})?") | values.str.fullmatch(r"[0-9]{1,3}")


def entry_code_length(values: pd.Series) -> pd.Series:
    """Not 1 to 3 digits: a code that short has usually lost its leading zeros."""
    return ~values.str.fullmatch(r"[0-9]{1,3}")


def credential_status(values: pd.Series) -> pd.Series:
    """Empty, Active or Inactive, in any case."""
    return values.str.lower().isin(["", "active", "inactive"])


def modified_time(values: pd.Series) -> pd.Series:
    """Empty, ISO 8601, or MM/DD/YYYY HH:MM[:SS] [AM|PM]."""
    return (values.str.strip() == "") | parse_modified(values).notna()


FIELD_CHECKS = (
    digits_only,
    not_scientific,
    hex_digits,
    license_plate,
    entry_code,
    entry_code_length,
    credential_status,
    modified_time,
)

#: Each column's checks, by name, in the order the pandera model CredentialRow (credkit.schema)
#: declares them; a test holds the two equal. Kept here as data so that a review never imports
#: pandera (a quarter of a second of every `credkit review`), which it does not run.
COLUMN_CHECKS: dict[str, tuple[str, ...]] = {
    "First Name": (),
    "Last Name": (),
    "User ID": (),
    "External ID": (),
    "Employee ID": (),
    "Email": (),
    "Card Type": (),
    "Facility Code": ("digits_only", "not_scientific"),
    "Card Number": ("digits_only", "not_scientific"),
    "Card Number Hex": ("hex_digits",),
    "License Plate": ("license_plate",),
    "Entry Code": ("entry_code", "entry_code_length"),
    "Credential Status": ("credential_status",),
    "Modified": ("modified_time",),
}


#: Which finding each check's failure becomes (its message is the code's template).
CHECK_FINDINGS = {
    "digits_only": Code.NOT_DIGITS,
    "not_scientific": Code.SCIENTIFIC_NOTATION,
    "hex_digits": Code.HEX_INVALID,
    "license_plate": Code.PLATE_INVALID,
    "entry_code": Code.ENTRY_CODE_INVALID,
    "entry_code_length": Code.ENTRY_CODE_LEADING_ZEROS,
    "credential_status": Code.STATUS_INVALID,
    "modified_time": Code.MODIFIED_INVALID,
}


def field_findings(
    rows: pd.DataFrame,
    modified: pd.Series | None = None,
    shapes: CardCellShapes | None = None,
) -> pd.DataFrame:
    """Check rows (all 14 columns, text) against CredentialRow's per-field rules; each failing
    cell becomes a finding at the row's number. ``modified``: parse_modified of the rows'
    Modified, and ``shapes``: which card cells are digits (credkit.rules.cards.CardCellShapes),
    when the caller has them already (each found once for the field and the card rules).

    The checks are CredentialRow's own, column by column in the model's order, but run as Arrow
    kernels (RE2 regexes on the columns' Arrow text, the same patterns pandas runs there), each
    column's patterns once for all its checks: pandera's validation adds about a second at
    250,000 rows of bookkeeping (and failure cases several times the file's size) that the
    review does not use. Messages are built only for the failing cells.
    """
    _check_shape(rows)
    parts = []
    for column, names in COLUMN_CHECKS.items():
        if not names:
            continue
        values = rows[column]
        text = arrow_text(values)
        failed = _FIELD_FAILURES[column](values, text, modified, shapes)
        for name in names:
            at = failed[name]
            if text.null_count:  # pandera's ignore_na
                at = at & ~text.is_null().to_numpy(zero_copy_only=False)
            if at.any():
                parts.append(_failure_part(name, column, values[at]))
    if not parts:
        return findings_frame()
    # One frame of all the parts' columns joined: a frame per part and their concat cost more.
    joined = {name: np.concatenate([part[name] for part in parts]) for name in FINDING_COLUMNS}
    return findings_frame(object_frame(joined))


def _digits_failures(
    values: pd.Series, text: pyarrow.Array, modified: object, shapes: CardCellShapes | None
) -> dict[str, np.ndarray]:
    # ^[0-9]*$ without a regex (ASCII digits, or empty); SCIENTIFIC only on what is left.
    digits = _ascii_digits(text) if shapes is None else shapes.digits(str(values.name))
    digits = digits | (byte_lengths(text, missing=1) == 0)
    scientific = np.zeros(len(text), dtype=bool)
    others = np.flatnonzero(~digits)
    scientific[others] = matches(text.take(others), SCIENTIFIC)
    return {"digits_only": ~(digits | scientific), "not_scientific": scientific}


def _ascii_digits(text: pyarrow.Array) -> np.ndarray:
    """Non-empty and only the digits 0-9 (what [0-9]+ matches)."""
    return truth(pc.ascii_is_decimal(text))


def _hex_failures(
    values: pd.Series, text: pyarrow.Array, modified: object, shapes: CardCellShapes | None
) -> dict[str, np.ndarray]:
    as_written = None if shapes is None else shapes.hex_as_written(text)
    return {
        "hex_digits": ~_valid_once_rewritten(
            values, text, strip_hex_noise, _hex_digits, valid_as_written=as_written
        )
    }


def _plate_failures(
    values: pd.Series, text: pyarrow.Array, modified: object, shapes: object
) -> dict[str, np.ndarray]:
    empty = truth(
        pc.equal(pc.binary_length(text), 0)
    )  # no plate: valid as it is (lengths: 2x faster)
    return {
        "license_plate": ~_valid_once_rewritten(values, text, normalize_plate, valid_plates, empty)
    }


HEX_DIGITS = r"^(?:[0-9A-F]*)$"
PLATE = r"^(?:[A-Z0-9]{2,10})$"


def _hex_digits(text: pyarrow.Array) -> np.ndarray:
    """Which values HEX_DIGITS matches (missing ones do not)."""
    return _only(text, "0123456789ABCDEF")


def valid_plates(text: pyarrow.Array) -> np.ndarray:
    """Which values PLATE matches (missing ones do not): its characters are one byte each."""
    length = byte_lengths(text)
    return _only(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") & (length >= 2) & (length <= 10)


def _only(text: pyarrow.Array, characters: str) -> np.ndarray:
    """Which values hold none but these ASCII characters (an empty one does; missing ones do
    not). Trimming them from the start and finding nothing left is a quarter of the time of a
    regex (3 ms against 10-13 at 250,000 rows); a byte outside ASCII is never trimmed."""
    trimmed = pc.ascii_ltrim(text, characters=characters)
    return truth(pc.equal(pc.binary_length(trimmed), 0))


def _valid_once_rewritten(
    values: pd.Series,
    text: pyarrow.Array,
    rewrite: Callable[[pd.Series], pd.Series],
    valid_as: Callable[[pyarrow.Array], np.ndarray],
    valid_anyway: np.ndarray | None = None,
    valid_as_written: np.ndarray | None = None,
) -> np.ndarray:
    """Whether rewrite(values) is valid_as (or valid_anyway holds): a value that is valid as
    written has nothing to rewrite (the check admits no character a rewrite removes or
    changes), so only the others are rewritten and checked again. ``valid_as_written``:
    valid_as(text), when the caller has it already."""
    valid = valid_as(text) if valid_as_written is None else valid_as_written.copy()
    if valid_anyway is not None:
        valid |= valid_anyway
    others = ~valid & ~text.is_null().to_numpy(zero_copy_only=False)
    if others.any():
        valid[others] = valid_as(arrow_text(rewrite(values[others])))
    return valid


def _entry_code_failures(
    values: pd.Series, text: pyarrow.Array, modified: object, shapes: object
) -> dict[str, np.ndarray]:
    # [0-9]{1,3} and ([0-9]{4,16})? without a regex: digits are one byte each.
    digits = _ascii_digits(text)
    length = pc.binary_length(text).to_numpy(zero_copy_only=False)
    short = digits & (length <= 3)
    valid = (digits & (length >= 4) & (length <= 16)) | (length == 0)
    return {"entry_code": ~(valid | short), "entry_code_length": short}


def _status_failures(
    values: pd.Series, text: pyarrow.Array, modified: object, shapes: object
) -> dict[str, np.ndarray]:
    # Nearly every status is written as one of these: only the others are lower-cased.
    known = truth(pc.is_in(text, value_set=_STATUSES_AS_WRITTEN))
    others = np.flatnonzero(~known)
    if len(others):
        lowered = pc.utf8_lower(text.take(others))
        known[others] = truth(
            pc.is_in(lowered, value_set=pyarrow.array(["", "active", "inactive"]))
        )
    return {"credential_status": ~known}


_STATUSES_AS_WRITTEN = pyarrow.array(["", "Active", "Inactive", "active", "inactive"])


def _modified_failures(
    values: pd.Series, text: pyarrow.Array, modified: pd.Series | None, shapes: object
) -> dict[str, np.ndarray]:
    if modified is None:
        modified = parse_modified(values)
    # Blank (empty once trimmed) is valid too: only the few values that are neither empty nor a
    # time are trimmed (a missing one counts as not empty, and fails as before).
    length = byte_lengths(text, missing=1)
    failed = ~modified.notna().to_numpy(dtype=bool) & (length > 0)
    unparsed = np.flatnonzero(failed)
    failed[unparsed] = ~truth(pc.equal(pc.utf8_trim_whitespace(text.take(unparsed)), ""))
    return {"modified_time": failed}


#: Each checked column's checks as Arrow kernels: which of its cells fail each check (the same
#: answers as FIELD_CHECKS, which CredentialRow runs in pandas).
_FIELD_FAILURES = {
    "Facility Code": _digits_failures,
    "Card Number": _digits_failures,
    "Card Number Hex": _hex_failures,
    "License Plate": _plate_failures,
    "Entry Code": _entry_code_failures,
    "Credential Status": _status_failures,
    "Modified": _modified_failures,
}


def _failure_part(check: str, column: str, cases: pd.Series) -> dict[str, np.ndarray]:
    """The findings of one check's failing cells of one column (message from the template), as
    the findings' columns."""
    code = CHECK_FINDINGS[check]
    # Lists of the failing cells (as astype(str) gives them): pandas' map and its joining of
    # text Series cost ~0.5 ms a part, however few the cells.
    values = [str(cell) for cell in cases.to_numpy(dtype=object)]
    if column == "Entry Code":
        values = [mask_entry_code(value) for value in values]
        in_message = values
    else:
        in_message = [quoted(value) for value in values]
    # The template filled in once, the values joined in.
    before, after = TEMPLATES[code].format(column=column, value="\0").split("\0")
    return {
        "row": cases.index.to_numpy(),
        "column": np.full(len(cases), column, dtype=object),
        "value": np.array(values, dtype=object),
        "code": np.full(len(cases), code, dtype=object),
        "severity": np.full(len(cases), "error", dtype=object),
        "message": np.array([before + shown + after for shown in in_message], dtype=object),
    }


def _check_shape(rows: pd.DataFrame) -> None:
    """The caller's fault, not the file's: a frame without exactly the 14 text columns."""
    expected = set(COLUMN_CHECKS)
    text = all(
        pd.api.types.is_string_dtype(rows[c]) or pd.api.types.is_object_dtype(rows[c])
        for c in expected & set(rows.columns)
    )
    if set(rows.columns) != expected or not text:
        raise ValueError(
            "rows do not fit the credential schema: expected the text columns "
            f"{sorted(expected)}, got {dict(rows.dtypes.astype(str))}"
        )


def future_modified_findings(rows: pd.DataFrame, modified: pd.Series) -> pd.DataFrame:
    """A Modified time after now is a valid time, but no export wrote it: the row was edited by
    hand or comes from a system whose clock is wrong, and it can never be stale."""
    found = FindingsBuilder(rows)
    future = modified.notna() & (modified > pd.Timestamp.now(tz="UTC"))
    found.add(
        future, Code.MODIFIED_IN_FUTURE, "Modified",
        written=lambda at: rows.loc[at, "Modified"].map(quoted),
    )  # fmt: skip
    return found.frame()


#: The directory column each credential CSV column's value is compared with or stored in:
#: a longer value cannot be the directory's (nor, in a user import, be stored by PostgreSQL).
CREDENTIAL_CSV_STORED: dict[str, sa.Column] = {
    "First Name": users.c.first_name,
    "Last Name": users.c.last_name,
    "User ID": users.c.user_id,
    "External ID": users.c.external_id,
    "Employee ID": users.c.employee_id,
    "Email": users.c.email,
}


def stored_length_findings(rows: pd.DataFrame, stored: dict[str, sa.Column]) -> pd.DataFrame:
    """field-too-long for each value longer than its directory column holds (header -> column
    of ``stored``; lengths in characters, as PostgreSQL counts them, checked the same on SQLite,
    which does not enforce them)."""
    found = FindingsBuilder(rows)
    for header, column in stored.items():
        limit = column.type.length
        if limit is None or header not in rows:
            continue
        # A value has no more characters than bytes: when no value has more bytes than the
        # limit (nearly always), none is too long, and no character is counted.
        longest = pc.max(pc.binary_length(arrow_text(rows[header]))).as_py()
        if longest is None or longest <= limit:
            continue
        lengths = rows[header].str.len()
        found.add(
            lengths > limit, Code.FIELD_TOO_LONG, header, header=header,
            length=lambda at, lengths=lengths: lengths[at].map("{:,}".format), limit=f"{limit:,}",
        )  # fmt: skip
    return found.frame()
