"""The portrait wall's flow, without Kivy: which screen, which filter, what was typed, whose page.

A visitor at the wall moves between four screens: the grid of faces (narrowed by
transport, first letter or decade of birth), search, a person's page and the list of
transports. `WallFlow` holds all of that and is the one place that changes screen;
`exhibits.wall.screens` only shows it. Time comes from an injected clock (how long the
visitor has been on a screen, `screen_since`), so the whole flow is tested without a screen.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from exhibits.wall.browse import Filter, PersonFacts, Wall
from exhibits.wall.voices import Hearing
from kiosk.clock import Clock

log = logging.getLogger(__name__)

SEARCH_LIMIT = 30
LONGEST_QUERY = 40
BACKSPACE = "⌫"
CLEAR = "clear"


class Screen(enum.Enum):
    GRID = "grid"
    SEARCH = "search"
    PERSON = "person"
    TRANSPORTS = "transports"


@dataclass(frozen=True)
class Result:
    """One search result, as the results list shows it."""

    person_id: str
    name: str
    born: str  # the year, or ""
    place: str
    transport: str
    sex: str = ""  # f, m or "" (not given): the grammar of what audio mode says


class Searcher(Protocol):
    """What the flow needs of `exhibits.wall.search.SearchIndex`."""

    def search(self, query: str, limit: int = ...) -> Sequence: ...  # of hits with person_id, transport


class Voices(Protocol):
    """What the flow needs of `exhibits.wall.voices.WallVoices`."""

    def has_voice(self, person_id: str) -> bool: ...
    def play(self, person_id: str, report: Callable[[Hearing], None]) -> None: ...
    def stop(self) -> None: ...


class WallFlow:
    """A visitor's way through the wall (see the module docstring)."""

    def __init__(self, wall: Wall, index: Searcher, *, clock: Clock, voices: Voices | None = None):
        self.wall = wall
        self.index = index
        self.clock = clock
        self.voices = voices
        self._listeners: list[Callable[[Screen], None]] = []
        self.screen = Screen.GRID
        self.screen_since = clock()
        self.filter = Filter()
        self.shown: list[str] = wall.person_ids(self.filter)
        self.query = ""
        self.results: list[Result] = []
        self.person: PersonFacts | None = None
        self.has_voice = False
        self.hearing = Hearing.READY

    # -- plumbing ----------------------------------------------------------------------

    def subscribe(self, listener: Callable[[Screen], None]) -> None:
        """LISTENER(screen) after every change: the screens show what the flow holds."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener(self.screen)

    def go(self, screen: Screen | str) -> None:
        """Show SCREEN (a navigation button); leaving a person's page stops their voice."""
        screen = Screen(screen)
        if self.screen is Screen.PERSON and screen is not Screen.PERSON:
            self.stop_voice()
        if screen is not self.screen:
            self.screen = screen
            self.screen_since = self.clock()
        self._changed()

    # -- the grid ----------------------------------------------------------------------

    def apply(self, chosen: Filter) -> None:
        self.filter = chosen
        self.shown = self.wall.person_ids(chosen)
        self._changed()

    def choose_transport(self, code: str) -> None:
        self.filter = Filter(transport=code, letter=self.filter.letter, decade=self.filter.decade)
        self.shown = self.wall.person_ids(self.filter)
        self.go(Screen.GRID)

    def choose_letter(self, letter: str) -> None:
        same = self.filter.letter == letter
        self.apply(Filter(transport=self.filter.transport, letter=None if same else letter, decade=self.filter.decade))

    def choose_decade(self, decade: int) -> None:
        same = self.filter.decade == decade
        self.apply(Filter(transport=self.filter.transport, letter=self.filter.letter, decade=None if same else decade))

    def clear(self) -> None:
        self.apply(Filter())

    # -- search ------------------------------------------------------------------------

    def type(self, key: str) -> None:
        """A key of the on-screen keyboard: a letter, a space, BACKSPACE or CLEAR."""
        query = self.query
        if key == BACKSPACE:
            query = query[:-1]
        elif key == CLEAR:
            query = ""
        elif key == " ":
            query = query + " " if query and not query.endswith(" ") else query
        elif len(query) < LONGEST_QUERY:
            # Lowercase: a capital "I" or "Z" alone would be read as a transport code.
            query += key.lower()
        self.search(query)

    def search(self, query: str) -> None:
        self.query = query
        hits = self.index.search(query, limit=SEARCH_LIMIT) if query.strip() else []
        results = []
        for hit in hits:
            facts = self.wall.facts(hit.person_id)
            born = facts.birth_date[:4] if facts.birth_date else ""
            results.append(Result(hit.person_id, facts.display_name, born, facts.birth_place, hit.transport, facts.sex))
        self.results = results
        self._changed()

    # -- a person ----------------------------------------------------------------------

    def open_person(self, person_id: str) -> None:
        self.stop_voice()
        self.person = self.wall.facts(person_id)
        # Only a recording staff approved is heard (kept from the central store's list).
        self.has_voice = bool(self.voices and self.voices.has_voice(person_id))
        self.hearing = Hearing.READY
        log.info("person opened", extra={"person_id": person_id})
        self.screen_since = self.clock()  # a new page, even coming from another person's
        self.go(Screen.PERSON)

    def hear(self, report: Callable[[str, Hearing], None]) -> None:
        """Play the open person's voice; REPORT(person_id, hearing) comes from a worker thread.

        The screen hands each report back to its own thread and into `heard()`.
        """
        person = self.person
        if person is None or not self.has_voice or self.hearing is Hearing.LOADING or self.voices is None:
            return
        person_id = person.person_id
        self.voices.play(person_id, lambda hearing: report(person_id, hearing))

    def heard(self, person_id: str, hearing: Hearing) -> None:
        """How the voice of PERSON_ID is doing; ignored when the visitor moved on."""
        if self.person is not None and self.person.person_id == person_id:
            self.hearing = hearing
            self._changed()

    def stop_voice(self) -> None:
        if self.voices is not None:
            self.voices.stop()
        self.hearing = Hearing.READY

    def forget(self) -> None:
        """A new visitor: no filter, no query, no open page, the grid."""
        self.stop_voice()
        self.query = ""
        self.results = []
        self.person = None
        self.filter = Filter()
        self.shown = self.wall.person_ids(self.filter)
        self.go(Screen.GRID)
