"""The row rules that span fields, the file and the directory, vectorised over a whole frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from credkit.directory import (
    CREDENTIAL_FIELDS,
    DirectoryLookup,
    email_keys,
    email_lookalikes,
    users,
)
from credkit.findings import CATALOGUE, FINDING_COLUMNS, findings_frame, mask_entry_code, quoted
from credkit.formats import REGISTRY, CardFormat, UnknownCardType
from credkit.frame_hints import frame_hints
from credkit.layout_migration import old_form_findings
from credkit.schema import (
    HEX_NOISE,
    field_findings,
    normalize_plate,
    parse_modified,
    strip_hex_noise,
)

#: The columns of the resolved frame: what each row means, once checked.
RESOLVED_COLUMNS = [
    "user_id",
    "credential_key",
    *CREDENTIAL_FIELDS,
    "status",
    "modified",
    "existing_user_id",
    "existing_id",
    "existing_modified",
    "existing_status",
    "replaces_entry_code",  # the key of the user's current entry code this row replaces
]
KEY_COLUMNS = {"User ID": "user_id", "External ID": "external_id", "Email": "email_key"}
CARD_COLUMNS = ["Card Type", "Facility Code", "Card Number", "Card Number Hex"]
DIGITS = r"[0-9]+"


@dataclass(frozen=True)
class RuleOptions:
    """The operator's choices that change what counts as an error."""

    reassign: bool = False
    overwrite_newer: bool = False


class FindingsBuilder:
    """Collects findings as whole masked columns, so that no rule loops over rows."""

    def __init__(self, rows: pd.DataFrame) -> None:
        self.rows = rows
        self.parts: list[pd.DataFrame] = []

    def add(
        self,
        mask: pd.Series,
        code: str,
        column: str | None,
        message: str | pd.Series | Callable[[pd.Index], pd.Series],
        value: pd.Series | None | str = "column",
    ) -> None:
        """One finding for each row where mask is true.

        A message that depends on the row is a function of the flagged rows' index, so that
        text is built for the few rows that have the finding, not for every row of the file.
        """
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        index = mask.index[mask.to_numpy()]
        if callable(message):
            message = message(index)
        elif isinstance(message, pd.Series):
            message = message.loc[index]
        if isinstance(value, str):  # "column": the cell's own value
            value = self.rows.loc[index, column] if column else None
        elif value is not None:
            value = value.loc[index]
        if column == "Entry Code" and value is not None:
            value = value.map(mask_entry_code)
        self.parts.append(
            pd.DataFrame(
                {
                    "row": index,
                    "column": column,
                    "value": None if value is None else np.asarray(value, dtype=object),
                    "code": code,
                    "severity": CATALOGUE[code].severity,
                    "message": message
                    if isinstance(message, str)
                    else np.asarray(message, dtype=object),
                },
                columns=FINDING_COLUMNS,
            )
        )

    def extend(self, findings: pd.DataFrame) -> None:
        if len(findings):
            self.parts.append(findings)

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return findings_frame()
        return findings_frame(pd.concat(self.parts, ignore_index=True))


def resolve_rows(
    rows: pd.DataFrame, lookup: DirectoryLookup, options: RuleOptions
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check rows (the 14 columns as text, indexed by row number) on their own and against
    the directory; return the findings and what each row resolves to.

    Duplicates within the file are left to duplicate_findings, which needs the whole file.
    """
    found = FindingsBuilder(rows)
    found.extend(field_findings(rows))
    resolved = pd.DataFrame(index=rows.index, columns=RESOLVED_COLUMNS, dtype=object)
    resolved["user_id"] = _resolve_users(rows, lookup, found)
    resolved["kind"] = _credential_kinds(rows, found)
    _resolve_cards(rows, resolved, found)
    _resolve_plates(rows, resolved, found)
    _resolve_entry_codes(rows, resolved)
    status = rows["Credential Status"].str.lower()
    resolved["status"] = status.where(status.isin(["active", "inactive"]), None)
    resolved["modified"] = parse_modified(rows["Modified"])
    _check_future_modified(rows, resolved["modified"], found)
    found.extend(stored_length_findings(rows, CREDENTIAL_CSV_STORED))
    _check_against_directory(rows, resolved, lookup, options, found)
    return found.frame(), resolved


def _check_future_modified(rows: pd.DataFrame, modified: pd.Series, found: FindingsBuilder) -> None:
    """A Modified time after now is a valid time, but no export wrote it: the row was edited by
    hand or comes from a system whose clock is wrong, and it can never be stale."""
    future = modified.notna() & (modified > pd.Timestamp.now(tz="UTC"))
    found.add(
        future,
        "modified-in-future",
        "Modified",
        lambda at: (
            "Modified " + rows.loc[at, "Modified"].map(quoted) + " is in the future, so this "
            "row can never be found stale: check the time (and the clock of the system that "
            "wrote it); an export writes the time of the last change"
        ),
    )


#: The directory column each credential CSV column's value is compared with or stored in:
#: a longer value cannot be the directory's (nor, in a user import, be stored by PostgreSQL).
CREDENTIAL_CSV_STORED: dict[str, sa.Column] = {
    "First Name": users.c.first_name,
    "Last Name": users.c.last_name,
    "User ID": users.c.user_id,
    "External ID": users.c.external_id,
    "Employee ID": users.c.employee_id,
    "Email": users.c.email,
}


def stored_length_findings(rows: pd.DataFrame, stored: dict[str, sa.Column]) -> pd.DataFrame:
    """field-too-long for each value longer than its directory column holds (header -> column
    of ``stored``; lengths in characters, as PostgreSQL counts them, checked the same on SQLite,
    which does not enforce them)."""
    found = FindingsBuilder(rows)
    for header, column in stored.items():
        limit = column.type.length
        if limit is None or header not in rows:
            continue
        lengths = rows[header].str.len()
        found.add(
            lengths > limit,
            "field-too-long",
            header,
            lambda at, header=header, limit=limit, lengths=lengths: (
                f"{header} is " + lengths[at].map("{:,}".format) + f" characters long; the "
                f"directory stores at most {limit:,}: shorten it"
            ),
        )
    return found.frame()


def recheck_rows(
    rows: pd.DataFrame, resolved: pd.DataFrame, lookup: DirectoryLookup, options: RuleOptions
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check reviewed rows again against the directory as it is now, before they are written.

    Only the rules that depend on the directory can have changed since the review: whether the
    user still exists, who owns the credential and when it last changed, and the user's entry
    code. The field rules are settled, so they are not run again.
    """
    found = FindingsBuilder(rows)
    resolved = resolved.copy()
    still_there = lookup.users({"user_id": resolved["user_id"]})["user_id"]
    gone = resolved["user_id"].notna() & ~resolved["user_id"].isin(still_there)
    found.add(
        gone,
        "unknown-user",
        None,
        "The row's user was removed from the directory after the review",
        value=None,
    )
    _check_against_directory(rows, resolved, lookup, options, found)
    return found.frame(), resolved


def _resolve_users(
    rows: pd.DataFrame, lookup: DirectoryLookup, found: FindingsBuilder
) -> pd.Series:
    """The user each row picks: its highest-ranked non-empty key decides (SPEC: Key)."""
    keys = {
        "User ID": rows["User ID"],
        "External ID": rows["External ID"],
        "Email": email_keys(rows["Email"]),
    }
    known = lookup.users({KEY_COLUMNS[header]: values for header, values in keys.items()})
    matches = {
        header: values.map(_index_by(known, KEY_COLUMNS[header])["user_id"])
        for header, values in keys.items()
    }
    chosen = pd.Series(None, index=rows.index, dtype=object)
    user_id = pd.Series(None, index=rows.index, dtype=object)
    for header in reversed(KEY_COLUMNS):  # the highest rank is written last and so wins
        present = keys[header] != ""
        chosen = chosen.mask(present, header)
        user_id = user_id.mask(present, matches[header])
    found.add(
        chosen.isna(),
        "missing-key",
        None,
        "The row has no User ID, External ID or Email to find its user",
        value=None,
    )
    decided = user_id.notna()
    for header in KEY_COLUMNS:
        key, written = keys[header], rows[header]  # messages quote the value as written
        found.add(
            (chosen == header) & ~decided,
            "unknown-user",
            header,
            lambda at, header=header, written=written: (
                f"No user has {header} " + written[at].map(quoted)
                + "; a credential import never creates users"
            ),
        )  # fmt: skip
        other = decided & (chosen != header) & (key != "")
        found.add(
            other & matches[header].notna() & (matches[header] != user_id),
            "keys-disagree",
            header,
            lambda at, header=header, written=written: (
                f"{header} " + written[at].map(quoted) + " belongs to a different user than the "
                + chosen[at] + " of this row"
            ),
        )  # fmt: skip
        found.add(
            other & matches[header].isna(),
            "key-unmatched",
            header,
            lambda at, header=header, written=written: (
                f"{header} " + written[at].map(quoted) + " matches no user; the row's "
                + chosen[at] + " picked its user"
            ),
        )  # fmt: skip
    _warn_email_lookalikes(rows["Email"], found)
    _check_names(rows, user_id, _index_by(known, "user_id"), found)
    return user_id


def _warn_email_lookalikes(emails: pd.Series, found: FindingsBuilder) -> None:
    """email-lookalike: an email with characters that only compatibility folding would match
    (see email_key), so it finds only an email written with those same characters."""
    unicode = ~emails.map(str.isascii, na_action="ignore").fillna(True).astype(bool)
    lookalikes = emails[unicode].map(email_lookalikes)
    lookalikes = lookalikes[lookalikes != ""]
    found.add(
        pd.Series(emails.index.isin(lookalikes.index), index=emails.index),
        "email-lookalike",
        "Email",
        lambda at: (
            "Email " + emails[at].map(quoted) + " has look-alike characters ("
            + lookalikes[at].map(quoted) + "); it matches only an email written with them"
        ),
    )  # fmt: skip


def _index_by(users: pd.DataFrame, column: str) -> pd.DataFrame:
    """Users indexed by one key column (rows without that key left out)."""
    present = users[users[column].notna()]
    return present.drop_duplicates(column).set_index(column, drop=False)


def _check_names(
    rows: pd.DataFrame, user_id: pd.Series, known: pd.DataFrame, found: FindingsBuilder
) -> None:
    # One hash lookup per row for both names, then each name taken by position.
    position = known.index.get_indexer(user_id.to_numpy(dtype=object))
    found_at = position >= 0
    for header, field_name in (("First Name", "first_name"), ("Last Name", "last_name")):
        names = known[field_name].to_numpy(dtype=object)
        directory_name = np.full(len(user_id), "", dtype=object)
        directory_name[found_at] = names[position[found_at]]
        directory_name = pd.Series(directory_name, index=user_id.index, dtype="str").fillna("")
        written = rows[header]
        differs = user_id.notna() & (written != "") & (written != directory_name)
        # Case alone is no mismatch; casefold only the few rows that differ at all.
        differs[differs] = written[differs].str.casefold() != directory_name[differs].str.casefold()
        found.add(
            differs,
            "name-mismatch",
            header,
            lambda at, header=header, written=written, directory_name=directory_name: (
                f"{header} " + written[at].map(quoted) + " differs from the directory's "
                + directory_name[at].map(quoted)
            ),
        )  # fmt: skip


def _credential_kinds(rows: pd.DataFrame, found: FindingsBuilder) -> pd.Series:
    """Which credential each row names: exactly one of a card, a plate or an entry code."""
    named = pd.DataFrame(
        {
            "card": (rows[CARD_COLUMNS] != "").any(axis=1),
            "license_plate": rows["License Plate"] != "",
            "entry_code": rows["Entry Code"] != "",
        }
    )
    count = named.sum(axis=1)
    found.add(
        count == 0,
        "no-credential",
        None,
        "The row names no credential: fill Card Type with Card Number or Card Number Hex, "
        "or License Plate, or Entry Code",
        value=None,
    )
    labels = {"card": "a card", "license_plate": "a License Plate", "entry_code": "an Entry Code"}
    described = pd.Series("", index=rows.index, dtype=object)
    for kind, label in labels.items():
        described = described.mask(
            named[kind], described + np.where(described == "", "", " and ") + label
        )
    found.add(
        count > 1,
        "multiple-credentials",
        None,
        "The row names " + described + "; put each credential on a row of its own",
        value=None,
    )
    kind = named.idxmax(axis=1).astype(object)
    return kind.where(count == 1, None)


def _resolve_cards(rows: pd.DataFrame, resolved: pd.DataFrame, found: FindingsBuilder) -> None:
    """Card type, facility code, card number and hex of every card row, checked per format."""
    is_card = resolved["kind"] == "card"
    card_type = rows["Card Type"]
    found.add(
        is_card & (card_type == ""),
        "unknown-card-type",
        "Card Type",
        "Card Type is empty: name the card format (see `credkit formats`)",
    )
    hex_raw = rows["Card Number Hex"]
    hex_clean = strip_hex_noise(hex_raw)
    only_noise = _hex_without_digits(is_card, hex_raw, hex_clean, found)
    number_given = (rows["Card Number"] != "") | (hex_clean != "")
    found.add(
        is_card & (card_type != "") & ~number_given & ~only_noise,
        "no-credential",
        "Card Number",
        "Card Type needs a Card Number or a Card Number Hex",
        value=None,
    )
    formats = {name: REGISTRY.find(name) for name in pd.unique(card_type[is_card]) if name}
    canonical = card_type.map({name: f.name for name, f in formats.items() if f}).where(is_card)
    unknown = is_card & (card_type != "") & canonical.isna()
    found.add(
        unknown,
        "unknown-card-type",
        "Card Type",
        card_type.map({name: _unknown_card_type(name) for name in formats}),
    )
    found.add(
        canonical.notna() & (canonical != card_type),
        "card-type-alias",
        "Card Type",
        lambda at: (
            "Card Type " + card_type[at].map(quoted) + " is read as " + canonical[at].map(quoted)
        ),
    )
    hex_valid = hex_clean.str.fullmatch("[0-9A-F]+")
    found.add(
        is_card & hex_valid & hex_raw.str.contains(HEX_NOISE),
        "hex-prefix",
        "Card Number Hex",
        lambda at: (
            "Card Number Hex "
            + hex_raw[at].map(quoted)
            + " is read as "
            + hex_clean[at].map(quoted)
        ),
    )
    workable = is_card & canonical.notna() & number_given
    for name in pd.unique(canonical[workable]):
        in_format = workable & (canonical == name)
        _resolve_format(REGISTRY.get(name), rows[in_format], hex_clean[in_format], resolved, found)
    found.extend(frame_hints(rows, is_card, canonical, hex_clean, found.parts))


def _hex_without_digits(
    is_card: pd.Series, hex_raw: pd.Series, hex_clean: pd.Series, found: FindingsBuilder
) -> pd.Series:
    """Card rows whose Card Number Hex is only a 0x prefix or spaces: an error, since the
    cell says there is a hex value and there is none (the review must not pass a card that
    has no number for the import to write)."""
    only_noise = is_card & (hex_raw != "") & (hex_clean == "")
    found.add(
        only_noise,
        "hex-invalid",
        "Card Number Hex",
        lambda at: (
            "Card Number Hex " + hex_raw[at].map(quoted) + " has no hex digits, only a 0x "
            "prefix or spaces: write the card's hex value, or leave the cell empty"
        ),
    )
    return only_noise


def _unknown_card_type(name: str) -> str:
    try:
        REGISTRY.get(name)
        suggestions: list[str] = []
    except UnknownCardType as unknown:
        suggestions = unknown.suggestions
    hint = f"; did you mean {' or '.join(map(repr, suggestions))}?" if suggestions else ""
    return f"Card Type {quoted(name)} is not a known card format{hint} (see `credkit formats`)"


def _resolve_format(
    card_format: CardFormat,
    rows: pd.DataFrame,
    hex_clean: pd.Series,
    resolved: pd.DataFrame,
    found: FindingsBuilder,
) -> None:
    """The card rules for the rows of one format (every row here has a number or a hex)."""
    facility_text, number_text = rows["Facility Code"], rows["Card Number"]
    facility_given = facility_text.str.fullmatch(DIGITS)
    number_given = number_text.str.fullmatch(DIGITS)
    hex_given = hex_clean.str.fullmatch("[0-9A-F]+")
    # Field-level errors (not digits, not hex) were reported by the schema: such rows stop here.
    broken = ((facility_text != "") & ~facility_given) | ((number_text != "") & ~number_given)
    broken |= (hex_clean != "") & ~hex_given
    facility = _as_int(facility_text.where(facility_given & ~broken))
    number = _as_int(number_text.where(number_given & ~broken))
    frame = _as_int(hex_clean.where(hex_given & ~broken), base=16)
    too_wide = frame.notna() & (frame >= 2**card_format.bits)
    _check_hex_leading_zeros(card_format, frame.where(~too_wide), hex_clean, found)
    found.add(
        too_wide,
        "hex-invalid",
        "Card Number Hex",
        f"Card Number Hex is wider than {card_format.name}'s {card_format.bits} bits "
        f"({card_format.hex_digits} hex digits)",
    )
    frame = frame.where(~too_wide)
    broken |= too_wide
    if card_format.has_facility_code:
        found.add(
            ~broken & (facility_text == "") & frame.isna(),
            "facility-code-required",
            "Facility Code",
            f"{card_format.name} cards need a Facility Code",
            value=None,
        )
    else:
        found.add(
            facility_text != "",
            "facility-code-not-allowed",
            "Facility Code",
            f"{card_format.name} cards have no facility code; leave Facility Code empty",
        )
        broken |= facility_text != ""
    if card_format.layout is not None:
        old_form, old_form_messages = old_form_findings(
            card_format, frame, facility, number, ~broken
        )
        found.add(old_form, "hex-old-form", "Card Number Hex", old_form_messages)
        broken |= old_form
        facility, number, broken = _check_frames(
            card_format, frame, facility, number, broken, found
        )
    else:
        number, broken = _check_serial(card_format, frame, number, broken, found)
    if card_format.has_facility_code:
        out_of_range = facility.notna() & (facility > (card_format.facility_code_max or 0))
        found.add(
            out_of_range,
            "facility-code-range",
            "Facility Code",
            f"Facility Code must be 0 to {card_format.facility_code_max:,} for {card_format.name}",
        )
        broken |= out_of_range | (facility.isna() & frame.isna())
    out_of_range = number.notna() & (number > card_format.card_number_max)
    found.add(
        out_of_range,
        "card-number-range",
        "Card Number",
        f"Card Number must be 0 to {card_format.card_number_max:,} for {card_format.name}",
    )
    broken |= out_of_range | number.isna()
    good = ~broken
    index = good.index[good.to_numpy()]
    facility_out = facility[good] if card_format.has_facility_code else pd.Series(None, index=index)
    resolved.loc[index, "card_type"] = card_format.name
    resolved.loc[index, "facility_code"] = facility_out.map(_decimal, na_action="ignore")
    resolved.loc[index, "card_number"] = number[good].astype(str)
    resolved.loc[index, "card_number_hex"] = _hex_strings(card_format, facility_out, number[good])
    resolved.loc[index, "credential_key"] = (
        "card:" + card_format.name + ":" + resolved.loc[index, "facility_code"].fillna("")
        + ":" + resolved.loc[index, "card_number"]
    )  # fmt: skip


def _check_hex_leading_zeros(
    card_format: CardFormat, frame: pd.Series, hex_clean: pd.Series, found: FindingsBuilder
) -> None:
    """A hex value that fits the format but has more digits than its zero-padded width: the
    extra digits are leading zeros (a tool that pads to its own width), read with a warning."""
    width = card_format.hex_digits
    padded = frame.notna() & (hex_clean.str.len() > width)
    found.add(
        padded,
        "hex-leading-zeros",
        "Card Number Hex",
        lambda at: (
            "Card Number Hex " + hex_clean[at].map(quoted) + f" has more digits than "
            f"{card_format.name}'s {width} hex digits; the extra ones are leading zeros and it "
            "is read as " + frame[at].map(lambda value: quoted(format(int(value), f"0{width}X")))
        ),
    )


def _check_frames(
    card_format: CardFormat,
    frame: pd.Series,
    facility: pd.Series,
    number: pd.Series,
    broken: pd.Series,
    found: FindingsBuilder,
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Wiegand frames: parity, agreement with the decimal fields, and filling them in."""
    has_frame = frame.notna() & ~broken
    if not has_frame.any():
        return facility, number, broken
    frames = np.array([int(value) for value in frame[has_frame]], dtype=np.uint64)
    decoded_facility, decoded_number, parity_valid = card_format.decode_many(frames)
    decoded = pd.DataFrame(
        {
            "facility": decoded_facility.astype(object) if card_format.has_facility_code else None,
            "number": decoded_number.astype(object),
            "parity": parity_valid,
        },
        index=has_frame.index[has_frame.to_numpy()],
    ).reindex(frame.index)
    bad_parity = has_frame & ~decoded["parity"].fillna(True).astype(bool)
    found.add(
        bad_parity,
        "hex-parity",
        "Card Number Hex",
        f"Card Number Hex is not a valid {card_format.name} frame: its parity bits are wrong "
        "(a digit was mistyped or the frame belongs to another format)",
    )
    checked = has_frame & ~bad_parity
    facility_mismatch = (
        facility.notna() & (facility != decoded["facility"])
        if card_format.has_facility_code
        else pd.Series(False, index=frame.index)
    )
    mismatch = checked & (facility_mismatch | (number.notna() & (number != decoded["number"])))
    found.add(
        mismatch,
        "hex-mismatch",
        "Card Number Hex",
        "Card Number Hex decodes to facility code " + decoded["facility"].map(str)
        + " and card number " + decoded["number"].map(str)
        + ", not the row's Facility Code and Card Number",
    )  # fmt: skip
    broken = broken | bad_parity | mismatch
    if card_format.has_facility_code:
        facility = facility.where(facility.notna() | ~checked, decoded["facility"])
    number = number.where(number.notna() | ~checked, decoded["number"])
    return facility, number, broken


def _check_serial(
    card_format: CardFormat,
    frame: pd.Series,
    number: pd.Series,
    broken: pd.Series,
    found: FindingsBuilder,
) -> tuple[pd.Series, pd.Series]:
    """Serial numbers and unpublished layouts: the hex is the card number in hexadecimal."""
    both = frame.notna() & number.notna() & ~broken
    differ = both & (frame != number)
    if card_format.serial_number:
        reversed_bytes = frame.where(differ).map(
            lambda value: _reverse_bytes(int(value), card_format.hex_digits), na_action="ignore"
        )
        byte_order = differ & (reversed_bytes == number)
        found.add(
            byte_order,
            "hex-byte-order",
            "Card Number Hex",
            "Card Number Hex is the Card Number with its bytes in reverse order: the reader "
            "that produced one of them reads the serial number the other way round",
        )
        differ &= ~byte_order
        broken = broken | byte_order
    found.add(
        differ,
        "hex-mismatch",
        "Card Number Hex",
        lambda at: "Card Number Hex is " + _numbers(frame[at]) + " in decimal, not the row's Card Number",
    )  # fmt: skip
    return number.where(number.notna() | broken, frame), broken | differ


def _resolve_plates(rows: pd.DataFrame, resolved: pd.DataFrame, found: FindingsBuilder) -> None:
    is_plate = resolved["kind"] == "license_plate"
    written = rows["License Plate"]
    plate = normalize_plate(written)
    valid = is_plate & plate.str.fullmatch("[A-Z0-9]{2,10}")
    found.add(
        valid & (plate != written),
        "plate-normalized",
        "License Plate",
        lambda at: (
            "License Plate " + written[at].map(quoted) + " is stored as " + plate[at].map(quoted)
        ),
    )
    resolved.loc[valid, "license_plate"] = plate[valid]
    resolved.loc[valid, "credential_key"] = "license_plate:" + plate[valid]


def _resolve_entry_codes(rows: pd.DataFrame, resolved: pd.DataFrame) -> None:
    code = rows["Entry Code"]
    valid = (resolved["kind"] == "entry_code") & code.str.fullmatch("[0-9]{4,16}")
    resolved.loc[valid, "entry_code"] = code[valid]
    resolved.loc[valid, "credential_key"] = "entry_code:" + code[valid]


def _credential_column(kind: pd.Series) -> pd.Series:
    return kind.map(
        {"card": "Card Number", "license_plate": "License Plate", "entry_code": "Entry Code"}
    )


def _check_against_directory(
    rows: pd.DataFrame,
    resolved: pd.DataFrame,
    lookup: DirectoryLookup,
    options: RuleOptions,
    found: FindingsBuilder,
) -> None:
    """Ownership, staleness and entry-code replacement, against the directory as it is now."""
    existing = lookup.credentials(resolved["credential_key"])
    key = resolved["credential_key"]
    # One hash lookup per row, then every column taken by position.
    position = existing.index.get_indexer(key.to_numpy(dtype=object))
    found_at = position >= 0
    for column in ("user_id", "id", "modified", "status"):
        values = pd.Series(None, index=resolved.index, dtype=object)
        values[found_at] = existing[column].to_numpy(dtype=object)[position[found_at]]
        resolved["existing_" + column] = values
    owner = resolved["existing_user_id"]
    user = resolved["user_id"]
    elsewhere = owner.notna() & user.notna() & (owner != user)
    if not options.reassign:
        for kind, code, column, label in (
            ("card", "assigned-to-other-user", "Card Number", "This card"),
            ("license_plate", "assigned-to-other-user", "License Plate", "This license plate"),
            ("entry_code", "entry-code-in-use", "Entry Code", "This entry code"),
        ):
            found.add(
                elsewhere & (resolved["kind"] == kind),
                code,
                column,
                label + " belongs to another user (User ID " + owner.fillna("") + "); import "
                "with reassign to move it to this row's user",
            )  # fmt: skip
    if not options.overwrite_newer:
        directory_time = pd.to_datetime(resolved["existing_modified"], utc=True).dt.floor("s")
        row_time = pd.to_datetime(resolved["modified"], utc=True).dt.floor("s")
        stale = owner.notna() & row_time.notna() & (directory_time > row_time)
        found.add(
            stale,
            "stale",
            "Modified",
            "The directory changed this credential at "
            + directory_time.dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")
            + ", after this row's Modified; export again, or overwrite newer changes",
        )  # fmt: skip
    is_code = (resolved["kind"] == "entry_code") & user.notna() & key.notna()
    current = user[is_code].map(lookup.entry_codes(user[is_code]))
    replaced = pd.Series(False, index=rows.index)
    replaced[is_code] = current.notna() & (current != key[is_code])
    resolved["replaces_entry_code"] = current.where(replaced[is_code]).reindex(rows.index)
    found.add(
        replaced,
        "entry-code-replaced",
        "Entry Code",
        "The user's current entry code will be replaced by this one",
    )


def duplicate_findings(resolved: pd.DataFrame, first_rows: pd.DataFrame) -> pd.DataFrame:
    """duplicate-in-file for each row whose credential, or whose user's entry code, is on an
    earlier row; first_rows gives, per row, the first row of its credential_key and of its
    user's entry codes (columns "credential", "user_entry_code")."""
    found = FindingsBuilder(pd.DataFrame(index=resolved.index))
    column = _credential_column(resolved["kind"])
    first = first_rows["credential"]
    repeated = first.notna() & (first != resolved.index.to_series())
    first_code = first_rows["user_entry_code"]
    second_code = ~repeated & first_code.notna() & (first_code != resolved.index.to_series())
    shown = _shown_values(resolved[repeated | second_code]).reindex(resolved.index)
    for header in ("Card Number", "License Plate", "Entry Code"):
        found.add(
            repeated & (column == header),
            "duplicate-in-file",
            header,
            lambda at: _describe(resolved.loc[at]) + " is already on row " + _numbers(first[at]),
            value=shown,
        )
    found.add(
        second_code,
        "duplicate-in-file",
        "Entry Code",
        lambda at: "This user already gets an entry code on row " + _numbers(first_code[at]),
        value=shown,
    )
    return found.frame()


def _shown_values(resolved: pd.DataFrame) -> pd.Series:
    """Each row's credential value as a finding shows it (entry codes masked)."""
    resolved = resolved.astype(object)
    shown = resolved["card_number"].where(resolved["kind"] == "card")
    shown = shown.fillna(resolved["license_plate"].where(resolved["kind"] == "license_plate"))
    codes = resolved["entry_code"].where(resolved["kind"] == "entry_code")
    return shown.fillna(codes.map(mask_entry_code, na_action="ignore").astype(object))


def _describe(resolved: pd.DataFrame) -> pd.Series:
    """The credential of each row in words, for messages (entry codes masked)."""
    resolved = resolved.astype(object)
    card = (
        "Card " + resolved["card_type"].fillna("") + " "
        + resolved["facility_code"].fillna("").map(lambda code: f"{code}/" if code else "")
        + resolved["card_number"].fillna("")
    )  # fmt: skip
    plate = "License Plate " + resolved["license_plate"].fillna("")
    masked = resolved["entry_code"].map(mask_entry_code, na_action="ignore").astype(object)
    code = "Entry Code " + masked.fillna("")
    kind = resolved["kind"]
    return card.where(kind == "card", plate.where(kind == "license_plate", code))


def first_rows_in(resolved: pd.DataFrame) -> pd.DataFrame:
    """For each row of a whole file, the first row with its credential and its user's entry code."""
    codes = resolved["kind"] == "entry_code"
    code_owner = resolved["user_id"].where(codes & resolved["credential_key"].notna())
    return pd.DataFrame(
        {
            "credential": _first_row_of(resolved["credential_key"]),
            "user_entry_code": _first_row_of(code_owner),
        }
    )


def _first_row_of(keys: pd.Series) -> pd.Series:
    """For each row, the first row (in file order) with the same key; NaN where no key."""
    present = keys[keys.notna()]
    firsts = present[~present.duplicated()]
    first_row = pd.Series(firsts.index.to_numpy(), index=firsts.to_numpy(dtype=object))
    return keys.map(first_row)


#: Stands for a number too long to convert: past every format's range (at most 64 bits), and
#: Python refuses int() of more than 4,300 digits anyway.
TOO_LONG = 2**80


def _as_int(text: pd.Series, base: int = 10) -> pd.Series:
    """Digit strings as Python ints (object dtype: iClass numbers pass the int64 range);
    missing values stay None, never a float that would lose digits."""
    if base == 10:
        # Up to 18 digits fit an int64, which pandas parses in one vectorised step.
        short = text.notna() & (text.str.len() <= 18)
        parsed = pd.Series(None, index=text.index, dtype=object)
        parsed[short] = text[short].astype("int64").astype(object)
        longer = text.notna() & ~short
        parsed[longer] = [_long_int(value, base) for value in text[longer]]
        return parsed
    return pd.Series(
        [None if pd.isna(value) else _long_int(value, base) for value in text],
        index=text.index,
        dtype=object,
    )


def _long_int(digits: str, base: int) -> int:
    significant = digits.lstrip("0")
    return TOO_LONG if len(significant) > 24 else int(significant or "0", base)


def _hex_strings(card_format: CardFormat, facility: pd.Series, number: pd.Series) -> list[str]:
    """The hex form export writes, for many cards at once."""
    if card_format.layout is not None:
        frames = card_format.encode_many(
            facility.to_numpy(dtype=np.uint64) if card_format.has_facility_code else None,
            number.to_numpy(dtype=np.uint64),
        )
        return [format(int(frame), f"0{card_format.hex_digits}X") for frame in frames]
    return [card_format.encode(None, int(value)) for value in number]


def _decimal(value: object) -> str:
    return str(int(value))


def _numbers(values: pd.Series) -> pd.Series:
    """Numbers as decimal text for messages, "" where missing."""
    return values.map(_decimal, na_action="ignore").astype(object).fillna("")


def _reverse_bytes(value: int, hex_digits: int) -> int:
    width = (hex_digits + 1) // 2
    return int.from_bytes(value.to_bytes(width, "big"), "little")
