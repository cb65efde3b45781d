"""Defaults shared across credkit: limits, batch sizes, masking and the default directory URL."""

from __future__ import annotations

import os

#: The largest credential file credkit accepts, in data rows (SPEC: "The file").
MAX_ROWS = 250_000

#: Rows written per transaction by imports, and rows fetched per query by exports.
BATCH_SIZE = 5_000

#: The directory used when neither ``--db`` nor ``CREDKIT_DATABASE_URL`` names one.
DEFAULT_DATABASE_URL = "sqlite:///credkit.db"

#: Environment variable that names the directory.
DATABASE_URL_ENV = "CREDKIT_DATABASE_URL"

#: How many trailing digits of an entry code a report may show.
MASK_VISIBLE_DIGITS = 2
MASK_CHARACTER = "\u2022"


def database_url(explicit: str | None = None) -> str:
    """The directory URL: the explicit one, else the environment's, else the default SQLite file."""
    return explicit or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL
