"""The formats that gained a layout: old-form hex in files, recomputed hex in the directory, and the
decoder's hints in a review."""

from __future__ import annotations

import sqlalchemy as sa

from credkit.directory import Directory, card_key, credentials
from credkit.layout_migration import LAYOUTS_ADDED, recompute_stored_hex, restore_old_form_hex
from credkit.review import review_bytes
from tests.support import ADA, ADA_USER, ALAN_USER, csv_bytes


def findings_of(review, code: str) -> list[tuple[int, str, str]]:
    rows = review.rows[review.rows["code"] == code]
    return list(rows[["row", "column", "message"]].itertuples(index=False, name=None))


def codes_by_row(review) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for row, code in review.rows[["row", "code"]].itertuples(index=False):
        found.setdefault(int(row), set()).add(code)
    return found


def staffed(directory: Directory) -> Directory:
    directory.add_users([ADA_USER, ALAN_USER])
    return directory


# ---------------------------------------------------------------------------------------------
# A file that still writes the old form
# ---------------------------------------------------------------------------------------------


def test_old_form_hex_gets_a_finding_with_the_frame_as_its_fix(sqlite_directory):
    rows = [
        # AWID 34-bit 23/123456: the old hex was 1E240 (123456 in hex); the frame is 22E03C480.
        {"User ID": ADA, "Card Type": "AWID 34-bit", "Facility Code": "23",
         "Card Number": "123456", "Card Number Hex": "1E240"},
        # Casi Rusco 40-Bit 123456789012: old 1CBE991A14, frame 397D323428.
        {"User ID": ADA, "Card Type": "Casi Rusco 40-Bit", "Card Number": "123456789012",
         "Card Number Hex": "1CBE991A14"},
        # Guardall without a facility code, as the old rules required: no frame can be made.
        {"User ID": ADA, "Card Type": "Guardall G-Prox II 36-bit", "Card Number": "567890",
         "Card Number Hex": "8AA52"},
        # The new form passes.
        {"User ID": ADA, "Card Type": "PointGuard MDI 37-bit", "Facility Code": "9",
         "Card Number": "123456789", "Card Number Hex": "124EB79A2B"},
    ]  # fmt: skip
    review = review_bytes(csv_bytes(rows), staffed(sqlite_directory))
    old = findings_of(review, "hex-old-form")
    assert [(row, column) for row, column, _ in old] == [
        (2, "Card Number Hex"),
        (3, "Card Number Hex"),
        (4, "Card Number Hex"),
    ]
    assert "'1E240' is the Card Number in hexadecimal" in old[0][2]
    assert "write the frame '22E03C480' instead" in old[0][2]
    assert "write the frame '397D323428' instead" in old[1][2]
    assert "need a Facility Code to make the frame" in old[2][2]
    by_row = codes_by_row(review)
    # The old form is said once, not also as a parity or mismatch error.
    assert by_row[2] == {"hex-old-form"}
    assert by_row[3] == {"hex-old-form"}
    assert 5 not in by_row
    assert review.resolved.loc[5, "card_number_hex"] == "124EB79A2B"


def test_formats_that_always_had_a_layout_get_no_old_form_finding(sqlite_directory):
    # HID 34-bit 0/5 with hex 5: a wrong frame, reported as parity, not as the old form.
    rows = [{"User ID": ADA, "Card Type": "HID 34-bit", "Facility Code": "0",
             "Card Number": "5", "Card Number Hex": "5"}]  # fmt: skip
    review = review_bytes(csv_bytes(rows), staffed(sqlite_directory))
    assert "hex-old-form" not in set(review.rows["code"])
    assert "hex-parity" in set(review.rows["code"])


# ---------------------------------------------------------------------------------------------
# The stored values, recomputed
# ---------------------------------------------------------------------------------------------


def _store(directory: Directory, card_type: str, facility: str | None, number: str, hex_value: str):
    directory.add_credential(
        ADA,
        kind="card",
        credential_key=card_key(card_type, facility, number),
        card_type=card_type,
        facility_code=facility,
        card_number=number,
        card_number_hex=hex_value,
    )


def _stored(directory: Directory) -> dict[str, tuple]:
    with directory.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                credentials.c.credential_key, credentials.c.card_number_hex, credentials.c.modified
            )
        ).all()
    return {key: (hex_value, modified) for key, hex_value, modified in rows}


def test_recompute_stored_hex(directory):
    staffed(directory)
    _store(directory, "AWID 34-bit", "23", "123456", "1E240")
    _store(directory, "Casi Rusco 40-Bit", None, "123456789012", "1CBE991A14")
    _store(directory, "PointGuard MDI 37-bit", "9", "123456789", "124EB79A2B")  # already a frame
    _store(directory, "Guardall G-Prox II 36-bit", None, "567890", "8AA52")  # no facility code
    _store(directory, "Standard 26-bit Wiegand", "118", "1603", "2EC0C86")  # not concerned
    before = _stored(directory)
    with directory.engine.begin() as conn:
        result = recompute_stored_hex(conn)
    after = _stored(directory)
    assert result.updated == 2
    assert result.unchanged == 1
    guardall = card_key("Guardall G-Prox II 36-bit", None, 567890)
    assert [(key, reason) for _, key, reason in result.not_recomputed] == [
        (guardall, "Guardall G-Prox II 36-bit cards need a Facility Code to make the frame")
    ]
    assert after[card_key("AWID 34-bit", 23, 123456)][0] == "22E03C480"
    assert after[card_key("Casi Rusco 40-Bit", None, 123456789012)][0] == "397D323428"
    assert after[card_key("PointGuard MDI 37-bit", 9, 123456789)][0] == "124EB79A2B"
    assert after[guardall][0] == "8AA52"
    assert after[card_key("Standard 26-bit Wiegand", 118, 1603)][0] == "2EC0C86"
    # The same credentials, the same modified times: only the hex changed.
    assert after.keys() == before.keys()
    assert all(after[key][1] == before[key][1] for key in before)
    # Running it again changes nothing.
    with directory.engine.begin() as conn:
        again = recompute_stored_hex(conn)
    assert (again.updated, again.unchanged, len(again.not_recomputed)) == (0, 3, 1)
    assert _stored(directory) == after
    # The downgrade writes the old form back, and the upgrade recomputes it again.
    with directory.engine.begin() as conn:
        assert restore_old_form_hex(conn) == 3
    pointguard = card_key("PointGuard MDI 37-bit", 9, 123456789)
    old_form = {**before, pointguard: ("75BCD15", before[pointguard][1])}  # 123456789 in hex
    assert _stored(directory) == old_form
    with directory.engine.begin() as conn:
        assert recompute_stored_hex(conn).updated == 3
    assert _stored(directory) == after


def test_recomputed_directory_exports_and_imports_unchanged(sqlite_directory, tmp_path):
    from credkit.export import write_export
    from credkit.importer import plan_import
    from credkit.review import review_file

    staffed(sqlite_directory)
    _store(sqlite_directory, "AWID 34-bit", "23", "123456", "1E240")
    with sqlite_directory.engine.begin() as conn:
        recompute_stored_hex(conn)
    path = tmp_path / "export.csv"
    write_export(sqlite_directory, path)
    assert "22E03C480" in path.read_text()
    plan = plan_import(review_file(path, sqlite_directory))
    assert plan.counts()["unchanged"] == 1


def test_layouts_added_are_registered_with_layouts():
    from credkit.formats import REGISTRY

    assert all(REGISTRY.get(name).layout is not None for name in LAYOUTS_ADDED)


# ---------------------------------------------------------------------------------------------
# The decoder's hints in a review
# ---------------------------------------------------------------------------------------------


def test_a_frame_without_a_card_type_gets_its_candidates(sqlite_directory):
    rows = [{"User ID": ADA, "Card Number Hex": "2EC0C86"}]
    review = review_bytes(csv_bytes(rows), staffed(sqlite_directory))
    hints = findings_of(review, "card-type-candidates")
    assert len(hints) == 1
    row, column, message = hints[0]
    assert (row, column) == (2, "Card Type")
    assert message.startswith(
        "Card Number Hex '2EC0C86' can be a frame of: Standard 26-bit Wiegand 118/1603; "
    )
    assert "see `credkit decode 2EC0C86`" in message
    # The row still fails: the operator must choose.
    assert "unknown-card-type" in codes_by_row(review)[2]


def test_a_frame_with_bad_parity_for_its_type_but_good_for_another(sqlite_directory):
    # A Simplex frame stated as Keyscan: their b1 parity bits disagree over the same bits, so
    # a Simplex frame never passes as Keyscan; both are 9 hex digits.
    from credkit.formats import REGISTRY

    frame = REGISTRY.get("HID 36-bit Simplex").encode(12, 345_678)
    assert not REGISTRY.get("HID 36-bit Keyscan").decode(frame).parity_valid
    rows = [{"User ID": ADA, "Card Type": "HID 36-bit Keyscan", "Card Number Hex": frame}]
    review = review_bytes(csv_bytes(rows), staffed(sqlite_directory))
    hints = findings_of(review, "hex-other-format")
    assert len(hints) == 1
    row, column, message = hints[0]
    assert (row, column) == (2, "Card Number Hex")
    assert message.startswith(
        f"Card Number Hex {frame!r} fails HID 36-bit Keyscan's parity but is a valid frame of: "
        "HID 36-bit Simplex 12/345678"
    )
    assert message.endswith("; is the Card Type right?")
    assert codes_by_row(review)[2] == {"hex-parity", "hex-other-format"}


def test_no_hint_when_no_other_format_fits(sqlite_directory):
    rows = [{"User ID": ADA, "Card Type": "Standard 26-bit Wiegand", "Card Number Hex": "2EC0C87"}]
    review = review_bytes(csv_bytes(rows), staffed(sqlite_directory))
    assert codes_by_row(review)[2] == {"hex-parity"}


def test_hints_stop_after_hint_rows(sqlite_directory, monkeypatch):
    import credkit.frame_hints

    monkeypatch.setattr(credkit.frame_hints, "HINT_ROWS", 2)
    rows = [{"User ID": ADA, "Card Number Hex": "2EC0C86"} for _ in range(5)]
    review = review_bytes(csv_bytes(rows), staffed(sqlite_directory))
    assert [row for row, _, _ in findings_of(review, "card-type-candidates")] == [2, 3]
    # Every row still gets its error.
    assert (review.rows["code"] == "unknown-card-type").sum() == 5
