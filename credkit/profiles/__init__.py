"""Source profiles: how another access-control system writes credentials, as data (TOML files).

A profile names the source's headers and what they are in credkit's columns, and the value rules
that turn the source's cards into credkit's: a card format code table, a facility code written in
hex, a combined ``FC/CN`` column, several cards in one cell or in numbered columns, a fixed card
type or facility code for the whole file, a printed-to-encoded offset, values meaning "no card",
and rows to skip. The built-in profiles are the ``*.toml`` files beside this module; an
operator's own profile is any such file (``save_profile`` writes one).
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path

import tomli_w

from credkit.columns import HEADERS
from credkit.formats import REGISTRY


class ProfileError(ValueError):
    """A profile that cannot be found or read, or that says something credkit cannot do."""


@dataclass(frozen=True)
class SkipRule:
    """Rows whose ``column`` holds one of ``values`` (case folded) are skipped, for ``reason``."""

    column: str
    values: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Profile:
    """One source system's layout; see the module docstring and the built-in files."""

    name: str
    system: str
    #: source header -> credkit header (HEADERS); columns not named are ignored
    columns: dict[str, str]
    sources: tuple[str, ...] = ()
    #: False: the file has no header row, and ``positions`` names its columns in order
    header: bool = True
    positions: tuple[str, ...] = ()
    #: the card type for cards whose row names none
    card_type: str | None = None
    #: source code -> credkit card type (Genetec's 0 = Standard 26 bits, ...)
    card_type_codes: dict[str, str] = field(default_factory=dict)
    #: a facility code for every card of the file (OnGuard keeps it in the card format)
    facility_code: int | None = None
    facility_code_hex: bool = False
    #: a source column holding facility code and card number together; it wins over both
    combined_column: str | None = None
    #: how a facility code and a card number are separated in one value
    separators: tuple[str, ...] = (":", "/", "|")
    #: numbered card columns (Alarm.com's Access Card 1, 2): one credential each
    card_columns: tuple[str, ...] = ()
    #: several cards in one cell (ProdataKey's "1234,5678"): one credential each
    multi_card_separator: str | None = None
    #: encoded card number = printed card number + offset
    card_number_offset: int = 0
    #: card numbers meaning "no card" (AMAG's 0)
    no_card: tuple[str, ...] = ()
    #: source status -> Active or Inactive
    status_codes: dict[str, str] = field(default_factory=dict)
    skip: tuple[SkipRule, ...] = ()
    #: False: each row is carried as it is, only its headers renamed (a saved header mapping)
    value_rules: bool = True

    def __post_init__(self) -> None:
        for source, target in self.columns.items():
            if target not in HEADERS:
                raise ProfileError(
                    f"profile {self.name!r}: column {source!r} maps to {target!r}, "
                    f"which is not one of credkit's headers {HEADERS}"
                )
        named = [self.card_type, *self.card_type_codes.values()]
        for card_type in filter(None, named):
            if card_type not in REGISTRY:
                raise ProfileError(f"profile {self.name!r}: unknown card type {card_type!r}")
        if not self.header and not self.positions:
            raise ProfileError(f"profile {self.name!r}: a file without a header needs positions")
        for status in self.status_codes.values():
            if status not in ("Active", "Inactive"):
                raise ProfileError(
                    f"profile {self.name!r}: status {status!r} is not Active/Inactive"
                )


def mapping_profile(mapping: dict[str, str] | tuple[tuple[str, str], ...], name: str) -> Profile:
    """A profile that only renames headers: an operator's accepted mapping (``--map``), saved
    to be used again with ``--profile PATH`` (mapping memory). Rows are carried as they are."""
    columns = {header: header for header in HEADERS} | dict(mapping)
    return Profile(
        name=name,
        system="credkit credential CSV with its own headers",
        columns=columns,
        separators=(),
        value_rules=False,
    )


def builtin_profiles() -> list[str]:
    """The names of the built-in profiles."""
    folder = resources.files(__name__)
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_profile(name_or_path: str | Path) -> Profile:
    """A built-in profile by name, or a profile file by path. Raises ProfileError."""
    text = str(name_or_path)
    if text in builtin_profiles():
        data = resources.files(__name__).joinpath(f"{text}.toml").read_text(encoding="utf-8")
        where = f"built-in profile {text!r}"
    else:
        path = Path(name_or_path)
        if not path.is_file():
            known = ", ".join(builtin_profiles())
            raise ProfileError(
                f"no profile {text!r}: name a built-in profile ({known}) or a profile file"
            )
        try:
            data = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ProfileError(f"cannot read the profile {text!r}: {error}") from None
        where = f"profile file {text!r}"
    try:
        return profile_from_dict(tomllib.loads(data))
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{where} is not valid TOML: {error}") from None
    except (TypeError, KeyError) as error:
        raise ProfileError(f"{where} is not a credkit profile: {error}") from None


_TUPLES = {"sources", "positions", "separators", "card_columns", "no_card"}


def profile_from_dict(data: dict) -> Profile:
    """A Profile from the mapping a TOML file holds."""
    known = {f.name for f in fields(Profile)}
    unknown = set(data) - known
    if unknown:
        raise ProfileError(f"unknown profile settings: {', '.join(sorted(unknown))}")
    values = dict(data)
    for key in _TUPLES & set(values):
        values[key] = tuple(str(item) for item in values[key])
    values["skip"] = tuple(
        SkipRule(rule["column"], tuple(rule["values"]), rule["reason"])
        for rule in values.get("skip", ())
    )
    return Profile(**values)


def profile_to_dict(profile: Profile) -> dict:
    """The TOML-ready mapping of a profile (defaults left out)."""
    defaults = Profile(name="", system="", columns={}, header=True)
    data = {}
    for key, value in asdict(profile).items():
        if value is None or (
            key not in ("name", "system", "columns") and value == asdict(defaults)[key]
        ):
            continue
        data[key] = [dict(rule) for rule in value] if key == "skip" else value
    return data


def save_profile(profile: Profile, path: str | Path) -> Path:
    """Write a profile as TOML (mapping memory: an operator's accepted mapping, reused with
    ``--profile PATH``). The file is written whole or not at all."""
    path = Path(path)
    text = tomli_w.dumps(profile_to_dict(profile))
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path
