"""Withdrawals kept for recordings not yet on the store (issue WD).

Revision ID: 0005_wd
Revises: 0004_issue16
Create Date: 2026-12-05

Written by hand, not generated (see 0001). Looks first, so running it on a database
that has the table already changes nothing.

- pending_withdrawals: a withdrawal by code that found no recording (the take is still
  on a booth that is offline, or queued there). Only the code's slow hash (the current
  scheme, `kiosk.contract.withdrawal_code_hash`), who asked and when, and when a
  recording with that code arrived (and was withdrawn at once).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_wd"
down_revision = "0004_issue16"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    if "pending_withdrawals" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "pending_withdrawals",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("asked_by", sa.Text, nullable=False),
        sa.Column("asked_at", MOMENT, nullable=False),
        sa.Column("arrived_at", MOMENT, nullable=True),
        sa.PrimaryKeyConstraint("code_hash", name="pk_pending_withdrawals"),
    )


def downgrade() -> None:
    op.drop_table("pending_withdrawals")
