"""Which user each row picks: missing-key, unknown-user, keys-disagree, key-unmatched,
name-mismatch, email-lookalike."""

from __future__ import annotations

import pandas as pd

from credkit.directory import DirectoryLookup, email_keys, email_lookalikes
from credkit.findings import Code, quoted
from credkit.rules.builder import FindingsBuilder
from credkit.rules.columnar import positions, taken

#: The key columns in rank order, and the directory column each one is looked up in.
KEY_COLUMNS = {"User ID": "user_id", "External ID": "external_id", "Email": "email_key"}


def resolve_users(rows: pd.DataFrame, lookup: DirectoryLookup, found: FindingsBuilder) -> pd.Series:
    """The user each row picks: its highest-ranked non-empty key decides (SPEC: Key)."""
    keys = {
        "User ID": rows["User ID"],
        "External ID": rows["External ID"],
        "Email": email_keys(rows["Email"]),
    }
    known = lookup.users({KEY_COLUMNS[header]: values for header, values in keys.items()})
    matches = {
        header: _matched(values, _index_by(known, KEY_COLUMNS[header])["user_id"])
        for header, values in keys.items()
    }
    chosen = pd.Series(None, index=rows.index, dtype=object)
    user_id = pd.Series(None, index=rows.index, dtype=object)
    for header in reversed(KEY_COLUMNS):  # the highest rank is written last and so wins
        present = keys[header] != ""
        chosen = chosen.mask(present, header)
        user_id = user_id.mask(present, matches[header])
    found.add(chosen.isna(), Code.MISSING_KEY, None, value=None)
    decided = user_id.notna()
    for header in KEY_COLUMNS:
        key, written = keys[header], rows[header]  # messages quote the value as written
        quoted_key = lambda at, written=written: written[at].map(quoted)  # noqa: E731
        found.add(
            (chosen == header) & ~decided, Code.UNKNOWN_USER, header, key=header, written=quoted_key
        )
        other = decided & (chosen != header) & (key != "")
        found.add(
            other & matches[header].notna() & (matches[header] != user_id),
            Code.KEYS_DISAGREE, header, key=header, written=quoted_key, chosen=chosen,
        )  # fmt: skip
        found.add(
            other & matches[header].isna(),
            Code.KEY_UNMATCHED, header, key=header, written=quoted_key, chosen=chosen,
        )  # fmt: skip
    _warn_email_lookalikes(rows["Email"], found)
    _check_names(rows, user_id, _index_by(known, "user_id"), found)
    return user_id


def _matched(values: pd.Series, user_by_key: pd.Series) -> pd.Series:
    """The user each key names (None where no user has it): one hash lookup per row."""
    matched = taken(user_by_key, positions(values, user_by_key.index))
    return pd.Series(matched, index=values.index, dtype=object)


def _warn_email_lookalikes(emails: pd.Series, found: FindingsBuilder) -> None:
    """email-lookalike: an email with characters that only compatibility folding would match
    (see email_key), so it finds only an email written with those same characters."""
    unicode = ~emails.map(str.isascii, na_action="ignore").fillna(True).astype(bool)
    lookalikes = emails[unicode].map(email_lookalikes)
    lookalikes = lookalikes[lookalikes != ""]
    found.add(
        pd.Series(emails.index.isin(lookalikes.index), index=emails.index),
        Code.EMAIL_LOOKALIKE, "Email",
        written=lambda at: emails[at].map(quoted),
        characters=lambda at: lookalikes[at].map(quoted),
    )  # fmt: skip


def _index_by(users: pd.DataFrame, column: str) -> pd.DataFrame:
    """Users indexed by one key column (rows without that key left out)."""
    present = users[users[column].notna()]
    return present.drop_duplicates(column).set_index(column, drop=False)


def _check_names(
    rows: pd.DataFrame, user_id: pd.Series, known: pd.DataFrame, found: FindingsBuilder
) -> None:
    # One hash lookup per row for both names, then each name taken by position.
    position = positions(user_id, known.index)
    for header, field_name in (("First Name", "first_name"), ("Last Name", "last_name")):
        directory_name = taken(known[field_name], position)
        directory_name[position < 0] = ""
        directory_name = pd.Series(directory_name, index=user_id.index, dtype="str").fillna("")
        written = rows[header]
        differs = user_id.notna() & (written != "") & (written != directory_name)
        # Case alone is no mismatch; casefold only the few rows that differ at all.
        differs[differs] = written[differs].str.casefold() != directory_name[differs].str.casefold()
        found.add(
            differs, Code.NAME_MISMATCH, header, header=header,
            written=lambda at, written=written: written[at].map(quoted),
            directory=lambda at, directory_name=directory_name: directory_name[at].map(quoted),
        )  # fmt: skip
