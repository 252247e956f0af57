"""Station roles, and failed staff logins counted per username and per client address.

Revision ID: 0004_issue13a
Revises: 0003
Create Date: 2026-12-04

Written by hand, not generated (see 0001). Every station enrolled before roles existed
becomes a booth: its token keeps the rights it had until it is enrolled again.
Safe to run on a database that has either change already (the lead chains the 0004
migrations of several branches).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_issue13a"
down_revision = "0003"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if "role" not in {column["name"] for column in inspector.get_columns("stations")}:
        with op.batch_alter_table("stations") as batch:
            batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="booth"))
            batch.create_check_constraint(
                "ck_stations_role", "role IN ('booth', 'wall', 'memorial', 'booking')"
            )
    if not inspector.has_table("login_failures"):
        op.create_table(
            "login_failures",
            sa.Column("key_hash", sa.String(64), nullable=False),
            sa.Column("username_hash", sa.String(64), nullable=True),
            sa.Column("failures", sa.Integer, nullable=False),
            sa.Column("last_failure_at", MOMENT, nullable=False),
            sa.Column("locked_until", MOMENT, nullable=True),
            sa.PrimaryKeyConstraint("key_hash", name="pk_login_failures"),
        )
        op.create_index("ix_login_failures_last_failure_at", "login_failures", ["last_failure_at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_last_failure_at", "login_failures")
    op.drop_table("login_failures")
    with op.batch_alter_table("stations") as batch:
        batch.drop_constraint("ck_stations_role", type_="check")
        batch.drop_column("role")
