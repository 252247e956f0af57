"""The portrait wall's screens: the grid of faces, search, a person's page, transports.

Thin views over the wall's flow (`exhibits.wall.flow.WallFlow`: which screen, filter,
query and person); the grid itself is `exhibits.wall.grid.PortraitGrid`.
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
from exhibits.wall.flow import Screen, WallFlow
from kiosk.collection.places import place_name
from kiosk.errors import KioskError
from kiosk.shell.keyboard import OnScreenKeyboard  # noqa: F401  (the search screen's keyboard, in the kv rules)
from kiosk.shell.widgets import Named, StationScreen, TouchButton

log = logging.getLogger(__name__)

Builder.load_file(str(Path(__file__).with_name("screens.kv")))

FIRST_SCREEN = "grid"


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
    """Shows the wall's flow (`exhibits.wall.flow.WallFlow`) on the app's screens.

    The flow decides; this only copies what it holds into `view` for the kv rules, and
    is the one place that switches the wall's screen. Touches call the flow through the
    same names (`choose_letter`, `type`, `open_person`, ...).
    """

    def __init__(self, app, flow: WallFlow, grid):
        self.app = app
        self.flow = flow
        self.grid = grid
        self.view = WallView()
        self._shown: list[str] | None = None
        grid.bind(on_select=lambda _grid, person_id: flow.open_person(person_id))
        flow.subscribe(self._show)
        self._show(flow.screen, switch=False)

    @property
    def wall(self) -> Wall:
        return self.flow.wall

    @property
    def index(self):
        return self.flow.index  # exhibits.wall.search.SearchIndex

    @property
    def voices(self):
        return self.flow.voices  # exhibits.wall.voices.WallVoices

    def _show(self, screen: Screen, switch: bool = True) -> None:
        flow, view = self.flow, self.view
        view.transport = flow.filter.transport or ""
        view.letter = flow.filter.letter or ""
        view.decade = flow.filter.decade or 0
        view.count = len(flow.shown)
        if flow.shown is not self._shown:
            self._shown = flow.shown
            self.grid.show(flow.shown)
        view.query = flow.query
        lang = self.app.lang
        view.results = [
            {
                "person_id": result.person_id,
                "name": result.name,
                "detail": " · ".join(
                    part
                    for part in (result.born, place_name(result.place, lang), self.app.t(lang, "wall.filter_transport", code=result.transport))
                    if part
                ),
                "test_name": f"result-{result.person_id}",
            }
            for result in flow.results
        ]
        view.person = flow.person
        view.has_voice = flow.has_voice
        view.hearing = flow.hearing.value
        # The attract screen belongs to the shell: a new visitor's flow waits behind it.
        if switch and self.app.screens.current != "attract" and self.app.screens.current != screen.value:
            self.app.screens.current = screen.value

    # -- what a touch asks ---------------------------------------------------------------

    def go(self, screen: str) -> None:
        self.flow.go(screen)

    def apply(self, chosen: Filter) -> None:
        self.flow.apply(chosen)

    def choose_transport(self, code: str) -> None:
        self.flow.choose_transport(code)

    def choose_letter(self, letter: str) -> None:
        self.flow.choose_letter(letter)

    def choose_decade(self, decade: int) -> None:
        self.flow.choose_decade(decade)

    def clear(self) -> None:
        self.flow.clear()

    def type(self, key: str) -> None:
        self.flow.type(key)

    def search(self, query: str) -> None:
        self.flow.search(query)

    def open_person(self, person_id: str) -> None:
        self.flow.open_person(person_id)

    def hear(self) -> None:
        from kivy.clock import Clock

        def report(person_id: str, hearing) -> None:
            # From the worker thread: the page changes on Kivy's thread.
            Clock.schedule_once(lambda _dt: self.flow.heard(person_id, hearing))

        self.flow.hear(report)

    def stop_voice(self) -> None:
        self.flow.stop_voice()
        self.view.hearing = self.flow.hearing.value

    def forget(self) -> None:
        """A new visitor: no filter, no query, no open page."""
        self.flow.forget()


class UnavailableScreen(WallScreen):
    pass


class GridScreen(WallScreen):
    more_below = BooleanProperty(False)  # the grid goes on below the view: the cue shows

    def follow(self, grid) -> None:
        def update(*_args) -> None:
            self.more_below = grid.scroll < grid.max_scroll - 1

        grid.bind(scroll=update, max_scroll=update)
        update()

    def forget(self) -> None:
        App.get_running_app().wall.forget()


class SearchScreen(WallScreen):
    pass


class PersonScreen(WallScreen):
    page = ObjectProperty(None, allownone=True)  # exhibits.wall.page.PageText in the visitor's language
    name_size = NumericProperty("52sp")

    def fit_name(self, label) -> None:
        """The name as large as it can be drawn whole in two lines, no word wider than the column."""
        from kivy.core.text import Label as CoreLabel
        from kivy.metrics import sp

        largest, smallest = sp(52), sp(28)
        size = largest
        while size > smallest and label.width > 0:
            one_line = CoreLabel(text="Ág", font_name=label.font_name, font_size=size)
            one_line.render()
            longest = CoreLabel(text=max(label.text.split() or [""], key=len), font_name=label.font_name, font_size=size)
            longest.render()
            wrapped = CoreLabel(text=label.text, font_name=label.font_name, font_size=size, text_size=(label.width, None))
            wrapped.render()
            if longest._internal_size[0] <= label.width and wrapped._internal_size[1] <= 2.5 * one_line._internal_size[1]:
                break
            size -= sp(2)
        self.name_size = size

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
        # Read once per process, at start (kiosk.station.load_content): here only when the app was given none.
        collection = getattr(app.content, "collection", None) or load_collection(app.station.collection_dir)
    except KioskError as error:
        # Out of order, soberly, rather than a crash loop in front of visitors.
        log.error("wall has no collection", extra={"problem": error.message, "hint": error.hint})
        app.wall = None
        return [UnavailableScreen(name="grid")]
    wall = Wall(collection)
    from kivy.metrics import dp

    names = {person.person_id: person.display_name for person in collection.persons}
    grid = PortraitGrid.for_collection(
        collection,
        cache=app.station.data_dir / "thumbs",
        name_of=names.__getitem__,
        cell_width=dp(150),
        cell_height=dp(200),
        name_height=dp(62),
        spacing=dp(8),
    )
    index = SearchIndex.build(collection)
    index.search("warm up")  # the first search loads numpy and rapidfuzz: not in front of a visitor
    voices = make_wall_voices(app.station).start()
    app.bind(on_stop=lambda *_: voices.close())
    _report_devices(app, voices)
    app.wall = PortraitWall(app, WallFlow(wall, index, clock=app.clock, voices=voices), grid)
    screen = GridScreen(name="grid")
    screen.ids.grid_holder.add_widget(grid)
    screen.follow(grid)
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


def stage(app, screen: str, clock, person: str | None = None) -> None:
    """Show SCREEN as a visitor would reach it, for `kiosk screenshot` (PERSON: whose page)."""
    wall = app.wall
    if wall is None:
        app.screens.current = screen
        return
    if screen == "search":
        wall.go(screen)
        for key in "GOLDSTEIN":
            wall.type(key)
    elif screen == "person":
        wall.open_person(person_to_show(wall, person))
        app.screens.current = "person"
        return
    if screen in {s.value for s in Screen}:
        wall.go(screen)
    app.screens.current = screen


def person_to_show(wall: PortraitWall, person: str | None) -> str:
    """PERSON if the collection has them; else someone whose name can be heard, as
    visitors will mostly meet them, else someone with a portrait, else the first."""
    collection = wall.wall.collection
    if person is not None:
        if person not in collection.by_id:
            raise KioskError(f"no person '{person}' in the wall's collection", "give a person_id of persons.csv (kiosk search NAME --collection DIR --json shows them)")
        return person
    wall.voices.refresh_now()
    people = wall.wall.in_list_order
    chosen = next((p for p in people if wall.voices.has_voice(p.person_id)), None)
    chosen = chosen or next((p for p in people if collection.portrait_path(p)), None) or (people[0] if people else None)
    if chosen is None:
        raise KioskError("the wall's collection has nobody to show", "import a collection with persons (kiosk collection check DIR)")
    return chosen.person_id


def attract_backdrop(app):
    from exhibits.wall.attract import SlotPortraits, people_with_portraits

    people = people_with_portraits(app.wall.wall.collection) if app.wall else []
    backdrop = SlotPortraits(people)
    app.bind(on_stop=lambda *_: backdrop.stop())
    return backdrop
