"""The first schema: collection, stations, heartbeats, leases, bookings, recordings.

Revision ID: 0001
Revises:
Create Date: 2026-01-20

Written by hand, not generated: a migration is a frozen copy of the schema at its
version, so it does not import `kiosk.central.schema` (which moves on).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "collection_imports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("imported_at", MOMENT, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("fictional", sa.Boolean, nullable=False),
        sa.Column("persons", sa.Integer, nullable=False),
        sa.Column("transports", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_collection_imports"),
    )
    op.create_table(
        "transports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("import_id", sa.Integer, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("departed", sa.Date, nullable=True),
        sa.Column("destination", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transports"),
        sa.ForeignKeyConstraint(
            ["import_id"], ["collection_imports.id"], name="fk_transports_import_id_collection_imports"
        ),
        sa.UniqueConstraint("import_id", "code", name="uq_transports_import_id_code"),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("import_id", sa.Integer, nullable=False),
        sa.Column("transport_id", sa.Integer, nullable=False),
        sa.Column("list_number", sa.Integer, nullable=False),
        sa.Column("surname", sa.Text, nullable=False),
        sa.Column("given_names", sa.Text, nullable=False),
        sa.Column("first_name_key", sa.Text, nullable=False),
        sa.Column("birth_date", sa.String(10), nullable=True),
        sa.Column("birth_month", sa.SmallInteger, nullable=True),
        sa.Column("birth_day", sa.SmallInteger, nullable=True),
        sa.Column("birth_place", sa.Text, nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("fate", sa.String(16), nullable=False),
        sa.Column("portrait", sa.Text, nullable=True),
        sa.Column("fictional", sa.Boolean, nullable=False),
        sa.Column("queue_order", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("voiced", sa.Boolean, nullable=False),
        sa.Column("booked", sa.Boolean, nullable=False),
        sa.Column("held_until", MOMENT, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_persons"),
        sa.ForeignKeyConstraint(
            ["import_id"], ["collection_imports.id"], name="fk_persons_import_id_collection_imports"
        ),
        sa.ForeignKeyConstraint(["transport_id"], ["transports.id"], name="fk_persons_transport_id_transports"),
        sa.UniqueConstraint("person_id", name="uq_persons_person_id"),
    )
    op.create_index("ix_persons_transport_id", "persons", ["transport_id"])
    op.create_index("ix_persons_first_name_key", "persons", ["first_name_key"])
    op.create_index("ix_persons_birth_month_birth_day", "persons", ["birth_month", "birth_day"])
    op.create_index("ix_persons_queue_order", "persons", ["queue_order"])
    waiting = sa.and_(
        sa.column("active", sa.Boolean), ~sa.column("voiced", sa.Boolean), ~sa.column("booked", sa.Boolean)
    )
    op.create_index("ix_persons_waiting", "persons", ["queue_order"], sqlite_where=waiting, postgresql_where=waiting)

    op.create_table(
        "stations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("station_id", sa.String(40), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("token_issued_at", MOMENT, nullable=False),
        sa.Column("revoked_at", MOMENT, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_stations"),
        sa.UniqueConstraint("station_id", name="uq_stations_station_id"),
        sa.UniqueConstraint("token_hash", name="uq_stations_token_hash"),
    )
    op.create_table(
        "heartbeats",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("station_id", sa.Integer, nullable=False),
        sa.Column("received_at", MOMENT, nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("queue_length", sa.Integer, nullable=False),
        sa.Column("free_disk_bytes", sa.BigInteger, nullable=False),
        sa.Column("audio_state", sa.String(64), nullable=False),
        sa.Column("controller_state", sa.String(64), nullable=False),
        sa.Column("input_overflows", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_heartbeats"),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"], name="fk_heartbeats_station_id_stations"),
    )
    op.create_index("ix_heartbeats_station_id_received_at", "heartbeats", ["station_id", "received_at"])
    op.create_table(
        "latest_heartbeats",
        sa.Column("station_id", sa.Integer, nullable=False),
        sa.Column("heartbeat_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
        sa.Column("received_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("station_id", name="pk_latest_heartbeats"),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"], name="fk_latest_heartbeats_station_id_stations"),
        sa.ForeignKeyConstraint(
            ["heartbeat_id"], ["heartbeats.id"], name="fk_latest_heartbeats_heartbeat_id_heartbeats"
        ),
    )

    op.create_table(
        "leases",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("person_id", sa.Integer, nullable=False),
        sa.Column("station_id", sa.Integer, nullable=False),
        sa.Column("how", sa.String(8), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("expires_at", MOMENT, nullable=False),
        sa.Column("ended_at", MOMENT, nullable=True),
        sa.Column("end_reason", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_leases"),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name="fk_leases_person_id_persons"),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"], name="fk_leases_station_id_stations"),
        sa.CheckConstraint("how IN ('next', 'match', 'booking')", name="ck_leases_how"),
        sa.CheckConstraint(
            "(ended_at IS NULL AND end_reason IS NULL) OR "
            "(ended_at IS NOT NULL AND end_reason IN ('released', 'used', 'expired'))",
            name="ck_leases_ended",
        ),
    )
    open_lease = sa.column("ended_at", MOMENT).is_(None)
    op.create_index(
        "uq_leases_open_person",
        "leases",
        ["person_id"],
        unique=True,
        sqlite_where=open_lease,
        postgresql_where=open_lease,
    )
    op.create_index(
        "ix_leases_open_station", "leases", ["station_id"], sqlite_where=open_lease, postgresql_where=open_lease
    )

    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(9), nullable=False),
        sa.Column("person_id", sa.Integer, nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bookings"),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name="fk_bookings_person_id_persons"),
        sa.UniqueConstraint("code", name="uq_bookings_code"),
    )
    op.create_index("ix_bookings_person_id", "bookings", ["person_id"])

    op.create_table(
        "recordings",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("person_id", sa.Integer, nullable=False),
        sa.Column("station_id", sa.Integer, nullable=False),
        sa.Column("received_at", MOMENT, nullable=False),
        sa.Column("recorded_at", MOMENT, nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("sample_rate", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("audio_path", sa.Text, nullable=True),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("consent_version", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_at", MOMENT, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("withdrawal_code_hash", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_recordings"),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name="fk_recordings_person_id_persons"),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"], name="fk_recordings_station_id_stations"),
        sa.CheckConstraint("status IN ('received', 'approved', 'rejected', 'withdrawn')", name="ck_recordings_status"),
    )
    op.create_index("ix_recordings_person_id", "recordings", ["person_id"])
    op.create_index("ix_recordings_station_id", "recordings", ["station_id"])
    op.create_index("ix_recordings_sha256", "recordings", ["sha256"])
    op.create_index("ix_recordings_withdrawal_code_hash", "recordings", ["withdrawal_code_hash"])


def downgrade() -> None:
    for table in (
        "recordings",
        "bookings",
        "leases",
        "latest_heartbeats",
        "heartbeats",
        "stations",
        "persons",
        "transports",
        "collection_imports",
    ):
        op.drop_table(table)
