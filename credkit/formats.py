"""The card-format registry: every card type's Wiegand bit layout, value ranges and hex encoding."""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from credkit.decode import Candidate

ParityKind = Literal["even", "odd"]
LayoutKind = Literal["wiegand frame", "serial number", "card number in hex"]

#: Frames are held in uint64, so no format may be wider than this.
MAX_FRAME_BITS = 64

_HEX_DIGITS = re.compile(r"[0-9A-Fa-f]+")


def fold_name(name: str) -> str:
    """The form card-type names are matched in: case folded; whitespace, hyphens, underscores gone.

    SPEC: "Matching folds case, spaces and hyphens"; underscores fold too so that legacy codes such
    as ``Corporate1000_35`` match ``corporate 1000-35``.
    """
    return "".join(name.casefold().split()).replace("-", "").replace("_", "")


# --------------------------------------------------------------------------------------------
# Layouts as data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BitField:
    """A run of bits, positions counted from 1 at the most significant bit, both ends inclusive."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 1 <= self.start <= self.end:
            raise ValueError(f"bit field b{self.start}-b{self.end} is not a run of positions >= 1")

    @property
    def width(self) -> int:
        return self.end - self.start + 1

    @property
    def positions(self) -> range:
        return range(self.start, self.end + 1)


@dataclass(frozen=True)
class ParityBit:
    """A parity bit at ``position`` over the ``covers`` positions (which never include itself).

    even: the count of ones over the covered bits and the parity bit itself is even; odd: it is odd.
    """

    position: int
    kind: ParityKind
    covers: tuple[int, ...]

    def __post_init__(self) -> None:
        if self.kind not in ("even", "odd"):
            raise ValueError(f"parity kind must be 'even' or 'odd', not {self.kind!r}")
        if self.position in self.covers:
            raise ValueError(f"parity bit b{self.position} must not cover itself")


@dataclass(frozen=True)
class FrameLayout:
    """Where a Wiegand frame keeps its facility code, card number, parity bits and constants.

    Bits that belong to none of these (issue level fields) are written as 0 and ignored on decode.
    Constants are written by encode and ignored by decode: parity already covers them.
    """

    facility_code: BitField | None
    card_number: BitField
    parity: tuple[ParityBit, ...]
    constants: tuple[tuple[BitField, int], ...] = ()


class DecodedFrame(NamedTuple):
    """What a hex value decodes to; ``facility_code`` is None for formats without one."""

    facility_code: int | None
    card_number: int
    parity_valid: bool


# The compiled form of a layout for one frame width: shifts and masks instead of positions.


@dataclass(frozen=True)
class _Placement:
    shift: int  # how far the field's least significant bit sits from bit 0 of the frame
    mask: int  # right-aligned: (1 << width) - 1


@dataclass(frozen=True)
class _ParityCheck:
    shift: int  # of the parity bit itself
    covered_mask: int
    odd: bool

    @property
    def checked_mask(self) -> int:
        """The covered bits and the parity bit: the bits whose ones are counted on decode."""
        return self.covered_mask | (1 << self.shift)


@dataclass(frozen=True)
class _CompiledLayout:
    facility_code: _Placement | None
    card_number: _Placement
    constant_bits: int
    constant_mask: int  # the positions the constants occupy
    parity_checks: tuple[_ParityCheck, ...]  # in an order the encoder can compute them in


def _parity_encode_order(parity: tuple[ParityBit, ...]) -> list[ParityBit]:
    """Parity bits ordered so that a bit covering other parity bits comes after them.

    Corporate 1000's b1 covers b2 and the last bit, which are parity bits themselves, so those
    must be set before b1 is computed.
    """
    pending = list(parity)
    ordered: list[ParityBit] = []
    while pending:
        pending_positions = {bit.position for bit in pending}
        ready = [bit for bit in pending if not pending_positions.intersection(bit.covers)]
        if not ready:
            cycle = ", ".join(f"b{bit.position}" for bit in pending)
            raise ValueError(f"parity bits {cycle} cover each other in a cycle")
        ordered.extend(ready)
        pending = [bit for bit in pending if bit not in ready]
    return ordered


def _compile_layout(layout: FrameLayout, bits: int) -> _CompiledLayout:
    """Check a layout against its frame width and turn positions into shifts and masks."""

    def placement(field: BitField) -> _Placement:
        if field.end > bits:
            raise ValueError(f"b{field.start}-b{field.end} does not fit in {bits} bits")
        return _Placement(shift=bits - field.end, mask=(1 << field.width) - 1)

    def single_bit(position: int) -> int:
        if not 1 <= position <= bits:
            raise ValueError(f"b{position} is outside a {bits}-bit frame")
        return 1 << (bits - position)

    # Fields, constants and parity bits each own their bits; only parity *coverage* may overlap.
    owned: dict[int, str] = {}

    def claim(positions: range | tuple[int, ...], owner: str) -> None:
        for position in positions:
            if position in owned:
                raise ValueError(f"b{position} belongs to both {owned[position]} and {owner}")
            owned[position] = owner

    facility_code = None
    if layout.facility_code is not None:
        facility_code = placement(layout.facility_code)
        claim(layout.facility_code.positions, "the facility code")
    card_number = placement(layout.card_number)
    claim(layout.card_number.positions, "the card number")

    constant_bits = constant_mask = 0
    for field, value in layout.constants:
        where = placement(field)
        if not 0 <= value <= where.mask:
            raise ValueError(f"constant {value} does not fit in b{field.start}-b{field.end}")
        claim(field.positions, f"the constant at b{field.start}-b{field.end}")
        constant_bits |= value << where.shift
        constant_mask |= where.mask << where.shift

    parity_checks = []
    for parity_bit in _parity_encode_order(layout.parity):
        claim((parity_bit.position,), f"parity bit b{parity_bit.position}")
        covered_mask = 0
        for position in parity_bit.covers:
            covered_mask |= single_bit(position)
        parity_checks.append(
            _ParityCheck(
                shift=bits - parity_bit.position,
                covered_mask=covered_mask,
                odd=parity_bit.kind == "odd",
            )
        )
    return _CompiledLayout(
        facility_code, card_number, constant_bits, constant_mask, tuple(parity_checks)
    )


# --------------------------------------------------------------------------------------------
# Vectorised helpers
# --------------------------------------------------------------------------------------------


def _popcount_swar(values: np.ndarray) -> np.ndarray:
    """Ones per uint64 element, for numpy < 2 which lacks ``np.bitwise_count``."""
    v = values.astype(np.uint64, copy=True)
    v -= (v >> np.uint64(1)) & np.uint64(0x5555555555555555)
    v = (v & np.uint64(0x3333333333333333)) + ((v >> np.uint64(2)) & np.uint64(0x3333333333333333))
    v = (v + (v >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    # uint64 multiplication wraps, which is what the byte-sum trick relies on.
    return (v * np.uint64(0x0101010101010101)) >> np.uint64(56)


_popcount = getattr(np, "bitwise_count", _popcount_swar)


def _odd_ones(values: np.ndarray) -> np.ndarray:
    """True where an element has an odd number of ones."""
    return (_popcount(values) & 1).astype(bool)


def _as_uint64(values: np.ndarray, what: str) -> np.ndarray:
    """A uint64 copy of an integer array, refusing negatives that a plain cast would wrap."""
    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        raise ValueError(f"{what} must be an integer array, not {array.dtype}")
    if array.dtype.kind == "i" and array.size and array.min() < 0:
        raise ValueError(f"{what} must not be negative")
    return array.astype(np.uint64)


def _field_many(frames: np.ndarray, where: _Placement) -> np.ndarray:
    return (frames >> np.uint64(where.shift)) & np.uint64(where.mask)


# --------------------------------------------------------------------------------------------
# Card formats
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardFormat:
    """One card type: its names, ranges and how its hex value is made.

    Three kinds: a Wiegand ``layout`` (hex is the whole frame, with the parity bits the layout
    has, if any), a ``serial_number``
    (hex is the card's serial number, zero-padded) and, for formats whose layout is not public,
    neither (hex is the card number).
    """

    name: str
    aliases: tuple[str, ...]
    bits: int
    has_facility_code: bool
    facility_code_max: int | None  # the minimum is always 0
    card_number_max: int  # the minimum is always 0
    layout: FrameLayout | None
    serial_number: bool

    def __post_init__(self) -> None:
        if not 1 <= self.bits <= MAX_FRAME_BITS:
            raise ValueError(f"{self.name}: {self.bits} bits is outside 1-{MAX_FRAME_BITS}")
        if self.has_facility_code != (self.facility_code_max is not None):
            raise ValueError(f"{self.name}: facility_code_max must be set exactly when it has one")
        if not 0 <= self.card_number_max < 1 << self.bits:
            raise ValueError(f"{self.name}: card_number_max does not fit in {self.bits} bits")
        if self.serial_number and self.layout is not None:
            raise ValueError(f"{self.name}: a serial-number format has no Wiegand layout")
        if self.layout is None:
            if self.has_facility_code:
                raise ValueError(f"{self.name}: a facility code needs a layout to live in")
            return
        if (self.layout.facility_code is not None) != self.has_facility_code:
            raise ValueError(f"{self.name}: layout and has_facility_code disagree")
        try:
            compiled = self._compiled
        except ValueError as error:
            raise ValueError(f"{self.name}: {error}") from None
        if self.card_number_max > compiled.card_number.mask:
            raise ValueError(f"{self.name}: card_number_max does not fit the card number field")
        if compiled.facility_code is not None and (
            self.facility_code_max is None or self.facility_code_max > compiled.facility_code.mask
        ):
            raise ValueError(f"{self.name}: facility_code_max does not fit the facility code field")

    # cached_property writes straight into the instance __dict__, so it works on a frozen class.
    @cached_property
    def _compiled(self) -> _CompiledLayout:
        assert self.layout is not None
        return _compile_layout(self.layout, self.bits)

    @property
    def hex_digits(self) -> int:
        """The most hex digits a value of this format can have."""
        return (self.bits + 3) // 4

    @property
    def parity_bit_count(self) -> int:
        """How many parity bits a frame of this format carries (0 without a layout)."""
        return 0 if self.layout is None else len(self.layout.parity)

    @property
    def constant_bit_count(self) -> int:
        """How many bits of a frame the layout fixes (Keyscan's 10-bit OEM code, Kastle's b2)."""
        return 0 if self.layout is None else self._compiled.constant_mask.bit_count()

    def constants_hold(self, frame: int) -> bool:
        """Whether a frame has the constant bits (an OEM code, Kastle's b2) its layout fixes.

        ``decode`` ignores them, since parity covers them; guessing a frame's format needs them.
        """
        if self.layout is None:
            return True
        compiled = self._compiled
        return frame & compiled.constant_mask == compiled.constant_bits

    @property
    def layout_kind(self) -> LayoutKind:
        if self.layout is not None:
            return "wiegand frame"
        return "serial number" if self.serial_number else "card number in hex"

    # -- checks shared by encode and encode_many ---------------------------------------------

    def _check_facility_code(self, facility_code: int | None) -> int:
        if not self.has_facility_code:
            if facility_code is not None:
                raise ValueError(f"{self.name} has no facility code")
            return 0
        if facility_code is None:
            raise ValueError(f"{self.name} needs a facility code")
        facility_code = operator.index(facility_code)
        assert self.facility_code_max is not None
        if not 0 <= facility_code <= self.facility_code_max:
            raise ValueError(
                f"facility code {facility_code} is outside {self.name}'s range "
                f"0-{self.facility_code_max}"
            )
        return facility_code

    def _check_card_number(self, card_number: int) -> int:
        card_number = operator.index(card_number)
        if not 0 <= card_number <= self.card_number_max:
            raise ValueError(
                f"card number {card_number} is outside {self.name}'s range 0-{self.card_number_max}"
            )
        return card_number

    def _parse_hex(self, hex_value: str) -> int:
        if not isinstance(hex_value, str) or not _HEX_DIGITS.fullmatch(hex_value):
            raise ValueError(f"{hex_value!r} is not a hexadecimal number")
        if len(hex_value) > self.hex_digits:
            raise ValueError(
                f"{hex_value!r} has {len(hex_value)} hex digits; {self.name} allows at most "
                f"{self.hex_digits}"
            )
        value = int(hex_value, 16)
        if value >> self.bits:
            raise ValueError(f"{hex_value!r} is wider than {self.name}'s {self.bits} bits")
        return value

    # -- scalar ------------------------------------------------------------------------------

    def encode(self, facility_code: int | None, card_number: int) -> str:
        """The upper-case hex value of a credential.

        Wiegand formats: the whole frame with parity, zero-padded to ``hex_digits``. Serial-number
        formats: the serial number zero-padded to ``hex_digits``. Non-public formats: the card
        number in hex, unpadded. Raises ValueError for a value outside the format's ranges.
        """
        facility_code = self._check_facility_code(facility_code)
        card_number = self._check_card_number(card_number)
        if self.layout is None:
            width = self.hex_digits if self.serial_number else 1
            return f"{card_number:0{width}X}"
        return f"{self._encode_frame(facility_code, card_number):0{self.hex_digits}X}"

    def _encode_frame(self, facility_code: int, card_number: int) -> int:
        compiled = self._compiled
        frame = compiled.constant_bits | (card_number << compiled.card_number.shift)
        if compiled.facility_code is not None:
            frame |= facility_code << compiled.facility_code.shift
        for check in compiled.parity_checks:
            covered_ones_odd = (frame & check.covered_mask).bit_count() & 1
            # Set the parity bit when the covered ones alone do not already have the wanted parity.
            if covered_ones_odd != check.odd:
                frame |= 1 << check.shift
        return frame

    def decode(self, hex_value: str) -> DecodedFrame:
        """The facility code, card number and parity verdict of a hex value.

        Raises ValueError when the value is not hex or is wider than the format.
        """
        frame = self._parse_hex(hex_value)
        if self.layout is None:
            return DecodedFrame(None, frame, True)
        compiled = self._compiled
        facility_code = None
        if compiled.facility_code is not None:
            where = compiled.facility_code
            facility_code = (frame >> where.shift) & where.mask
        card_number = (frame >> compiled.card_number.shift) & compiled.card_number.mask
        parity_valid = all(
            ((frame & check.checked_mask).bit_count() & 1) == check.odd
            for check in compiled.parity_checks
        )
        return DecodedFrame(facility_code, card_number, parity_valid)

    # -- vectorised --------------------------------------------------------------------------

    def encode_many(
        self, facility_codes: np.ndarray | None, card_numbers: np.ndarray
    ) -> np.ndarray:
        """``encode`` for arrays: uint64 frames (card numbers for non-Wiegand formats).

        For formats without a facility code, ``facility_codes`` may be None or all zeros (the
        value ``decode_many`` reports for them). Raises ValueError if any value is out of range.
        """
        card_numbers = _as_uint64(card_numbers, "card numbers")
        if card_numbers.size and card_numbers.max() > self.card_number_max:
            raise ValueError(f"card numbers exceed {self.name}'s 0-{self.card_number_max}")
        if facility_codes is not None:
            facility_codes = _as_uint64(facility_codes, "facility codes")
            if facility_codes.shape != card_numbers.shape:
                raise ValueError("facility codes and card numbers differ in shape")
            if facility_codes.size:
                if not self.has_facility_code and facility_codes.max() != 0:
                    raise ValueError(f"{self.name} has no facility code")
                if self.has_facility_code and facility_codes.max() > self.facility_code_max:
                    raise ValueError(
                        f"facility codes exceed {self.name}'s 0-{self.facility_code_max}"
                    )
        elif self.has_facility_code:
            raise ValueError(f"{self.name} needs facility codes")

        if self.layout is None:
            return card_numbers
        compiled = self._compiled
        frames = card_numbers << np.uint64(compiled.card_number.shift)
        frames |= np.uint64(compiled.constant_bits)
        if compiled.facility_code is not None:
            frames |= facility_codes << np.uint64(compiled.facility_code.shift)
        for check in compiled.parity_checks:
            covered_ones_odd = _odd_ones(frames & np.uint64(check.covered_mask))
            set_parity = covered_ones_odd != check.odd
            frames |= set_parity.astype(np.uint64) << np.uint64(check.shift)
        return frames

    def decode_many(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``decode`` for arrays of uint64 frames: (facility codes, card numbers, parity valid).

        Facility codes are 0 where the format has none. Raises ValueError if any frame is wider
        than the format.
        """
        frames = _as_uint64(frames, "frames")
        if self.bits < MAX_FRAME_BITS and frames.size and frames.max() >> np.uint64(self.bits):
            raise ValueError(f"frames are wider than {self.name}'s {self.bits} bits")
        if self.layout is None:
            zeros = np.zeros(frames.shape, dtype=np.uint64)
            return zeros, frames.copy(), np.ones(frames.shape, dtype=bool)
        compiled = self._compiled
        if compiled.facility_code is not None:
            facility_codes = _field_many(frames, compiled.facility_code)
        else:
            facility_codes = np.zeros(frames.shape, dtype=np.uint64)
        card_numbers = _field_many(frames, compiled.card_number)
        parity_valid = np.ones(frames.shape, dtype=bool)
        for check in compiled.parity_checks:
            parity_valid &= _odd_ones(frames & np.uint64(check.checked_mask)) == check.odd
        return facility_codes, card_numbers, parity_valid


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------


class UnknownCardType(KeyError):
    """A card type that is neither a canonical name nor an alias in the registry."""

    def __init__(self, value: object, suggestions: list[str] | None = None) -> None:
        self.value = value
        self.suggestions = suggestions or []
        if self.suggestions:
            hint = "did you mean " + " or ".join(repr(name) for name in self.suggestions) + "?"
        else:
            hint = (
                "use a card type from the card-format registry "
                "(case, spaces, hyphens and underscores do not matter)"
            )
        self.message = f"unknown card type {value!r}: {hint}"
        super().__init__(self.message)

    def __str__(self) -> str:
        # KeyError's own __str__ would print the message in quotes.
        return self.message


class CardFormatRegistry:
    """Card formats by name: canonical names and aliases, matched after ``fold_name``."""

    def __init__(self) -> None:
        self._formats: list[CardFormat] = []
        self._by_folded_name: dict[str, CardFormat] = {}

    def register(self, card_format: CardFormat) -> None:
        """Add a format; ValueError if its name or an alias folds like one already registered."""
        folded_names = {fold_name(name) for name in (card_format.name, *card_format.aliases)}
        for folded in folded_names:
            if folded in self._by_folded_name:
                taken_by = self._by_folded_name[folded].name
                raise ValueError(
                    f"{card_format.name!r}: the name {folded!r} is already taken by {taken_by!r}"
                )
        self._formats.append(card_format)
        for folded in folded_names:
            self._by_folded_name[folded] = card_format

    def find(self, name: str) -> CardFormat | None:
        """The format a name or alias means, ignoring case, spaces, hyphens, underscores."""
        if not isinstance(name, str):
            return None
        return self._by_folded_name.get(fold_name(name))

    def get(self, name: str) -> CardFormat:
        """Like ``find``, but raises UnknownCardType for an unknown name."""
        card_format = self.find(name)
        if card_format is None:
            raise UnknownCardType(name, self._suggestions(name))
        return card_format

    def _suggestions(self, name: object) -> list[str]:
        if not isinstance(name, str) or not fold_name(name):
            return []
        close = difflib.get_close_matches(fold_name(name), self._by_folded_name, n=3, cutoff=0.75)
        # Several aliases of one format may be close; suggest each canonical name once.
        return list(dict.fromkeys(self._by_folded_name[folded].name for folded in close))

    def is_canonical(self, name: str) -> bool:
        """True only for a canonical name written exactly as the registry writes it."""
        return any(card_format.name == name for card_format in self._formats)

    def names(self) -> list[str]:
        """Canonical names in registration order."""
        return [card_format.name for card_format in self._formats]

    def __iter__(self) -> Iterator[CardFormat]:
        return iter(list(self._formats))

    def __len__(self) -> int:
        return len(self._formats)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    def candidates(self, value: str, bits: int | None = None) -> list[Candidate]:
        """Every format a raw value (hex frame, bit string, ``FC:CN``, run-together decimal) can
        be, best first; see ``credkit.decode``. Raises UnreadableValue for a value it cannot read.
        """
        from credkit.decode import candidates

        return candidates(value, bits=bits, registry=self)

    def table(self) -> pd.DataFrame:
        """One row per format, for documentation."""

        def value_range(maximum: int | None) -> str:
            return "none" if maximum is None else f"0–{maximum:,}"

        return pd.DataFrame(
            {
                "name": [f.name for f in self._formats],
                "aliases": [", ".join(f.aliases) for f in self._formats],
                "bits": [f.bits for f in self._formats],
                "facility_code_range": [value_range(f.facility_code_max) for f in self._formats],
                "card_number_range": [value_range(f.card_number_max) for f in self._formats],
                "layout": [f.layout_kind for f in self._formats],
            }
        )


# --------------------------------------------------------------------------------------------
# The formats
# --------------------------------------------------------------------------------------------


def _span(first: int, last: int) -> tuple[int, ...]:
    return tuple(range(first, last + 1))


def _skipping_every_third(first: int, last: int, skipped: int) -> tuple[int, ...]:
    """Positions first..last without ``skipped`` and every third position after it.

    Corporate 1000's inner parity bits cover two bits of every three, e.g. b3, b4, b6, b7, ...
    """
    return tuple(p for p in range(first, last + 1) if p < skipped or (p - skipped) % 3)


def _wiegand(
    name: str,
    aliases: tuple[str, ...],
    bits: int,
    layout: FrameLayout,
    facility_code_max: int | None,
    card_number_max: int,
) -> CardFormat:
    return CardFormat(
        name=name,
        aliases=aliases,
        bits=bits,
        has_facility_code=facility_code_max is not None,
        facility_code_max=facility_code_max,
        card_number_max=card_number_max,
        layout=layout,
        serial_number=False,
    )


def _serial(name: str, aliases: tuple[str, ...], bits: int) -> CardFormat:
    return CardFormat(
        name=name,
        aliases=aliases,
        bits=bits,
        has_facility_code=False,
        facility_code_max=None,
        card_number_max=(1 << bits) - 1,
        layout=None,
        serial_number=True,
    )


def _not_public(name: str, bits: int, aliases: tuple[str, ...] = ()) -> CardFormat:
    """A format the reference system accepts whose layout is not public: only the width is known."""
    return CardFormat(
        name=name,
        aliases=aliases,
        bits=bits,
        has_facility_code=False,
        facility_code_max=None,
        card_number_max=(1 << bits) - 1,
        layout=None,
        serial_number=False,
    )


_HID_37_PARITY = (
    ParityBit(1, "even", _span(2, 19)),
    ParityBit(37, "odd", _span(19, 36)),
)

# These four were accepted by name only (hex = the card number in hexadecimal) until credkit
# learnt their layouts; credkit.layout_migration recomputes the values stored that way.
_AWID_34 = _wiegand(
    "AWID 34-bit",
    (),
    34,
    # The same parity bits as HID 34-bit: a frame cannot tell the two apart.
    FrameLayout(
        facility_code=BitField(2, 9),
        card_number=BitField(10, 33),
        parity=(ParityBit(1, "even", _span(2, 17)), ParityBit(34, "odd", _span(18, 33))),
    ),
    facility_code_max=255,
    card_number_max=16_777_215,
)
_POINTGUARD_MDI_37 = _wiegand(
    "PointGuard MDI 37-bit",
    (),
    37,
    # b2-b3 are unused, written as 0; the parity bits are HID 37-bit's.
    FrameLayout(facility_code=BitField(4, 7), card_number=BitField(8, 36), parity=_HID_37_PARITY),
    facility_code_max=15,
    card_number_max=536_870_911,
)
_CASI_RUSCO_40 = _wiegand(
    "Casi Rusco 40-Bit",
    (),
    40,
    # b1 and b40 are not checked by readers: written as 0, ignored on decode.
    FrameLayout(facility_code=None, card_number=BitField(2, 39), parity=()),
    facility_code_max=None,
    card_number_max=274_877_906_943,
)
_GUARDALL_GPROX_II_36 = _wiegand(
    "Guardall G-Prox II 36-bit",
    (),
    36,
    # b1 and b36 are not checked: written as 0, ignored on decode.
    FrameLayout(facility_code=BitField(2, 15), card_number=BitField(16, 35), parity=()),
    facility_code_max=16_383,
    card_number_max=1_048_575,
)

_DEFAULT_FORMATS = (
    _wiegand(
        "Standard 26-bit Wiegand",
        ("HID", "H10301", "26-bit"),
        26,
        FrameLayout(
            facility_code=BitField(2, 9),
            card_number=BitField(10, 25),
            parity=(ParityBit(1, "even", _span(2, 13)), ParityBit(26, "odd", _span(14, 25))),
        ),
        facility_code_max=255,
        card_number_max=65_535,
    ),
    _wiegand(
        "HID 34-bit",
        ("HID34", "H10306"),
        34,
        FrameLayout(
            facility_code=BitField(2, 17),
            card_number=BitField(18, 33),
            parity=(ParityBit(1, "even", _span(2, 17)), ParityBit(34, "odd", _span(18, 33))),
        ),
        facility_code_max=65_535,
        card_number_max=65_535,
    ),
    _wiegand(
        "HID 37-bit",
        ("HID37wFacilityCode", "H10304"),
        37,
        FrameLayout(
            facility_code=BitField(2, 17), card_number=BitField(18, 36), parity=_HID_37_PARITY
        ),
        facility_code_max=65_535,
        card_number_max=524_287,
    ),
    _wiegand(
        "HID 37-bit No Facility Code",
        ("HID37woFacilityCode", "H10302"),
        37,
        FrameLayout(facility_code=None, card_number=BitField(2, 36), parity=_HID_37_PARITY),
        facility_code_max=None,
        card_number_max=34_359_738_367,
    ),
    _wiegand(
        "HID Corporate 1000-35",
        ("Corporate1000_35",),
        35,
        FrameLayout(
            facility_code=BitField(3, 14),
            card_number=BitField(15, 34),
            parity=(
                ParityBit(1, "odd", _span(2, 35)),
                ParityBit(2, "even", _skipping_every_third(3, 34, skipped=5)),
                ParityBit(35, "odd", _skipping_every_third(2, 33, skipped=4)),
            ),
        ),
        facility_code_max=4_095,
        card_number_max=1_048_575,
    ),
    _wiegand(
        "HID Corporate 1000-48",
        ("Corporate1000_48",),
        48,
        FrameLayout(
            facility_code=BitField(3, 24),
            card_number=BitField(25, 47),
            parity=(
                ParityBit(1, "odd", _span(2, 48)),
                ParityBit(2, "even", _skipping_every_third(4, 47, skipped=6)),
                ParityBit(48, "odd", _skipping_every_third(3, 46, skipped=5)),
            ),
        ),
        facility_code_max=4_194_303,
        card_number_max=8_388_607,
    ),
    _wiegand(
        "Kastle 32-bit",
        ("Kastle32",),
        32,
        # b3-b7 is the issue level, written as 0.
        FrameLayout(
            facility_code=BitField(8, 15),
            card_number=BitField(16, 31),
            parity=(ParityBit(1, "even", _span(2, 17)), ParityBit(32, "odd", _span(15, 31))),
            constants=((BitField(2, 2), 1),),
        ),
        facility_code_max=255,
        card_number_max=65_535,
    ),
    _wiegand(
        "HID 36-bit Keyscan",
        ("HID36Keyscan",),
        36,
        FrameLayout(
            facility_code=BitField(12, 19),
            card_number=BitField(20, 35),
            parity=(ParityBit(1, "even", _span(2, 18)), ParityBit(36, "odd", _span(19, 35))),
            constants=((BitField(2, 11), 900),),  # the OEM code
        ),
        facility_code_max=255,
        card_number_max=65_535,
    ),
    _wiegand(
        "HID 36-bit Simplex",
        ("HID36Simplex",),
        36,
        # b10-b11 is the issue level, written as 0.
        FrameLayout(
            facility_code=BitField(2, 9),
            card_number=BitField(12, 35),
            parity=(ParityBit(1, "odd", _span(2, 18)), ParityBit(36, "odd", _span(18, 35))),
        ),
        facility_code_max=255,
        card_number_max=16_777_215,
    ),
    _serial("MiFare 4-Byte (32 bit) CSN", ("MiFareClassic1K_CSN", "MiFareClassic4K_CSN"), 32),
    _serial("DESFire CSN", ("DESFire",), 56),
    _serial("HID iClass", ("iClass",), 64),
    _CASI_RUSCO_40,
    _not_public("Verkada DESFire", 56),
    _not_public("Third Party DESFire 40X", 40, aliases=("DESFire 40X",)),
    _not_public("Apple Wallet Pass", 64),
    _not_public("MDC Custom 64-bit", 64),
    _not_public("HID 33-bit DSX", 33),
    _not_public("HID 33-bit RS2", 33),
    _not_public("Cansec 37-bit", 37),
    # A BIN is the 6-8 digit issuer prefix of a payment card; 32 bits hold the largest, 99,999,999.
    _not_public("Credit Card BIN Number", 32),
    _not_public("Kantech XSF", 32),
    _not_public("Schlage 34-bit", 34),
    _not_public("Schlage 37-bit", 37),
    _not_public("RBH 50-bit", 50),
    _GUARDALL_GPROX_II_36,
    _not_public("AMAG 32-bit", 32),
    _not_public("Securitas 37-bit", 37),
    _POINTGUARD_MDI_37,
    _not_public("Blackboard 64-bit", 64),
    _not_public("IDm 64-bit", 64),
    _not_public("Continental 36-bit", 36),
    _AWID_34,
    _not_public("HID Infinity 37-bit", 37),
    _not_public("HID Ceridian 26-bit", 26),
    _not_public("iClass 35-bit", 35),
    _not_public("Andover Controls 37-bit", 37),
)


def _default_registry() -> CardFormatRegistry:
    registry = CardFormatRegistry()
    for card_format in _DEFAULT_FORMATS:
        registry.register(card_format)
    return registry


#: The registry of every card type credkit knows.
REGISTRY: CardFormatRegistry = _default_registry()
