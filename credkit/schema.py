"""The pandera schema of a credential CSV row (now in credkit.rules.fields), for reuse."""

from credkit.rules.fields import (
    CHECK_FINDINGS,
    HEX_NOISE,
    CredentialRow,
    field_findings,
    normalize_plate,
    parse_modified,
    strip_hex_noise,
)

__all__ = [
    "CHECK_FINDINGS",
    "HEX_NOISE",
    "CredentialRow",
    "field_findings",
    "normalize_plate",
    "parse_modified",
    "strip_hex_noise",
]
