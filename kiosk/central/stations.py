"""Stations known to the central store: their tokens and their heartbeats.

A station proves who it is with the token `kiosk central enroll` printed once. Only the
token's hash is stored, so a copy of the database lets nobody write as a station.
Enrolling a station again gives it a new token and the old one stops working at once:
that is how a technician replaces a lost or leaked token.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kiosk.central.codes import new_token, same_hash, token_hash
from kiosk.central.db import Database
from kiosk.central.schema import heartbeats, latest_heartbeats, stations
from kiosk.configbase import STATION_ID_PATTERN
from kiosk.errors import KioskError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Station:
    """A station that proved who it is: its row id and its station id."""

    id: int
    station_id: str
    role: str = "booth"
    """What its token may do (ROLES): only booths lease and upload, only "booking" books."""


ROLES = ("booth", "wall", "memorial", "booking")


@dataclass(frozen=True)
class Heartbeat:
    """What a station says about itself every minute or so, for the staff's overview."""

    version: str
    queue_length: int
    free_disk_bytes: int
    audio_state: str
    controller_state: str
    input_overflows: int


def enroll(database: Database, station_id: str, role: str = "booth") -> str:
    """A new token for STATION_ID (a new station, or a new token replacing the old one).

    The token is returned once and never stored; print it for the technician.
    """
    if not isinstance(station_id, str) or not re.match(STATION_ID_PATTERN, station_id):
        raise KioskError(
            f"station id {station_id!r} is not usable",
            "use lowercase letters, digits and dashes, at most 40, starting with a letter or digit (e.g. booth-1)",
        )
    if role not in ROLES:
        raise KioskError(f"role {role!r} is not known", f"use one of {', '.join(ROLES)}")
    token = new_token()
    hashed = token_hash(token)
    now = database.now()
    with database.write() as connection:
        existing = connection.execute(select(stations.c.id).where(stations.c.station_id == station_id)).scalar()
        if existing is None:
            connection.execute(
                insert(stations).values(
                    station_id=station_id,
                    token_hash=hashed,
                    created_at=now,
                    token_issued_at=now,
                    revoked_at=None,
                    role=role,
                )
            )
        else:
            connection.execute(
                update(stations)
                .where(stations.c.id == existing)
                .values(token_hash=hashed, token_issued_at=now, revoked_at=None, role=role)
            )
    log.info("station enrolled", extra={"station_id": station_id, "role": role, "replaced": existing is not None})
    return token


def authenticate(database: Database, token: str | None) -> Station | None:
    """The station this token belongs to, or None for no token, an unknown or a revoked one."""
    if not token:
        return None
    hashed = token_hash(token)
    with database.read() as connection:
        row = connection.execute(
            select(stations.c.id, stations.c.station_id, stations.c.token_hash, stations.c.role).where(
                stations.c.token_hash == hashed, stations.c.revoked_at.is_(None)
            )
        ).first()
    if row is None or not same_hash(row.token_hash, hashed):
        return None
    return Station(row.id, row.station_id, row.role)


def record_heartbeat(database: Database, station: Station, beat: Heartbeat) -> datetime:
    """Keep a heartbeat in the station's history and as its latest; returns when it arrived."""
    now = database.now()
    with database.write() as connection:
        beat_id = connection.execute(
            insert(heartbeats).values(station_id=station.id, received_at=now, **asdict(beat)).returning(heartbeats.c.id)
        ).scalar_one()
        _upsert_latest(connection, {"station_id": station.id, "heartbeat_id": beat_id, "received_at": now})
    return now


def _upsert_latest(connection: Connection, values: dict[str, Any]) -> None:
    dialect = connection.dialect.name
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(latest_heartbeats).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=[latest_heartbeats.c.station_id],
        set_={"heartbeat_id": statement.excluded.heartbeat_id, "received_at": statement.excluded.received_at},
    )
    connection.execute(statement)


def latest_heartbeats_by_station(database: Database) -> dict[str, dict[str, Any]]:
    """station_id -> its latest heartbeat and when it arrived; for `kiosk doctor` and staff pages."""
    fields = tuple(Heartbeat.__dataclass_fields__)
    query = (
        select(stations.c.station_id.label("station"), heartbeats.c.received_at, *(heartbeats.c[f] for f in fields))
        .join(latest_heartbeats, latest_heartbeats.c.station_id == stations.c.id)
        .join(heartbeats, heartbeats.c.id == latest_heartbeats.c.heartbeat_id)
        .order_by(stations.c.station_id)
    )
    with database.read() as connection:
        rows = connection.execute(query).mappings().all()
    return {
        row["station"]: {"received_at": row["received_at"].isoformat(), **{f: row[f] for f in fields}} for row in rows
    }


def known_stations(database: Database) -> list[tuple[str, datetime | None]]:
    """(station id, when its token was revoked or None) of every enrolled station, by id."""
    with database.read() as connection:
        rows = connection.execute(
            select(stations.c.station_id, stations.c.revoked_at).order_by(stations.c.station_id)
        ).all()
    return [(row.station_id, row.revoked_at) for row in rows]
