"""Choices for single rows at import: skip a row, reassign one row's credential."""

from __future__ import annotations

import csv
import io

from credkit.demo import MESSY_FILE, create_demo
from credkit.directory import Directory
from credkit.importer import SKIPPED_REASON, ImportChoices, execute_import, plan_import
from credkit.review import ReviewOptions, review_file
from tests.support import run_options

UNKNOWN_USER, DUPLICATE, OTHER_USERS_CARD = 9, 10, 11  # credkit.demo.messy_rows


def _messy_review(directory: Directory, folder):
    mapping = (("Facility Cod", "Facility Code"),)
    return review_file(folder / MESSY_FILE, directory, ReviewOptions(mapping=mapping))


def test_skipped_rows_fail_as_skipped_and_one_row_is_reassigned(directory, tmp_path) -> None:
    create_demo(directory, tmp_path, user_count=50)
    review = _messy_review(directory, tmp_path)
    assert {UNKNOWN_USER, DUPLICATE, OTHER_USERS_CARD} <= set(review.failing_rows)
    choices = ImportChoices(
        skipped=frozenset({UNKNOWN_USER, DUPLICATE}), reassigned=frozenset({OTHER_USERS_CARD})
    )
    plan = plan_import(review, choices)
    assert plan.rows.loc[[UNKNOWN_USER, DUPLICATE], "reason"].tolist() == [SKIPPED_REASON] * 2
    assert set(plan.rows.loc[[UNKNOWN_USER, DUPLICATE], "outcome"]) == {"fail"}
    assert plan.rows.loc[OTHER_USERS_CARD].tolist() == ["reassign", ""]
    # Without the choice, the same row fails: the global option is still off.
    assert plan_import(review).rows.at[OTHER_USERS_CARD, "outcome"] == "fail"

    result = execute_import(plan, directory, operator="tester")
    assert result.rows.at[UNKNOWN_USER, "reason"] == SKIPPED_REASON
    assert result.counts()["reassign"] == 1
    failed = list(csv.DictReader(io.StringIO(_failed_csv(result))))
    errors = {row["Row"]: row["Error"] for row in failed}
    assert errors[str(UNKNOWN_USER)] == errors[str(DUPLICATE)] == SKIPPED_REASON

    table = review.table
    owner = (
        directory.credentials_frame()
        .set_index("card_number")
        .at[table.at[OTHER_USERS_CARD, "Card Number"], "user_id"]
    )
    assert owner == table.at[OTHER_USERS_CARD, "User ID"]
    options = run_options(directory, result.run_id)
    assert options["skipped_rows"] == [UNKNOWN_USER, DUPLICATE]
    assert options["reassigned_rows"] == [OTHER_USERS_CARD]


def _failed_csv(result) -> str:
    stream = io.StringIO()
    result.write_failed_rows(stream)
    return stream.getvalue()
