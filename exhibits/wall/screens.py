"""The portrait wall's screens: the grid of faces, search, a person's page, transports.

Thin views over `exhibits.wall.browse.Wall` and `exhibits.wall.search.SearchIndex`; the
grid itself is `exhibits.wall.grid.PortraitGrid`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kivy.app import App
from kivy.event import EventDispatcher
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from exhibits.wall.browse import Filter, Wall
from kiosk.errors import KioskError
from kiosk.shell.widgets import Named, StationScreen, TouchButton

log = logging.getLogger(__name__)

Builder.load_file(str(Path(__file__).with_name("screens.kv")))

FIRST_SCREEN = "grid"
SEARCH_LIMIT = 30


class WallView(EventDispatcher):
    """What the wall's screens show, as Kivy properties the kv rules bind to."""

    transport = StringProperty("")
    letter = StringProperty("")
    decade = NumericProperty(0)
    count = NumericProperty(0)
    query = StringProperty("")
    results = ListProperty([])  # dicts for the results list
    person = ObjectProperty(None, allownone=True)  # PersonFacts of the open page
    has_voice = BooleanProperty(False)
    hearing = StringProperty("ready")  # exhibits.wall.voices.Hearing


class TransportRow(Named, ButtonBehavior, BoxLayout):
    """One transport: its code, the day it left (when a source gives it), how many people."""

    code = StringProperty("")
    departed = ObjectProperty(None, allownone=True)
    persons = NumericProperty(0)


class ResultRow(Named, ButtonBehavior, BoxLayout):
    person_id = StringProperty("")
    name = StringProperty("")
    detail = StringProperty("")


class LetterButton(TouchButton):
    letter = StringProperty("")


class DecadeButton(TouchButton):
    decade = NumericProperty(0)


class WallScreen(StationScreen):
    pass


class PortraitWall:
    """Ties the wall's model, search and grid to the app."""

    def __init__(self, app, wall: Wall, index, grid, voices=None):
        self.app = app
        self.wall = wall
        self.index = index
        self.grid = grid
        self.voices = voices  # exhibits.wall.voices.WallVoices
        self.view = WallView()
        self.filter = Filter()
        grid.bind(on_select=lambda _grid, person_id: self.open_person(person_id))
        self.apply(Filter())

    # -- the grid ----------------------------------------------------------------------

    def apply(self, chosen: Filter) -> None:
        self.filter = chosen
        ids = self.wall.person_ids(chosen)
        self.view.transport = chosen.transport or ""
        self.view.letter = chosen.letter or ""
        self.view.decade = chosen.decade or 0
        self.view.count = len(ids)
        self.grid.show(ids)

    def choose_transport(self, code: str) -> None:
        self.apply(Filter(transport=code, letter=self.filter.letter, decade=self.filter.decade))
        self.app.screens.current = "grid"

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
        query = self.view.query
        if key == "⌫":
            query = query[:-1]
        elif key == "clear":
            query = ""
        elif key == " ":
            query = query + " " if query and not query.endswith(" ") else query
        elif len(query) < 40:
            # Lowercase: a capital "I" or "Z" alone would be read as a transport code.
            query += key.lower()
        self.view.query = query
        self.search(query)

    def search(self, query: str) -> None:
        lang = self.app.lang
        hits = self.index.search(query, limit=SEARCH_LIMIT) if query.strip() else []
        rows = []
        for hit in hits:
            facts = self.wall.facts(hit.person_id)
            born = facts.birth_date[:4] if facts.birth_date else ""
            place = facts.birth_place
            detail = " · ".join(part for part in (born, place, self.app.t(lang, "wall.filter_transport", code=hit.transport)) if part)
            rows.append({"person_id": hit.person_id, "name": facts.display_name, "detail": detail, "test_name": f"result-{hit.person_id}"})
        self.view.results = rows

    # -- a person ----------------------------------------------------------------------

    def open_person(self, person_id: str) -> None:
        self.stop_voice()
        self.view.person = self.wall.facts(person_id)
        # Only a recording staff approved is heard (kept from the central store's list).
        self.view.has_voice = bool(self.voices and self.voices.has_voice(person_id))
        self.view.hearing = "ready"
        log.info("person opened", extra={"person_id": person_id})
        self.app.screens.current = "person"

    def hear(self) -> None:
        person = self.view.person
        if person is None or not self.view.has_voice or self.view.hearing == "loading":
            return
        from kivy.clock import Clock

        person_id = person.person_id

        def report(hearing) -> None:
            # From the worker thread: the page changes on Kivy's thread, and only if the
            # visitor is still on this person.
            def apply(_dt) -> None:
                if self.view.person is not None and self.view.person.person_id == person_id:
                    self.view.hearing = hearing.value

            Clock.schedule_once(apply)

        self.voices.play(person_id, report)

    def stop_voice(self) -> None:
        if self.voices is not None:
            self.voices.stop()
        self.view.hearing = "ready"

    def forget(self) -> None:
        """A new visitor: no filter, no query, no open page."""
        self.stop_voice()
        self.view.query = ""
        self.view.results = []
        self.view.person = None
        self.apply(Filter())


class UnavailableScreen(WallScreen):
    pass


class GridScreen(WallScreen):
    def forget(self) -> None:
        App.get_running_app().wall.forget()


class SearchScreen(WallScreen):
    pass


class PersonScreen(WallScreen):
    def on_leave(self, *_args) -> None:
        wall = App.get_running_app().wall
        if wall is not None:
            wall.stop_voice()


class TransportsScreen(WallScreen):
    def on_kv_post(self, _base_widget) -> None:
        wall = App.get_running_app().wall
        counts = wall.wall.collection.counts()
        for transport in wall.wall.transports():
            self.ids.transports.add_widget(
                TransportRow(code=transport.code, departed=transport.departed, persons=counts[transport.code], test_name=f"transport-{transport.code}")
            )


def build_screens(app) -> list:
    from exhibits.wall.grid import PortraitGrid
    from exhibits.wall.search import SearchIndex
    from exhibits.wall.voices import make_wall_voices
    from kiosk.collection import load_collection

    try:
        collection = load_collection(app.station.collection_dir)
    except KioskError as error:
        # Out of order, soberly, rather than a crash loop in front of visitors.
        log.error("wall has no collection", extra={"problem": error.message, "hint": error.hint})
        app.wall = None
        return [UnavailableScreen(name="grid")]
    wall = Wall(collection)
    grid = PortraitGrid.for_collection(collection, cache=app.station.data_dir / "thumbs")
    index = SearchIndex.build(collection)
    index.search("warm up")  # the first search loads numpy and rapidfuzz: not in front of a visitor
    voices = make_wall_voices(app.station).start()
    app.bind(on_stop=lambda *_: voices.close())
    _report_devices(app, voices)
    app.wall = PortraitWall(app, wall, index, grid, voices)
    screen = GridScreen(name="grid")
    screen.ids.grid_holder.add_widget(grid)
    return [screen, SearchScreen(name="search"), PersonScreen(name="person"), TransportsScreen(name="transports")]


STATUS_EVERY_S = 5.0


def _report_devices(app, voices) -> None:
    """The wall's one device (its speaker) in the status file `kiosk sync run` sends."""
    from kivy.clock import Clock

    from kiosk.link.status import write_station_status

    def write(_dt=None) -> None:
        write_station_status(app.station.data_dir, program="wall", devices={"speaker": voices.speaker_state})

    write()
    event = Clock.schedule_interval(write, STATUS_EVERY_S)
    app.bind(on_stop=lambda *_: event.cancel())


def stage(app, screen: str, clock) -> None:
    """Show SCREEN as a visitor would reach it, for `kiosk screenshot`."""
    wall = app.wall
    if wall is None:
        app.screens.current = screen
        return
    if screen == "search":
        for key in "GOLDSTEIN":
            wall.type(key)
    elif screen == "person":
        # A person whose name can be heard when the store has one approved, as visitors
        # will mostly meet them; otherwise someone with a portrait.
        wall.voices.refresh_now()
        people = wall.wall.in_list_order
        chosen = next((p for p in people if wall.voices.has_voice(p.person_id)), None)
        chosen = chosen or next(p for p in people if wall.wall.collection.portrait_path(p))
        wall.open_person(chosen.person_id)
        return
    app.screens.current = screen


def attract_backdrop(app):
    from exhibits.wall.attract import DriftingPortraits, people_with_portraits

    people = people_with_portraits(app.wall.wall.collection) if app.wall else []
    return DriftingPortraits(people)
