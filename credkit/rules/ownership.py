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
from credkit.rules.columnar import arrow_strings, whole_seconds
from credkit.rules.duplicates import KeyGroups

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
) -> KeyGroups:  # fmt: skip
    """Ownership, staleness and entry-code replacement, against the directory as it is now;
    fills resolved's existing_* columns and replaces_entry_code, and returns how the rows group
    by credential key (for first_rows_in, when resolved is a whole file).

    Every row's key is looked up once, in Arrow, to its credential's position; the rules then
    compare only the rows whose credential the directory holds (11% of the benchmark file's),
    and only those rows' values become Python objects."""
    keys = arrow_strings(resolved["credential_key"])
    existing, at, firsts = lookup.credential_rows_and_firsts(keys)
    held = np.flatnonzero(at >= 0)  # the rows whose credential is in the directory
    at = at[held]
    for column in EXISTING:
        values = np.full(len(resolved), None, dtype=object)
        if len(held):
            values[held] = existing.values(column, at)
        resolved["existing_" + column] = _column(values, resolved.index)
    user = resolved["user_id"].to_numpy(dtype=object)
    kind = resolved["kind"].to_numpy(dtype=object)
    owner = resolved["existing_user_id"]
    owner_held = owner.to_numpy()[held]
    owner_known = pd.notna(owner_held)  # asked by both rules below, once
    if len(held) and not reassign:
        user_held = user[held]
        # Few held rows have another owner: whether their users are known is asked of those
        # alone (pd.notna of each held row's user cost ~1 ms).
        differ = np.flatnonzero(owner_held != user_held)
        elsewhere = held[differ[owner_known[differ] & pd.notna(user_held[differ])]]
        for kind_name, (code, column, label) in OTHER_OWNER.items():
            found.add(
                _mask(resolved.index, elsewhere[kind[elsewhere] == kind_name]), code, column,
                credential=label, owner=lambda rows: owner.loc[rows],
            )  # fmt: skip
    if len(held) and not overwrite_newer:
        row_time, row_known = _seconds(resolved["modified"].iloc[held])
        directory_time, directory_known = existing.seconds(at)
        # Missing times are never stale (as NaT compares false).
        stale = owner_known & row_known & directory_known
        stale &= directory_time > row_time
        changed = pd.to_datetime(directory_time[stale], unit="s").strftime("%Y-%m-%dT%H:%M:%SZ")
        found.add(
            _mask(resolved.index, held[stale]), Code.STALE, "Modified",
            changed=pd.Series(changed, index=resolved.index[held[stale]], dtype=object),
        )  # fmt: skip
    entry_codes = np.flatnonzero(kind == "entry_code")
    _check_entry_code_replaced(resolved, lookup, keys, user, entry_codes, found)
    return KeyGroups(firsts, entry_codes)


def _check_entry_code_replaced(
    resolved: pd.DataFrame, lookup: DirectoryLookup, keys: pa.Array, user: np.ndarray,
    entry_codes: np.ndarray, found: FindingsBuilder,
) -> None:  # fmt: skip
    """entry-code-replaced where a row's entry code (at the positions entry_codes) is not the
    one its user has now; fills replaces_entry_code with the key of the code it replaces."""
    is_code = entry_codes[pd.notna(user[entry_codes])]
    is_code = is_code[keys.take(pa.array(is_code, pa.int64())).is_valid().to_numpy(False)]
    replaces = np.full(len(resolved), np.nan, dtype=object)
    if not len(is_code):
        resolved["replaces_entry_code"] = _column(replaces, resolved.index)
        return
    now = lookup.entry_code_keys(arrow_strings(user[is_code]))
    has_code = pd.notna(now)
    rows, now = is_code[has_code], now[has_code]
    replaced = now != keys.take(pa.array(rows, pa.int64())).to_numpy(False)
    replaces[rows[replaced]] = now[replaced]
    resolved["replaces_entry_code"] = _column(replaces, resolved.index)
    found.add(_mask(resolved.index, rows[replaced]), Code.ENTRY_CODE_REPLACED, "Entry Code")


def _mask(index: pd.Index, rows: np.ndarray) -> pd.Series:
    """The rows at these positions, as a mask for FindingsBuilder.add (true on each of them:
    the other rows need no mask)."""
    return pd.Series(True, index=index[rows])


def _seconds(times: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A column of times (datetimes, or Timestamps in objects) as whole_seconds gives them."""
    if not isinstance(times.dtype, pd.ArrowDtype):
        times = pd.to_datetime(times, utc=True)
    return whole_seconds(pa.array(times.array))


def _column(values: np.ndarray, index: pd.Index) -> pd.Series:
    """A new object array as a column, not copied (copying 250,000 objects took ~1.3 ms)."""
    return pd.Series(values, index=index, dtype=object, copy=False)
