"""The rules against the directory as it is now (the only ones the import's re-check runs):
assigned-to-other-user, entry-code-in-use, stale, entry-code-replaced, unknown-user (a user
removed since the review)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from credkit.directory import DirectoryLookup
from credkit.findings import Code
from credkit.rules.builder import FindingsBuilder, template
from credkit.rules.columnar import arrow_strings, positions

#: Per kind of credential: the code and column of "someone else has it", and how it is named.
OTHER_OWNER = {
    "card": (Code.ASSIGNED_TO_OTHER_USER, "Card Number", "This card"),
    "license_plate": (Code.ASSIGNED_TO_OTHER_USER, "License Plate", "This license plate"),
    "entry_code": (Code.ENTRY_CODE_IN_USE, "Entry Code", "This entry code"),
}
USER_REMOVED = template(f"{Code.UNKNOWN_USER}:removed")
EXISTING = ("user_id", "id", "modified", "status")  # resolved's existing_* columns


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
    fills resolved's existing_* columns and replaces_entry_code.

    Every row's key is looked up once, in Arrow; the rules then compare only the rows whose
    credential the directory holds (or, for entry-code replacement, whose user has a code)."""
    keys = arrow_strings(resolved["credential_key"])
    existing = lookup.credentials(keys.to_pandas())
    at = positions(keys, existing.index)
    held = np.flatnonzero(at >= 0)  # the rows whose credential is in the directory
    at = at[held]
    for column in EXISTING:
        values = np.full(len(resolved), None, dtype=object)
        if len(held):
            values[held] = _objects(existing[column])[at]
        resolved["existing_" + column] = pd.Series(values, index=resolved.index, dtype=object)
    user = resolved["user_id"].to_numpy(dtype=object)
    kind = resolved["kind"].to_numpy(dtype=object)
    owner = resolved["existing_user_id"]
    if len(held) and not reassign:
        owner_held, user_held = owner.to_numpy()[held], user[held]
        elsewhere = held[pd.notna(owner_held) & pd.notna(user_held) & (owner_held != user_held)]
        for kind_name, (code, column, label) in OTHER_OWNER.items():
            found.add(
                _mask(resolved.index, elsewhere[kind[elsewhere] == kind_name]), code, column,
                credential=label, owner=lambda rows: owner.loc[rows],
            )  # fmt: skip
    if len(held) and not overwrite_newer:
        row_time = _seconds(resolved["modified"].iloc[held])
        directory_time = _seconds(existing["modified"])[at]
        stale = pd.notna(owner.to_numpy()[held]) & (directory_time > row_time)  # False at NaT
        changed = pd.Series(directory_time[stale], index=resolved.index[held[stale]])
        found.add(
            _mask(resolved.index, held[stale]), Code.STALE, "Modified",
            changed=changed.dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna(""),
        )  # fmt: skip
    _check_entry_code_replaced(resolved, lookup, keys, user, kind, found)


def _check_entry_code_replaced(
    resolved: pd.DataFrame, lookup: DirectoryLookup, keys: pa.Array, user: np.ndarray,
    kind: np.ndarray, found: FindingsBuilder,
) -> None:  # fmt: skip
    """entry-code-replaced where a row's entry code is not the one its user has now; fills
    replaces_entry_code with the key of the code it replaces."""
    is_code = np.flatnonzero(
        (kind == "entry_code") & pd.notna(user) & keys.is_valid().to_numpy(zero_copy_only=False)
    )
    replaces = np.full(len(resolved), np.nan, dtype=object)
    if not len(is_code):
        resolved["replaces_entry_code"] = pd.Series(replaces, index=resolved.index, dtype=object)
        return
    code_users = pd.Series(user[is_code], dtype=object)
    current = lookup.entry_codes(code_users)
    at = positions(code_users, current.index)
    has_code = at >= 0
    now = np.asarray(current.to_numpy(dtype=object))[at[has_code]]
    rows = is_code[has_code]
    replaced = pd.notna(now) & (now != keys.take(pa.array(rows, pa.int64())).to_numpy(False))
    replaces[rows[replaced]] = now[replaced]
    resolved["replaces_entry_code"] = pd.Series(replaces, index=resolved.index, dtype=object)
    found.add(_mask(resolved.index, rows[replaced]), Code.ENTRY_CODE_REPLACED, "Entry Code")


def _mask(index: pd.Index, rows: np.ndarray) -> pd.Series:
    """The rows at these positions, as a mask for FindingsBuilder.add (true on each of them:
    the other rows need no mask)."""
    return pd.Series(True, index=index[rows])


def _objects(column: pd.Series) -> np.ndarray:
    """A lookup's column as resolved holds it: Python values (Timestamps for times), None
    where missing."""
    values = pa.array(column.array, from_pandas=True)
    out = np.full(len(values), None, dtype=object)
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    present = values.drop_null()
    if pa.types.is_timestamp(present.type):
        out[valid] = pd.DatetimeIndex(present.to_pandas()).astype(object)
    else:
        out[valid] = present.to_numpy(zero_copy_only=False).astype(object)
    return out


def _seconds(times: pd.Series) -> np.ndarray:
    """Times floored to the second, as UTC datetime64 values (NaT where missing)."""
    if isinstance(times.dtype, pd.ArrowDtype):
        times = pa.array(times.array).to_pandas()
    return pd.DatetimeIndex(pd.to_datetime(times, utc=True)).floor("s").tz_convert(None).to_numpy()
