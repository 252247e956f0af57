"""Moderation: who decided on a recording, and the queue by status.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Written by hand, not generated (see 0001).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("decided_by", sa.Text, nullable=True))
    op.create_index("ix_recordings_status", "recordings", ["status"])


def downgrade() -> None:
    op.drop_index("ix_recordings_status", "recordings")
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("decided_by")
