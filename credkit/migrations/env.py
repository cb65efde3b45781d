"""Alembic's entry point: migrate the connection credkit hands over, inside its transaction."""

from alembic import context

connection = context.config.attributes["connection"]
# The caller owns the transaction: every revision runs in it, so an upgrade is all or nothing.
context.configure(connection=connection, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
