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
from exhibits.wall import spoken
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
    def back(self) -> bool:
        """Escape (the keypad's back key) goes back to the faces, as the Back button does."""
        wall = App.get_running_app().wall
        if wall is None or self.name == "grid":
            return False  # the shell puts the focus on "start over"
        wall.go("grid")
        return True


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
        self._letters_known: list[str] | None = None
        self._last_said: tuple | None = None  # (screen, (query, filter, count)) last shown
        self._faces_said: list[int] = []
        grid.bind(on_select=lambda _grid, person_id: flow.open_person(person_id))
        grid.spoken_names = self._grid_spoken
        flow.subscribe(self._show)
        self._show(flow.screen, switch=False)

    @property
    def wall(self) -> Wall:
        return self.flow.wall

    @property
    def index(self):
        return self.flow.index  # exhibits.wall.ondemand.SearchOnDemand

    @property
    def voices(self):
        return self.flow.voices  # exhibits.wall.voices.WallVoices

    # -- what audio mode says (exhibits.wall.spoken) ---------------------------------------

    def grid_words(self):
        flow = self.flow
        in_view = self.grid.faces_in_view()
        faces = [flow.wall.facts(self.grid.person_ids[index]) for index in in_view]
        more = bool(in_view) and in_view[-1] < len(self.grid.person_ids) - 1
        return spoken.grid_words(self.app.lang, count=len(flow.shown), chosen_filter=flow.filter, letters=self._letters(), faces=faces, more=more)

    def more_faces(self) -> None:
        """The next faces at the top of the view (audio mode's "more faces": a keypad cannot swipe)."""
        in_view = self.grid.faces_in_view()
        if not in_view or in_view[-1] >= len(self.grid.person_ids) - 1:
            return
        self.grid.scroll_to(in_view[-1] + 1)
        self.faces_moved()
        if getattr(self.app, "audio_mode", False):
            shown = self.grid.faces_in_view()
            self.app.speech.say(spoken.faces_shown(self.app.lang, shown[0] + 1, shown[-1] + 1, len(self.grid.person_ids)), self.app.lang)

    def _letters(self) -> list[str]:
        if self._letters_known is None:
            self._letters_known = self.wall.letters()
        return self._letters_known

    def _grid_spoken(self) -> dict[str, str]:
        """The grid's own items (layout_items) by name: the surface and the faces in view."""
        named = {control.id: control.spoken for control in self.grid_words().controls if control.id.startswith("face-")}
        named["portrait-grid"] = spoken.portraits_words(self.app.lang)
        return named

    def search_words(self, keyboard):
        lang = self.app.lang
        results = [spoken.result_words(lang, result) for result in self.flow.results]
        keys = keyboard.controls(lambda key, **values: self.app.t(lang, key, **values))
        return spoken.search_words(lang, query=self.flow.query, results=results, keys=keys)

    def person_words(self):
        flow = self.flow
        return spoken.person_words(self.app.lang, flow.person, has_voice=flow.has_voice, hearing=flow.hearing.value)

    def transports_words(self):
        counts = self.wall.collection.counts()
        return spoken.transports_words(self.app.lang, [(t.code, t.departed, counts[t.code]) for t in self.wall.transports()])

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
        self._tell_audio_mode(screen)
        # The attract screen belongs to the shell: a new visitor's flow waits behind it.
        if switch and self.app.screens.current != "attract" and self.app.screens.current != screen.value:
            self.app.screens.current = screen.value

    def _tell_audio_mode(self, screen: Screen) -> None:
        """The guide hears of new words on the screen; in audio mode a press that changed
        what the screen shows (a key typed, a filter chosen) is answered aloud."""
        flow, app = self.flow, self.app
        now = (flow.query, flow.filter, len(flow.results) if screen is Screen.SEARCH else len(flow.shown))
        before, self._last_said = self._last_said, (screen, now)
        words_changed = getattr(app, "words_changed", None)
        if words_changed is None or before is None:
            return
        words_changed()
        if before[0] is screen and getattr(app, "audio_mode", False) and app.screens.current == screen.value:
            said = spoken.after_change(app.lang, screen.value, before[1], now)
            if said:
                app.speech.say(said, app.lang)

    def faces_moved(self) -> None:
        """The grid scrolled: other faces are in view, so other controls."""
        shown = self.grid.faces_in_view()
        if shown != self._faces_said:
            self._faces_said = shown
            words_changed = getattr(self.app, "words_changed", None)
            if words_changed is not None and self.app.screens.current == "grid":
                words_changed()

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

        speech = getattr(self.app, "speech", None)
        if speech is not None:
            speech.stop()  # audio mode's voice and the reader's share the speaker: the reader's wins

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


class BuiltWhenShown:
    """A screen whose kv rules (its widgets, their texts and bindings) are applied when it
    is first shown, not at the wall's start: the search screen's keyboard, the person
    page and the transports' heading are 76 widgets, with their textures, that many
    visits never open (issue 18: memory after the attract screen). Done as Kivy's
    Widget.__init__ does it: the class rules, then `on_kv_post` to the rules' children
    and to the screen."""

    def __init__(self, **kwargs):
        self.built = False
        super().__init__(**{"__no_builder": True}, **kwargs)

    def build_now(self) -> None:
        """Apply the rules now (the first `on_pre_enter` does it; a test may)."""
        if self.built:
            return
        self.built = True
        rule_children: list = []
        self.apply_class_lang_rules(ignored_consts=self._kwargs_applied_init, rule_children=rule_children)
        for widget in rule_children:
            widget.dispatch("on_kv_post", self)
        self.dispatch("on_kv_post", self)

    def on_pre_enter(self, *_args) -> None:
        self.build_now()


class UnavailableScreen(WallScreen):
    def screen_words(self):
        return spoken.unavailable_words(App.get_running_app().lang)


class GridScreen(WallScreen):
    more_below = BooleanProperty(False)  # the grid goes on below the view: the cue shows

    def follow(self, grid) -> None:
        from kivy.clock import Clock

        def update(*_args) -> None:
            self.more_below = grid.scroll < grid.max_scroll - 1

        def moved(_dt) -> None:
            # Later than the move: the app may have stopped, and another one (a test's next) run.
            wall = getattr(App.get_running_app(), "wall", None)
            if wall is not None:
                wall.faces_moved()

        faces_moved = Clock.create_trigger(moved, 0.2)
        self._grid = grid
        grid.bind(scroll=update, max_scroll=update)
        grid.bind(scroll=lambda *_: faces_moved(), size=lambda *_: faces_moved())
        update()

    def on_pre_enter(self, *_args) -> None:
        """Shown: the grid asks for its pages (none while another screen shows, as the
        attract screen does at the wall's start)."""
        grid = getattr(self, "_grid", None)
        if grid is not None:
            grid.showing = True

    def on_leave(self, *_args) -> None:
        grid = getattr(self, "_grid", None)
        if grid is not None:
            grid.showing = False

    def forget(self) -> None:
        App.get_running_app().wall.forget()

    def screen_words(self):
        return App.get_running_app().wall.grid_words()

    def press(self, control_id: str) -> bool:
        """Audio mode presses a face (drawn by the grid, not a widget): open the person;
        the cue that the grid goes on: the next faces."""
        if control_id.startswith("face-"):
            App.get_running_app().wall.open_person(control_id[len("face-") :])
            return True
        if control_id == "scroll-cue":
            App.get_running_app().wall.more_faces()
            return True
        return False

    def control_box(self, control_id: str):
        """Where the focus ring goes for a face: its cell and name, in window coordinates."""
        if not control_id.startswith("face-"):
            return None
        grid = App.get_running_app().wall.grid
        try:
            x, y, width, height = grid.cell_at(grid.index_of(control_id[len("face-") :]))
        except LookupError:
            return None
        return x, y - grid.name_height, width, height + grid.name_height  # the face and its name


class SearchScreen(BuiltWhenShown, WallScreen):
    def on_pre_enter(self, *_args) -> None:
        """The index is made while the visitor reads the screen (exhibits.wall.ondemand)."""
        super().on_pre_enter()
        wall = App.get_running_app().wall
        if wall is not None:
            wall.index.prepare()

    def screen_words(self):
        return App.get_running_app().wall.search_words(self.ids.keyboard)

    def press(self, control_id: str) -> bool:
        """A result opens the person, also when it is scrolled out of the list's view."""
        if control_id.startswith("result-"):
            App.get_running_app().wall.open_person(control_id[len("result-") :])
            return True
        return False

    def reveal(self, control_id: str) -> None:
        """A result the focus reached below or above the list's view is scrolled into it
        (its row is drawn on the next frame, where the ring finds it)."""
        results = self.ids.results
        names = [row["test_name"] for row in results.data]
        if control_id not in names or results.height <= 0:
            return
        row_height = results.children[0].default_size[1] if results.children else results.height
        content = row_height * len(names)
        if content <= results.height:
            return
        top = names.index(control_id) * row_height  # from the list's top
        shown_top = (1 - results.scroll_y) * (content - results.height)
        if top < shown_top:
            shown_top = top
        elif top + row_height > shown_top + results.height:
            shown_top = top + row_height - results.height
        results.scroll_y = 1 - shown_top / (content - results.height)


class PersonScreen(BuiltWhenShown, WallScreen):
    page = ObjectProperty(None, allownone=True)  # exhibits.wall.page.PageText in the visitor's language
    name_size = NumericProperty("52dp")

    def on_kv_post(self, _base_widget) -> None:
        App.get_running_app().bind(text_scale=lambda *_: self.fit_name(self.ids.person_name))

    def on_page(self, *_args) -> None:
        """Another person: their page is read from its top."""
        lines = self.ids.get("page_lines")
        if lines is not None:
            lines.scroll_y = 1

    def fit_name(self, label) -> None:
        """The name as large as it can be drawn whole in two lines, no word wider than the column."""
        from kivy.core.text import Label as CoreLabel
        from kivy.metrics import dp

        # In dp, not sp: the name is large already, and large text (which grows sp) needs
        # the room for the lines below it.
        # With large text the lines below grow: the name gives them some of its room.
        large = App.get_running_app().text_scale > 1
        largest, smallest = (dp(40) if large else dp(52)), dp(28)
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
            size -= dp(2)
        self.name_size = size

    def screen_words(self):
        return App.get_running_app().wall.person_words()

    def on_leave(self, *_args) -> None:
        wall = App.get_running_app().wall
        if wall is not None:
            wall.stop_voice()


class TransportsScreen(BuiltWhenShown, WallScreen):
    def screen_words(self):
        return App.get_running_app().wall.transports_words()

    def reveal(self, control_id: str) -> None:
        """A transport the focus reached out of the list's view is scrolled into it."""
        row = next((row for row in self.ids.transports.children if row.test_name == control_id), None)
        if row is not None:
            self.ids.transports.parent.scroll_to(row, padding=0, animate=False)

    def on_pre_enter(self, *_args) -> None:
        """The rows are made when the screen is first shown, not at the wall's start: a
        hundred widgets and their texts that many visits never open."""
        super().on_pre_enter()
        if self.ids.transports.children:
            return
        wall = App.get_running_app().wall
        counts = wall.wall.collection.counts()
        for transport in wall.wall.transports():
            self.ids.transports.add_widget(
                TransportRow(code=transport.code, departed=transport.departed, persons=counts[transport.code], test_name=f"transport-{transport.code}")
            )


def build_screens(app) -> list:
    from exhibits.wall.grid import PortraitGrid
    from exhibits.wall.ondemand import SearchOnDemand
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

    by_id = collection.by_id

    def name_of(person_id: str) -> str:  # for the faces drawn, not kept for 25,843 persons
        return by_id[person_id].display_name

    grid = PortraitGrid.for_collection(
        collection,
        cache=app.station.data_dir / "thumbs",
        name_of=name_of,
        cell_width=dp(150),
        cell_height=dp(200),
        name_height=dp(62),
        spacing=dp(8),
        showing=False,  # behind the attract screen: the grid screen's on_pre_enter shows it
    )
    collection.forget_portrait_signatures()  # the thumbnails are checked: the start's facts go
    index = SearchOnDemand(collection)  # made when the search screen first opens (issue 18: memory)
    voices = make_wall_voices(app.station).start()
    app.bind(on_stop=lambda *_: voices.close())
    _report_devices(app, voices)
    app.wall = PortraitWall(app, WallFlow(wall, index, clock=app.clock, voices=voices), grid)
    _follow_the_visit(app, grid)
    screen = GridScreen(name="grid")
    screen.ids.grid_holder.add_widget(grid)
    screen.follow(grid)
    return [screen, SearchScreen(name="search"), PersonScreen(name="person"), TransportsScreen(name="transports")]


def _follow_the_visit(app, grid) -> None:
    """The grid draws itself: high contrast and large text (kiosk.shell.palette) reach it here."""
    palette = app.palette

    def colours(*_args) -> None:
        grid.background_color = palette.background
        grid.name_color = palette.text

    name_height, name_sizes = grid.name_height, list(grid.name_sizes)

    def text_size(*_args) -> None:  # names in sp grow: their band under the face grows too
        scale = app.text_scale
        grid.name_height = name_height * scale
        # The longest names (one word wider than the face) may still take the smallest size they had.
        grid.name_sizes = name_sizes + [size / scale for size in name_sizes if size / scale < name_sizes[-1]]
        grid.restyle()

    palette.bind(background=colours, text=colours)
    app.bind(text_scale=text_size)
    colours()
    if app.text_scale != 1:
        text_size()


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
    backdrop = SlotPortraits(people, clock=app.clock)
    app.bind(on_stop=lambda *_: backdrop.stop())
    return backdrop
