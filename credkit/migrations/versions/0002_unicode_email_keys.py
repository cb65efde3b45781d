"""Email keys fold Unicode case (casefold of the NFC form), not ASCII letters only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Every stored email_key is recomputed. Two users whose emails were distinct under ASCII folding
and are the same under Unicode folding (``ÉMILE@…`` and ``émile@…``) stop the upgrade: which of
them keeps the address is the operator's decision, not the migration's.
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

from credkit.connection import SetupError

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("user_id", sa.String),
    sa.column("email", sa.String),
    sa.column("email_key", sa.String),
)


def folded(email: str | None) -> str | None:
    """The rule of this revision, frozen here (credkit.directory.email_key when it was
    written; tests/test_directory.py holds the two together): trimmed, the NFC form of each
    stretch between look-alike characters case-folded, look-alike characters (those NFKC
    replaces) kept as written."""
    text = (email or "").strip()
    if text.isascii():
        return text.lower() or None
    parts: list[str] = []
    stretch: list[str] = []
    for character in text:
        if unicodedata.normalize("NFKC", character) != character:
            parts.append(unicodedata.normalize("NFC", "".join(stretch)).casefold())
            parts.append(character)
            stretch = []
        else:
            stretch.append(character)
    parts.append(unicodedata.normalize("NFC", "".join(stretch)).casefold())
    return "".join(parts) or None


def upgrade() -> None:
    conn = op.get_bind()
    stored = conn.execute(sa.select(users.c.id, users.c.user_id, users.c.email, users.c.email_key))
    owners: dict[str, str] = {}
    changed = []
    for pk, user_id, email, key in stored.all():
        new_key = folded(email)
        if new_key is not None and new_key in owners:
            raise SetupError(
                f"users {owners[new_key]} and {user_id} have the same email once case is "
                f"folded ({email!r}); give one of them another email, then run "
                "`credkit db upgrade` again"
            )
        if new_key is not None:
            owners[new_key] = user_id
        if new_key != key:
            changed.append({"pk": pk, "new_key": new_key})
    if not changed:
        return
    # Two passes, so that no row ever holds a key that another row still has until its turn.
    update = users.update().where(users.c.id == sa.bindparam("pk"))
    conn.execute(update.values(email_key=None), [{"pk": row["pk"]} for row in changed])
    conn.execute(update.values(email_key=sa.bindparam("new_key")), changed)
