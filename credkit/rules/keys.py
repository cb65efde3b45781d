"""Which user each row picks: missing-key, unknown-user, keys-disagree, key-unmatched,
name-mismatch, email-lookalike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from credkit.directory import DirectoryLookup, email_keys, email_lookalikes
from credkit.findings import Code, quoted
from credkit.rules.builder import FindingsBuilder
from credkit.rules.columnar import (
    ROWS_BESIDE,
    arrow_strings,
    arrow_text,
    beside,
    cells_at,
    non_ascii,
    truth,
)

#: The key columns in rank order, and the directory column each one is looked up in.
KEY_COLUMNS = {"User ID": "user_id", "External ID": "external_id", "Email": "email_key"}
#: The name columns, and the users' field each one is compared with.
NAME_COLUMNS = {"First Name": "first_name", "Last Name": "last_name"}


def resolve_users(rows: pd.DataFrame, lookup: DirectoryLookup, found: FindingsBuilder) -> pd.Series:
    """The user each row picks: its highest-ranked non-empty key decides (SPEC: Key).

    Each key column is looked up once (lookup.user_rows: a hash lookup per column); the rest
    is numpy on those positions, and text is built only for the rows that have a finding.
    """
    keys = {
        "User ID": rows["User ID"],
        "External ID": rows["External ID"],
        "Email": email_keys(rows["Email"]),
    }
    known, at = lookup.user_rows({KEY_COLUMNS[header]: values for header, values in keys.items()})
    # A key is given unless it is empty text (a missing value counts as given, as it did in
    # pandas, and then names nobody).
    given = {header: truth(pc.not_equal(arrow_text(keys[header]), ""), True) for header in keys}
    matched = {header: at[KEY_COLUMNS[header]] for header in keys}
    chosen = np.full(len(rows), -1, dtype=np.int64)  # the rank of the key that decides
    for rank, header in reversed(list(enumerate(KEY_COLUMNS))):  # the highest rank wins
        chosen[given[header]] = rank
    position = np.full(len(rows), -1, dtype=np.int64)  # the decided user, among known
    for rank, header in enumerate(KEY_COLUMNS):
        position = np.where(chosen == rank, matched[header], position)
    decided = position >= 0
    # The names compared in Arrow on another thread (~8 ms at 250,000 rows), while the key
    # findings are made here; their columns are taken out here, the thread only reads them.
    names_differ = beside(
        _names_differ,
        {header: arrow_text(rows[header]) for header in NAME_COLUMNS},
        {header: known[field_name] for header, field_name in NAME_COLUMNS.items()},
        position,
        many=len(rows) >= ROWS_BESIDE,
    )
    # The ids as Python strings, taken in numpy: the snapshot keeps its users' ids converted
    # (SnapshotLookup.user_rows), where converting each row's from Arrow cost ~15 ms a review.
    # None stands last, so that position -1 takes it: one gather (a masked one cost 11 ms).
    ids = np.append(known["user_id"].to_numpy(dtype=object), None)
    user_id = ids[position]
    index = rows.index
    found.add(pd.Series(chosen < 0, index=index), Code.MISSING_KEY, None, value=None)
    chosen_header = lambda at: pd.Series(  # noqa: E731
        np.asarray(list(KEY_COLUMNS), dtype=object)[chosen[index.get_indexer(at)]], index=at
    )
    for rank, header in enumerate(KEY_COLUMNS):
        written = rows[header]  # messages quote the value as written
        quoted_key = lambda at, written=written: cells_at(written, at).map(quoted)  # noqa: E731
        found.add(
            pd.Series((chosen == rank) & ~decided, index=index),
            Code.UNKNOWN_USER, header, key=header, written=quoted_key,
        )  # fmt: skip
        other = decided & (chosen != rank) & given[header]
        hit = matched[header] >= 0
        disagrees = other & hit & (matched[header] != position)
        if disagrees.any():  # another position: another user, unless known lists one twice
            disagrees[disagrees] = ids[matched[header][disagrees]] != ids[position[disagrees]]
        found.add(
            pd.Series(disagrees, index=index),
            Code.KEYS_DISAGREE, header, key=header, written=quoted_key, chosen=chosen_header,
        )  # fmt: skip
        found.add(
            pd.Series(other & ~hit, index=index),
            Code.KEY_UNMATCHED, header, key=header, written=quoted_key, chosen=chosen_header,
        )  # fmt: skip
    _warn_email_lookalikes(rows["Email"], found)
    _check_names(rows, names_differ(), found)
    return pd.Series(user_id, index=index, dtype=object, copy=False)  # new: no copy (~1.3 ms)


def _taken(column: pd.Series, at: np.ndarray) -> pa.Array | pa.ChunkedArray:
    """column[at] as Arrow text, null where at is -1: only the rows taken are converted (the
    column may be a whole snapshot's)."""
    missing = at < 0
    if len(column) == 0:
        return pa.nulls(len(at), pa.string())
    if hasattr(column.array, "__arrow_array__"):  # Arrow text already: take in Arrow
        return pa.array(column.array).take(pa.array(at, mask=missing))
    values = np.asarray(column, dtype=object)[np.where(missing, 0, at)]
    values[missing] = None
    return arrow_strings(values)


def _warn_email_lookalikes(emails: pd.Series, found: FindingsBuilder) -> None:
    """email-lookalike: an email with characters that only compatibility folding would match
    (see email_key), so it finds only an email written with those same characters."""
    unicode = non_ascii(arrow_text(emails))
    if not unicode.any():
        return
    lookalikes = emails[unicode].map(email_lookalikes)
    lookalikes = lookalikes[lookalikes != ""]
    found.add(
        pd.Series(emails.index.isin(lookalikes.index), index=emails.index),
        Code.EMAIL_LOOKALIKE, "Email",
        written=lambda at: cells_at(emails, at).map(quoted),
        characters=lambda at: lookalikes[at].map(quoted),
    )  # fmt: skip


def _names_differ(
    texts: dict[str, pa.Array | pa.ChunkedArray],
    directory_names: dict[str, pd.Series],
    position: np.ndarray,
) -> dict[str, tuple[pa.Array | pa.ChunkedArray, np.ndarray]]:
    """Per name column (texts: the rows' names, directory_names: the users'), each row's user's
    name (Arrow, null where the user has none) and where the row gives a name that differs
    from it as written (case not yet folded). Arrow kernels only, so that it runs beside
    other work (columnar.beside)."""
    decided = position >= 0
    differences = {}
    for header, text in texts.items():
        directory_name = _taken(directory_names[header], position)
        differs = decided & truth(pc.not_equal(text, ""), True)
        # A null directory name compares as "", which any name the row gives differs from.
        differs &= truth(pc.not_equal(text, directory_name), True)
        differences[header] = directory_name, differs
    return differences


def _check_names(
    rows: pd.DataFrame,
    differences: dict[str, tuple[pa.Array | pa.ChunkedArray, np.ndarray]],
    found: FindingsBuilder,
) -> None:
    """name-mismatch: a name the row gives that is not its user's (case alone is no mismatch),
    among the rows whose names differ as written (_names_differ)."""
    for header, (directory_name, differs) in differences.items():
        if not differs.any():
            continue
        written = rows[header]
        # Casefold only the few rows that differ at all.
        names = pd.Series(
            pc.fill_null(directory_name.filter(pa.array(differs)), "").to_numpy(
                zero_copy_only=False
            ),
            index=rows.index[differs],
            dtype=object,
        )
        folded = written[differs].str.casefold().to_numpy(dtype=object)
        differs[differs] = folded != names.str.casefold().to_numpy(dtype=object)
        found.add(
            pd.Series(differs, index=rows.index), Code.NAME_MISMATCH, header, header=header,
            written=lambda at, written=written: cells_at(written, at).map(quoted),
            directory=lambda at, names=names: names[at].map(quoted),
        )  # fmt: skip
