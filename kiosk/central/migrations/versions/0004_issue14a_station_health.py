"""Station health: the devices and program a heartbeat reports, what needs attention since
when, and the latest small picture of each station's screen.

Revision ID: 0004_issue14a
Revises: 0004_issue13a
Create Date: 2026-12-04

Written by hand, not generated (see 0001). Each step looks first, so running it on a
database that has it already changes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_issue14a"
down_revision = "0004_issue13a"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def heartbeat_columns() -> list[sa.Column]:
    return [
        sa.Column("devices", sa.JSON, nullable=True),
        sa.Column("program", sa.String(16), nullable=True),
        sa.Column("program_seen_at", MOMENT, nullable=True),
    ]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    present = {column["name"] for column in inspector.get_columns("heartbeats")}
    missing = [column for column in heartbeat_columns() if column.name not in present]
    if missing:
        with op.batch_alter_table("heartbeats") as batch:
            for column in missing:
                batch.add_column(column)
    tables = set(inspector.get_table_names())
    if "station_conditions" not in tables:
        op.create_table(
            "station_conditions",
            sa.Column("station_id", sa.Integer, nullable=False),
            sa.Column("condition", sa.String(64), nullable=False),
            sa.Column("since", MOMENT, nullable=False),
            sa.PrimaryKeyConstraint("station_id", "condition", name="pk_station_conditions"),
            sa.ForeignKeyConstraint(["station_id"], ["stations.id"], name="fk_station_conditions_station_id_stations"),
        )
    if "station_screens" not in tables:
        op.create_table(
            "station_screens",
            sa.Column("station_id", sa.Integer, nullable=False),
            sa.Column("taken_at", MOMENT, nullable=False),
            sa.Column("received_at", MOMENT, nullable=False),
            sa.Column("png", sa.LargeBinary, nullable=False),
            sa.PrimaryKeyConstraint("station_id", name="pk_station_screens"),
            sa.ForeignKeyConstraint(["station_id"], ["stations.id"], name="fk_station_screens_station_id_stations"),
        )


def downgrade() -> None:
    op.drop_table("station_screens")
    op.drop_table("station_conditions")
    with op.batch_alter_table("heartbeats") as batch:
        for column in reversed(heartbeat_columns()):
            batch.drop_column(column.name)
