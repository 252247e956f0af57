"""Which waiting name suits a participant: shared first name, birthday or age.

Shared by the booths' matches (`kiosk.central.leases`) and the bookings
(`kiosk.central.bookings`), so a participant is matched the same way at the booth and
when registering. A name can be handed out when it is in the collection, has no voice,
no live lease holds it and no live booking reserves it; the two holds end at a moment
(`held_until`, `booked_until`), so a passed moment frees the name with no cleaning job.

A first name is folded as the wall's search folds it (`kiosk.collection.folding`), a
birthday is the month and day, an age is the person's age when their transport left,
as the wall shows it. The best match shares the most, the first name weighing most,
then the birthday, then the age; among equals the queue's order decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, and_, case, literal, or_, select

from kiosk.central.schema import persons
from kiosk.collection.folding import first_name_key
from kiosk.contract import MAX_AGE, MIN_AGE, birthday_problem

MatchedOn = Literal["first_name", "birthday", "age", "next"]


@dataclass(frozen=True)
class Wish:
    """What a participant shares to be matched; any part may be missing."""

    first_name: str | None = None
    birthday: tuple[int, int] | None = None
    age: int | None = None

    @property
    def key(self) -> str:
        return first_name_key(self.first_name) if self.first_name else ""

    @property
    def empty(self) -> bool:
        return not self.key and self.birthday is None and self.age is None


def parse_birthday(text: str) -> tuple[int, int]:
    """(month, day) of a checked MM-DD text; ValueError with the reason otherwise."""
    problem = birthday_problem(text)
    if problem:
        raise ValueError(problem)
    month, day = text.split("-")
    return int(month), int(day)


def age_problem(age: object) -> str | None:
    """Why `age` is not a participant's age (a whole number from 9 to 120), or None."""
    if isinstance(age, bool) or not isinstance(age, int) or not MIN_AGE <= age <= MAX_AGE:
        return f"age {age!r} is not a whole number from {MIN_AGE} to {MAX_AGE}"
    return None


def available(now: datetime) -> Any:
    """A name that can be handed out now: no voice, no live lease, no live booking."""
    return and_(
        persons.c.active,
        ~persons.c.voiced,
        or_(persons.c.held_until.is_(None), persons.c.held_until <= now),
        or_(~persons.c.booked, persons.c.booked_until <= now),
    )


def next_waiting(connection: Connection, now: datetime, count: int, *, skip: tuple[int, ...] = ()) -> list[int]:
    """Up to `count` available names in queue order, locked (others' locked rows skipped)."""
    query = select(persons.c.id).where(available(now)).order_by(persons.c.queue_order).limit(count)
    if skip:
        query = query.where(persons.c.id.not_in(skip))
    return list(connection.execute(query.with_for_update(skip_locked=True)).scalars())


def best_match(
    connection: Connection, now: datetime, wish: Wish, *, skip: tuple[int, ...] = ()
) -> tuple[int, MatchedOn] | None:
    """The available name that suits `wish` best, locked, and what it shares first; or None."""
    criteria: list[tuple[MatchedOn, Any]] = []
    if wish.key:
        criteria.append(("first_name", persons.c.first_name_key == wish.key))
    if wish.birthday is not None:
        month, day = wish.birthday
        criteria.append(("birthday", and_(persons.c.birth_month == month, persons.c.birth_day == day)))
    if wish.age is not None:
        criteria.append(("age", persons.c.age_at_departure == wish.age))
    if not criteria:
        return None
    weights = [2 ** (len(criteria) - index) for index in range(len(criteria))]
    score = sum((case((condition, weight), else_=0) for (_, condition), weight in zip(criteria, weights)), literal(0))
    query = (
        select(persons.c.id, *(case((condition, True), else_=False).label(name) for name, condition in criteria))
        .where(available(now), or_(*(condition for _, condition in criteria)))
        .order_by(score.desc(), persons.c.queue_order)
        .limit(1)
    )
    if skip:
        query = query.where(persons.c.id.not_in(skip))
    row = connection.execute(query.with_for_update(skip_locked=True)).first()
    if row is None:
        return None
    matched_on = next(name for name, _ in criteria if getattr(row, name))
    return row.id, matched_on
