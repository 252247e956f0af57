"""Bookings: expiry, language, group, end; names held until a moment; age at departure.

Revision ID: 0004_issue16
Revises: 0004_issue13a
Create Date: 2026-12-04

Written by hand, not generated (see 0001).

- persons.booked_until: a booking holds its name until then; the queue's partial index
  no longer leaves booked persons out (a passed booking frees its name by itself).
- persons.age_at_departure: the person's age when their transport left, as the wall
  computes it, so a participant can be matched on their own age; first_name_key is
  computed again with the wall search's fold (kiosk.collection.folding).
- bookings: language, group, expiry (existing bookings: 30 days after they were made),
  end and who made it.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

from kiosk.collection.folding import first_name_key
from kiosk.collection.model import PartialDate

revision = "0004_issue16"
down_revision = "0004_issue14a"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)
EXISTING_BOOKING_DAYS = 30


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("persons") as batch:
        batch.add_column(sa.Column("booked_until", MOMENT, nullable=True))
        batch.add_column(sa.Column("age_at_departure", sa.SmallInteger, nullable=True))
    op.create_index("ix_persons_age_at_departure", "persons", ["age_at_departure"])
    op.drop_index("ix_persons_waiting", "persons")
    waiting = sa.and_(sa.column("active", sa.Boolean), ~sa.column("voiced", sa.Boolean))
    op.create_index(
        "ix_persons_waiting", "persons", ["queue_order"], sqlite_where=waiting, postgresql_where=waiting
    )
    _fill_persons(bind)

    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("language", sa.String(2), nullable=False, server_default="nl"))
        batch.add_column(sa.Column("group_id", sa.Uuid, nullable=True))
        batch.add_column(sa.Column("expires_at", MOMENT, nullable=True))
        batch.add_column(sa.Column("ended_at", MOMENT, nullable=True))
        batch.add_column(sa.Column("end_reason", sa.String(16), nullable=True))
        batch.add_column(sa.Column("made_by", sa.Text, nullable=False, server_default=""))
    _expire_existing_bookings(bind)
    with op.batch_alter_table("bookings") as batch:
        batch.alter_column("expires_at", existing_type=MOMENT, nullable=False)
        batch.create_check_constraint(
            "ck_bookings_ended",
            "(ended_at IS NULL AND end_reason IS NULL) OR "
            "(ended_at IS NOT NULL AND end_reason IN ('used', 'cancelled'))",
        )
    op.create_index("ix_bookings_group_id", "bookings", ["group_id"])


def _fill_persons(bind: sa.Connection) -> None:
    persons = sa.table(
        "persons",
        sa.column("id", sa.Integer),
        sa.column("given_names", sa.Text),
        sa.column("birth_date", sa.String),
        sa.column("transport_id", sa.Integer),
        sa.column("first_name_key", sa.Text),
        sa.column("age_at_departure", sa.SmallInteger),
        sa.column("booked", sa.Boolean),
        sa.column("booked_until", MOMENT),
    )
    transports = sa.table("transports", sa.column("id", sa.Integer), sa.column("departed", sa.Date))
    departed = dict(bind.execute(sa.select(transports.c.id, transports.c.departed)).all())
    rows = bind.execute(
        sa.select(persons.c.id, persons.c.given_names, persons.c.birth_date, persons.c.transport_id)
    ).all()
    changes = [
        {
            "b_id": row.id,
            "b_key": first_name_key(row.given_names),
            "b_age": _age(row.birth_date, departed.get(row.transport_id)),
        }
        for row in rows
    ]
    if changes:
        bind.execute(
            sa.update(persons)
            .where(persons.c.id == sa.bindparam("b_id"))
            .values(first_name_key=sa.bindparam("b_key"), age_at_departure=sa.bindparam("b_age")),
            changes,
        )


def _age(birth_date: str | None, departed) -> int | None:
    if not birth_date or departed is None:
        return None
    if isinstance(departed, str):  # SQLite gives dates back as text here
        from datetime import date

        departed = date.fromisoformat(departed)
    return PartialDate.parse(birth_date).age_on(departed)


def _expire_existing_bookings(bind: sa.Connection) -> None:
    bookings = sa.table(
        "bookings",
        sa.column("id", sa.Integer),
        sa.column("person_id", sa.Integer),
        sa.column("created_at", MOMENT),
        sa.column("expires_at", MOMENT),
    )
    persons = sa.table("persons", sa.column("id", sa.Integer), sa.column("booked", sa.Boolean), sa.column("booked_until", MOMENT))
    rows = bind.execute(sa.select(bookings.c.id, bookings.c.person_id, bookings.c.created_at)).all()
    for row in rows:
        created = row.created_at
        if isinstance(created, str):
            from datetime import datetime

            created = datetime.fromisoformat(created)
        until = created + timedelta(days=EXISTING_BOOKING_DAYS)
        bind.execute(sa.update(bookings).where(bookings.c.id == row.id).values(expires_at=until))
        bind.execute(
            sa.update(persons).where(persons.c.id == row.person_id, persons.c.booked).values(booked_until=until)
        )


def downgrade() -> None:
    op.drop_index("ix_bookings_group_id", "bookings")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_constraint("ck_bookings_ended", type_="check")
        for column in ("made_by", "end_reason", "ended_at", "expires_at", "group_id", "language"):
            batch.drop_column(column)
    op.drop_index("ix_persons_waiting", "persons")
    waiting = sa.and_(
        sa.column("active", sa.Boolean), ~sa.column("voiced", sa.Boolean), ~sa.column("booked", sa.Boolean)
    )
    op.create_index(
        "ix_persons_waiting", "persons", ["queue_order"], sqlite_where=waiting, postgresql_where=waiting
    )
    op.drop_index("ix_persons_age_at_departure", "persons")
    with op.batch_alter_table("persons") as batch:
        batch.drop_column("age_at_departure")
        batch.drop_column("booked_until")
