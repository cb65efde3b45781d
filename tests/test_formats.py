"""Tests for the card-format registry: worked examples, round trips, parity, lookup, vectorising."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credkit.formats import (
    REGISTRY,
    BitField,
    CardFormat,
    CardFormatRegistry,
    DecodedFrame,
    FrameLayout,
    ParityBit,
    UnknownCardType,
    _popcount_swar,
    fold_name,
)

LAYOUT_FORMATS = [f for f in REGISTRY if f.layout is not None]
PARITY_FORMATS = [f for f in LAYOUT_FORMATS if f.layout.parity]
SERIAL_FORMATS = [f for f in REGISTRY if f.serial_number]
NOT_PUBLIC_FORMATS = [f for f in REGISTRY if f.layout is None and not f.serial_number]
ALL_FORMATS = list(REGISTRY)

EXAMPLES = settings(max_examples=200, deadline=None)


def by_name(formats: list[CardFormat]) -> dict:
    return {"argvalues": formats, "ids": [f.name for f in formats]}


def frame_bits(card_format: CardFormat, hex_value: str) -> str:
    return format(int(hex_value, 16), f"0{card_format.bits}b")


# ---------------------------------------------------------------------------------------------
# Worked examples from the spec
# ---------------------------------------------------------------------------------------------

WORKED_EXAMPLES = [
    ("Standard 26-bit Wiegand", 1, 1, "10000000100000000000000010", "2020002"),
    ("Standard 26-bit Wiegand", 99, 999, "00110001100000011111001111", "0C607CF"),
    ("Standard 26-bit Wiegand", 118, 1603, "10111011000000110010000110", "2EC0C86"),
    ("HID 37-bit", 1000, 123456, "0000000111110100000111100010010000001", "003E83C481"),
    ("HID Corporate 1000-35", 118, 1603, "11000001110110000000000110010000111", "60EC00C87"),
    (
        "HID Corporate 1000-48",
        118,
        1603,
        "010000000000000001110110000000000000110010000110",
        "400076000C86",
    ),
]


@pytest.mark.parametrize(
    ("name", "facility_code", "card_number", "bits", "hex_value"), WORKED_EXAMPLES
)
def test_worked_example_encodes(name, facility_code, card_number, bits, hex_value):
    card_format = REGISTRY.get(name)
    encoded = card_format.encode(facility_code, card_number)
    assert encoded == hex_value
    assert frame_bits(card_format, encoded) == bits


@pytest.mark.parametrize(
    ("name", "facility_code", "card_number", "bits", "hex_value"), WORKED_EXAMPLES
)
def test_worked_example_decodes(name, facility_code, card_number, bits, hex_value):
    card_format = REGISTRY.get(name)
    assert int(bits, 2) == int(hex_value, 16)
    decoded = card_format.decode(hex_value)
    assert decoded == DecodedFrame(facility_code, card_number, True)
    assert decoded.facility_code == facility_code
    assert decoded.card_number == card_number
    assert decoded.parity_valid is True
    assert card_format.decode(hex_value.lower()) == decoded


@pytest.mark.parametrize(
    ("name", "facility_code", "card_number", "bits", "hex_value"), WORKED_EXAMPLES
)
def test_worked_example_vectorised(name, facility_code, card_number, bits, hex_value):
    card_format = REGISTRY.get(name)
    frames = card_format.encode_many(
        np.array([facility_code], dtype=np.uint64), np.array([card_number], dtype=np.uint64)
    )
    assert frames.dtype == np.uint64
    assert int(frames[0]) == int(hex_value, 16)
    facility_codes, card_numbers, parity_valid = card_format.decode_many(frames)
    assert (int(facility_codes[0]), int(card_numbers[0]), bool(parity_valid[0])) == (
        facility_code,
        card_number,
        True,
    )


# ---------------------------------------------------------------------------------------------
# Layout constants and ignored fields
# ---------------------------------------------------------------------------------------------


def test_keyscan_writes_its_oem_code():
    keyscan = REGISTRY.get("HID 36-bit Keyscan")
    bits = frame_bits(keyscan, keyscan.encode(0, 0))
    assert int(bits[1:11], 2) == 900


def test_kastle_writes_b2_as_one_and_issue_level_as_zero():
    kastle = REGISTRY.get("Kastle 32-bit")
    bits = frame_bits(kastle, kastle.encode(255, 65_535))
    assert bits[1] == "1"
    assert bits[2:7] == "00000"


def test_simplex_issue_level_is_written_as_zero_and_ignored_on_decode():
    simplex = REGISTRY.get("HID 36-bit Simplex")
    frame = int(simplex.encode(12, 345_678), 16)
    assert frame_bits(simplex, f"{frame:X}")[9:11] == "00"
    # An issue level of 3 (b10 and b11 set) leaves parity valid: b1 covers both bits.
    with_issue_level = frame | (0b11 << (36 - 11))
    assert simplex.decode(f"{with_issue_level:09X}") == (12, 345_678, True)


# ---------------------------------------------------------------------------------------------
# Round trips and parity, every layout format
# ---------------------------------------------------------------------------------------------


@st.composite
def credentials(draw, card_format: CardFormat):
    facility_code = None
    if card_format.has_facility_code:
        facility_code = draw(st.integers(0, card_format.facility_code_max))
    return facility_code, draw(st.integers(0, card_format.card_number_max))


@pytest.mark.parametrize("card_format", **by_name(LAYOUT_FORMATS))
def test_round_trip_over_the_whole_range(card_format):
    @EXAMPLES
    @given(credentials(card_format))
    def check(credential):
        facility_code, card_number = credential
        hex_value = card_format.encode(facility_code, card_number)
        assert len(hex_value) == card_format.hex_digits
        assert hex_value == hex_value.upper()
        assert card_format.decode(hex_value) == (facility_code, card_number, True)

    check()


@pytest.mark.parametrize("card_format", **by_name(LAYOUT_FORMATS))
def test_range_ends_round_trip(card_format):
    facility_codes = [0, card_format.facility_code_max] if card_format.has_facility_code else [None]
    for facility_code in facility_codes:
        for card_number in (0, card_format.card_number_max):
            hex_value = card_format.encode(facility_code, card_number)
            assert card_format.decode(hex_value) == (facility_code, card_number, True)


def checked_positions(card_format: CardFormat) -> set[int]:
    """Positions a single flip must be detected at: parity bits and every bit they cover."""
    positions = set()
    for parity_bit in card_format.layout.parity:
        positions.add(parity_bit.position)
        positions.update(parity_bit.covers)
    return positions


@pytest.mark.parametrize("card_format", **by_name(PARITY_FORMATS))
def test_every_bit_of_every_layout_is_checked_by_parity(card_format):
    # Not a requirement in itself, but it means the flip test below covers every bit of the frame.
    assert checked_positions(card_format) == set(range(1, card_format.bits + 1))


@pytest.mark.parametrize("card_format", **by_name(PARITY_FORMATS))
def test_any_single_bit_flip_is_detected(card_format):
    positions = sorted(checked_positions(card_format))

    @EXAMPLES
    @given(credentials(card_format))
    def check(credential):
        frame = int(card_format.encode(*credential), 16)
        flipped = [frame ^ (1 << (card_format.bits - position)) for position in positions]
        for position, bad_frame in zip(positions, flipped, strict=True):
            bad_hex = f"{bad_frame:0{card_format.hex_digits}X}"
            assert card_format.decode(bad_hex).parity_valid is False, f"flip of b{position}"
        _, _, parity_valid = card_format.decode_many(np.array(flipped, dtype=np.uint64))
        assert not parity_valid.any()

    check()


# ---------------------------------------------------------------------------------------------
# Vectorised versions agree with the scalar ones
# ---------------------------------------------------------------------------------------------


def random_credentials(card_format: CardFormat, rng: np.random.Generator, size: int):
    card_numbers = rng.integers(
        0, card_format.card_number_max, size, dtype=np.uint64, endpoint=True
    )
    if card_format.has_facility_code:
        facility_codes = rng.integers(
            0, card_format.facility_code_max, size, dtype=np.uint64, endpoint=True
        )
    else:
        facility_codes = np.zeros(size, dtype=np.uint64)
    return facility_codes, card_numbers


def scalar_facility_code(card_format: CardFormat, value) -> int | None:
    return int(value) if card_format.has_facility_code else None


@pytest.mark.parametrize("card_format", **by_name(ALL_FORMATS))
def test_encode_many_agrees_with_encode(card_format):
    rng = np.random.default_rng(26)
    facility_codes, card_numbers = random_credentials(card_format, rng, 2_000)
    frames = card_format.encode_many(facility_codes, card_numbers)
    assert frames.dtype == np.uint64
    expected = [
        int(card_format.encode(scalar_facility_code(card_format, fc), int(cn)), 16)
        for fc, cn in zip(facility_codes, card_numbers, strict=True)
    ]
    assert frames.tolist() == expected


@pytest.mark.parametrize("card_format", **by_name(ALL_FORMATS))
def test_decode_many_agrees_with_decode_on_arbitrary_frames(card_format):
    # Arbitrary bit patterns, so about half have bad parity.
    rng = np.random.default_rng(37)
    frames = rng.integers(0, 1 << card_format.bits, 2_000, dtype=np.uint64, endpoint=False)
    facility_codes, card_numbers, parity_valid = card_format.decode_many(frames)
    assert facility_codes.dtype == np.uint64
    assert card_numbers.dtype == np.uint64
    assert parity_valid.dtype == bool
    for i, frame in enumerate(frames.tolist()):
        decoded = card_format.decode(f"{frame:X}")
        assert int(facility_codes[i]) == (decoded.facility_code or 0)
        assert int(card_numbers[i]) == decoded.card_number
        assert bool(parity_valid[i]) == decoded.parity_valid
    if card_format.layout is not None and card_format.layout.parity:
        assert 0 < parity_valid.sum() < len(frames)


@pytest.mark.parametrize("card_format", **by_name(LAYOUT_FORMATS))
def test_vectorised_round_trip_with_hypothesis(card_format):
    @settings(max_examples=50, deadline=None)
    @given(st.lists(credentials(card_format), min_size=1, max_size=50))
    def check(credential_list):
        facility_codes = np.array([fc or 0 for fc, _ in credential_list], dtype=np.uint64)
        card_numbers = np.array([cn for _, cn in credential_list], dtype=np.uint64)
        frames = card_format.encode_many(facility_codes, card_numbers)
        decoded_fc, decoded_cn, parity_valid = card_format.decode_many(frames)
        assert decoded_fc.tolist() == facility_codes.tolist()
        assert decoded_cn.tolist() == card_numbers.tolist()
        assert parity_valid.all()

    check()


def test_swar_popcount_fallback_matches_python():
    rng = np.random.default_rng(64)
    values = np.concatenate(
        [
            rng.integers(0, 1 << 64, 5_000, dtype=np.uint64, endpoint=False),
            np.array([0, 1, (1 << 64) - 1, 1 << 63], dtype=np.uint64),
        ]
    )
    assert _popcount_swar(values).tolist() == [v.bit_count() for v in values.tolist()]


def test_decoding_a_full_review_is_fast():
    standard = REGISTRY.get("Standard 26-bit Wiegand")
    rng = np.random.default_rng(250)
    facility_codes, card_numbers = random_credentials(standard, rng, 250_000)
    frames = standard.encode_many(facility_codes, card_numbers)
    started = time.perf_counter()
    _, decoded_cn, parity_valid = standard.decode_many(frames)
    elapsed = time.perf_counter() - started
    assert parity_valid.all()
    assert np.array_equal(decoded_cn, card_numbers)
    assert elapsed < 0.5  # milliseconds in practice; generous for slow CI machines


def test_vectorised_rejects_bad_input():
    standard = REGISTRY.get("Standard 26-bit Wiegand")
    with pytest.raises(ValueError):
        standard.encode_many(np.array([256]), np.array([1]))
    with pytest.raises(ValueError):
        standard.encode_many(np.array([1]), np.array([65_536]))
    with pytest.raises(ValueError):
        standard.encode_many(np.array([-1]), np.array([1]))
    with pytest.raises(ValueError):
        standard.encode_many(None, np.array([1]))
    with pytest.raises(ValueError):
        standard.decode_many(np.array([1 << 26], dtype=np.uint64))
    no_facility_code = REGISTRY.get("HID 37-bit No Facility Code")
    with pytest.raises(ValueError):
        no_facility_code.encode_many(np.array([1]), np.array([1]))
    assert no_facility_code.encode_many(None, np.array([5])).tolist() == [
        int(no_facility_code.encode(None, 5), 16)
    ]


def test_vectorised_handles_empty_arrays():
    standard = REGISTRY.get("Standard 26-bit Wiegand")
    empty = np.array([], dtype=np.uint64)
    assert standard.encode_many(empty, empty).shape == (0,)
    assert all(part.shape == (0,) for part in standard.decode_many(empty))


# ---------------------------------------------------------------------------------------------
# Scalar validation
# ---------------------------------------------------------------------------------------------


def test_encode_rejects_values_outside_the_ranges():
    standard = REGISTRY.get("Standard 26-bit Wiegand")
    for facility_code, card_number in [(256, 1), (-1, 1), (1, 65_536), (1, -1), (None, 1)]:
        with pytest.raises(ValueError):
            standard.encode(facility_code, card_number)
    with pytest.raises(ValueError, match="no facility code"):
        REGISTRY.get("HID 37-bit No Facility Code").encode(0, 1)
    with pytest.raises(ValueError):
        REGISTRY.get("MiFare 4-Byte (32 bit) CSN").encode(None, 1 << 32)


@pytest.mark.parametrize("card_format", **by_name(ALL_FORMATS))
@pytest.mark.parametrize("bad_hex", ["", "G", "12 34", "0x12", "-1", "１２", "1_2"])
def test_decode_rejects_what_is_not_hex(card_format, bad_hex):
    with pytest.raises(ValueError):
        card_format.decode(bad_hex)


@pytest.mark.parametrize("card_format", **by_name(ALL_FORMATS))
def test_decode_rejects_too_many_digits_or_bits(card_format):
    with pytest.raises(ValueError, match="hex digits"):
        card_format.decode("0" * (card_format.hex_digits + 1))
    if card_format.bits % 4:
        # As many digits as allowed, but more bits than the format has.
        with pytest.raises(ValueError, match="bits"):
            card_format.decode(f"{1 << card_format.bits:X}")
    assert card_format.decode("F" * (card_format.bits // 4)).parity_valid in (True, False)


# ---------------------------------------------------------------------------------------------
# Serial-number and non-public formats
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "digits"),
    [("MiFare 4-Byte (32 bit) CSN", 8), ("DESFire CSN", 14), ("HID iClass", 16)],
)
def test_serial_formats_zero_pad(name, digits):
    card_format = REGISTRY.get(name)
    assert card_format.serial_number
    assert card_format.hex_digits == digits
    assert card_format.encode(None, 0xAB) == "AB".rjust(digits, "0")
    assert card_format.encode(None, card_format.card_number_max) == "F" * digits
    assert card_format.decode("ab".rjust(digits, "0")) == (None, 0xAB, True)
    assert card_format.decode("AB") == (None, 0xAB, True)
    with pytest.raises(ValueError):
        card_format.decode("1" * (digits + 1))


def test_serial_format_ranges():
    assert REGISTRY.get("MiFare 4-Byte (32 bit) CSN").card_number_max == 4_294_967_295
    assert REGISTRY.get("DESFire CSN").card_number_max == 2**56 - 1
    assert REGISTRY.get("HID iClass").card_number_max == 2**64 - 1


@pytest.mark.parametrize("card_format", **by_name(NOT_PUBLIC_FORMATS))
def test_not_public_formats_are_the_card_number_in_hex(card_format):
    assert not card_format.has_facility_code
    assert card_format.facility_code_max is None
    assert card_format.card_number_max == 2**card_format.bits - 1
    assert card_format.layout is None
    assert card_format.encode(None, 0xBEEF) == "BEEF"
    assert card_format.decode("BEEF") == (None, 0xBEEF, True)
    with pytest.raises(ValueError):
        card_format.encode(None, 2**card_format.bits)


# ---------------------------------------------------------------------------------------------
# Lookup
# ---------------------------------------------------------------------------------------------

CANONICAL_NAMES = [
    "Standard 26-bit Wiegand",
    "HID 34-bit",
    "HID 37-bit",
    "HID 37-bit No Facility Code",
    "HID Corporate 1000-35",
    "HID Corporate 1000-48",
    "Kastle 32-bit",
    "HID 36-bit Keyscan",
    "HID 36-bit Simplex",
    "MiFare 4-Byte (32 bit) CSN",
    "DESFire CSN",
    "HID iClass",
    "Casi Rusco 40-Bit",
    "Verkada DESFire",
    "Third Party DESFire 40X",
    "Apple Wallet Pass",
    "MDC Custom 64-bit",
    "HID 33-bit DSX",
    "HID 33-bit RS2",
    "Cansec 37-bit",
    "Credit Card BIN Number",
    "Kantech XSF",
    "Schlage 34-bit",
    "Schlage 37-bit",
    "RBH 50-bit",
    "Guardall G-Prox II 36-bit",
    "AMAG 32-bit",
    "Securitas 37-bit",
    "PointGuard MDI 37-bit",
    "Blackboard 64-bit",
    "IDm 64-bit",
    "Continental 36-bit",
    "AWID 34-bit",
    "HID Infinity 37-bit",
    "HID Ceridian 26-bit",
    "iClass 35-bit",
    "Andover Controls 37-bit",
]


def test_every_canonical_name_is_registered_in_order():
    assert REGISTRY.names() == CANONICAL_NAMES
    assert len(REGISTRY) == len(CANONICAL_NAMES)
    assert [f.name for f in REGISTRY] == CANONICAL_NAMES
    for name in CANONICAL_NAMES:
        assert REGISTRY.get(name).name == name
        assert REGISTRY.is_canonical(name)


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("HID", "Standard 26-bit Wiegand"),
        ("h10301", "Standard 26-bit Wiegand"),
        ("26-bit", "Standard 26-bit Wiegand"),
        ("26 BIT", "Standard 26-bit Wiegand"),
        ("standard 26 bit wiegand", "Standard 26-bit Wiegand"),
        ("STANDARD26-BITWIEGAND", "Standard 26-bit Wiegand"),
        ("hid34", "HID 34-bit"),
        ("H10306", "HID 34-bit"),
        ("hid_34_bit", "HID 34-bit"),
        ("HID37wFacilityCode", "HID 37-bit"),
        ("H10304", "HID 37-bit"),
        ("HID37woFacilityCode", "HID 37-bit No Facility Code"),
        ("h10302", "HID 37-bit No Facility Code"),
        ("Corporate1000_35", "HID Corporate 1000-35"),
        ("corporate 1000 35", "HID Corporate 1000-35"),
        ("corporate-1000-48", "HID Corporate 1000-48"),
        ("Kastle32", "Kastle 32-bit"),
        ("hid36keyscan", "HID 36-bit Keyscan"),
        ("HID36Simplex", "HID 36-bit Simplex"),
        ("MiFareClassic1K_CSN", "MiFare 4-Byte (32 bit) CSN"),
        ("mifareclassic4k csn", "MiFare 4-Byte (32 bit) CSN"),
        ("DESFire", "DESFire CSN"),
        ("desfire csn", "DESFire CSN"),
        ("Verkada DESFire", "Verkada DESFire"),
        ("DESFire 40X", "Third Party DESFire 40X"),
        ("desfire_40x", "Third Party DESFire 40X"),
        ("iClass", "HID iClass"),
        ("ICLASS 35-BIT", "iClass 35-bit"),
        ("  hid iclass\t", "HID iClass"),
    ],
)
def test_lookup_folds_case_spaces_hyphens_and_underscores(spelling, canonical):
    assert REGISTRY.get(spelling).name == canonical
    assert REGISTRY.find(spelling).name == canonical
    assert spelling in REGISTRY


def test_is_canonical_only_for_the_exact_canonical_spelling():
    assert REGISTRY.is_canonical("HID 34-bit")
    assert not REGISTRY.is_canonical("hid 34-bit")
    assert not REGISTRY.is_canonical("HID34")
    assert not REGISTRY.is_canonical("HID 34 bit")
    assert not REGISTRY.is_canonical("no such card")


def test_fold_name():
    assert fold_name("HID Corporate 1000-35") == "hidcorporate100035"
    assert fold_name("Corporate1000_35") == "corporate100035"
    assert fold_name(" Kastle-32 BIT ") == "kastle32bit"


@pytest.mark.parametrize("unknown", ["HID 35-bit", "Proximity", "", "   ", "DESFire 41X"])
def test_unknown_names(unknown):
    assert REGISTRY.find(unknown) is None
    assert unknown not in REGISTRY
    with pytest.raises(UnknownCardType) as raised:
        REGISTRY.get(unknown)
    assert isinstance(raised.value, KeyError)
    assert repr(unknown) in str(raised.value)
    assert raised.value.value == unknown


def test_unknown_name_suggests_a_close_one():
    with pytest.raises(UnknownCardType, match="did you mean 'HID 34-bit'"):
        REGISTRY.get("HID 34-bti")


def test_find_of_a_non_string_is_none():
    assert REGISTRY.find(None) is None
    assert REGISTRY.find(float("nan")) is None
    with pytest.raises(UnknownCardType):
        REGISTRY.get(None)


def test_register_rejects_a_folded_clash():
    registry = CardFormatRegistry()
    for card_format in REGISTRY:
        registry.register(card_format)
    assert registry.names() == REGISTRY.names()
    clash = CardFormat(
        name="Desfire-CSN",
        aliases=(),
        bits=56,
        has_facility_code=False,
        facility_code_max=None,
        card_number_max=2**56 - 1,
        layout=None,
        serial_number=True,
    )
    with pytest.raises(ValueError, match="DESFire CSN"):
        registry.register(clash)
    alias_clash = CardFormat(
        name="Something New",
        aliases=("hid_34",),
        bits=34,
        has_facility_code=False,
        facility_code_max=None,
        card_number_max=2**34 - 1,
        layout=None,
        serial_number=False,
    )
    with pytest.raises(ValueError, match="HID 34-bit"):
        registry.register(alias_clash)
    assert len(registry) == len(REGISTRY)


def test_table_has_one_row_per_format():
    table = REGISTRY.table()
    assert table["name"].tolist() == CANONICAL_NAMES
    assert list(table.columns) == [
        "name",
        "aliases",
        "bits",
        "facility_code_range",
        "card_number_range",
        "layout",
    ]
    standard = table.set_index("name").loc["Standard 26-bit Wiegand"]
    assert standard["aliases"] == "HID, H10301, 26-bit"
    assert standard["bits"] == 26
    assert standard["facility_code_range"] == "0–255"
    assert standard["card_number_range"] == "0–65,535"
    assert standard["layout"] == "wiegand frame"
    assert set(table["layout"]) == {"wiegand frame", "serial number", "card number in hex"}


# ---------------------------------------------------------------------------------------------
# Layout data is checked when a format is built
# ---------------------------------------------------------------------------------------------


def a_format(layout: FrameLayout, bits: int = 8, **overrides) -> CardFormat:
    fields = dict(
        name="Test",
        aliases=(),
        bits=bits,
        has_facility_code=False,
        facility_code_max=None,
        card_number_max=3,
        layout=layout,
        serial_number=False,
    )
    fields.update(overrides)
    return CardFormat(**fields)


def test_bad_layouts_are_rejected():
    with pytest.raises(ValueError, match="belongs to both"):
        a_format(FrameLayout(None, BitField(2, 3), (ParityBit(3, "even", (4,)),)))
    with pytest.raises(ValueError, match="does not fit"):
        a_format(FrameLayout(None, BitField(7, 9), ()))
    with pytest.raises(ValueError, match="cycle"):
        a_format(
            FrameLayout(
                None,
                BitField(3, 4),
                (ParityBit(1, "even", (2, 3)), ParityBit(2, "odd", (1, 4))),
            )
        )
    with pytest.raises(ValueError, match="cover itself"):
        ParityBit(1, "odd", (1, 2))
    with pytest.raises(ValueError):
        ParityBit(1, "none", (2,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="card_number_max"):
        a_format(FrameLayout(None, BitField(7, 8), ()), card_number_max=4)
    with pytest.raises(ValueError):
        a_format(FrameLayout(None, BitField(7, 8), ()), bits=65)


def test_parity_bits_covering_parity_bits_are_computed_inner_first():
    # b1 covers b8, which is listed after it; the encoder must still set b8 first.
    layout = FrameLayout(
        None,
        BitField(2, 7),
        (ParityBit(1, "even", tuple(range(2, 9))), ParityBit(8, "odd", (6, 7))),
    )
    card_format = a_format(layout, card_number_max=63)
    for card_number in range(64):
        assert card_format.decode(card_format.encode(None, card_number)) == (
            None,
            card_number,
            True,
        )
