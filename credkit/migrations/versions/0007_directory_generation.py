"""The directory's generation: triggers that move it on every change to users or credentials.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Adds the one-row table directory_generation (a random generation id, and on SQLite the count)
and the triggers on users and credentials that move it: on PostgreSQL statement-level triggers
taking the next value of the sequence credkit_generation (no row lock, so concurrent imports
never wait on one another), on SQLite row-level triggers (the only kind it has) on insert and
update adding one to the count and drawing a new id (deletes show in the tables' row
counts). A review's snapshot of the directory (credkit.snapshot) is valid only while these
stay as it read them. The SQL is written out here, frozen, rather than
taken from credkit.generation, which may change.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BUMP_FUNCTION = """
CREATE OR REPLACE FUNCTION credkit_bump_generation() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    PERFORM nextval('credkit_generation');
    RETURN NULL;
END
$body$
"""


def upgrade() -> None:
    op.create_table(
        "directory_generation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger, nullable=False),
        sa.Column("generation_id", sa.String(36), nullable=False),
        sa.CheckConstraint("id = 1", name="one_generation"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "INSERT INTO directory_generation (id, generation, generation_id) "
            "VALUES (1, 0, gen_random_uuid()::text)"
        )
        op.execute("CREATE SEQUENCE IF NOT EXISTS credkit_generation")
        op.execute(BUMP_FUNCTION)
        for table in ("users", "credentials"):
            op.execute(
                f"CREATE TRIGGER {table}_generation AFTER INSERT OR UPDATE OR DELETE OR "
                f"TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION "
                "credkit_bump_generation()"
            )
        return
    op.execute(
        "INSERT INTO directory_generation (id, generation, generation_id) "
        "VALUES (1, 0, lower(hex(randomblob(16))))"
    )
    for table in ("users", "credentials"):
        for event in ("INSERT", "UPDATE"):  # deletes show in the row counts
            op.execute(
                f"CREATE TRIGGER {table}_{event.lower()}_generation AFTER {event} ON {table} "
                "BEGIN UPDATE directory_generation SET generation = generation + 1, "
                "generation_id = lower(hex(randomblob(16))) WHERE id = 1; END"
            )
