"""The wall's flow without a screen: real collection, real search index, a stepped clock."""

from __future__ import annotations

import threading

import pytest

from exhibits.wall.browse import Filter, Wall
from exhibits.wall.flow import BACKSPACE, CLEAR, Screen, WallFlow
from exhibits.wall.search import SearchIndex
from exhibits.wall.voices import Hearing
from kiosk.clock import ManualClock
from kiosk.collection import load_collection, write_demo


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wall-flow-collection")
    write_demo(folder, count=400, seed=9)
    return load_collection(folder)


@pytest.fixture(scope="module")
def index(collection):
    return SearchIndex.build(collection)


class Voices:
    """The wall's voices as the flow uses them; anything else it is asked fails the test."""

    def __init__(self, voiced: set[str]):
        self.voiced = voiced
        self.played: list[str] = []
        self.stops = 0
        self.reports: list = []

    def has_voice(self, person_id: str) -> bool:
        return person_id in self.voiced

    def play(self, person_id: str, report) -> None:
        self.played.append(person_id)
        self.reports.append(report)

    def stop(self) -> None:
        self.stops += 1

    def __getattr__(self, name: str):
        raise AssertionError(f"the flow asked the voices for {name!r}, which they do not offer")


def make(collection, index, voiced=()):
    clock = ManualClock(50.0)
    voices = Voices(set(voiced))
    flow = WallFlow(Wall(collection), index, clock=clock, voices=voices)
    seen: list[Screen] = []
    flow.subscribe(seen.append)
    return flow, clock, voices, seen


def test_the_grid_narrows_and_widens_with_filters(collection, index):
    flow, _, _, seen = make(collection, index)
    everyone = list(flow.shown)
    assert flow.screen is Screen.GRID and len(everyone) == 400
    flow.go("transports")
    flow.choose_transport("XXVI")
    assert flow.screen is Screen.GRID, "choosing a transport shows its faces"
    assert flow.shown and all(collection.by_id[i].transport == "XXVI" for i in flow.shown)
    letter = collection.by_id[flow.shown[0]].surname[:1].upper()
    flow.choose_letter(letter)
    assert flow.filter == Filter(transport="XXVI", letter=flow.filter.letter)
    flow.choose_letter(flow.filter.letter)
    assert flow.filter == Filter(transport="XXVI"), "the same letter again takes it off"
    flow.choose_decade(1920)
    assert all(1920 <= collection.by_id[i].birth_date.year < 1930 for i in flow.shown)
    flow.clear()
    assert flow.shown == everyone and flow.filter == Filter()
    assert seen[:2] == [Screen.TRANSPORTS, Screen.GRID]


def test_typing_searches_and_keys_edit_the_query(collection, index):
    flow, _, _, _ = make(collection, index)
    person = collection.persons[17]
    flow.go(Screen.SEARCH)
    for key in person.surname.upper():
        flow.type(key)
    assert flow.query == person.surname.lower()
    assert person.person_id in [result.person_id for result in flow.results]
    flow.type(" ")
    flow.type(" ")
    assert flow.query.endswith(" ") and not flow.query.endswith("  "), "one space between words"
    flow.type(BACKSPACE)
    assert flow.query == person.surname.lower()
    flow.type(CLEAR)
    assert flow.query == "" and flow.results == []
    for _ in range(60):
        flow.type("a")
    assert len(flow.query) == 40, "a query is bounded"


def test_a_person_page_plays_only_an_approved_voice_and_only_for_that_page(collection, index):
    voiced, silent = collection.persons[3].person_id, collection.persons[4].person_id
    flow, clock, voices, _ = make(collection, index, voiced={voiced})
    flow.open_person(silent)
    assert flow.screen is Screen.PERSON and not flow.has_voice
    flow.hear(lambda *_: None)
    assert voices.played == [], "no approved voice, nothing to play"

    clock.advance(5)
    flow.open_person(voiced)
    assert flow.screen_since == clock() and flow.has_voice
    reports: list = []
    flow.hear(lambda person_id, hearing: reports.append((person_id, hearing)))
    assert voices.played == [voiced]
    # The voice reports from a worker thread; the screen hands it back to its own thread.
    worker = threading.Thread(target=voices.reports[0], args=(Hearing.PLAYING,))
    worker.start()
    worker.join()
    assert reports == [(voiced, Hearing.PLAYING)]
    flow.heard(*reports[0])
    assert flow.hearing is Hearing.PLAYING

    flow.open_person(silent)
    flow.heard(voiced, Hearing.UNAVAILABLE)
    assert flow.hearing is Hearing.READY, "a late report of the previous page changes nothing"


def test_leaving_a_page_stops_its_voice_and_a_new_visitor_starts_afresh(collection, index):
    voiced = collection.persons[3].person_id
    flow, _, voices, _ = make(collection, index, voiced={voiced})
    flow.choose_transport(collection.persons[3].transport)
    flow.type("g")
    flow.open_person(voiced)
    stops = voices.stops
    flow.go(Screen.GRID)
    assert voices.stops == stops + 1
    flow.forget()
    assert (flow.screen, flow.filter, flow.query, flow.results, flow.person) == (Screen.GRID, Filter(), "", [], None)
    assert len(flow.shown) == 400
