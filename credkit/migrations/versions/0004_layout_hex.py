"""Four formats gained a layout: their stored Card Number Hex becomes the whole frame.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

AWID 34-bit, PointGuard MDI 37-bit, Casi Rusco 40-Bit and Guardall G-Prox II 36-bit were
accepted with the hex as the card number written in hexadecimal; with a layout, their hex is
the frame, as for every format with a layout. A card whose frame cannot be made (an AWID card
stored without a facility code) keeps its hex and is named on the console. Unlike the other
revisions, this one calls credkit.layout_migration, which reads only the credentials columns
of the first release and the four layouts, which a later release does not change.
"""

from alembic import op

from credkit.layout_migration import recompute_stored_hex, restore_old_form_hex

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    result = recompute_stored_hex(op.get_bind())
    for _credential_id, key, reason in result.not_recomputed:
        print(f"credential {key}: Card Number Hex left as it was: {reason}")


def downgrade() -> None:
    restore_old_form_hex(op.get_bind())
