"""What the portrait wall shows, without Kivy: who is in the grid, and a person's facts.

The grid's order is the order of the lists themselves (transport, then list number):
the order in which these people were deported. A visitor narrows it by transport, by
the first letter of a family name (then alphabetical), or by decade of birth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kiosk.collection.model import fold

DECADES = tuple(range(1850, 1950, 10))
LETTERS = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
"""The A-Z row: every letter, those no family name starts with shown disabled."""


@dataclass(frozen=True)
class Filter:
    transport: str | None = None
    letter: str | None = None  # A-Z, of the family name as folded (Ł → L)
    decade: int | None = None  # 1920 = born 1920-1929

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.transport, self.letter, self.decade))


@dataclass(frozen=True)
class PersonFacts:
    """A person's page: what is known, never more."""

    person_id: str
    display_name: str
    surname: str
    given_names: str
    birth_date: str | None  # as on the list: YYYY-MM-DD, YYYY-MM or YYYY
    birth_place: str
    age_at_deportation: int | None
    transport: str
    list_number: int
    departed: date | None
    destination: str
    fate: str  # murdered | survived | unknown
    sex: str
    has_portrait: bool
    image_path: str
    fictional: bool


class Wall:
    """The collection as the wall browses it. Built once at start-up."""

    def __init__(self, collection):
        self.collection = collection
        self.in_list_order = [p for t in collection.transports for p in collection.persons_of(t.code)]
        # Families share surnames: a letter per surname, not per person (1.3 MB less all day).
        self._of_surname: dict[str, str] = {}
        self._letters = sorted({self._initial(p) for p in self.in_list_order} & set(LETTERS))
        self._alphabetical = collection.alphabetical()

    def _initial(self, person) -> str:
        """The letter a person is listed under: their surname's, else their given names'."""
        letter = self._of_surname.get(person.surname)
        if letter is None:
            letter = self._of_surname[person.surname] = fold(person.surname)[:1].upper()
        return letter or fold(person.given_names)[:1].upper()

    def letters(self) -> list[str]:
        """The first letters that family names actually start with, A to Z."""
        return list(self._letters)

    def transports(self) -> list:
        counts = self.collection.counts()
        return [t for t in self.collection.transports if counts.get(t.code)]

    def person_ids(self, chosen: Filter = Filter()) -> list[str]:
        people = self._alphabetical if chosen.letter else self.in_list_order
        if chosen.transport:
            people = self.collection.persons_of(chosen.transport)
            if chosen.letter:
                people = sorted(people, key=lambda p: p.sort_name)
        if chosen.letter:
            people = [p for p in people if self._initial(p) == chosen.letter]
        if chosen.decade is not None:
            people = [p for p in people if p.birth_date and chosen.decade <= p.birth_date.year < chosen.decade + 10]
        return [p.person_id for p in people]

    def facts(self, person_id: str) -> PersonFacts:
        person = self.collection.by_id[person_id]
        transport = self.collection.transport(person.transport)
        departed = transport.departed if transport else None
        age = person.birth_date.age_on(departed) if person.birth_date and departed else None
        return PersonFacts(
            person_id=person.person_id,
            display_name=person.display_name,
            surname=person.surname,
            given_names=person.given_names,
            birth_date=str(person.birth_date) if person.birth_date else None,
            birth_place=person.birth_place,
            age_at_deportation=age,
            transport=person.transport,
            list_number=person.list_number,
            departed=departed,
            destination=transport.destination if transport else "",
            fate=person.fate or "unknown",
            sex=person.sex,
            has_portrait=self.collection.portrait_path(person) is not None,
            image_path=str(self.collection.image_path(person)),
            fictional=person.fictional,
        )
