"""credkit: bulk import, review and export of access-control credentials through CSV files."""

from credkit.columns import HEADERS, ColumnReview, review_columns
from credkit.directory import Directory, NewUser
from credkit.export import template_csv, write_export
from credkit.findings import CATALOGUE, FINDING_COLUMNS, catalogue_table, mask_entry_code
from credkit.formats import REGISTRY, CardFormat, CardFormatRegistry, UnknownCardType
from credkit.reading import CsvTable, read_csv_bytes, read_csv_file
from credkit.review import Review, ReviewOptions, review_bytes, review_file
from credkit.schema import CredentialRow
from credkit.users import import_users

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
