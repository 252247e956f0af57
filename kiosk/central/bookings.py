"""Bookings: participants register before they come, and a name waits for each of them.

A participant (or a school group of up to six with a member of staff) registers at the
museum's online booking system, at the desk or by `kiosk central booking add`. Each
participant may share a first name, a birthday (MM-DD) or their age; the store then
reserves the waiting name that shares the most (`kiosk.central.matching`), or the next
waiting name when none does, and says which (`matched_on`). The participant brings the
code to a booth, which asks the store for the booked name (`kiosk.central.leases`).

A booking reserves its name until a recording of it arrives (used), staff or the
booking system cancel it, or it expires ([bookings] expire_days, 30 by default). The
reservation is the moment `persons.booked_until`: a passed moment frees the name by
itself, so nothing needs to run for an expired booking to give its name back.

Only what the booth and the staff need is kept: the code, the person, the language, the
group and the expiry. The participant's first name, birthday and age are used for the
match and then dropped; they are never written anywhere, not even to the log.

The codes read like the booth's withdrawal codes (ABCD-2345) and are stored as given,
like before: a code reserves a name, it gives no right over anyone's recording, and the
staff and the booking system must be able to print a group's sheet again. Guessing one
at a booth is slowed down by `WrongCodes`.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, insert, select, update

from kiosk.central.codes import new_code
from kiosk.central.db import Database, DriverSQL, driver_cursor
from kiosk.central.errors import Conflict, Gone, NotFound, Refusal, Unprocessable
from kiosk.central.matching import MatchedOn, Wish, age_problem, best_match, next_waiting, parse_birthday
from kiosk.central.schema import bookings, persons, transports
from kiosk.contract import MAX_GROUP, normalise_code

log = logging.getLogger(__name__)

LANGUAGES = ("nl", "fr", "en")
State = Literal["active", "used", "cancelled", "expired"]


@dataclass(frozen=True)
class BookingRules:
    """How long a booking holds its name ([bookings] in central.toml)."""

    expire_days: int = 30


@dataclass(frozen=True)
class Booking:
    """A booking as the staff, the command line and the booking system see it."""

    code: str
    person_id: str
    name: str
    transport: str
    list_number: int
    language: str
    group_id: uuid.UUID | None
    created_at: datetime
    expires_at: datetime
    state: State
    matched_on: MatchedOn | None = None
    """Only when just made: what the participant shared with the person (never kept)."""
    made_by: str = ""

    def to_json(self) -> dict[str, Any]:
        """The contract's shape (CONTRACT.md, `booking add --json`), with what the list adds."""
        shown: dict[str, Any] = {
            "code": self.code,
            "person_id": self.person_id,
            "name": self.name,
        }
        if self.matched_on is not None:
            shown["matched_on"] = self.matched_on
        shown |= {
            "expires_at": self.expires_at.isoformat(),
            "language": self.language,
            "group": str(self.group_id) if self.group_id else None,
            "state": self.state,
        }
        return shown


def participant(
    first_name: str | None = None, birthday: str | None = None, age: int | str | None = None
) -> Wish:
    """A participant's wish from what they typed; `Unprocessable` says what is wrong."""
    name = " ".join((first_name or "").split())[:100] or None
    day = None
    if birthday not in (None, ""):
        try:
            day = parse_birthday(str(birthday).strip())
        except ValueError as error:
            raise Unprocessable(str(error)) from None
    years = None
    if age not in (None, ""):
        try:
            years = int(str(age).strip()) if not isinstance(age, int) else age
        except ValueError:
            years = age  # reported below as it was typed
        problem = age_problem(years)
        if problem:
            raise Unprocessable(problem)
    return Wish(first_name=name, birthday=day, age=years)


def book(
    database: Database,
    rules: BookingRules,
    wishes: Sequence[Wish],
    *,
    language: str = "nl",
    made_by: str = "",
) -> list[Booking]:
    """Reserve one name per participant, all of them or none; one group when more than one.

    `Unprocessable` for no participant, more than `MAX_GROUP` or an unknown language;
    `Conflict` when fewer names wait than participants (nothing is kept then).
    """
    if not wishes:
        raise Unprocessable("a booking needs at least one participant")
    if len(wishes) > MAX_GROUP:
        raise Unprocessable(f"a group has at most {MAX_GROUP} participants; book a larger class as several groups")
    if language not in LANGUAGES:
        raise Unprocessable(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    group = uuid.uuid4() if len(wishes) > 1 else None
    with database.write() as connection:
        now = database.now()
        expires = now + timedelta(days=rules.expire_days)
        chosen: list[tuple[int, MatchedOn]] = []
        for wish in wishes:
            taken = tuple(person for person, _ in chosen)
            found = best_match(connection, now, wish, skip=taken) if not wish.empty else None
            if found is None:
                waiting = next_waiting(connection, now, 1, skip=taken)
                if not waiting:
                    raise Conflict(
                        "no name waits for a voice now (every name has one, or is held or booked): "
                        "nothing was booked; try again later or cancel unused bookings"
                    )
                found = (waiting[0], "next")
            chosen.append(found)
        codes = _new_codes(connection, len(chosen))
        connection.execute(
            insert(bookings),
            [
                {
                    "code": code,
                    "person_id": person,
                    "created_at": now,
                    "language": language,
                    "group_id": group,
                    "expires_at": expires,
                    "ended_at": None,
                    "end_reason": None,
                    "made_by": made_by[:200],
                }
                for code, (person, _) in zip(codes, chosen, strict=True)
            ],
        )
        for person, _ in chosen:
            connection.execute(
                update(persons).where(persons.c.id == person).values(booked=True, booked_until=expires)
            )
        made = {booking.code: booking for booking in _bookings(connection, now, bookings.c.code.in_(codes))}
    log.info("booking made", extra={"participants": len(chosen), "made_by": made_by})
    return [
        _with_match(made[code], matched_on) for code, (_, matched_on) in zip(codes, chosen, strict=True)
    ]


def create_booking(database: Database, person_id: str, *, rules: BookingRules = BookingRules()) -> str:
    """Reserve this person for a visitor and return the code (tests and tools pick a person)."""
    with database.write() as connection:
        now = database.now()
        row = connection.execute(
            select(persons.c.id, persons.c.active, persons.c.voiced, persons.c.booked, persons.c.booked_until)
            .where(persons.c.person_id == person_id)
            .with_for_update()
        ).first()
        if row is None or not row.active:
            raise NotFound(f"no person {person_id!r} in the collection")
        if row.voiced:
            raise Conflict(f"person {person_id!r} already has a voice: book a name that still waits for one")
        if row.booked and row.booked_until is not None and row.booked_until > now:
            raise Conflict(f"person {person_id!r} is booked already")
        expires = now + timedelta(days=rules.expire_days)
        (code,) = _new_codes(connection, 1)
        connection.execute(
            insert(bookings).values(
                code=code, person_id=row.id, created_at=now, language="nl", group_id=None, expires_at=expires, made_by=""
            )
        )
        connection.execute(update(persons).where(persons.c.id == row.id).values(booked=True, booked_until=expires))
    log.info("booking made", extra={"participants": 1})
    return code


def _new_codes(connection: Connection, count: int) -> list[str]:
    codes: list[str] = []
    while len(codes) < count:
        code = new_code()
        if code not in codes and connection.execute(select(bookings.c.id).where(bookings.c.code == code)).first() is None:
            codes.append(code)
    return codes


def _with_match(booking: Booking, matched_on: MatchedOn) -> Booking:
    from dataclasses import replace

    return replace(booking, matched_on=matched_on)


def _state(row: Any, now: datetime) -> State:
    if row.end_reason is not None:
        return row.end_reason
    return "active" if row.expires_at > now else "expired"


def _bookings(connection: Connection, now: datetime, *where: Any, limit: int | None = None) -> list[Booking]:
    query = (
        select(
            bookings.c.code,
            bookings.c.language,
            bookings.c.group_id,
            bookings.c.created_at,
            bookings.c.expires_at,
            bookings.c.end_reason,
            bookings.c.made_by,
            persons.c.person_id,
            persons.c.given_names,
            persons.c.surname,
            persons.c.list_number,
            transports.c.code.label("transport"),
        )
        .join(persons, persons.c.id == bookings.c.person_id)
        .join(transports, transports.c.id == persons.c.transport_id)
        .where(*where)
        .order_by(bookings.c.created_at.desc(), bookings.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        Booking(
            code=row.code,
            person_id=row.person_id,
            name=" ".join(part for part in (row.given_names, row.surname) if part),
            transport=row.transport,
            list_number=row.list_number,
            language=row.language,
            group_id=row.group_id,
            created_at=row.created_at,
            expires_at=row.expires_at,
            state=_state(row, now),
            made_by=row.made_by,
        )
        for row in connection.execute(query)
    ]


def list_bookings(database: Database, *, live_only: bool = False, limit: int = 500) -> list[Booking]:
    """Bookings, newest first; `live_only`: those that still hold a name."""
    now = database.now()
    where = [bookings.c.ended_at.is_(None), bookings.c.expires_at > now] if live_only else []
    with database.read() as connection:
        return _bookings(connection, now, *where, limit=limit)


def group_of(database: Database, code: str) -> list[Booking]:
    """The booking of `code` and the others of its group (for its sheet), in the order made."""
    booking = find_booking(database, code)
    if booking.group_id is None:
        return [booking]
    now = database.now()
    with database.read() as connection:
        members = _bookings(connection, now, bookings.c.group_id == booking.group_id)
    return sorted(members, key=lambda member: member.code != booking.code)


def find_booking(database: Database, code: str) -> Booking:
    """The booking of `code` however it was typed; `NotFound` for a code no booking has."""
    canonical = normalise_code(code or "")
    if canonical is None:
        raise NotFound(f"{code!r} is not a booking code (8 letters and digits, like ABCD-2345)")
    now = database.now()
    with database.read() as connection:
        found = _bookings(connection, now, bookings.c.code == canonical)
    if not found:
        raise NotFound(f"no booking has the code {canonical}")
    return found[0]


def cancel_booking(database: Database, code: str, *, by: str = "") -> Booking:
    """End a booking: its name goes back to the queue and its code no longer works.

    Cancelling a cancelled booking again changes nothing. `NotFound` for an unknown code,
    `Conflict` for a booking already used, `Gone` for an expired one.
    """
    canonical = normalise_code(code or "")
    if canonical is None:
        raise NotFound(f"{code!r} is not a booking code (8 letters and digits, like ABCD-2345)")
    with database.write() as connection:
        now = database.now()
        row = connection.execute(
            select(bookings.c.id, bookings.c.person_id, bookings.c.expires_at, bookings.c.end_reason).where(
                bookings.c.code == canonical
            )
        ).first()
        if row is None:
            raise NotFound(f"no booking has the code {canonical}")
        connection.execute(select(persons.c.id).where(persons.c.id == row.person_id).with_for_update()).scalar()
        state = _state(row, now)
        if state == "used":
            raise Conflict(f"booking {canonical} was used: its name has a voice")
        if state == "expired":
            raise Gone(f"booking {canonical} expired on {row.expires_at:%Y-%m-%d}; its name is free again")
        if state == "active":
            connection.execute(
                update(bookings).where(bookings.c.id == row.id).values(ended_at=now, end_reason="cancelled")
            )
            connection.execute(
                update(persons).where(persons.c.id == row.person_id).values(booked=False, booked_until=None)
            )
            log.info("booking cancelled", extra={"by": by})
        return _bookings(connection, now, bookings.c.id == row.id)[0]


def live_booking_person(connection: Connection, code: str | None, now: datetime) -> int | None:
    """The person a live (not ended, not expired) booking with `code` reserves, or None."""
    canonical = normalise_code(code or "")
    if canonical is None:
        return None
    return connection.execute(
        select(bookings.c.person_id).where(
            bookings.c.code == canonical, bookings.c.ended_at.is_(None), bookings.c.expires_at > now
        )
    ).scalar()


def is_booking_code(database: Database, code: str | None) -> bool:
    """Whether any booking, live or ended, has this code: a wrong code is one that never did."""
    canonical = normalise_code(code or "")
    if canonical is None:
        return False
    with database.read() as connection:
        return connection.execute(select(bookings.c.id).where(bookings.c.code == canonical)).first() is not None


_BOOKING_USED = DriverSQL.each(
    {
        "end": "UPDATE bookings SET ended_at = :now, end_reason = 'used' WHERE person_id = :person AND ended_at IS NULL",
        "person": "UPDATE persons SET booked = FALSE, booked_until = NULL, "
        "voiced = CASE WHEN :voiced THEN TRUE ELSE voiced END, "
        "held_until = CASE WHEN :free THEN NULL ELSE held_until END WHERE id = :person",
    }
)


def booking_used(connection: Connection, person: int, now: datetime, *, voiced: bool = False, free: bool = False) -> None:
    """A voice for `person` arrived: their live booking is used, the name no longer reserved.

    An upload marks the person `voiced` in the same statement, and `free` (no longer held)
    when it used the booth's lease: one statement less while the write lock is held. As
    SQL text (`kiosk.central.db.DriverSQL`): every upload runs it.
    """
    sql = _BOOKING_USED[connection.dialect.name]
    with driver_cursor(connection) as cursor:
        cursor.execute(sql.end, {"now": sql.moment(now), "person": person})
        cursor.execute(sql.person, {"person": person, "voiced": voiced, "free": free})


class WrongCodes:
    """Wrong booking codes (codes no booking ever had) per station: after `limit` within
    `window_s`, a pause.

    A code has about 39 bits, but a booth's screen (or a stolen booth token) could still
    be used to try codes one after another; `limit` tries per `window_s` make that
    hopeless while a participant's few typing mistakes pass. Kept in memory: a restart
    of the store forgives, which is harmless at this rate.
    """

    def __init__(self, clock: Callable[[], datetime], *, limit: int = 5, window_s: float = 600):
        self.clock = clock
        self.limit = limit
        self.window = timedelta(seconds=window_s)
        self._tries: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, who: str, now: datetime) -> deque[datetime]:
        tries = self._tries.setdefault(who, deque())
        while tries and now - tries[0] >= self.window:
            tries.popleft()
        return tries

    def check(self, who: str) -> None:
        """`Refusal` 429 while `who` has used up its tries."""
        now = self.clock()
        with self._lock:
            tries = self._recent(who, now)
            if len(tries) >= self.limit:
                wait = max(1, int((tries[0] + self.window - now).total_seconds() // 60) + 1)
                raise Refusal(
                    f"too many wrong booking codes from this station: try again in {wait} minute(s), "
                    "or let a member of staff look the booking up",
                    status=429,
                )

    def wrong(self, who: str) -> None:
        now = self.clock()
        with self._lock:
            self._recent(who, now).append(now)
            if len(self._tries) > 10_000:  # bounded: forget the quietest
                for key in [k for k, v in self._tries.items() if not v][:5_000]:
                    del self._tries[key]
