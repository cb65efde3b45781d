"""Column review: exact, folded, suggested, unknown, duplicate and missing columns."""

from __future__ import annotations

import pytest

from credkit.columns import HEADERS, review_columns


def flatten(review) -> list[tuple]:
    return [
        (row, column, value, code, severity)
        for row, column, value, code, severity in review.findings[
            ["row", "column", "value", "code", "severity"]
        ].itertuples(index=False)
    ]


def test_exact_headers_are_silent() -> None:
    review = review_columns(HEADERS)
    assert review.findings.empty
    assert review.positions == {header: position for position, header in enumerate(HEADERS)}


@pytest.mark.parametrize("written", ["card_number", "CARD NUMBER", "Card-Number", " card number "])
def test_folded_headers_are_taken_with_a_warning(written: str) -> None:
    review = review_columns(["Email", written])
    assert flatten(review) == [(1, "Card Number", written, "header-folded", "warning")]
    assert review.positions["Card Number"] == 1 and not review.blocking


@pytest.mark.parametrize(
    ("written", "suggested"),
    [("Card Numbr", "Card Number"), ("Facility", "Facility Code"), ("Emial", "Email")],
)
def test_close_headers_are_suggested_and_used_only_once_accepted(written, suggested) -> None:
    headers = ["User ID", "License Plate", written]
    review = review_columns(headers)
    assert flatten(review) == [(1, written, suggested, "header-suggestion", "error")]
    assert review.suggestions == {written: suggested} and review.blocking
    assert suggested not in review.positions
    accepted = review_columns(headers, {written: suggested})
    assert accepted.findings.empty and accepted.positions[suggested] == 2


def test_unknown_columns_are_reported_and_ignored() -> None:
    review = review_columns(["User ID", "License Plate", "Badge Color"])
    assert flatten(review) == [(1, "Badge Color", None, "unknown-column", "warning")]
    assert "Badge Color" not in review.positions and not review.blocking


def test_the_same_header_twice_is_an_error() -> None:
    review = review_columns(["User ID", "License Plate", "license plate"])
    assert ("duplicate-column", "error") in [(f[3], f[4]) for f in flatten(review)]
    assert review.positions["License Plate"] == 1 and review.blocking


def test_a_key_column_and_a_credential_column_are_required() -> None:
    review = review_columns(["First Name", "Last Name", "Badge"])
    codes = [(f[3], f[4]) for f in flatten(review)]
    assert ("missing-key-column", "error") in codes
    assert ("missing-credential-column", "error") in codes


def test_a_mapping_to_an_unknown_header_is_a_programming_fault() -> None:
    with pytest.raises(ValueError):
        review_columns(["X"], {"X": "Not A Header"})
