"""Stations known to the central store: their tokens and their heartbeats.

A station proves who it is with the token `kiosk central enroll` printed once. Only the
token's hash is stored, so a copy of the database lets nobody write as a station.
Enrolling a station again gives it a new token and the old one stops working at once:
that is how a technician replaces a lost or leaked token; `revoke` ends a token without
a new one.

Each token has a role, and the role decides what it may do (`ROLE_RIGHTS`): only a booth
leases names and uploads recordings; walls and memorials read the approved voices and
send heartbeats; a booking token only books. A station enrolled before roles existed
is a booth (the migration says so), so its token keeps the rights it had until it is
enrolled again with its real role. Heartbeats are kept `HEARTBEAT_DAYS` days.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kiosk.central.codes import new_token, same_hash, token_hash
from kiosk.central.db import Database
from kiosk.central.schema import STATION_ROLES, heartbeats, latest_heartbeats, leases, persons, station_screens, stations
from kiosk.configbase import STATION_ID_PATTERN
from kiosk.errors import KioskError

log = logging.getLogger(__name__)

Role = Literal["booth", "wall", "memorial", "booking"]
Right = Literal["lease", "upload", "voices", "heartbeat", "book"]
ROLE_RIGHTS: dict[str, frozenset[str]] = {
    # A booth reads voices too: walls enrolled before roles existed are booths until
    # they are enrolled again, and must keep playing.
    "booth": frozenset({"lease", "upload", "voices", "heartbeat"}),
    "wall": frozenset({"voices", "heartbeat"}),
    "memorial": frozenset({"voices", "heartbeat"}),
    "booking": frozenset({"book"}),
}
HEARTBEAT_DAYS = 30


@dataclass(frozen=True)
class Station:
    """A station that proved who it is: its row id, its station id and its role.

    `token_hash` is the hash of the token it proved itself with, for the operations that
    check, inside their own transaction, that this token is still the station's
    (`kiosk.central.tokens`); empty when the caller made the Station itself.
    """

    id: int
    station_id: str
    role: str = "booth"
    token_hash: str = field(default="", repr=False, compare=False)

    def may(self, right: str) -> bool:
        return right in ROLE_RIGHTS.get(self.role, frozenset())


@dataclass(frozen=True)
class Heartbeat:
    """What a station says about itself every minute or so, for the staff's overview.

    `devices` are the devices the station's own program has, each with its state word
    (a booth: microphone, controller; a wall: speaker; a memorial: output), as that
    program last wrote them; `program` is "running" or "stopped" (its state file is
    stale) and `program_seen_at` when it last wrote. Stations from before issue 14 send
    only `audio_state` and `controller_state`.
    """

    version: str
    queue_length: int
    free_disk_bytes: int
    audio_state: str
    controller_state: str
    input_overflows: int
    devices: dict[str, str] | None = None
    program: str | None = None
    program_seen_at: datetime | None = None


def check_station_id(station_id: str) -> str:
    if not isinstance(station_id, str) or not re.match(STATION_ID_PATTERN, station_id):
        raise KioskError(
            f"station id {station_id!r} is not usable",
            "use lowercase letters, digits and dashes, at most 40, starting with a letter or digit (e.g. booth-1)",
        )
    return station_id


def enroll(database: Database, station_id: str, role: str = "booth") -> str:
    """A new token for STATION_ID with ROLE (a new station, or a new token replacing the old one).

    The token is returned once and never stored; print it for the technician.
    """
    check_station_id(station_id)
    if role not in STATION_ROLES:
        raise KioskError(f"role {role!r} is not one of {', '.join(STATION_ROLES)}", "give one of those with --role")
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
    if existing is not None:
        # The old token, known to this process, ends now (other processes: kiosk.central.tokens).
        database.tokens.forget(station_row=existing)
    log.info("station enrolled", extra={"station_id": station_id, "role": role, "replaced": existing is not None})
    return token


def revoke(database: Database, station_id: str) -> int:
    """End STATION_ID's token now; the names it held go back to the queue. Returns how many.

    Its recordings and heartbeats stay. `enroll` gives it a new token later.
    """
    check_station_id(station_id)
    with database.write() as connection:
        station = connection.execute(
            select(stations.c.id).where(stations.c.station_id == station_id).with_for_update()
        ).scalar()
        if station is None:
            raise KioskError(
                f"there is no station {station_id!r} in this store",
                "check the station id (`kiosk central stations` lists them)",
            )
        now = database.now()
        connection.execute(update(stations).where(stations.c.id == station).values(revoked_at=now))
        held = list(
            connection.execute(
                select(leases.c.id, leases.c.person_id).where(
                    leases.c.station_id == station, leases.c.ended_at.is_(None)
                )
            )
        )
        for lease in held:
            # The person's row first, as every lease change does (`kiosk.central.leases`).
            connection.execute(select(persons.c.id).where(persons.c.id == lease.person_id).with_for_update()).scalar()
            connection.execute(
                update(leases).where(leases.c.id == lease.id).values(ended_at=now, end_reason="released")
            )
            connection.execute(update(persons).where(persons.c.id == lease.person_id).values(held_until=None))
    # Refused from this process's next request on (other processes: kiosk.central.tokens).
    database.tokens.forget(station_row=station)
    log.info("station token revoked", extra={"station_id": station_id, "leases_released": len(held)})
    return len(held)


def authenticate(database: Database, token: str | None) -> Station | None:
    """The station this token belongs to, or None for no token, an unknown or a revoked one.

    Reads the database; the station found is kept in `database.tokens`, and an ended
    token is forgotten there.
    """
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
        database.tokens.forget(token_hash=hashed)
        return None
    station = Station(row.id, row.station_id, row.role, token_hash=hashed)
    database.tokens.keep(hashed, station)
    return station


def record_heartbeat(
    database: Database, station: Station, beat: Heartbeat, *, screen: tuple[datetime, bytes] | None = None
) -> datetime:
    """Keep a heartbeat in the station's history and as its latest, note what needs
    attention since when, and keep the station's latest screen picture if one came.
    Returns when it arrived."""
    from kiosk.central.station_health import conditions_of, update_conditions

    now = database.now()
    with database.write() as connection:
        beat_id = connection.execute(
            insert(heartbeats).values(station_id=station.id, received_at=now, **asdict(beat)).returning(heartbeats.c.id)
        ).scalar_one()
        _upsert_latest(connection, {"station_id": station.id, "heartbeat_id": beat_id, "received_at": now})
        update_conditions(connection, station.id, conditions_of(beat), now)
        if screen is not None:
            _keep_screen(connection, station.id, screen, now)
    return now


def _keep_screen(connection: Connection, station_id: int, screen: tuple[datetime, bytes], now: datetime) -> None:
    taken_at, png = screen
    connection.execute(delete(station_screens).where(station_screens.c.station_id == station_id))
    connection.execute(insert(station_screens).values(station_id=station_id, taken_at=taken_at, received_at=now, png=png))


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


def prune_heartbeats(database: Database, *, keep_days: int = HEARTBEAT_DAYS) -> int:
    """Delete heartbeats older than `keep_days`, except each station's latest; how many went."""
    cutoff = database.now() - timedelta(days=keep_days)
    with database.write() as connection:
        removed = connection.execute(
            delete(heartbeats).where(
                heartbeats.c.received_at < cutoff,
                heartbeats.c.id.not_in(select(latest_heartbeats.c.heartbeat_id)),
            )
        ).rowcount
    if removed:
        log.info("old heartbeats pruned", extra={"count": removed, "days": keep_days})
    return removed
