"""The collection as the stations see it: transports, the persons on their lists, portraits.

Plain Python with no Kivy import, so the portrait wall, the memorial and the command line
share one reading of a collection folder. Objects are immutable: a collection is loaded
whole (see `kiosk.collection.check`) and then only read.
"""

from __future__ import annotations

import calendar
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from kiosk.paths import IMAGES

SILHOUETTES = IMAGES / "silhouettes"

AgeBand = Literal["baby", "toddler", "child", "teenager", "adult", "older"]
AGE_BANDS: tuple[AgeBand, ...] = ("baby", "toddler", "child", "teenager", "adult", "older")

Sex = Literal["f", "m", ""]
Fate = Literal["murdered", "survived", "unknown"]
SEXES: tuple[str, ...] = ("f", "m", "")
FATES: tuple[str, ...] = ("murdered", "survived", "unknown")

NO_EXTRA: Mapping[str, str] = MappingProxyType({})


_YEARS: dict[int, int] = {}
"""Each year met in a date, once (four digits: at most 10,000)."""


@dataclass(frozen=True, slots=True, order=True)
class PartialDate:
    """A date of birth as the lists give it: often only a year, or a year and a month.

    Keeping the missing parts missing (instead of inventing 1 January) lets search match
    "born 1921" against any 1921 date and lets a screen show exactly what is known.
    """

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year {self.year} is out of range")
        if self.month is None:
            if self.day is not None:
                raise ValueError("a day needs a month")
            return
        if not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} does not exist")
        if self.day is not None:
            last = calendar.monthrange(self.year, self.month)[1]
            if not 1 <= self.day <= last:
                raise ValueError(f"{self.year:04d}-{self.month:02d} has no day {self.day}")

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """Read YYYY-MM-DD, YYYY-MM or YYYY; raise ValueError with the reason otherwise."""
        parts = text.split("-")
        if len(parts) > 3 or not all(p.isascii() and p.isdigit() for p in parts):
            raise ValueError(f"{text!r} is not YYYY-MM-DD, YYYY-MM or YYYY")
        if len(parts[0]) != 4 or any(len(p) != 2 for p in parts[1:]):
            raise ValueError(f"{text!r} is not YYYY-MM-DD, YYYY-MM or YYYY")
        numbers = [int(p) for p in parts]
        # 15,000 dates of a collection fall in a hundred years: one int object per year,
        # not per date (months and days are Python's shared small ints already).
        return cls(_YEARS.setdefault(numbers[0], numbers[0]), *numbers[1:])

    def __str__(self) -> str:
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
            if self.day is not None:
                text += f"-{self.day:02d}"
        return text

    @property
    def is_complete(self) -> bool:
        return self.day is not None

    @property
    def earliest(self) -> date:
        """The first day this date can stand for."""
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def latest(self) -> date:
        """The last day this date can stand for."""
        month = self.month or 12
        return date(self.year, month, self.day or calendar.monthrange(self.year, month)[1])

    @property
    def middle(self) -> date:
        """The middle of the range: the least wrong single day for a partial date."""
        if self.month is None:
            return date(self.year, 7, 1)
        if self.day is None:
            return date(self.year, self.month, 15)
        return date(self.year, self.month, self.day)

    def age_on(self, on: date) -> int:
        """Completed years on `on`, counting a partial date from the middle of its range.

        The middle keeps the error at most half a year for a bare year, which is what the
        silhouette choice needs; never negative.
        """
        born = self.middle
        years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        return max(years, 0)


def age_band(birth_date: PartialDate | None, on: date | None) -> AgeBand:
    """The silhouette's age group for someone born `birth_date`, on the day `on`.

    Unknown birth or unknown day gives "adult": most deported persons were adults, and an
    adult silhouette is the least jarring guess for a child or an older person.
    """
    if birth_date is None or on is None:
        return "adult"
    age = birth_date.age_on(on)
    if age < 2:
        return "baby"
    if age < 5:
        return "toddler"
    if age < 13:
        return "child"
    if age < 18:
        return "teenager"
    if age < 60:
        return "adult"
    return "older"


def silhouette_path(band: AgeBand) -> Path:
    """The silhouette image shown for a person without a photograph."""
    if band not in AGE_BANDS:
        raise ValueError(f"unknown age band {band!r}; one of {', '.join(AGE_BANDS)}")
    return SILHOUETTES / f"{band}.png"


@dataclass(frozen=True, slots=True)
class Transport:
    code: str
    departed: date | None
    destination: str
    note: str


_UNDECOMPOSED: dict[str, str | int | None] = {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "Đ": "D"}
"""Letters NFKD does not split into a base letter and a mark, as the lists use them."""
_FOLD_TABLE = str.maketrans(_UNDECOMPOSED)


def _fold(text: str) -> str:
    """Lower case without diacritics, so "Łaja" sorts with "Laja" and "Ödön" with "Odon"."""
    text = text.translate(_FOLD_TABLE)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def fold(text: str) -> str:
    """Lowercase, without diacritics or surrounding spaces, for matching what people type:
    'Łaja' and 'laja', 'Hélène ' and 'helene' match (the booth's names, the wall's letters)."""
    return _fold(text).strip()


@dataclass(frozen=True, slots=True)
class Person:
    person_id: str
    surname: str
    given_names: str
    birth_date: PartialDate | None
    birth_place: str
    sex: Sex
    transport: str
    list_number: int
    fate: Fate
    portrait: str | None
    fictional: bool = False
    extra: Mapping[str, str] = field(default_factory=lambda: NO_EXTRA, compare=False)
    """Columns beyond the contract's, kept as read (the contract says kept and ignored)."""

    @property
    def display_name(self) -> str:
        """ "Given Surname", or whichever part the list has."""
        return " ".join(part for part in (self.given_names, self.surname) if part)

    @property
    def sort_name(self) -> str:
        """Key for alphabetical lists: surname first, case and diacritics folded.

        Particles stay where they are ("van Praag" sorts under v), as Belgian registers do.
        """
        return f"{_fold(self.surname)}\x00{_fold(self.given_names)}\x00{self.person_id}"


class Collection:
    """A whole, checked collection: build it with `load_collection`, never half-filled."""

    __slots__ = ("_alphabetical", "_lists", "_transport_index", "by_id", "fictional", "persons", "portrait_signatures", "root", "transports")

    def __init__(
        self,
        root: Path,
        transports: tuple[Transport, ...],
        persons: tuple[Person, ...],
        portrait_signatures: Mapping[str, tuple[int, int]] | None = None,
    ):
        self.root = root
        self.transports = transports
        """In the order of transports.csv."""
        self.persons = persons
        """In the order of persons.csv."""
        self.portrait_signatures: Mapping[str, tuple[int, int]] = MappingProxyType(
            portrait_signatures if isinstance(portrait_signatures, dict) else dict(portrait_signatures or {})
        )
        """Portrait file name -> (size in bytes, mtime in ns) when the collection was
        checked: the wall's thumbnails compare them instead of stat-ing every file again.
        A file missing here is stat-ed when it is needed."""
        self.fictional = any(p.fictional for p in persons)
        """True when the persons carry the demo collection's mark: say so on screen."""
        self.by_id: Mapping[str, Person] = MappingProxyType({p.person_id: p for p in persons})
        self._transport_index = {t.code: t for t in transports}
        lists: dict[str, list[Person]] = {t.code: [] for t in transports}
        for person in persons:
            lists.setdefault(person.transport, []).append(person)
        self._lists = {code: tuple(sorted(members, key=lambda p: p.list_number)) for code, members in lists.items()}
        self._alphabetical: tuple[Person, ...] | None = None

    def __repr__(self) -> str:
        return f"<Collection {self.root} persons={len(self.persons)} transports={len(self.transports)}>"

    def alphabetical(self) -> tuple[Person, ...]:
        """The persons in the order of `Person.sort_name`, sorted once and shared (the
        wall's letters and its search's ties both need it): names that families share
        are folded once, not once per person."""
        if self._alphabetical is None:
            folded: dict[str, str] = {}

            def fold_once(text: str) -> str:
                done = folded.get(text)
                if done is None:
                    done = folded[text] = _fold(text)
                return done

            # The same key as Person.sort_name, made without folding a shared name again.
            self._alphabetical = tuple(
                sorted(self.persons, key=lambda p: f"{fold_once(p.surname)}\x00{fold_once(p.given_names)}\x00{p.person_id}")
            )
        return self._alphabetical

    def forget_portrait_signatures(self) -> None:
        """Let go of `portrait_signatures` (20,000 entries, 4 MB) once the thumbnails have
        been checked against them: a later check stats the files instead."""
        self.portrait_signatures = MappingProxyType({})

    def transport(self, code: str) -> Transport:
        return self._transport_index[code]

    def persons_of(self, transport_code: str) -> tuple[Person, ...]:
        """The persons of one transport in list-number order (the memorial's reading order)."""
        return self._lists.get(transport_code, ())

    def counts(self) -> dict[str, int]:
        """Persons per transport code, in the order of transports.csv."""
        return {t.code: len(self._lists[t.code]) for t in self.transports}

    def age_at_departure(self, person: Person) -> int | None:
        """Completed years when the person's transport left (as the wall shows it), if known."""
        transport = self._transport_index.get(person.transport)
        departed = transport.departed if transport else None
        return person.birth_date.age_on(departed) if person.birth_date and departed else None

    def age_band_of(self, person: Person) -> AgeBand:
        """Age group at deportation, from the departure date of the person's transport."""
        transport = self._transport_index.get(person.transport)
        return age_band(person.birth_date, transport.departed if transport else None)

    def portrait_path(self, person: Person) -> Path | None:
        """The person's photograph file, or None when the list has none (show a silhouette)."""
        return self.root / "portraits" / person.portrait if person.portrait else None

    def image_path(self, person: Person) -> Path:
        """What to show for the person: the photograph, else the silhouette for their age."""
        return self.portrait_path(person) or silhouette_path(self.age_band_of(person))
