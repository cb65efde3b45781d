"""Runs carry a liveness mark: the importing process, its host, and a heartbeat per batch.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

A run that has not finished is live while its process holds the mark (on PostgreSQL an
advisory lock, on SQLite a process that still exists and a recent heartbeat); otherwise it
was interrupted. See credkit.runs.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("import_runs", sa.Column("owner_pid", sa.Integer))
    op.add_column("import_runs", sa.Column("owner_host", sa.String(255)))
    op.add_column("import_runs", sa.Column("heartbeat_at", sa.DateTime))
