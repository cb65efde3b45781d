"""Users carry gone_at: set when a loaded Command export no longer lists them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

A gone user is left out of reviews (credkit.directory.DirectoryLookup) but kept, since the
history of their credentials names them; a later export that lists them again clears it.
See credkit.loading.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("gone_at", sa.DateTime))
