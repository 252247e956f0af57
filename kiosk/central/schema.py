"""The central store's tables, as SQLAlchemy Core sees them.

The database itself is built and changed only by the Alembic migrations in
`kiosk/central/migrations/versions/`; this module is the code's description of the
result, and a test checks that the two agree on SQLite and on PostgreSQL.

Rules the tables keep, and why:

- A transport code is not a key in the real world ("Z" named the Roma and Sinti transport
  and two special transports), so transports have a surrogate id. The collection format
  makes a code unique within one collection, so (import_id, code) is unique: the import
  that last wrote a transport owns it.
- Persons and recordings are never deleted by an import: a recording always keeps the
  person it names. A person missing from a later import is marked inactive.
- What decides whether a person can be handed out lives on the person's own row
  (`voiced`, `booked`, `held_until`), so that on PostgreSQL a claim that locks the row
  with FOR UPDATE SKIP LOCKED re-checks exactly those columns when it wins the lock.
- At most one lease per person is not ended (a partial unique index): a claim ends an
  expired lease before it takes the name over. Lease rows change only while the
  person's row is locked.
- Station tokens and withdrawal codes are stored hashed, never as given; so is the code
  of a withdrawal asked for before its recording arrived (`pending_withdrawals`).
- A booking reserves its person until `persons.booked_until` (`booked` set with it): the
  claims' and the bookings' queries treat a passed moment as free, so an expired booking
  gives its name back without any cleaning job. A booking keeps its code, its person,
  language, group and expiry, never what the participant said to be matched.
- `persons.voiced` says whether the person has a recording in a VOICED_STATUSES status.
  Whatever changes a recording's status (moderation, a withdrawal: `kiosk.central.moderation`)
  sets it again in the same transaction, with the person's row locked.
- A recording's `status_at`, `reason` and `decided_by` say who decided what, and when.
- Staff passwords are stored as scrypt hashes and staff sessions by the SHA-256 of the
  cookie's value (`kiosk.central.staff`), so a copy of the database logs nobody in.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)

RECORDING_STATUSES = ("received", "approved", "rejected", "withdrawn")
VOICED_STATUSES = ("received", "approved")
"""A recording in one of these statuses gives its person a voice."""
LEASE_HOWS = ("next", "match", "booking")
LEASE_ENDS = ("released", "used", "expired")
BOOKING_ENDS = ("used", "cancelled")
"""A booking past its `expires_at` and not ended is expired: nothing needs to run to free its name."""
STATION_ROLES = ("booth", "wall", "memorial", "booking")
"""What a station's token may do (`kiosk.central.stations.ROLE_RIGHTS`)."""

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A moment in UTC: timestamptz on PostgreSQL, naive UTC text on SQLite.

    SQLite has no time zones and compares timestamps as text, so every value is
    converted to UTC before it is stored and comes back marked as UTC; a naive
    datetime is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("the central store keeps only moments with a time zone")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


collection_imports = Table(
    "collection_imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("imported_at", UTCDateTime, nullable=False),
    Column("source", Text, nullable=False),
    Column("fictional", Boolean, nullable=False),
    Column("persons", Integer, nullable=False),
    Column("transports", Integer, nullable=False),
)

transports = Table(
    "transports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("import_id", ForeignKey("collection_imports.id"), nullable=False),
    Column("code", Text, nullable=False),
    Column("departed", Date, nullable=True),
    Column("destination", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("position", Integer, nullable=False),
    UniqueConstraint("import_id", "code"),
)

persons = Table(
    "persons",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Text, nullable=False, unique=True),
    Column("import_id", ForeignKey("collection_imports.id"), nullable=False),
    Column("transport_id", ForeignKey("transports.id"), nullable=False, index=True),
    Column("list_number", Integer, nullable=False),
    Column("surname", Text, nullable=False),
    Column("given_names", Text, nullable=False),
    Column("first_name_key", Text, nullable=False, index=True),
    Column("birth_date", String(10), nullable=True),
    Column("birth_month", SmallInteger, nullable=True),
    Column("birth_day", SmallInteger, nullable=True),
    Column("birth_place", Text, nullable=False),
    Column("sex", String(1), nullable=False),
    Column("fate", String(16), nullable=False),
    Column("portrait", Text, nullable=True),
    Column("fictional", Boolean, nullable=False),
    Column("queue_order", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("voiced", Boolean, nullable=False),
    Column("booked", Boolean, nullable=False),
    Column("booked_until", UTCDateTime, nullable=True),
    Column("held_until", UTCDateTime, nullable=True),
    Column("age_at_departure", SmallInteger, nullable=True, index=True),
    Index("ix_persons_birth_month_birth_day", "birth_month", "birth_day"),
    Index("ix_persons_queue_order", "queue_order"),
)

# Persons the queue may hand out, time aside (a lease or a booking holds a name until a
# moment, so those are checked row by row): claims read them in queue order.
Index(
    "ix_persons_waiting",
    persons.c.queue_order,
    sqlite_where=persons.c.active & ~persons.c.voiced,
    postgresql_where=persons.c.active & ~persons.c.voiced,
)

stations = Table(
    "stations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("station_id", String(40), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("token_issued_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("role", String(16), nullable=False, server_default="booth"),
    CheckConstraint("role IN ('booth', 'wall', 'memorial', 'booking')", name="role"),
)

heartbeats = Table(
    "heartbeats",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("station_id", ForeignKey("stations.id"), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("version", String(64), nullable=False),
    Column("queue_length", Integer, nullable=False),
    Column("free_disk_bytes", BigInteger, nullable=False),
    Column("audio_state", String(64), nullable=False),
    Column("controller_state", String(64), nullable=False),
    Column("input_overflows", BigInteger, nullable=False),
    # What the station's own program wrote last (device -> state word), whether that
    # program was running, and when it last wrote; NULL from stations before issue 14.
    Column("devices", JSON, nullable=True),
    Column("program", String(16), nullable=True),
    Column("program_seen_at", UTCDateTime, nullable=True),
    Index("ix_heartbeats_station_id_received_at", "station_id", "received_at"),
)

# What needs attention at a station, since when (from its heartbeats; one row per
# condition, gone when the condition is): the staff's "since" without reading history.
station_conditions = Table(
    "station_conditions",
    metadata,
    Column("station_id", ForeignKey("stations.id"), primary_key=True),
    Column("condition", String(64), primary_key=True),
    Column("since", UTCDateTime, nullable=False),
)

# The latest small picture of a station's screen (a PNG of a few tens of kB), for staff only.
station_screens = Table(
    "station_screens",
    metadata,
    Column("station_id", ForeignKey("stations.id"), primary_key=True),
    Column("taken_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("png", LargeBinary, nullable=False),
)

latest_heartbeats = Table(
    "latest_heartbeats",
    metadata,
    Column("station_id", ForeignKey("stations.id"), primary_key=True),
    Column("heartbeat_id", ForeignKey("heartbeats.id"), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)

leases = Table(
    "leases",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("person_id", ForeignKey("persons.id"), nullable=False),
    Column("station_id", ForeignKey("stations.id"), nullable=False),
    Column("how", String(8), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("end_reason", String(16), nullable=True),
    CheckConstraint("how IN ('next', 'match', 'booking')", name="how"),
    CheckConstraint(
        "(ended_at IS NULL AND end_reason IS NULL) OR "
        "(ended_at IS NOT NULL AND end_reason IN ('released', 'used', 'expired'))",
        name="ended",
    ),
)

Index(
    "uq_leases_open_person",
    leases.c.person_id,
    unique=True,
    sqlite_where=leases.c.ended_at.is_(None),
    postgresql_where=leases.c.ended_at.is_(None),
)
Index(
    "ix_leases_open_station",
    leases.c.station_id,
    sqlite_where=leases.c.ended_at.is_(None),
    postgresql_where=leases.c.ended_at.is_(None),
)

bookings = Table(
    "bookings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(9), nullable=False, unique=True),
    Column("person_id", ForeignKey("persons.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Only what the booth and the staff need once the name is chosen: never the
    # participant's first name, birthday or age.
    Column("language", String(2), nullable=False, server_default="nl"),
    Column("group_id", Uuid, nullable=True, index=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("end_reason", String(16), nullable=True),
    Column("made_by", Text, nullable=False, server_default=""),
    CheckConstraint(
        "(ended_at IS NULL AND end_reason IS NULL) OR "
        "(ended_at IS NOT NULL AND end_reason IN ('used', 'cancelled'))",
        name="ended",
    ),
)

recordings = Table(
    "recordings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("person_id", ForeignKey("persons.id"), nullable=False, index=True),
    Column("station_id", ForeignKey("stations.id"), nullable=False, index=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("sample_rate", Integer, nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("size_bytes", BigInteger, nullable=False),
    Column("audio_path", Text, nullable=True),
    Column("metadata", JSON, nullable=False),
    Column("consent_version", String(64), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("status_at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=True),
    Column("withdrawal_code_hash", String(64), nullable=True, index=True),
    Column("decided_by", Text, nullable=True),
    CheckConstraint("status IN ('received', 'approved', 'rejected', 'withdrawn')", name="status"),
)

# A withdrawal by code that found no recording yet (the take is still on its booth): kept
# by the code's hash alone, so the recording is withdrawn the moment it arrives
# (`kiosk.central.pending_withdrawals`). Kept for good: it names nobody.
pending_withdrawals = Table(
    "pending_withdrawals",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("asked_by", Text, nullable=False),
    Column("asked_at", UTCDateTime, nullable=False),
    Column("arrived_at", UTCDateTime, nullable=True),
)

staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime, nullable=True),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("last_login_at", UTCDateTime, nullable=True),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("account_id", ForeignKey("staff_accounts.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("language", String(2), nullable=False),
)

# Failed staff logins, counted per (username, client address) and per client address;
# the key is hashed so that what someone typed as a username is not kept as given.
login_failures = Table(
    "login_failures",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("username_hash", String(64), nullable=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
    Index("ix_login_failures_last_failure_at", "last_failure_at"),
)

__all__ = [
    "BOOKING_ENDS",
    "LEASE_ENDS",
    "LEASE_HOWS",
    "RECORDING_STATUSES",
    "STATION_ROLES",
    "VOICED_STATUSES",
    "UTCDateTime",
    "bookings",
    "collection_imports",
    "heartbeats",
    "latest_heartbeats",
    "leases",
    "login_failures",
    "metadata",
    "pending_withdrawals",
    "persons",
    "recordings",
    "staff_accounts",
    "staff_sessions",
    "station_conditions",
    "station_screens",
    "stations",
    "transports",
]
