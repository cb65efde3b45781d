"""A run's operator is the login the database sees; --operator becomes a note beside it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Adds import_runs.on_behalf_of (the note) and, on PostgreSQL, the trigger that sets
import_runs.operator to current_user on insert and keeps it on update, whatever the client
sends. Runs recorded before keep the operator they were given. The SQL is written out here,
frozen, rather than taken from credkit.privileges, which may change.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OPERATOR_FUNCTION = """
CREATE OR REPLACE FUNCTION credkit_run_operator() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.operator := current_user;
    ELSE
        NEW.operator := OLD.operator;
    END IF;
    RETURN NEW;
END
$body$
"""


def upgrade() -> None:
    op.add_column("import_runs", sa.Column("on_behalf_of", sa.String(255)))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(OPERATOR_FUNCTION)
        op.execute("DROP TRIGGER IF EXISTS import_runs_operator ON import_runs")
        op.execute(
            "CREATE TRIGGER import_runs_operator BEFORE INSERT OR UPDATE ON import_runs "
            "FOR EACH ROW EXECUTE FUNCTION credkit_run_operator()"
        )
