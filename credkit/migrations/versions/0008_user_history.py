"""User imports keep a history of the users they create and update, so they can be undone.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

The user import now also adds each row's card, license plate and entry code (recorded in
credential_history like a credential import's); user_history records the users themselves:
their fields before (none for a user the run created) and after. See credkit.users and
credkit.runs (undo).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("import_runs.id"), index=True),
        sa.Column("row", sa.Integer),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
        sa.Column("at", sa.DateTime, nullable=False),
    )
