"""Which name a participant reads: by booking code, by a shared first name or birthday,
or simply the next name that still waits for a voice.

`NameSource` is the booth's one door to names. With a central store, `RemoteNameSource`
takes them from the store's leases (so two booths never hold the same one); without one,
the `LocalNameSource` serves them from the station's own collection and remembers which
already have a voice here.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from exhibits.booth.reading import reading_aid
from kiosk import i18n
from kiosk.collection.model import Collection, fold, silhouette_path
from kiosk.collection.places import place_name
from kiosk.errors import KioskError
from kiosk.link.leases import HeldLease, LeaseClient


@dataclass(frozen=True)
class Assignment:
    """The name given to one participant, and what the screens show of the person."""

    person_id: str
    display_name: str
    surname: str
    given_names: str
    transport: str
    list_number: int
    birth_date: str | None  # as on the list: YYYY-MM-DD, YYYY-MM or YYYY
    birth_place: str
    image_path: Path  # the photograph, or the silhouette for their age
    has_portrait: bool
    fictional: bool
    how: str  # booking | match | next
    sex: str = ""  # f, m or empty (not on the list): the lines about the person agree with it

    @property
    def reading_aid(self) -> str | None:
        return reading_aid(self.display_name)


class NameSource(Protocol):
    def by_booking(self, code: str) -> Assignment | None: ...
    def matching(
        self, *, first_name: str | None, birthday: tuple[int, int] | None, age: int | None = None
    ) -> Assignment | None: ...
    def next_waiting(self) -> Assignment | None: ...
    def give_back(self, person_id: str) -> None: ...
    def voiced(self, person_id: str) -> None: ...


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def read_bookings(path: Path) -> dict[str, str]:
    """bookings.csv (code,person_id), written at registration; absent means no bookings."""
    if not path.exists():
        return {}
    bookings: dict[str, str] = {}
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                code, person = normalise_code(row.get("code") or ""), (row.get("person_id") or "").strip()
                if not code or not person:
                    raise KioskError(f"{path} line {line}: needs a code and a person_id", "fix or remove that line")
                bookings[code] = person
    except UnicodeDecodeError:
        raise KioskError(f"{path}: not UTF-8 text", "save it as UTF-8") from None
    return bookings


class LocalNameSource:
    """Names from the station's collection, in transport order, skipping those with a voice."""

    def __init__(self, collection, *, voiced: set[str], bookings: dict[str, str] | None = None, seed: int | None = None):
        self.collection = collection
        self._voiced = set(voiced)
        self._held: set[str] = set()
        self._bookings = {normalise_code(code): person for code, person in (bookings or {}).items()}
        self._random = random.Random(seed)
        self._order = [p for t in collection.transports for p in collection.persons_of(t.code)]
        self._by_first_name: dict[str, list] = {}
        self._by_birthday: dict[tuple[int, int], list] = {}
        self._by_age: dict[int, list] = {}
        for person in self._order:
            first = fold(person.given_names.split()[0]) if person.given_names.strip() else ""
            if first:
                self._by_first_name.setdefault(first, []).append(person)
            date = person.birth_date
            if date is not None and date.month and date.day:
                self._by_birthday.setdefault((date.month, date.day), []).append(person)
            age = collection.age_at_departure(person)
            if age is not None:
                self._by_age.setdefault(age, []).append(person)

    def _free(self, person) -> bool:
        return person.person_id not in self._voiced and person.person_id not in self._held

    def _assign(self, person, how: str) -> Assignment:
        self._held.add(person.person_id)
        return Assignment(
            person_id=person.person_id,
            display_name=person.display_name,
            surname=person.surname,
            given_names=person.given_names,
            transport=person.transport,
            list_number=person.list_number,
            birth_date=str(person.birth_date) if person.birth_date else None,
            birth_place=person.birth_place,
            image_path=self.collection.image_path(person),
            has_portrait=self.collection.portrait_path(person) is not None,
            fictional=person.fictional,
            how=how,
            sex=person.sex or "",
        )

    def by_booking(self, code: str) -> Assignment | None:
        person_id = self._bookings.get(normalise_code(code))
        person = self.collection.by_id.get(person_id) if person_id else None
        if person is None or person.person_id in self._voiced:
            return None
        return self._assign(person, "booking")

    def matching(
        self, *, first_name: str | None, birthday: tuple[int, int] | None, age: int | None = None
    ) -> Assignment | None:
        """Someone who shared their first name, their birthday or their age (best the first two)."""
        by_name = [p for p in self._by_first_name.get(fold(first_name), []) if self._free(p)] if first_name else []
        by_day = [p for p in self._by_birthday.get(birthday, []) if self._free(p)] if birthday else []
        by_age = [p for p in self._by_age.get(age, []) if self._free(p)] if age is not None else []
        both = [p for p in by_name if p.birth_date and (p.birth_date.month, p.birth_date.day) == birthday]
        for candidates in (both, by_name, by_day, by_age):
            if candidates:
                return self._assign(self._random.choice(candidates), "match")
        return None

    def next_waiting(self) -> Assignment | None:
        person = next((p for p in self._order if self._free(p)), None)
        return self._assign(person, "next") if person else None

    def give_back(self, person_id: str) -> None:
        self._held.discard(person_id)

    def voiced(self, person_id: str) -> None:
        self._held.discard(person_id)
        self._voiced.add(person_id)


class NoNameSource:
    """A booth whose collection cannot be read: it says no names are waiting, and asks
    participants to find a member of staff, instead of failing in front of them."""

    def by_booking(self, code: str) -> Assignment | None:
        return None

    def matching(
        self, *, first_name: str | None, birthday: tuple[int, int] | None, age: int | None = None
    ) -> Assignment | None:
        return None

    def next_waiting(self) -> Assignment | None:
        return None

    def give_back(self, person_id: str) -> None:
        pass

    def voiced(self, person_id: str) -> None:
        pass


class RemoteNameSource(LeaseClient[Assignment]):
    """The booth's `NameSource` over the central store's leases (`kiosk.link.leases`).

    `collection`, when given, supplies portraits; without it the screens show the adult
    silhouette.
    """

    def __init__(self, client, data_dir: Path, *, collection: Collection | None = None, **options) -> None:
        self.collection = collection
        super().__init__(client, data_dir, **options)

    def _assignment(self, lease: HeldLease) -> Assignment:
        person = lease.person
        given, surname = str(person.get("given_names") or ""), str(person.get("surname") or "")
        collection = self.collection
        local = collection.by_id.get(lease.person_id) if collection is not None else None
        if collection is not None and local is not None:
            image_path, has_portrait = collection.image_path(local), collection.portrait_path(local) is not None
        else:
            image_path, has_portrait = silhouette_path("adult"), False
        return Assignment(
            person_id=lease.person_id,
            display_name=" ".join(part for part in (given, surname) if part),
            surname=surname,
            given_names=given,
            transport=str(person.get("transport") or ""),
            list_number=int(person.get("list_number") or 0),
            birth_date=person.get("birth_date"),
            birth_place=str(person.get("birth_place") or ""),
            image_path=image_path,
            has_portrait=has_portrait,
            fictional=bool(person.get("fictional")),
            how=lease.how,
            sex=str(person.get("sex") or (local.sex if local is not None else "") or ""),
        )


def born_line(language: str, birth_date: str, birth_place: str, sex: str) -> str:
    """"Née le 12 mai 1923 à Bruxelles": agreeing with the person, the place in the
    visitor's language (media/places/exonyms.csv), nothing when the list gives no date."""
    if not birth_date:
        return ""
    date = i18n.partial_date(language, birth_date)
    if birth_place:
        return i18n.gendered(language, "person.born_in", sex, date=date, place=place_name(birth_place, language))
    return i18n.gendered(language, "person.born", sex, date=date)
