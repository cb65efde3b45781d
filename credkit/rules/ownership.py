"""The rules against the directory as it is now (the only ones the import's re-check runs):
assigned-to-other-user, entry-code-in-use, stale, entry-code-replaced, unknown-user (a user
removed since the review)."""

from __future__ import annotations

import pandas as pd

from credkit.directory import DirectoryLookup
from credkit.findings import Code
from credkit.rules.builder import FindingsBuilder, template
from credkit.rules.columnar import positions, taken

#: Per kind of credential: the code and column of "someone else has it", and how it is named.
OTHER_OWNER = {
    "card": (Code.ASSIGNED_TO_OTHER_USER, "Card Number", "This card"),
    "license_plate": (Code.ASSIGNED_TO_OTHER_USER, "License Plate", "This license plate"),
    "entry_code": (Code.ENTRY_CODE_IN_USE, "Entry Code", "This entry code"),
}
USER_REMOVED = template(f"{Code.UNKNOWN_USER}:removed")


def check_users_still_there(
    resolved: pd.DataFrame, lookup: DirectoryLookup, found: FindingsBuilder
) -> None:
    """unknown-user for rows whose user was removed from the directory after the review."""
    still_there = lookup.users({"user_id": resolved["user_id"]})["user_id"]
    gone = resolved["user_id"].notna() & ~resolved["user_id"].isin(still_there)
    found.add(gone, USER_REMOVED, None, value=None)


def check_against_directory(
    resolved: pd.DataFrame, lookup: DirectoryLookup, reassign: bool, overwrite_newer: bool,
    found: FindingsBuilder,
) -> None:  # fmt: skip
    """Ownership, staleness and entry-code replacement, against the directory as it is now;
    fills resolved's existing_* columns and replaces_entry_code."""
    existing = lookup.credentials(resolved["credential_key"])
    key = resolved["credential_key"]
    # One hash lookup per row, then every column taken by position.
    position = positions(key, existing.index)
    for column in ("user_id", "id", "modified", "status"):
        values = taken(existing[column].to_numpy(dtype=object), position)
        resolved["existing_" + column] = pd.Series(values, index=resolved.index, dtype=object)
    owner = resolved["existing_user_id"]
    user = resolved["user_id"]
    elsewhere = owner.notna() & user.notna() & (owner != user)
    if not reassign:
        for kind, (code, column, label) in OTHER_OWNER.items():
            found.add(
                elsewhere & (resolved["kind"] == kind), code, column,
                credential=label, owner=owner.fillna(""),
            )  # fmt: skip
    if not overwrite_newer:
        directory_time = pd.to_datetime(resolved["existing_modified"], utc=True).dt.floor("s")
        row_time = pd.to_datetime(resolved["modified"], utc=True).dt.floor("s")
        stale = owner.notna() & row_time.notna() & (directory_time > row_time)
        found.add(
            stale, Code.STALE, "Modified",
            changed=lambda at: directory_time[at].dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna(""),
        )  # fmt: skip
    is_code = (resolved["kind"] == "entry_code") & user.notna() & key.notna()
    current = user[is_code].map(lookup.entry_codes(user[is_code]))
    replaced = pd.Series(False, index=resolved.index)
    replaced[is_code] = current.notna() & (current != key[is_code])
    resolved["replaces_entry_code"] = current.where(replaced[is_code]).reindex(resolved.index)
    found.add(replaced, Code.ENTRY_CODE_REPLACED, "Entry Code")
