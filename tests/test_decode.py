"""Tests for raw card data decoding: the four new layouts, candidates, their order, `credkit decode`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from credkit.cli import main
from credkit.decode import COMMONNESS, Candidate, UnreadableValue, candidates
from credkit.formats import REGISTRY, CardFormat

PARITY_FORMATS = [f for f in REGISTRY if f.layout is not None and f.layout.parity]


def even_bit(bits: str) -> str:
    """The even parity bit over ``bits``: 1 when they hold an odd number of ones."""
    return "1" if bits.count("1") % 2 else "0"


def odd_bit(bits: str) -> str:
    return "0" if bits.count("1") % 2 else "1"


def hid37_parity(data: str) -> str:
    """b1 even over b2-b19 and b37 odd over b19-b36, around the 35 data bits b2-b36."""
    return even_bit(data[0:18]) + data + odd_bit(data[17:35])


# ---------------------------------------------------------------------------------------------
# The four layouts, worked by hand from their bit definitions
# ---------------------------------------------------------------------------------------------

NEW_LAYOUT_EXAMPLES = [
    # AWID 34-bit: b1 even over b2-b17, FC b2-b9, CN b10-b33, b34 odd over b18-b33.
    ("AWID 34-bit", 23, 123_456, "1000101110000000111100010010000000", "22E03C480"),
    # PointGuard MDI 37-bit: b2-b3 unused, FC b4-b7, CN b8-b36, parity as HID 37-bit.
    (
        "PointGuard MDI 37-bit",
        9,
        123_456_789,
        "1001001001110101101111001101000101011",
        "124EB79A2B",
    ),
    # Casi Rusco 40-Bit: CN b2-b39, b1 and b40 not checked (written as 0).
    (
        "Casi Rusco 40-Bit",
        None,
        123_456_789_012,
        "0011100101111101001100100011010000101000",
        "397D323428",
    ),
    # Guardall G-Prox II 36-bit: FC b2-b15, CN b16-b35, b1 and b36 not checked.
    (
        "Guardall G-Prox II 36-bit",
        1234,
        567_890,
        "000010011010010100010101010010100100",
        "09A5154A4",
    ),
]


def built_by_hand(name: str, facility_code: int | None, card_number: int) -> str:
    """The frame's bits straight from the layout's definition, without the encoder."""
    if name == "AWID 34-bit":
        data = format(facility_code, "08b") + format(card_number, "024b")
        return even_bit(data[0:16]) + data + odd_bit(data[16:32])
    if name == "PointGuard MDI 37-bit":
        return hid37_parity("00" + format(facility_code, "04b") + format(card_number, "029b"))
    if name == "Casi Rusco 40-Bit":
        return "0" + format(card_number, "038b") + "0"
    assert name == "Guardall G-Prox II 36-bit"
    return "0" + format(facility_code, "014b") + format(card_number, "020b") + "0"


@pytest.mark.parametrize(
    ("name", "facility_code", "card_number", "bits", "hex_value"), NEW_LAYOUT_EXAMPLES
)
def test_new_layout_worked_example(name, facility_code, card_number, bits, hex_value):
    card_format = REGISTRY.get(name)
    assert built_by_hand(name, facility_code, card_number) == bits
    assert len(bits) == card_format.bits
    assert format(int(hex_value, 16), f"0{card_format.bits}b") == bits
    assert card_format.encode(facility_code, card_number) == hex_value
    assert card_format.decode(hex_value) == (facility_code, card_number, True)


@pytest.mark.parametrize("name", [example[0] for example in NEW_LAYOUT_EXAMPLES])
def test_new_layouts_match_the_hand_built_frame_over_their_range(name):
    card_format = REGISTRY.get(name)

    @settings(max_examples=100, deadline=None)
    @given(
        st.integers(0, card_format.facility_code_max or 0),
        st.integers(0, card_format.card_number_max),
    )
    def check(facility_code, card_number):
        if not card_format.has_facility_code:
            facility_code = None
        bits = built_by_hand(name, facility_code, card_number)
        assert card_format.encode(facility_code, card_number) == (
            f"{int(bits, 2):0{card_format.hex_digits}X}"
        )

    check()


def test_new_layout_ranges():
    assert REGISTRY.get("AWID 34-bit").facility_code_max == 255
    assert REGISTRY.get("AWID 34-bit").card_number_max == 2**24 - 1
    assert REGISTRY.get("PointGuard MDI 37-bit").facility_code_max == 15
    assert REGISTRY.get("PointGuard MDI 37-bit").card_number_max == 2**29 - 1
    assert not REGISTRY.get("Casi Rusco 40-Bit").has_facility_code
    assert REGISTRY.get("Casi Rusco 40-Bit").card_number_max == 2**38 - 1
    assert REGISTRY.get("Guardall G-Prox II 36-bit").facility_code_max == 2**14 - 1
    assert REGISTRY.get("Guardall G-Prox II 36-bit").card_number_max == 2**20 - 1


def test_unchecked_outer_bits_are_ignored_on_decode():
    casi = REGISTRY.get("Casi Rusco 40-Bit")
    with_outer_bits = int("397D323428", 16) | 1 | (1 << 39)
    assert casi.decode(f"{with_outer_bits:010X}") == (None, 123_456_789_012, True)


# ---------------------------------------------------------------------------------------------
# candidates: forms read, order
# ---------------------------------------------------------------------------------------------


def readings(found: list[Candidate]) -> list[tuple[str, int | None, int]]:
    return [(c.card_type, c.facility_code, c.card_number) for c in found]


def test_standard_26_bit_example_is_first():
    found = REGISTRY.candidates("2EC0C86")
    assert readings(found)[0] == ("Standard 26-bit Wiegand", 118, 1603)
    assert found[0].parity == "valid" and found[0].parity_bits == 2
    assert found[0].hex == "2EC0C86"


@pytest.mark.parametrize("written", ["2EC0C86", "0x2EC0C86", "2ec0c86", " 2EC 0C86 "])
def test_hex_is_read_with_prefix_case_and_spaces(written):
    assert readings(candidates(written))[0] == ("Standard 26-bit Wiegand", 118, 1603)


def test_hex_missing_its_leading_zeros_is_accepted():
    # 0C607CF is 99/999; written without its leading zero it is still read as a 26-bit frame.
    found = candidates("C607CF")
    assert readings(found)[0] == ("Standard 26-bit Wiegand", 99, 999)
    assert found[0].hex == "0C607CF"
    # HID 37-bit's worked example without its two leading zeros.
    assert ("HID 37-bit", 1000, 123_456) in readings(candidates("3E83C481"))


def test_a_bit_string_is_read_at_its_exact_width():
    found = candidates("10111011000000110010000110")
    assert readings(found) == [("Standard 26-bit Wiegand", 118, 1603)]
    assert found[0].reading == "bit string"
    assert readings(candidates("0b10111011000000110010000110"))[0][0] == "Standard 26-bit Wiegand"


@pytest.mark.parametrize("written", ["118:1603", "118/1603", "118|1603", "118 / 1603"])
def test_facility_code_and_card_number_pairs(written):
    found = candidates(written)
    assert readings(found)[0] == ("Standard 26-bit Wiegand", 118, 1603)
    assert found[0].parity == "n/a" and found[0].hex == "2EC0C86"
    # Every format whose ranges hold both is listed; AWID's facility code stops at 255.
    assert ("HID 34-bit", 118, 1603) in readings(found)
    assert all(c.facility_code == 118 for c in found)
    assert "AWID 34-bit" not in [c.card_type for c in candidates("300:1603")]


def test_one_card_written_three_ways():
    """FC 21 / CN 15890, from the issue: as 1392146 (the fields in binary) and as 2115890."""
    in_binary = candidates("1392146")
    assert ("Standard 26-bit Wiegand", 21, 15890) in readings(in_binary)
    assert [c.reading for c in in_binary if c.facility_code == 21][0] == "bits run together"
    in_digits = candidates("2115890")
    assert ("Standard 26-bit Wiegand", 21, 15890) in readings(in_digits)
    assert ("Standard 26-bit Wiegand", 211, 5890) in readings(in_digits)
    # The digits also read as a hex frame when its parity holds: frames come first.
    frame = candidates("2020002")
    assert readings(frame)[0] == ("Standard 26-bit Wiegand", 1, 1)
    assert frame[0].reading == "hex frame"


def test_coinciding_layouts_are_all_listed():
    hid34 = REGISTRY.get("HID 34-bit").encode(118, 1603)
    found = readings(candidates(hid34, bits=34))
    assert found[0] == ("HID 34-bit", 118, 1603)
    awid = REGISTRY.get("AWID 34-bit").decode(hid34)
    assert ("AWID 34-bit", awid.facility_code, awid.card_number) in found
    hid37 = candidates("003E83C481", bits=37)
    assert [c.card_type for c in hid37] == [
        "HID 37-bit",
        "HID 37-bit No Facility Code",
        "PointGuard MDI 37-bit",
    ]


def test_parity_holding_layouts_come_before_layouts_without_parity():
    found = candidates("2EC0C86")
    kinds = [c.parity for c in found]
    assert kinds == sorted(kinds, key=["valid", "n/a", "none"].index)
    assert {c.card_type for c in found if c.parity == "none"} == {
        "Casi Rusco 40-Bit",
        "Guardall G-Prox II 36-bit",
    }


def test_more_parity_bits_come_first_among_equal_widths():
    # A frame valid both as HID Corporate 1000-35 (3 parity bits) and as a 34- or 36-bit format
    # (2 parity bits), all written in 9 hex digits: Corporate 1000 comes first.
    corporate = REGISTRY.get("HID Corporate 1000-35")
    for card_number in range(2000):
        hex_value = corporate.encode(5, card_number)
        found = [c for c in candidates(hex_value) if c.parity == "valid" and len(c.hex) == 9]
        if len(found) > 1:
            break
    else:  # pragma: no cover - the search space holds such frames
        pytest.fail("no frame valid in two layouts found")
    assert found[0].card_type == "HID Corporate 1000-35"
    checked = [c.parity_bits + REGISTRY.get(c.card_type).constant_bit_count for c in found]
    assert checked == sorted(checked, reverse=True)


def test_constant_bits_count_as_checked_bits():
    # A Keyscan frame matches a 10-bit OEM code: it comes before Corporate 1000's 3 parity bits.
    keyscan = REGISTRY.get("HID 36-bit Keyscan")
    assert keyscan.constant_bit_count == 10
    for card_number in range(0, 65_535, 97):
        assert readings(candidates(keyscan.encode(77, card_number)))[0] == (
            "HID 36-bit Keyscan",
            77,
            card_number,
        )


def test_constant_bits_must_match():
    # Keyscan fixes its OEM code at 900; a frame without it is no Keyscan frame.
    keyscan = REGISTRY.get("HID 36-bit Keyscan")
    assert "HID 36-bit Keyscan" in [c.card_type for c in candidates(keyscan.encode(1, 2))]
    simplex_frame = REGISTRY.get("HID 36-bit Simplex").encode(1, 2)
    frames = [c.card_type for c in candidates(simplex_frame) if c.reading == "hex frame"]
    assert "HID 36-bit Simplex" in frames
    assert "HID 36-bit Keyscan" not in frames


def test_commonness_names_real_formats_with_standard_26_first():
    assert COMMONNESS[0] == "Standard 26-bit Wiegand"
    assert all(name in REGISTRY.names() for name in COMMONNESS)
    assert len(set(COMMONNESS)) == len(COMMONNESS)


@pytest.mark.parametrize("value", ["", "zz", "12:ab", "1.5E+07"])
def test_unreadable_values_raise(value):
    with pytest.raises(UnreadableValue):
        candidates(value)


def test_no_candidates_is_an_empty_list():
    assert candidates("2EC0C87", bits=26) == []  # its parity is wrong
    assert candidates("F" * 17) == []  # wider than any format


# ---------------------------------------------------------------------------------------------
# Every layout with parity: random cards encoded, then decoded, find their format
# ---------------------------------------------------------------------------------------------


def coinciding(card_format: CardFormat) -> set[str]:
    """Formats whose frames cannot be told apart from this one's: same width, same parity."""
    assert card_format.layout is not None
    return {
        other.name
        for other in PARITY_FORMATS
        if other.bits == card_format.bits and other.layout.parity == card_format.layout.parity
    }


@pytest.mark.parametrize("card_format", PARITY_FORMATS, ids=[f.name for f in PARITY_FORMATS])
def test_random_frames_decode_to_their_format(card_format):
    @settings(max_examples=150, deadline=None)
    @given(st.data())
    def check(data):
        facility_code = None
        if card_format.has_facility_code:
            facility_code = data.draw(st.integers(0, card_format.facility_code_max))
        card_number = data.draw(st.integers(0, card_format.card_number_max))
        hex_value = card_format.encode(facility_code, card_number)
        expected = (card_format.name, facility_code, card_number)
        assert expected in readings(candidates(hex_value))
        assert expected in readings(candidates(hex_value.lstrip("0") or "0"))
        at_width = candidates(hex_value, bits=card_format.bits)
        group = coinciding(card_format)
        # The readings no frame can tell apart lead, in the commonness order; first if unique.
        leading = [c for c in at_width[: len(group)]]
        assert {c.card_type for c in leading} == group
        if group == {card_format.name}:
            assert readings(at_width)[0] == expected
        else:
            assert expected in readings(leading)

    check()


# ---------------------------------------------------------------------------------------------
# credkit decode
# ---------------------------------------------------------------------------------------------


def test_cli_decode_lists_standard_26_bit_first():
    result = CliRunner().invoke(main, ["decode", "2EC0C86"])
    assert result.exit_code == 0
    first = result.output.splitlines()[0]
    assert first.startswith("1. Standard 26-bit Wiegand 118/1603 (hex 2EC0C86")


def test_cli_decode_json_equals_the_library():
    result = CliRunner().invoke(main, ["decode", "2EC0C86", "--json"])
    assert result.exit_code == 0
    listed = json.loads(result.output)
    assert listed == [c.as_dict() for c in candidates("2EC0C86")]
    assert {"card_type", "facility_code", "card_number", "parity"} <= set(listed[0])
    assert listed[0]["card_type"] == "Standard 26-bit Wiegand"
    assert (listed[0]["facility_code"], listed[0]["card_number"]) == (118, 1603)


def test_cli_decode_bits_and_exit_statuses():
    runner = CliRunner()
    only_34 = runner.invoke(main, ["decode", "2EC0C86", "--bits", "34", "--json"])
    assert only_34.exit_code == 0
    assert {c["card_type"] for c in json.loads(only_34.output)} == {"HID 34-bit", "AWID 34-bit"}
    none = runner.invoke(main, ["decode", "2EC0C87", "--bits", "26"])
    assert none.exit_code == 1
    assert "No card format of 26 bits fits '2EC0C87'" in none.output
    unreadable = runner.invoke(main, ["decode", "zz"])
    assert unreadable.exit_code == 2
    assert "'zz' is not a hex frame" in unreadable.output
    assert "Traceback" not in unreadable.output
