"""Defaults shared across credkit: limits, batch sizes, masking and the default directory URL."""

from __future__ import annotations

import os

#: The largest credential file credkit accepts, in data rows (SPEC: "The file").
MAX_ROWS = 250_000

# Reading limits (README "Reading limits"). Reading must stop somewhere: a path may name a
# device that never ends (/dev/zero), and one cell or header can be made as large as memory.

#: The most bytes credkit reads from one file: 128 MiB, 250,000 rows of 536 bytes. A full row
#: (all 14 columns, long names and email, a UUID, a card with its hex, an ISO time) is about
#: 300 bytes, so a file within MAX_ROWS fits with room to spare; a larger one is refused
#: before it is read whole.
MAX_FILE_BYTES = 128 * 1024 * 1024

#: The longest line credkit reads: 1 MiB. The longest row the directory can store is about
#: 1,700 characters (under 7 KB in UTF-8); the rest is room for the columns other systems'
#: exports add, a header of MAX_COLUMNS names of 64 bytes each. A longer line is a broken or
#: hostile file (a 50 MB cell), refused before it is parsed.
MAX_LINE_BYTES = 1024 * 1024

#: The most columns a header may have: 16,384, Excel's own limit (column XFD), so no
#: spreadsheet writes more; the credential CSV has 14.
MAX_COLUMNS = 16_384

#: How long a named pipe may go without a writer before it is refused, in seconds.
PIPE_WRITER_WAIT_SECONDS = 1.0

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
