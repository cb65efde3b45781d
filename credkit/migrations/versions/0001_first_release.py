"""The schema of the first release, exactly as its ``metadata.create_all`` made it.

Revision ID: 0001
Revises:
Create Date: 2026-12-01

Directories made before Alembic have these tables and no alembic_version table: they count
as this revision (see credkit.migrations.current_revision). The tables are written out here,
frozen, rather than taken from credkit.directory, whose tables keep changing.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def first_release_metadata() -> sa.MetaData:
    """The first release's tables (its UtcDateTime is a plain DateTime in the database)."""
    metadata = sa.MetaData()
    sa.Table(
        "users",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.String(36), nullable=False, unique=True),
        sa.Column("external_id", sa.String(255), unique=True),
        sa.Column("employee_id", sa.String(255)),
        sa.Column("email", sa.String(320)),
        sa.Column("email_key", sa.String(320), unique=True),
        sa.Column("first_name", sa.String(255), nullable=False),
        sa.Column("last_name", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.CheckConstraint("status in ('active', 'suspended')", name="user_status"),
    )
    sa.Table(
        "credentials",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_pk", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("credential_key", sa.String(400), nullable=False, unique=True),
        sa.Column("card_type", sa.String(100)),
        sa.Column("facility_code", sa.String(20)),
        sa.Column("card_number", sa.String(20)),
        sa.Column("card_number_hex", sa.String(20)),
        sa.Column("license_plate", sa.String(20)),
        sa.Column("entry_code", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("modified", sa.DateTime, nullable=False),
        sa.CheckConstraint(
            "kind in ('card', 'license_plate', 'entry_code')", name="credential_kind"
        ),
        sa.CheckConstraint("status in ('active', 'inactive')", name="credential_status"),
        sa.Index(
            "one_entry_code_per_user",
            "user_pk",
            unique=True,
            sqlite_where=sa.text("kind = 'entry_code'"),
            postgresql_where=sa.text("kind = 'entry_code'"),
        ),
    )
    sa.Table(
        "import_runs",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("operator", sa.String(255), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("file_name", sa.String(1000), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("undone_by", sa.Integer, sa.ForeignKey("import_runs.id")),
    )
    sa.Table(
        "credential_history",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("import_runs.id"), index=True),
        sa.Column("row", sa.Integer),
        sa.Column("credential_key", sa.String(400), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    return metadata


def upgrade() -> None:
    first_release_metadata().create_all(op.get_bind())
