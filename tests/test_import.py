"""Import: outcomes, atomic rows, re-checks at execute time, failed rows, runs and undo."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from credkit.columns import HEADERS
from credkit.directory import (
    Directory,
    card_key,
    credential_history,
    credentials,
    entry_code_key,
    users,
)
from credkit.export import write_export
from credkit.formats import REGISTRY
from credkit.importer import execute_import, plan_import
from credkit.privileges import current_login
from credkit.review import ReviewOptions, review_bytes, review_file
from credkit.runs import list_runs, undo_run
from tests.support import (
    ADA,
    ADA_USER,
    ALAN,
    ALAN_USER,
    HID26,
    KIM,
    KIM_USER,
    csv_bytes,
    give_card,
    give_entry_code,
)

JUNE = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def staffed(directory: Directory) -> Directory:
    """Two users: Ada (card 1/1 and entry code 0042, both changed in June) and Alan (none)."""
    directory.add_users([ADA_USER, ALAN_USER])
    give_card(directory, ADA, 1, 1, modified=JUNE)
    give_entry_code(directory, ADA, "0042", modified=JUNE)
    return directory


def run_import(directory: Directory, rows: list[dict[str, str]], **options):
    review = review_bytes(csv_bytes(rows), directory, ReviewOptions(**options), "test.csv")
    return execute_import(plan_import(review), directory, operator="tester")


def snapshot(directory: Directory) -> list[tuple]:
    frame = directory.credentials_frame()
    columns = ["user_id", "credential_key", "status", "modified", "entry_code", "card_number_hex"]
    return sorted(frame[columns].itertuples(index=False, name=None))


def card_row(user: str, facility: int, number: int, **extra: str) -> dict[str, str]:
    return {
        "User ID": user,
        "Card Type": HID26,
        "Facility Code": str(facility),
        "Card Number": str(number),
    } | extra


def test_outcomes_and_what_they_write(staffed: Directory) -> None:
    rows = [
        card_row(ALAN, 2, 2),  # create
        card_row(ADA, 1, 1, **{"Credential Status": "Inactive"}),  # update
        {"User ID": ALAN, "Entry Code": "7777"},  # create (Alan had none)
        {"User ID": ADA, "Entry Code": "1234"},  # replaces Ada's 0042: an update
        card_row(ALAN, 1, 1),  # Ada's card: fails without reassign
        {"User ID": ADA, "License Plate": "x"},  # invalid
    ]
    result = run_import(staffed, rows)
    assert result.rows["outcome"].tolist() == [
        "create",
        "update",
        "create",
        "update",
        "fail",
        "fail",
    ]
    assert result.counts() == {"create": 2, "update": 2, "reassign": 0, "unchanged": 0, "fail": 2}
    frame = staffed.credentials_frame().set_index("credential_key")
    assert frame.loc[card_key(HID26, 2, 2), "user_id"] == ALAN
    assert frame.loc[card_key(HID26, 2, 2), "card_number_hex"] == REGISTRY.get(HID26).encode(2, 2)
    assert frame.loc[card_key(HID26, 1, 1), "status"] == "inactive"
    assert frame.loc[card_key(HID26, 1, 1), "user_id"] == ADA
    assert entry_code_key("0042") not in frame.index
    assert frame.loc[entry_code_key("1234"), "user_id"] == ADA
    assert list(result.failed_rows["Row"]) == ["6", "7"]
    assert "another user" in result.failed_rows["Error"][0]


def test_reassign_moves_the_credential_and_records_where_from(staffed: Directory) -> None:
    result = run_import(staffed, [card_row(ALAN, 1, 1)], reassign=True)
    assert result.rows["outcome"].tolist() == ["reassign"]
    frame = staffed.credentials_frame().set_index("credential_key")
    assert frame.loc[card_key(HID26, 1, 1), "user_id"] == ALAN
    with staffed.engine.connect() as conn:
        (change,) = conn.execute(sa.select(credential_history)).mappings().all()
    assert change["action"] == "reassign"
    assert (change["before"]["user_id"], change["after"]["user_id"]) == (ADA, ALAN)


def test_modified_changes_only_on_change(staffed: Directory) -> None:
    before = {key: modified for _, key, _, modified, *_ in snapshot(staffed)}
    run_import(staffed, [card_row(ADA, 1, 1), {"User ID": ADA, "Entry Code": "0042"}])
    assert {key: modified for _, key, _, modified, *_ in snapshot(staffed)} == before
    run_import(staffed, [card_row(ADA, 1, 1, **{"Credential Status": "inactive"})])
    after = {key: modified for _, key, _, modified, *_ in snapshot(staffed)}
    assert after[card_key(HID26, 1, 1)] > before[card_key(HID26, 1, 1)]
    assert after[entry_code_key("0042")] == before[entry_code_key("0042")]


def test_importing_the_same_file_twice_changes_nothing_the_second_time(staffed: Directory) -> None:
    rows = [card_row(ALAN, 5, 5), {"User ID": ALAN, "License Plate": "ab-12"}, card_row(ADA, 1, 1)]
    first = run_import(staffed, rows)
    assert first.counts()["create"] == 2
    state = snapshot(staffed)
    second = run_import(staffed, rows)
    assert second.counts() == {"create": 0, "update": 0, "reassign": 0, "unchanged": 3, "fail": 0}
    assert snapshot(staffed) == state


def test_export_then_import_is_unchanged_for_every_row(staffed: Directory, tmp_path) -> None:
    run_import(staffed, [card_row(ALAN, 5, 5), {"User ID": ALAN, "License Plate": "AB12"}])
    path = tmp_path / "export.csv"
    count = write_export(staffed, path)
    plan = plan_import(review_file(path, staffed))
    assert plan.rows["outcome"].tolist() == ["unchanged"] * count


def test_rows_are_checked_again_at_execute_time(staffed: Directory) -> None:
    review = review_bytes(csv_bytes([card_row(ALAN, 9, 9), card_row(ALAN, 8, 8)]), staffed)
    plan = plan_import(review)
    # Another operator gives card 9/9 to Ada between the review and the execution.
    staffed.add_credential(
        ADA, kind="card", credential_key=card_key(HID26, 9, 9), card_type=HID26,
        facility_code="9", card_number="9",
    )  # fmt: skip
    result = execute_import(plan, staffed, operator="tester")
    assert result.rows["outcome"].tolist() == ["fail", "create"]
    assert "another user" in result.rows["reason"].iloc[0]
    frame = staffed.credentials_frame().set_index("credential_key")
    assert frame.loc[card_key(HID26, 9, 9), "user_id"] == ADA


def test_a_row_refused_by_the_database_fails_alone(staffed: Directory, monkeypatch) -> None:
    """A collision the re-check cannot see (it happens between re-check and write) fails only
    its row: the batch is retried row by row."""
    import credkit.importer as importer

    review = review_bytes(csv_bytes([card_row(ALAN, 9, 9), card_row(ALAN, 8, 8)]), staffed)
    plan = plan_import(review)
    real_recheck = importer.recheck_rows

    def collide_after_recheck(*args):
        checked = real_recheck(*args)
        staffed.add_credential(
            ADA, kind="card", credential_key=card_key(HID26, 9, 9), card_type=HID26,
            facility_code="9", card_number="9",
        )  # fmt: skip
        return checked

    # As if the guarded write had found a change: the batch goes through the re-check.
    monkeypatch.setattr(importer, "_write_as_planned", lambda *args: False)
    monkeypatch.setattr(importer, "recheck_rows", collide_after_recheck)
    result = execute_import(plan, staffed, operator="tester")
    assert result.rows["outcome"].tolist() == ["fail", "create"]
    assert "refused" in result.rows["reason"].iloc[0]
    owners = staffed.credentials_frame().set_index("credential_key")["user_id"]
    assert owners[card_key(HID26, 9, 9)] == ADA and owners[card_key(HID26, 8, 8)] == ALAN


def change_credential(directory: Directory, key: str, **values) -> None:
    """Another operator's change to one credential, straight in the directory."""
    with directory.engine.begin() as conn:
        conn.execute(
            credentials.update().where(credentials.c.credential_key == key).values(**values)
        )


def test_an_update_is_not_written_over_a_change_made_after_the_review(staffed: Directory) -> None:
    row = card_row(
        ADA, 1, 1, **{"Credential Status": "Inactive", "Modified": "2026-06-01T00:00:00Z"}
    )
    plan = plan_import(review_bytes(csv_bytes([row]), staffed))
    assert plan.rows["outcome"].tolist() == ["update"]
    later = datetime(2026, 7, 1, tzinfo=UTC)
    change_credential(staffed, card_key(HID26, 1, 1), status="active", modified=later)
    result = execute_import(plan, staffed, operator="tester")
    assert result.rows["outcome"].tolist() == ["fail"]
    assert (
        "Modified: The directory changed this credential at 2026-07-01T00:00:00Z"
        in (result.rows["reason"].iloc[0])
    )
    frame = staffed.credentials_frame().set_index("credential_key")
    assert (
        frame.loc[card_key(HID26, 1, 1), "status"],
        frame.loc[card_key(HID26, 1, 1), "modified"],
    ) == ("active", later)


def test_a_move_records_the_owner_at_write_time_not_at_review_time(directory: Directory) -> None:
    directory.add_users([ADA_USER, ALAN_USER, KIM_USER])
    give_card(directory, ADA, 1, 1, modified=JUNE)
    review = review_bytes(
        csv_bytes([card_row(ALAN, 1, 1)]), directory, ReviewOptions(reassign=True)
    )
    plan = plan_import(review)
    with directory.engine.begin() as conn:  # Ada's card goes to Kim after the review
        kim_pk = conn.execute(sa.select(users.c.id).where(users.c.user_id == KIM)).scalar_one()
    change_credential(directory, card_key(HID26, 1, 1), user_pk=kim_pk)
    result = execute_import(plan, directory, operator="tester")
    assert result.rows["outcome"].tolist() == ["reassign"]
    assert directory.credentials_frame()["user_id"].tolist() == [ALAN]
    with directory.engine.connect() as conn:
        (change,) = conn.execute(sa.select(credential_history)).mappings().all()
    assert (change["before"]["user_id"], change["after"]["user_id"]) == (KIM, ALAN)


def test_a_new_entry_code_replaces_the_one_the_user_has_at_write_time(staffed: Directory) -> None:
    plan = plan_import(review_bytes(csv_bytes([{"User ID": ADA, "Entry Code": "1234"}]), staffed))
    assert plan.rows["outcome"].tolist() == ["update"]  # it would replace 0042
    # After the review, another operator gives Ada 5555 in place of 0042.
    with staffed.engine.begin() as conn:
        conn.execute(
            credentials.delete().where(credentials.c.credential_key == entry_code_key("0042"))
        )
    give_entry_code(staffed, ADA, "5555", modified=JUNE)
    result = execute_import(plan, staffed, operator="tester")
    assert result.rows["outcome"].tolist() == ["update"]
    codes = staffed.credentials_frame().query("kind == 'entry_code'")
    assert codes[["user_id", "entry_code"]].values.tolist() == [[ADA, "1234"]]
    with staffed.engine.connect() as conn:
        deleted = (
            conn.execute(
                sa.select(credential_history).where(credential_history.c.action == "delete")
            )
            .mappings()
            .one()
        )
    assert deleted["credential_key"] == entry_code_key("5555")


def test_failed_rows_can_be_fixed_and_imported_again(staffed: Directory, tmp_path) -> None:
    rows = [card_row(ALAN, 3, 3), card_row(ALAN, 300, 4), {"User ID": ALAN, "Entry Code": "42"}]
    result = run_import(staffed, rows)
    path = tmp_path / "failed.csv"
    assert result.write_failed_rows(path) == 2
    failed = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(failed.columns) == ["Row", *HEADERS, "Error"]
    assert failed["Row"].tolist() == ["3", "4"]
    failed.loc[0, "Facility Code"] = "30"
    failed.loc[1, "Entry Code"] = "0420"
    failed.to_csv(path, index=False)
    again = review_file(path, staffed)
    assert again.exit_status == 0  # Row and Error are unknown columns: warnings only
    assert execute_import(plan_import(again), staffed, operator="t").counts()["create"] == 2


def test_runs_record_operator_file_and_counts(staffed: Directory) -> None:
    result = run_import(staffed, [card_row(ALAN, 3, 3)])
    (run,) = list_runs(staffed).to_dict("records")
    assert run["id"] == result.run_id
    # The operator is who the directory saw (#15): the login on PostgreSQL, the process's
    # user on SQLite; the caller's name is only the note beside it.
    with staffed.engine.connect() as conn:
        login = current_login(conn)
    assert (run["operator"], run["on_behalf_of"]) == (login, "tester")
    assert (run["file_name"], run["kind"]) == ("test.csv", "credentials")
    assert run["counts"]["create"] == 1 and run["finished_at"] is not None
    assert len(run["file_sha256"]) == 64


def test_undo_reverts_and_undo_after_undo_is_refused(staffed: Directory) -> None:
    before = snapshot(staffed)
    result = run_import(
        staffed,
        [card_row(ALAN, 3, 3), card_row(ALAN, 1, 1), {"User ID": ADA, "Entry Code": "1234"}],
        reassign=True,
    )
    assert result.counts()["fail"] == 0
    undone = undo_run(staffed, result.run_id, operator="tester")
    assert undone.undone and undone.reverted == 4  # create, reassign, delete old code, create new
    assert snapshot(staffed) == before
    again = undo_run(staffed, result.run_id, operator="tester")
    assert not again.undone and "undone already" in again.refusal


def test_undo_is_refused_where_a_later_change_would_be_overwritten(staffed: Directory) -> None:
    first = run_import(staffed, [card_row(ALAN, 3, 3), card_row(ALAN, 4, 4)])
    run_import(staffed, [card_row(ALAN, 4, 4, **{"Credential Status": "inactive"})])
    refused = undo_run(staffed, first.run_id, operator="tester")
    assert not refused.undone
    assert refused.blocking_rows == [3]
    assert "rows 3" in refused.refusal
