"""Card rows, checked per format: unknown-card-type, card-type-alias, no-credential (a type
without a number), hex-prefix, hex-invalid, hex-leading-zeros, facility-code-required,
facility-code-not-allowed, facility-code-range, card-number-range, hex-parity, hex-mismatch,
hex-byte-order, hex-old-form (credkit.layout_migration), card-type-candidates and
hex-other-format (credkit.frame_hints)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from credkit.findings import Code, quoted
from credkit.formats import REGISTRY, CardFormat, UnknownCardType
from credkit.frame_hints import frame_hints
from credkit.layout_migration import old_forms
from credkit.rules.builder import FindingsBuilder, template
from credkit.rules.columnar import arrow_strings, contains
from credkit.rules.fields import HEX_NOISE, strip_hex_noise

EMPTY_TYPE = template(f"{Code.UNKNOWN_CARD_TYPE}:empty")
NO_NUMBER = template(f"{Code.NO_CREDENTIAL}:card")
NO_HEX_DIGITS = template(f"{Code.HEX_INVALID}:no-digits")
TOO_WIDE = template(f"{Code.HEX_INVALID}:too-wide")
SERIAL_MISMATCH = template(f"{Code.HEX_MISMATCH}:serial")
OLD_FORM = template(Code.HEX_OLD_FORM)
OLD_FORM_NO_FRAME = template(f"{Code.HEX_OLD_FORM}:no-frame")

UINT64_MAX = "18446744073709551615"
#: Stands for a number past 64 bits where another module wants a Python int: past every range.
TOO_LONG = 2**80
_NIBBLES = np.zeros(256, dtype=np.uint64)
_NIBBLES[np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)] = np.arange(16, dtype=np.uint64)
_HEX_CHARACTERS = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
_SHIFTS = np.arange(60, -4, -4, dtype=np.uint64)  # the 16 nibbles of a uint64, high first


def resolve_cards(rows: pd.DataFrame, resolved: pd.DataFrame, found: FindingsBuilder) -> None:
    """Card type, facility code, card number and hex of every card row, checked per format."""
    is_card = resolved["kind"] == "card"
    card_type = rows["Card Type"]
    found.add(is_card & (card_type == ""), EMPTY_TYPE, "Card Type")
    hex_raw = rows["Card Number Hex"]
    hex_clean = strip_hex_noise(hex_raw)
    # A hex cell of only a 0x prefix or spaces says there is a hex value and there is none:
    # an error, so that the review never passes a card without a number for the import.
    only_noise = is_card & (hex_raw != "") & (hex_clean == "")
    found.add(
        only_noise, NO_HEX_DIGITS, "Card Number Hex", written=lambda at: hex_raw[at].map(quoted)
    )
    number_given = (rows["Card Number"] != "") | (hex_clean != "")
    found.add(
        is_card & (card_type != "") & ~number_given & ~only_noise, NO_NUMBER, "Card Number",
        value=None,
    )  # fmt: skip
    formats = {name: REGISTRY.find(name) for name in pd.unique(card_type[is_card]) if name}
    canonical = card_type.map({name: f.name for name, f in formats.items() if f}).where(is_card)
    unknown = is_card & (card_type != "") & canonical.isna()
    found.add(
        unknown, Code.UNKNOWN_CARD_TYPE, "Card Type",
        written=lambda at: card_type[at].map(quoted),
        hint=lambda at: card_type[at].map({name: _suggestions(name) for name in formats}),
    )  # fmt: skip
    found.add(
        canonical.notna() & (canonical != card_type), Code.CARD_TYPE_ALIAS, "Card Type",
        written=lambda at: card_type[at].map(quoted), canonical=lambda at: canonical[at].map(quoted),
    )  # fmt: skip
    hex_valid = hex_clean.str.fullmatch("[0-9A-F]+")
    found.add(
        is_card & hex_valid & contains(hex_raw, HEX_NOISE.pattern), Code.HEX_PREFIX, "Card Number Hex",
        written=lambda at: hex_raw[at].map(quoted), cleaned=lambda at: hex_clean[at].map(quoted),
    )  # fmt: skip
    workable = (is_card & canonical.notna() & number_given).to_numpy(dtype=bool)
    texts = CardTexts(
        arrow_strings(rows["Facility Code"]),
        arrow_strings(rows["Card Number"]),
        arrow_strings(hex_clean),
    )
    written = CardColumns.empty(len(rows))
    canonical_names = canonical.to_numpy(dtype=object)
    for name in pd.unique(canonical_names[workable]):
        positions = np.flatnonzero(workable & (canonical_names == name))
        cards = FormatCards.parse(REGISTRY.get(name), rows.index[positions], positions, texts)
        cards.check(found)
        cards.write(written)
    for column, values in written.columns.items():
        # object, as the rest of the resolved frame: pandas would infer its Arrow strings
        resolved[column] = pd.Series(values, index=resolved.index, dtype=object)
    found.extend(frame_hints(rows, is_card, canonical, hex_clean, found.parts))


def _suggestions(name: str) -> str:
    try:
        REGISTRY.get(name)
        suggestions: list[str] = []
    except UnknownCardType as unknown:
        suggestions = unknown.suggestions
    return f"; did you mean {' or '.join(map(repr, suggestions))}?" if suggestions else ""


@dataclass(frozen=True)
class CardTexts:
    """The whole file's card cells as Arrow strings, hex already without its prefix and spaces."""

    facility: pa.Array
    number: pa.Array
    hex: pa.Array


@dataclass
class CardColumns:
    """The resolved card fields of every row, by position: whole columns written once at the
    end (writing each format's rows into the resolved frame by label cost more than the rules)."""

    columns: dict[str, np.ndarray]

    @classmethod
    def empty(cls, size: int) -> CardColumns:
        names = ["card_type", "facility_code", "card_number", "card_number_hex", "credential_key"]
        return cls({name: np.full(size, None, dtype=object) for name in names})


@dataclass
class Number:
    """One column of a format's rows as numbers: the value (uint64), whether the row has one,
    and whether it is past 64 bits (then past every range; its value is 0)."""

    value: np.ndarray
    present: np.ndarray
    big: np.ndarray

    def differs(self, other: np.ndarray) -> np.ndarray:
        return self.present & (self.big | (self.value != other))

    def above(self, limit: int) -> np.ndarray:
        return self.present & (self.big | (self.value > np.uint64(limit)))

    def fill(self, where: np.ndarray, values: np.ndarray) -> None:
        """Take values where the row has none and ``where`` holds."""
        where = where & ~self.present
        self.value = np.where(where, values, self.value)
        self.present = self.present | where


@dataclass
class FormatCards:
    """The card rows of one format (their row numbers, ``index``, and their positions in the
    file), as numbers, and which of them every rule so far accepts (``ok``); a rule that finds
    an error rejects the row, so later rules skip it."""

    card_format: CardFormat
    index: pd.Index
    positions: np.ndarray
    facility_written: np.ndarray
    hex_clean: pa.Array
    facility: Number
    number: Number
    frame: Number
    ok: np.ndarray

    @classmethod
    def parse(
        cls, card_format: CardFormat, index: pd.Index, positions: np.ndarray, texts: CardTexts
    ) -> FormatCards:
        at = pa.array(positions)
        facility_text, number_text = texts.facility.take(at), texts.number.take(at)
        hex_clean = texts.hex.take(at)
        facility_given = _matches(facility_text, "^[0-9]+$")
        number_given = _matches(number_text, "^[0-9]+$")
        hex_given = _matches(hex_clean, "^[0-9A-F]+$")
        facility_written = _matches(facility_text, ".")
        # Field errors (not digits, not hex) were reported by the field rules: such rows stop.
        ok = ~(
            (facility_written & ~facility_given)
            | (_matches(number_text, ".") & ~number_given)
            | (_matches(hex_clean, ".") & ~hex_given)
        )
        return cls(
            card_format, index, positions, facility_written, hex_clean,
            facility=_parse(facility_text, facility_given & ok, 10),
            number=_parse(number_text, number_given & ok, 10),
            frame=_parse(hex_clean, hex_given & ok, 16),
            ok=ok,
        )  # fmt: skip

    def flagged(self, mask: np.ndarray) -> pd.Series:
        return pd.Series(mask, index=self.index)

    def at(self, values: np.ndarray, rows: pd.Index) -> np.ndarray:
        """values (one per row of this format) for the rows numbered ``rows``."""
        return values[self.index.get_indexer(rows)]

    def quoted_hex(self, rows: pd.Index) -> pd.Series:
        hex_clean = self.hex_clean.take(pa.array(self.index.get_indexer(rows))).to_pylist()
        return pd.Series([quoted(text) for text in hex_clean], index=rows)

    def check(self, found: FindingsBuilder) -> None:
        """Every card rule for these rows, in order."""
        self._check_width(found)
        self._check_facility_given(found)
        if self.card_format.layout is not None:
            self._check_old_form(found)
            self._check_frames(found)
        else:
            self._check_serial(found)
        self._check_ranges(found)

    def _check_width(self, found: FindingsBuilder) -> None:
        card_format, frame = self.card_format, self.frame
        bits, width = card_format.bits, card_format.hex_digits
        too_wide = frame.present & frame.big
        if bits < 64:
            too_wide |= frame.present & ((frame.value >> np.uint64(bits)) != 0)
        # A hex that fits but has more digits than the format's zero-padded width: the extra
        # digits are leading zeros (a tool that pads to its own width), read with a warning.
        lengths = pc.fill_null(pc.utf8_length(self.hex_clean), 0).to_numpy(zero_copy_only=False)
        padded = frame.present & ~too_wide & (lengths > width)
        found.add(
            self.flagged(padded), Code.HEX_LEADING_ZEROS, "Card Number Hex",
            written=self.quoted_hex, format=card_format.name, digits=width,
            read=lambda at: pd.Series(
                [quoted(text) for text in _hex_text(self.at(frame.value, at), width)], index=at
            ),
        )  # fmt: skip
        found.add(
            self.flagged(too_wide), TOO_WIDE, "Card Number Hex",
            format=card_format.name, bits=bits, digits=width,
        )  # fmt: skip
        frame.present = frame.present & ~too_wide
        self.ok &= ~too_wide

    def _check_facility_given(self, found: FindingsBuilder) -> None:
        card_format = self.card_format
        written = self.facility_written
        if card_format.has_facility_code:
            found.add(
                self.flagged(self.ok & ~written & ~self.frame.present),
                Code.FACILITY_CODE_REQUIRED, "Facility Code", value=None, format=card_format.name,
            )  # fmt: skip
        else:
            found.add(
                self.flagged(written), Code.FACILITY_CODE_NOT_ALLOWED, "Facility Code",
                format=card_format.name,
            )  # fmt: skip
            self.ok &= ~written

    def _check_old_form(self, found: FindingsBuilder) -> None:
        """hex-old-form: the hex is the card number in hex (the form before the layout)."""
        frame, number = self.frame, self.number
        same = (
            self.ok & frame.present & number.present & ~number.big & (frame.value == number.value)
        )
        if not same.any():
            return
        at = self.index[same]
        facility = pd.Series(self.facility.value[same].astype(object), index=at)
        facility = facility.mask(self.facility.big[same], TOO_LONG)
        facility = facility.where(self.facility.present[same])
        old_form = old_forms(
            self.card_format,
            pd.Series(frame.value[same].astype(object), index=at),
            facility,
            pd.Series(number.value[same].astype(object), index=at),
        )
        rejected = self.index.isin(old_form.index)
        computed = old_form["frame"].notna()
        for mask, key, extra in (
            (computed, OLD_FORM, {"frame": lambda at: old_form.loc[at, "frame"].map(quoted)}),
            (~computed, OLD_FORM_NO_FRAME, {"reason": lambda at: old_form.loc[at, "reason"]}),
        ):
            found.add(
                pd.Series(self.index.isin(old_form.index[mask.to_numpy()]), index=self.index),
                key, "Card Number Hex", format=self.card_format.name,
                written=lambda at: old_form.loc[at, "written"].map(quoted), **extra,
            )  # fmt: skip
        self.ok &= ~rejected

    def _check_frames(self, found: FindingsBuilder) -> None:
        """Wiegand frames: parity, agreement with the decimal fields, and filling them in."""
        card_format, facility, number = self.card_format, self.facility, self.number
        has_frame = self.frame.present & self.ok
        if not has_frame.any():
            return
        decoded_facility = np.zeros(len(has_frame), dtype=np.uint64)
        decoded_number = np.zeros(len(has_frame), dtype=np.uint64)
        parity = np.ones(len(has_frame), dtype=bool)
        decoded_facility[has_frame], decoded_number[has_frame], parity[has_frame] = (
            card_format.decode_many(self.frame.value[has_frame])
        )
        bad_parity = has_frame & ~parity
        found.add(
            self.flagged(bad_parity), Code.HEX_PARITY, "Card Number Hex", format=card_format.name
        )
        checked = has_frame & ~bad_parity
        facility_mismatch = (
            facility.differs(decoded_facility) if card_format.has_facility_code else False
        )
        mismatch = checked & (facility_mismatch | number.differs(decoded_number))
        found.add(
            self.flagged(mismatch), Code.HEX_MISMATCH, "Card Number Hex",
            facility=lambda at: self.decimals(decoded_facility, at)
            if card_format.has_facility_code else "None",
            number=lambda at: self.decimals(decoded_number, at),
        )  # fmt: skip
        self.ok &= ~(bad_parity | mismatch)
        if card_format.has_facility_code:
            facility.fill(checked, decoded_facility)
        number.fill(checked, decoded_number)

    def _check_serial(self, found: FindingsBuilder) -> None:
        """Serial numbers and unpublished layouts: the hex is the card number in hexadecimal."""
        card_format, frame, number = self.card_format, self.frame, self.number
        differ = self.ok & frame.present & number.differs(frame.value)
        if self.card_format.serial_number:
            width = (card_format.hex_digits + 1) // 2
            reversed_bytes = frame.value.byteswap() >> np.uint64(8 * (8 - width))
            byte_order = differ & ~number.big & (reversed_bytes == number.value)
            found.add(self.flagged(byte_order), Code.HEX_BYTE_ORDER, "Card Number Hex")
            differ &= ~byte_order
            self.ok &= ~byte_order
        found.add(
            self.flagged(differ), SERIAL_MISMATCH, "Card Number Hex",
            number=lambda at: self.decimals(frame.value, at),
        )  # fmt: skip
        number.fill(self.ok & frame.present, frame.value)
        self.ok &= ~differ

    def _check_ranges(self, found: FindingsBuilder) -> None:
        card_format, facility, number = self.card_format, self.facility, self.number
        if card_format.has_facility_code:
            out_of_range = facility.above(card_format.facility_code_max or 0)
            found.add(
                self.flagged(out_of_range), Code.FACILITY_CODE_RANGE, "Facility Code",
                max=f"{card_format.facility_code_max:,}", format=card_format.name,
            )  # fmt: skip
            self.ok &= ~(out_of_range | (~facility.present & ~self.frame.present))
        out_of_range = number.above(card_format.card_number_max)
        found.add(
            self.flagged(out_of_range), Code.CARD_NUMBER_RANGE, "Card Number",
            max=f"{card_format.card_number_max:,}", format=card_format.name,
        )  # fmt: skip
        self.ok &= ~(out_of_range | ~number.present)

    def decimals(self, values: np.ndarray, rows: pd.Index) -> pd.Series:
        return pd.Series(self.at(values, rows).astype(str), index=rows)

    def write(self, written: CardColumns) -> None:
        """The accepted rows' card fields and credential key, as the import stores them."""
        card_format, good = self.card_format, self.ok
        if not good.any():
            return
        at = self.positions[good]
        numbers = self.number.value[good]
        number_text = pc.cast(pa.array(numbers), pa.string())
        if card_format.has_facility_code:
            facilities = self.facility.value[good]
            facility_text = pc.cast(pa.array(facilities), pa.string())
            facility_key = facility_text
        else:
            facilities, facility_text, facility_key = None, None, ""
        if card_format.layout is not None:
            hex_text = _hex_text(
                card_format.encode_many(facilities, numbers), card_format.hex_digits
            )
        else:
            hex_text = _hex_text(
                numbers, card_format.hex_digits if card_format.serial_number else 1
            )
        key = pc.binary_join_element_wise(
            "card:" + card_format.name, facility_key, number_text, ":"
        )
        columns = written.columns
        columns["card_type"][at] = card_format.name
        if facility_text is not None:
            columns["facility_code"][at] = _objects(facility_text)
        columns["card_number"][at] = _objects(number_text)
        columns["card_number_hex"][at] = hex_text
        columns["credential_key"][at] = _objects(key)


def _objects(text: pa.Array) -> np.ndarray:
    return text.to_numpy(zero_copy_only=False).astype(object, copy=False)


def _matches(text: pa.Array, pattern: str) -> np.ndarray:
    """Which values match a regex (RE2, in C); missing values do not."""
    found = pc.match_substring_regex(text, pattern)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def _parse(text: pa.Array, given: np.ndarray, base: int) -> Number:
    """Digit strings (decimal or hex, already checked) as uint64 where ``given``."""
    values = np.zeros(len(text), dtype=np.uint64)
    big = np.zeros(len(text), dtype=bool)
    if given.any():
        digits = text.filter(pa.array(given))
        significant = pc.utf8_ltrim(digits, characters="0")
        length = pc.utf8_length(significant).to_numpy()
        if base == 10:
            over = (length > 20) | (
                (length == 20) & pc.greater(significant, UINT64_MAX).to_numpy(zero_copy_only=False)
            )
            safe = pc.if_else(pa.array(over | (length == 0)), "0", significant)
            parsed = pc.cast(safe, pa.uint64()).to_numpy()
        else:
            over = length > 16
            safe = pc.utf8_lpad(pc.if_else(pa.array(over), "", significant), 16, "0")
            characters = (
                np.frombuffer(
                    pa.concat_arrays([safe]).buffers()[2], dtype=np.uint8, count=16 * len(safe)
                )
                if len(safe)
                else np.zeros(0, dtype=np.uint8)
            )
            nibbles = _NIBBLES[characters.reshape(-1, 16)]
            parsed = np.bitwise_or.reduce(nibbles << _SHIFTS, axis=1)
        values[given] = np.where(over, 0, parsed)
        big[given] = over
    return Number(values, given.copy(), big)


def _hex_text(values: np.ndarray, width: int) -> np.ndarray:
    """uint64 values as upper-case hex, zero-padded to width digits (object array of str)."""
    values = np.asarray(values, dtype=np.uint64)
    if not len(values):
        return np.array([], dtype=object)
    nibbles = (values[:, None] >> _SHIFTS) & np.uint64(15)
    offsets = np.arange(0, 16 * len(values) + 1, 16, dtype=np.int32)
    padded = pa.StringArray.from_buffers(
        len(values), pa.py_buffer(offsets), pa.py_buffer(_HEX_CHARACTERS[nibbles].tobytes())
    )
    trimmed = pc.utf8_lpad(pc.utf8_ltrim(padded, characters="0"), width, "0")
    return trimmed.to_numpy(zero_copy_only=False).astype(object)
