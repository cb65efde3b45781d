"""The row rules, as families applied in order by credkit.rules.runner (see each module)."""

from credkit.rules.builder import FindingsBuilder
from credkit.rules.credentials import CARD_COLUMNS
from credkit.rules.duplicates import duplicate_findings, first_rows_in
from credkit.rules.fields import CREDENTIAL_CSV_STORED, stored_length_findings
from credkit.rules.keys import KEY_COLUMNS
from credkit.rules.runner import (
    RESOLVED_COLUMNS,
    RuleOptions,
    recheck_rows,
    resolve_file,
    resolve_rows,
)


def __getattr__(name: str) -> object:
    # The pandera model lives in credkit.schema, imported only by whoever asks for it.
    if name == "CredentialRow":
        from credkit.schema import CredentialRow

        return CredentialRow
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CARD_COLUMNS",
    "CREDENTIAL_CSV_STORED",
    "KEY_COLUMNS",
    "RESOLVED_COLUMNS",
    "CredentialRow",
    "FindingsBuilder",
    "RuleOptions",
    "duplicate_findings",
    "first_rows_in",
    "recheck_rows",
    "resolve_file",
    "resolve_rows",
    "stored_length_findings",
]
