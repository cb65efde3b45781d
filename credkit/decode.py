"""Raw card data decoded: the card formats a hex frame, bit string or FC/CN value can be, best first.

A value is read every way it can be read:

- a **hex frame** (``2EC0C86``, ``0x2EC0C86``; leading zeros may be missing): every format with a
  layout whose width holds the value and whose constant bits match;
- a **bit string** (``10111011000000110010000110``, 20 or more 0s and 1s): the formats of exactly
  that many bits;
- a **facility code and card number** (``118:1603``, ``118/1603``, ``118|1603``): every format with
  a facility code whose ranges hold both;
- a **decimal run together**, for a value of digits only: the facility code's digits followed by
  the card number's (``2115890`` is 21 and 15890), or the two fields side by side in binary
  (``1392146`` is 21 × 65,536 + 15,890, the frame without its parity bits).

Candidates are ordered best first: frames whose parity bits hold; then facility code and card
number readings; then frames of layouts without parity bits (which any value of the width fits).
Within frames, a layout whose hex width is the written width comes first, then those that need
one more leading zero, and so on; then more bits checked ahead of fewer (parity bits, and the
constant bits a layout fixes, such as Keyscan's OEM code); then ``COMMONNESS``. Where layouts coincide
(HID 34-bit and AWID 34-bit; the 37-bit layouts) every reading is listed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from credkit.formats import CardFormat, CardFormatRegistry

Parity = Literal["valid", "none", "n/a"]
Reading = Literal[
    "hex frame", "bit string", "facility code and card number", "digits run together",
    "bits run together",
]  # fmt: skip

#: How common a format is, most common first: the tie-break between readings that are otherwise
#: equal. Standard 26-bit is the industry's open format; HID's Corporate 1000 and 37-bit formats
#: follow (HID's format guidelines); then the other HID formats, then the OEM and regional ones.
#: Formats not named here follow in registry order.
COMMONNESS = (
    "Standard 26-bit Wiegand",
    "HID Corporate 1000-35",
    "HID 37-bit",
    "HID 37-bit No Facility Code",
    "HID 34-bit",
    "HID Corporate 1000-48",
    "AWID 34-bit",
    "Kastle 32-bit",
    "HID 36-bit Keyscan",
    "HID 36-bit Simplex",
    "PointGuard MDI 37-bit",
    "Casi Rusco 40-Bit",
    "Guardall G-Prox II 36-bit",
)

#: The fewest characters a value of 0s and 1s needs to be read as a bit string (the narrowest
#: layout, 26 bits, less a margin); shorter ones are read as hex or decimal.
BIT_STRING_MIN_LENGTH = 20

_PAIR = re.compile(r"(\d+)\s*[:/|]\s*(\d+)")
_NOISE = re.compile(r"[\s_-]")


class UnreadableValue(ValueError):
    """A value that is none of the forms ``candidates`` reads."""


class Candidate(NamedTuple):
    """One reading of a raw value: a card format and the facility code and card number it gives.

    ``parity`` is ``valid`` when the value was a frame and its parity bits hold, ``none`` when the
    value was a frame of a layout without parity bits, and ``n/a`` when no frame was given (the
    facility code and card number were); ``hex`` is the Card Number Hex credkit writes for it.
    """

    card_type: str
    facility_code: int | None
    card_number: int
    parity: Parity
    parity_bits: int
    hex: str
    reading: Reading

    def as_dict(self) -> dict[str, object]:
        return self._asdict()

    def describe(self) -> str:
        """One line: ``Standard 26-bit Wiegand 118/1603 (hex 2EC0C86, parity valid)``."""
        fields = (
            f"{self.card_number}"
            if self.facility_code is None
            else f"{self.facility_code}/{self.card_number}"
        )
        parity = {
            "valid": f", {self.parity_bits} parity bits valid",
            "none": ", no parity bits",
            "n/a": "",
        }[self.parity]
        return f"{self.card_type} {fields} (hex {self.hex}{parity}, read as {self.reading})"


def candidates(
    value: str, bits: int | None = None, registry: CardFormatRegistry | None = None
) -> list[Candidate]:
    """Every format ``value`` can be, best first (see the module docstring); [] when none fits.

    ``bits`` keeps only formats of that width. Raises UnreadableValue when the value is none of
    the forms read.
    """
    if registry is None:
        from credkit.formats import REGISTRY as registry
    text = _NOISE.sub("", str(value)).strip()
    prefix = ""
    # 0B... may also be a hex frame: it is a bit string's prefix only before 0s and 1s.
    if text[:2].lower() == "0x" or (text[:2].lower() == "0b" and re.fullmatch("[01]+", text[2:])):
        prefix, text = text[:2].lower(), text[2:]
    formats = [f for f in registry if bits is None or f.bits == bits]
    found: list[tuple[tuple, Candidate]] = []
    pair = _PAIR.fullmatch(str(value).strip())
    if pair:
        facility_code, card_number = int(pair.group(1)), int(pair.group(2))
        found += _pair_readings(
            formats, facility_code, card_number, "facility code and card number"
        )
    elif prefix == "0b" or (
        prefix == "" and re.fullmatch("[01]+", text) and len(text) >= BIT_STRING_MIN_LENGTH
    ):
        found += _frame_readings(formats, int(text, 2), len(text), "bit string")
    elif re.fullmatch("[0-9A-Fa-f]+", text):
        found += _frame_readings(formats, int(text, 16), len(text) * 4, "hex frame")
        if prefix == "" and text.isdigit():
            found += _run_together_readings(formats, text)
    else:
        raise UnreadableValue(
            f"{str(value)!r} is not a hex frame, a bit string, FC:CN, FC/CN or a decimal"
        )
    found.sort(key=lambda ranked: ranked[0])
    return list(dict.fromkeys(candidate for _, candidate in found))


def _rank(card_format: CardFormat) -> int:
    try:
        return COMMONNESS.index(card_format.name)
    except ValueError:
        return len(COMMONNESS)


def _frame_readings(
    formats: list[CardFormat], frame: int, written_bits: int, reading: Reading
) -> list[tuple[tuple, Candidate]]:
    """Every layout the frame fits: its width, its constant bits and its parity bits."""
    found = []
    exact_width_only = reading == "bit string"
    for card_format in formats:
        if card_format.layout is None or frame.bit_length() > card_format.bits:
            continue
        if exact_width_only and written_bits != card_format.bits:
            continue
        if not card_format.constants_hold(frame):
            continue
        hex_value = f"{frame:0{card_format.hex_digits}X}"
        decoded = card_format.decode(hex_value)
        if not decoded.parity_valid:
            continue
        parity_bits = card_format.parity_bit_count
        # Bits the frame had to match: its parity bits and the constants its layout fixes (a
        # frame matching Keyscan's 10-bit OEM code by chance is as unlikely as 10 parity bits).
        checked_bits = parity_bits + card_format.constant_bit_count
        # How many hex digits the written value lacks (or has beyond) this format's width.
        width_gap = abs(card_format.hex_digits - -(-written_bits // 4))
        rank = (
            0 if parity_bits else 2,
            width_gap,
            -checked_bits,
            _rank(card_format),
        )
        candidate = Candidate(
            card_format.name,
            decoded.facility_code,
            decoded.card_number,
            "valid" if parity_bits else "none",
            parity_bits,
            hex_value,
            reading,
        )
        found.append((rank, candidate))
    return found


def _pair_readings(
    formats: list[CardFormat],
    facility_code: int,
    card_number: int,
    reading: Reading,
    order: int = 0,
) -> list[tuple[tuple, Candidate]]:
    """Every format with a facility code whose ranges hold both numbers."""
    found = []
    for card_format in formats:
        if not card_format.has_facility_code or card_format.layout is None:
            continue
        if facility_code > (card_format.facility_code_max or 0):
            continue
        if card_number > card_format.card_number_max:
            continue
        candidate = Candidate(
            card_format.name,
            facility_code,
            card_number,
            "n/a",
            card_format.parity_bit_count,
            card_format.encode(facility_code, card_number),
            reading,
        )
        found.append(((1, _rank(card_format), order, facility_code), candidate))
    return found


def _run_together_readings(formats: list[CardFormat], digits: str) -> list[tuple[tuple, Candidate]]:
    """A decimal that may be a facility code and a card number written one after the other."""
    found = []
    # The two fields side by side in binary: the frame's data bits without its parity bits.
    number = int(digits)
    for card_format in formats:
        if not card_format.has_facility_code or card_format.layout is None:
            continue
        assert card_format.layout.facility_code is not None
        card_number_width = card_format.layout.card_number.width
        # Only layouts whose facility code sits just before the card number read this way.
        if card_format.layout.facility_code.end + 1 != card_format.layout.card_number.start:
            continue
        found += _pair_readings(
            [card_format],
            number >> card_number_width,
            number & ((1 << card_number_width) - 1),
            "bits run together",
            order=1,
        )
    # The digits of the facility code followed by those of the card number.
    for split in range(1, len(digits)):
        facility_digits, number_digits = digits[:split], digits[split:]
        if len(facility_digits) > 1 and facility_digits.startswith("0"):
            continue
        found += _pair_readings(
            formats, int(facility_digits), int(number_digits), "digits run together", order=2
        )
    return found
