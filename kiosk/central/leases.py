"""Names for the booths: leases, so that no two booths ever hold the same name.

A booth asks for a name in one of three ways, as a participant registers:
- "next": the next names that still wait for a voice, in transport order (the order the
  memorial reads them in); a booth keeps a few in hand so a participant never waits;
- "match": a name shared with the participant: the same first name (folded as the wall's
  search folds it), the same birthday (month and day), the same age (the person's when
  their transport left), best the most of them (`kiosk.central.matching`);
- "booking": the person reserved for a visitor's booking code (`kiosk.central.bookings`).
  A name a live booking reserves is never given by "next" or "match".

Each name handed out is a lease: the booth holds it until it uploads the recording
(the lease is then used), gives it back, or lets it expire. An expired lease returns
the name to the queue without any cleaning job: a claim treats an expired name as
free and ends the old lease when it takes the name over.

The promise: at most one live lease per person, whatever the number of booths. What a
claim decides on lives on the person's row (`voiced`, `booked_until`, `held_until`), and a
claim holds that row while it decides: on SQLite the whole claim runs under the write
lock (BEGIN IMMEDIATE); on PostgreSQL it locks the rows it hands out with
`SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent claims pass each other by instead of
waiting, and a row another claim has just taken is re-checked (and dropped) when its
lock is won. A partial unique index allows one lease per person that is not ended, as
a last guard. Lease rows are changed only while their person's row is locked.

A booth asks for a name and gives one back many times an hour, sixteen booths at once:
those two are one short write transaction each, written as SQL text the database driver
prepares once (`_SQL`, run through `Database.driver_write`), with the station's token
checked inside it (`kiosk.central.tokens`). Their log lines ("names leased", "name given
back") are DEBUG: the leases table keeps the same record (which booth, which name, how,
from when to when, why it ended), and two JSON lines per name cost the store as much
CPU as the transactions.

Leases bind uploads (`upload_allowed`): a booth uploads a name while it holds the name's
lease, or while no other booth holds it and the name has no approved voice. A booth
that was offline past its lease's end therefore still uploads when nobody took the
name meanwhile, and is refused ("name_taken_elsewhere") when another booth did.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, func, insert, or_, select, update

from kiosk.central.bookings import create_booking, live_booking_person
from kiosk.central.codes import same_hash
from kiosk.central.db import Database, DriverSQL, driver_cursor
from kiosk.central.errors import Conflict, Forbidden, Gone, NotFound
from kiosk.central.matching import Wish, best_match
from kiosk.central.schema import leases, persons, stations, transports
from kiosk.central.stations import Station
from kiosk.central.tokens import TokenEnded

log = logging.getLogger(__name__)

__all__ = ["Lease", "NameRules", "claim", "create_booking", "held_by", "release", "renew"]

How = Literal["next", "match", "booking"]


@dataclass(frozen=True)
class NameRules:
    """How long a lease lasts and how many names one booth may hold ([names] in central.toml)."""

    lease_s: int = 3600
    hand_size: int = 5


@dataclass(frozen=True)
class Lease:
    """A name held by one booth until `expires_at`, with what the booth shows of the person."""

    lease_id: uuid.UUID
    person_id: str
    expires_at: datetime
    how: str
    surname: str
    given_names: str
    transport: str
    list_number: int
    birth_date: str | None
    birth_place: str
    fictional: bool
    sex: str = ""  # f, m or empty: the booth's lines agree with the person

    def to_json(self) -> dict[str, Any]:
        return {
            "lease_id": str(self.lease_id),
            "person_id": self.person_id,
            "expires_at": self.expires_at.isoformat(),
            "how": self.how,
            "surname": self.surname,
            "given_names": self.given_names,
            "transport": self.transport,
            "list_number": self.list_number,
            "birth_date": self.birth_date,
            "birth_place": self.birth_place,
            "fictional": self.fictional,
            "sex": self.sex,
        }


def claim(
    database: Database,
    station: Station,
    rules: NameRules,
    *,
    how: How,
    count: int = 1,
    first_name: str | None = None,
    birthday: tuple[int, int] | None = None,
    age: int | None = None,
    code: str | None = None,
) -> list[Lease]:
    """Lease names to `station` (see the module docstring); an empty list when none fits.

    "next" gives up to `count` names, fewer when the booth's hand is nearly full or the
    queue nearly empty; "match" and "booking" give one. A booth whose hand is full gets
    `Conflict`: it must give names back (or let them expire) first.
    """
    if how == "next":
        taken = _claim_next(database, station, rules, count)
        if taken:
            log.debug("names leased", extra={"station_id": station.station_id, "how": how, "count": len(taken)})
        return taken
    with database.write() as connection:
        # Claims of one booth take turns, so two at once cannot both fill its last place.
        check_token(database, station, _station_row(connection, station, lock=True))
        # The time is read once the locks are held, so leases follow each other in time
        # in the order they were really handed out.
        now = database.now()
        expires = now + timedelta(seconds=rules.lease_s)
        if how == "booking":
            held = _booked_lease_held_by(connection, station, code, now)
            if held is not None:
                return _leases(connection, [held])
        room = rules.hand_size - _live_count(connection, station, now)
        if room <= 0:
            raise _hand_full(rules)
        if how == "match":
            found = best_match(connection, now, Wish(first_name, birthday, age))
            chosen = [found[0]] if found else []
        elif how == "booking":
            chosen = _booked_person(connection, now, code)
        else:
            raise ValueError(f"unknown way to choose a name: {how!r}")
        lease_ids = _take(connection, station, chosen, how, now, expires)
        taken = _leases(connection, lease_ids)
    if taken:
        log.debug("names leased", extra={"station_id": station.station_id, "how": how, "count": len(taken)})
    return taken


_CHOSEN = """p.id, p.person_id, p.surname, p.given_names, p.list_number, p.birth_date, p.birth_place,
    p.fictional, p.sex, t.code"""
# An upload's lease check (`upload_allowed`): the open leases on the person, whether the
# name has an approved voice, and ending leases of other booths that expired (a claim on
# SQLite ends a person's expired lease with the same statement).
_UPLOAD_ALLOWED = {
    "open_leases": "SELECT station_id = :station, expires_at > :now FROM leases "
    "WHERE person_id = :person AND ended_at IS NULL",
    "approved": "SELECT 1 FROM recordings WHERE person_id = :person AND status = 'approved' LIMIT 1",
    "end_expired": "UPDATE leases SET ended_at = :now, end_reason = 'expired' WHERE person_id = :person AND ended_at IS NULL",
}
_SQL = {
    "sqlite": DriverSQL(
        "sqlite",
        {
            # The whole claim holds SQLite's write lock: the booth's row and its live leases at once.
            "station": "SELECT token_hash, revoked_at, (SELECT count(*) FROM leases "
            "WHERE station_id = :station AND ended_at IS NULL AND expires_at > :now) FROM stations WHERE id = :station",
            # The same terms as the partial index ix_persons_waiting, so SQLite reads it in queue order.
            "next_waiting": f"SELECT {_CHOSEN}, p.held_until "
            "FROM persons AS p JOIN transports AS t ON t.id = p.transport_id "
            "WHERE p.active = 1 AND p.voiced = 0 AND (p.held_until IS NULL OR p.held_until <= :now) "
            "AND (p.booked = 0 OR p.booked_until <= :now) ORDER BY p.queue_order LIMIT :count",
            "hold": "UPDATE persons SET held_until = :expires WHERE id = :person",
            "add": "INSERT INTO leases (id, person_id, station_id, how, created_at, expires_at) "
            "VALUES (:id, :person, :station, :how, :now, :expires)",
            # The usual give-back in one statement: the booth's own open lease, its token
            # still the station's. Anything else (a refusal, a lease ended already) goes
            # through `own_lease` to say which.
            "give_back_own": "UPDATE leases SET ended_at = :now, end_reason = 'released' "
            "WHERE id = :lease AND station_id = :station AND ended_at IS NULL AND EXISTS ("
            "SELECT 1 FROM stations WHERE id = :station AND revoked_at IS NULL "
            "AND (:token_hash = '' OR token_hash = :token_hash)) RETURNING person_id",
            "own_lease": "SELECT s.token_hash, s.revoked_at, l.person_id, l.station_id, l.ended_at "
            "FROM stations AS s LEFT JOIN leases AS l ON l.id = :lease WHERE s.id = :station",
            "free": "UPDATE persons SET held_until = NULL WHERE id = :person",
            **_UPLOAD_ALLOWED,
        },
    ),
    "postgresql": DriverSQL(
        "postgresql",
        {
            # Claims of one booth take turns on its row, so two at once cannot both fill its last place.
            "station": "SELECT token_hash, revoked_at FROM stations WHERE id = :station FOR UPDATE",
            # Counted in the statement that chooses, which starts after the booth's row is
            # locked, so it sees the booth's previous claim; rows chosen beyond the room left
            # are unlocked at commit, never leased.
            "next_waiting": f"""WITH live AS (
                SELECT count(*) AS n FROM leases
                WHERE station_id = :station AND ended_at IS NULL AND expires_at > :now
            )
            SELECT live.n, c.* FROM live LEFT JOIN (
                SELECT {_CHOSEN}, p.queue_order FROM persons AS p JOIN transports AS t ON t.id = p.transport_id
                WHERE p.active AND NOT p.voiced AND (p.held_until IS NULL OR p.held_until <= :now)
                AND (NOT p.booked OR p.booked_until <= :now)
                ORDER BY p.queue_order LIMIT :count FOR UPDATE OF p SKIP LOCKED
            ) AS c ON true ORDER BY c.queue_order""",
            # Ending a lease and holding the person touch two tables: one statement.
            "hold": """WITH ended AS (
                UPDATE leases SET ended_at = :now, end_reason = 'expired'
                WHERE person_id = :person AND ended_at IS NULL
            ) UPDATE persons SET held_until = :expires WHERE id = :person""",
            "add": "INSERT INTO leases (id, person_id, station_id, how, created_at, expires_at) "
            "VALUES (:id, :person, :station, :how, :now, :expires)",
            "own_lease": "SELECT s.token_hash, s.revoked_at, l.person_id, l.station_id, l.ended_at "
            "FROM stations AS s LEFT JOIN leases AS l ON l.id = :lease WHERE s.id = :station",
            "lock_person": "SELECT id FROM persons WHERE id = :person FOR UPDATE",
            "give_back": """WITH ended AS (
                UPDATE leases SET ended_at = :now, end_reason = 'released'
                WHERE id = :lease AND ended_at IS NULL RETURNING person_id
            ) UPDATE persons SET held_until = NULL WHERE id IN (SELECT person_id FROM ended)""",
            **_UPLOAD_ALLOWED,
        },
    ),
}


def check_token(database: Database, station: Station, row: Any) -> None:
    """TokenEnded unless the station's row (token_hash, revoked_at, ...), read in this
    transaction, still holds the token the station proved itself with (see
    `kiosk.central.tokens`); for a route that took the station from the process's map of
    known tokens, or that holds the station's row locked.

    A Station made without its token's hash (a caller in this process that holds it
    already) is checked for revocation only.
    """
    token_hash, revoked_at = (row[0], row[1]) if row is not None else (None, None)
    if row is None or revoked_at is not None or (station.token_hash and not same_hash(token_hash, station.token_hash)):
        if station.token_hash:
            database.tokens.forget(token_hash=station.token_hash)
        raise TokenEnded()


def _claim_next(database: Database, station: Station, rules: NameRules, count: int) -> list[Lease]:
    """"next", as one transaction of prepared statements (the module docstring)."""
    sql = _SQL[database.dialect]
    postgresql = sql.dialect == "postgresql"
    with database.driver_write() as cursor:
        # On SQLite the write lock is held already: the time is read under it. On
        # PostgreSQL the booth's row is locked by the first statement and the names by
        # the second, sent together (psycopg's pipeline): the time is read before both,
        # which can only make a lease end a little earlier and a name look held a
        # little longer, never the other way round.
        now = database.now()
        at = {"station": station.id, "now": sql.moment(now), "count": min(count, rules.hand_size)}
        cursor.execute(sql.station, at)
        if postgresql:
            choosing = cursor.connection.cursor()
            choosing.execute(sql.next_waiting, at)
        row = cursor.fetchone()
        check_token(database, station, row)
        if postgresql:
            rows = choosing.fetchall()
            room = rules.hand_size - rows[0][0]
            chosen = [row[1:] for row in rows if row[1] is not None]
        else:
            room = rules.hand_size - row[2]
            chosen = []
            if room > 0:
                cursor.execute(sql.next_waiting, at | {"count": min(count, room)})
                chosen = cursor.fetchall()
        if room <= 0:
            raise _hand_full(rules)
        expires = now + timedelta(seconds=rules.lease_s)
        taken = []
        values = at | {"how": "next", "expires": sql.moment(expires)}
        for person, person_id, surname, given, number, born, place, fictional, sex, transport, held in chosen[:room]:
            lease_id = uuid.uuid4()
            one = values | {"person": person, "id": sql.key(lease_id)}
            if not postgresql and held is not None:
                # Only a person held once has a lease to end (held_until is set with every lease).
                cursor.execute(sql.end_expired, one)
            cursor.execute(sql.hold, one)
            cursor.execute(sql.add, one)
            taken.append(
                Lease(
                    lease_id, person_id, expires, "next", surname, given, transport, number, born, place,
                    bool(fictional), sex or "",
                )
            )
        return taken


def _hand_full(rules: NameRules) -> Conflict:
    return Conflict(
        f"this booth already holds {rules.hand_size} names, as many as [names] hand_size allows: "
        "give names back (DELETE /api/v1/leases/ID) or let them expire"
    )


def _live_count(connection: Connection, station: Station, now: datetime) -> int:
    return connection.execute(
        select(func.count())
        .select_from(leases)
        .where(leases.c.station_id == station.id, leases.c.ended_at.is_(None), leases.c.expires_at > now)
    ).scalar_one()


def _booking_person(connection: Connection, code: str | None, now: datetime) -> int | None:
    return live_booking_person(connection, code, now)


def _booked_lease_held_by(
    connection: Connection, station: Station, code: str | None, now: datetime
) -> uuid.UUID | None:
    """The live lease this booth already holds on the booked person (a retried request)."""
    person = _booking_person(connection, code, now)
    if person is None:
        return None
    connection.execute(select(persons.c.id).where(persons.c.id == person).with_for_update()).scalar()
    return connection.execute(
        select(leases.c.id).where(
            leases.c.person_id == person,
            leases.c.station_id == station.id,
            leases.c.ended_at.is_(None),
            leases.c.expires_at > now,
        )
    ).scalar()


def _booked_person(connection: Connection, now: datetime, code: str | None) -> list[int]:
    person = _booking_person(connection, code, now)
    if person is None:
        return []
    # Wait for this one row rather than skip it: the booking names exactly this person.
    row = connection.execute(
        select(persons.c.id)
        .where(
            persons.c.id == person,
            persons.c.active,
            ~persons.c.voiced,
            or_(persons.c.held_until.is_(None), persons.c.held_until <= now),
        )
        .with_for_update()
    ).scalar()
    return [row] if row is not None else []


def _take(
    connection: Connection, station: Station, person_ids: list[int], how: str, now: datetime, expires: datetime
) -> list[uuid.UUID]:
    """Lease the locked, free persons to the station: end their expired leases, add new ones."""
    if not person_ids:
        return []
    connection.execute(
        update(leases)
        .where(leases.c.person_id.in_(person_ids), leases.c.ended_at.is_(None))
        .values(ended_at=now, end_reason="expired")
    )
    lease_ids = [uuid.uuid4() for _ in person_ids]
    rows = [
        {
            "id": lease_id,
            "person_id": person,
            "station_id": station.id,
            "how": how,
            "created_at": now,
            "expires_at": expires,
        }
        for lease_id, person in zip(lease_ids, person_ids, strict=True)
    ]
    connection.execute(insert(leases), rows)
    connection.execute(update(persons).where(persons.c.id.in_(person_ids)).values(held_until=expires))
    return lease_ids


def _leases(connection: Connection, lease_ids: list[uuid.UUID]) -> list[Lease]:
    """The leases with what the booth shows of each person, in queue order."""
    if not lease_ids:
        return []
    query = (
        select(
            leases.c.id,
            leases.c.expires_at,
            leases.c.how,
            persons.c.person_id,
            persons.c.surname,
            persons.c.given_names,
            persons.c.list_number,
            persons.c.birth_date,
            persons.c.birth_place,
            persons.c.fictional,
            persons.c.sex,
            transports.c.code,
        )
        .join(persons, persons.c.id == leases.c.person_id)
        .join(transports, transports.c.id == persons.c.transport_id)
        .where(leases.c.id.in_(lease_ids))
        .order_by(persons.c.queue_order)
    )
    return [
        Lease(
            lease_id=row.id,
            person_id=row.person_id,
            expires_at=row.expires_at,
            how=row.how,
            surname=row.surname,
            given_names=row.given_names,
            transport=row.code,
            list_number=row.list_number,
            birth_date=row.birth_date,
            birth_place=row.birth_place,
            fictional=row.fictional,
            sex=row.sex or "",
        )
        for row in connection.execute(query)
    ]


def held_by(database: Database, station: Station) -> list[Lease]:
    """The station's live leases: what a booth that restarted still holds."""
    now = database.now()
    with database.read() as connection:
        check_token(database, station, _station_row(connection, station))
        ids = list(
            connection.execute(
                select(leases.c.id).where(
                    leases.c.station_id == station.id, leases.c.ended_at.is_(None), leases.c.expires_at > now
                )
            ).scalars()
        )
        return _leases(connection, ids)


def _station_row(connection: Connection, station: Station, *, lock: bool = False) -> Any:
    """The station's (token_hash, revoked_at), its row locked if `lock` (PostgreSQL)."""
    query = select(stations.c.token_hash, stations.c.revoked_at).where(stations.c.id == station.id)
    return connection.execute(query.with_for_update() if lock else query).first()


def _own_lease(connection: Connection, station: Station, lease_id: uuid.UUID) -> Any:
    """The lease row, its person's row locked; NotFound or Forbidden when it is not the station's."""
    row = connection.execute(select(leases.c.person_id, leases.c.station_id).where(leases.c.id == lease_id)).first()
    if row is None:
        raise NotFound("no such lease")
    if row.station_id != station.id:
        raise Forbidden("this lease belongs to another station")
    connection.execute(select(persons.c.id).where(persons.c.id == row.person_id).with_for_update()).scalar()
    return connection.execute(select(leases).where(leases.c.id == lease_id)).one()


def release(database: Database, station: Station, lease_id: uuid.UUID) -> None:
    """Give a name back to the queue. Releasing an ended lease again changes nothing.

    One transaction of prepared statements (the module docstring), committed without
    waiting for the disk: a power cut may undo it, and the name then stays held until
    its lease ends (never held twice), while the next claim need not wait for a second
    disk write per name.
    """
    with database.driver_write(durable=False) as cursor:
        given_back = _give_back(database, cursor, station, lease_id)
    if given_back:
        log.debug("name given back", extra={"station_id": station.station_id, "lease_id": str(lease_id)})


def _give_back(database: Database, cursor: Any, station: Station, lease_id: uuid.UUID) -> bool:
    """End the station's lease `lease_id` if it is open; whether it was. Refusals as `release` says."""
    sql = _SQL[database.dialect]
    given = {
        "lease": sql.key(lease_id),
        "station": station.id,
        "token_hash": station.token_hash,
        "now": sql.moment(database.now()),
    }
    if sql.dialect == "sqlite":
        cursor.execute(sql.give_back_own, given)
        row = cursor.fetchone()
        if row is not None:
            cursor.execute(sql.free, {"person": row[0]})
            return True
    cursor.execute(sql.own_lease, given)
    row = cursor.fetchone()
    check_token(database, station, row)
    _, _, person, owner, ended_at = row
    if person is None:
        raise NotFound("no such lease")
    if owner != station.id:
        raise Forbidden("this lease belongs to another station")
    if ended_at is not None or sql.dialect == "sqlite":
        return False  # on SQLite, `give_back_own` found the lease ended already
    # The person's row first, as every lease change does (the module docstring); both
    # statements go with the commit (psycopg's pipeline).
    cursor.execute(sql.lock_person, {"person": person})
    cursor.execute(sql.give_back, given)
    return True


def renew(database: Database, station: Station, rules: NameRules, lease_id: uuid.UUID) -> Lease:
    """Hold the name another `lease_s` from now.

    A lease that expired is renewed too as long as no other booth has taken the name
    since (it is then still the person's one open lease); otherwise `Gone`.
    """
    with database.write() as connection:
        check_token(database, station, _station_row(connection, station))
        lease = _own_lease(connection, station, lease_id)
        if lease.ended_at is not None:
            raise Gone(f"this lease has ended ({lease.end_reason}); ask for a name again")
        expires = database.now() + timedelta(seconds=rules.lease_s)
        connection.execute(update(leases).where(leases.c.id == lease_id).values(expires_at=expires))
        connection.execute(update(persons).where(persons.c.id == lease.person_id).values(held_until=expires))
        return _leases(connection, [lease_id])[0]


def upload_allowed(connection: Connection, station: Station, person: int, now: datetime, *, second_take: bool = False) -> None:
    """Conflict unless `station` may upload a recording of `person` now (see the module docstring).

    A `second_take` (forced at the booth for a name that has a voice) is let through an
    approved voice, for staff to choose between the takes, but never through another
    booth's lease. Call it with the person's row locked, in the transaction that keeps
    the recording.
    An open lease of another booth that has expired is ended here (the name was free):
    that booth can then no longer renew it.
    """
    # As SQL text (`kiosk.central.db.DriverSQL`): every upload asks.
    sql = _SQL[connection.dialect.name]
    at = {"person": person, "station": station.id, "now": sql.moment(now)}
    with driver_cursor(connection) as cursor:
        cursor.execute(sql.open_leases, at)
        open_leases = cursor.fetchall()  # (this booth's, still live) for each open lease
        if any(own for own, _ in open_leases):
            return
        if any(live for _, live in open_leases):
            raise Conflict(
                "another booth holds this name now; nothing was kept: the take stays on this booth, marked "
                "\"failed: name taken elsewhere\", for staff to see",
                code="name_taken_elsewhere",
            )
        cursor.execute(sql.approved, at)
        if cursor.fetchone() is not None and not second_take:
            raise Conflict(
                "this name already has an approved voice and this booth held no lease on it; nothing was kept",
                code="name_has_voice",
            )
        if open_leases:
            cursor.execute(sql.end_expired, at)
