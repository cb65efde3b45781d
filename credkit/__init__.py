"""credkit: bulk import, review and export of access-control credentials through CSV files."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from credkit.columns import HEADERS, ColumnReview, review_columns
    from credkit.directory import Directory, NewUser
    from credkit.export import template_csv, write_export
    from credkit.findings import CATALOGUE, FINDING_COLUMNS, catalogue_table, mask_entry_code
    from credkit.formats import REGISTRY, CardFormat, CardFormatRegistry, UnknownCardType
    from credkit.reading import CsvTable, read_csv_bytes, read_csv_file
    from credkit.review import Review, ReviewOptions, review_bytes, review_file
    from credkit.schema import CredentialRow
    from credkit.users import import_users

# Each public name and the module it lives in. They are imported on first use (module
# __getattr__, PEP 562), so that `import credkit.cli` or any one submodule does not pay for
# pandas, pandera and SQLAlchemy before a command needs them.
_HOMES = {
    "CATALOGUE": "credkit.findings",
    "FINDING_COLUMNS": "credkit.findings",
    "HEADERS": "credkit.columns",
    "REGISTRY": "credkit.formats",
    "CardFormat": "credkit.formats",
    "CardFormatRegistry": "credkit.formats",
    "ColumnReview": "credkit.columns",
    "CredentialRow": "credkit.schema",
    "CsvTable": "credkit.reading",
    "Directory": "credkit.directory",
    "NewUser": "credkit.directory",
    "Review": "credkit.review",
    "ReviewOptions": "credkit.review",
    "UnknownCardType": "credkit.formats",
    "catalogue_table": "credkit.findings",
    "import_users": "credkit.users",
    "mask_entry_code": "credkit.findings",
    "read_csv_bytes": "credkit.reading",
    "read_csv_file": "credkit.reading",
    "review_bytes": "credkit.review",
    "review_columns": "credkit.columns",
    "review_file": "credkit.review",
    "template_csv": "credkit.export",
    "write_export": "credkit.export",
}

__all__ = [
    "CATALOGUE",
    "FINDING_COLUMNS",
    "HEADERS",
    "REGISTRY",
    "CardFormat",
    "CardFormatRegistry",
    "ColumnReview",
    "CredentialRow",
    "CsvTable",
    "Directory",
    "NewUser",
    "Review",
    "ReviewOptions",
    "UnknownCardType",
    "catalogue_table",
    "import_users",
    "mask_entry_code",
    "read_csv_bytes",
    "read_csv_file",
    "review_bytes",
    "review_columns",
    "review_file",
    "template_csv",
    "write_export",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'credkit' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
