"""The portrait wall in a real window: a visitor types a misspelled name on the on-screen
keyboard and opens the intended person's page; filters and the transports list work."""

from __future__ import annotations

import pytest

from kiosk.config import load_station_config, write_station_config

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def wall_station(display, tmp_path):
    from kiosk.collection import write_demo

    write_demo(tmp_path / "collection", count=300, seed=4)
    folder = tmp_path / "wall"
    write_station_config(folder, exhibit="wall", station_id="wall-1", fullscreen=False, size=(1280, 800), collection="../collection")
    config = load_station_config(folder)

    from kiosk.shell import prepare_kivy

    prepare_kivy(width=1280, height=800, fullscreen=False, kivy_home=tmp_path / "kivy", title="kiosk wall test")
    from kiosk.shell.app import StationApp
    from kiosk.shell.driver import StationDriver
    from kiosk.station import load_content

    app = StationApp(config, load_content(config.collection_dir))
    driver = StationDriver(app).start()
    yield driver, app
    driver.stop()


def shows(driver, app, screen: str) -> None:
    """Wait for SCREEN: on a loaded machine a touch can arrive some frames late."""
    driver.wait_until(lambda: app.screens.current == screen, timeout=20, what=f"the {screen} screen")


def _misspelled(surname: str) -> str:
    """One typo a visitor might make: two letters in the middle swapped."""
    i = len(surname) // 2
    return surname[: i - 1] + surname[i] + surname[i - 1] + surname[i + 1 :]


def test_a_misspelled_name_typed_on_the_keyboard_opens_the_intended_person(wall_station):
    driver, app = wall_station
    wall = app.wall
    # A person whose family name is long enough for a typo, and whom the misspelling finds.
    target = next(
        p
        for p in wall.wall.in_list_order
        if len(p.surname) >= 7 and p.surname.isascii() and p.surname.isalpha() and p.given_names.isascii()
        and _misspelled(p.surname) != p.surname
        and p.person_id in [h.person_id for h in wall.index.search(f"{p.given_names.split()[0]} {_misspelled(p.surname)}", limit=3)]
    )
    typed = f"{target.given_names.split()[0]} {_misspelled(target.surname)}"

    driver.tap("attract")
    shows(driver, app, "grid")
    driver.tap("open-search")
    shows(driver, app, "search")
    for letter in typed.upper():
        driver.tap("key-space" if letter == " " else f"key-{letter}", settle=0.05)
    # On a loaded machine a touch can arrive some frames late: wait for what it does.
    driver.wait_until(lambda: wall.view.query == typed.lower(), timeout=30, what=f"the query {typed.lower()!r}")

    row = driver.find(f"result-{target.person_id}")
    driver.tap(row)
    shows(driver, app, "person")
    assert driver.find("person-name").text == target.display_name
    assert wall.view.person.person_id == target.person_id
    assert "wacht nog op een stem" in driver.find("person-voice").text, "no recording yet: the quiet line"


def test_filters_and_transports_narrow_the_grid(wall_station):
    driver, app = wall_station
    wall = app.wall
    driver.tap("attract")
    shows(driver, app, "grid")
    everyone = wall.view.count
    driver.tap("open-transports")
    shows(driver, app, "transports")
    driver.tap("transport-II")
    shows(driver, app, "grid")
    assert wall.view.transport == "II"
    assert 0 < wall.view.count < everyone
    letter = wall.wall.letters()[0]
    driver.tap(f"letter-{letter}")
    driver.wait_until(lambda: wall.view.letter == letter, timeout=20, what=f"the letter {letter}")
    driver.tap("clear-filters")
    driver.wait_until(lambda: wall.view.count == everyone, timeout=20, what="the filters cleared")
    assert not wall.view.transport and not wall.view.letter


def test_a_letter_without_names_stays_shown_and_says_why_when_touched(wall_station):
    driver, app = wall_station
    driver.tap("attract")
    shows(driver, app, "grid")
    wall = app.wall
    empty = next(letter for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if letter not in wall.wall.letters())
    button = driver.find(f"letter-{empty}", visible=False)
    assert button.disabled and button.opacity > 0, "a letter without names is shown disabled, never hidden"
    driver.tap(button)
    driver.wait_until(lambda: driver.find("explanation", visible=False).shown, timeout=10, what="the explanation")
    assert driver.find("explanation").text == app.t("nl", "why.letter", letter=empty)
    assert not wall.view.letter, "touching it chose nothing"


def test_a_tile_opens_its_person(wall_station):
    driver, app = wall_station
    driver.tap("attract")
    shows(driver, app, "grid")
    grid = app.wall.grid
    driver.settle(0.5)
    x, y, w, h = grid.cell_at(0)
    driver.tap_at(x + w / 2, y + h / 2)
    shows(driver, app, "person")
    assert app.wall.view.person.person_id == app.wall.wall.person_ids()[0]


def test_a_new_visitor_finds_no_trace_of_the_last(wall_station):
    driver, app = wall_station
    driver.tap("attract")
    shows(driver, app, "grid")
    letter = app.wall.wall.letters()[0]
    driver.tap("letter-" + letter)
    driver.wait_until(lambda: app.wall.view.letter == letter, timeout=20, what=f"the letter {letter}")
    driver.tap("open-search")
    shows(driver, app, "search")
    driver.tap("key-A")
    driver.wait_until(lambda: app.wall.view.query == "a", timeout=20, what="the query 'a'")
    app.finish()
    driver.settle(0.4)
    assert app.wall.view.query == "" and app.wall.view.letter == "" and app.wall.view.results == []


def test_what_only_a_visitor_needs_is_made_when_a_visitor_asks_for_it(wall_station):
    """Issue 18 (memory after the attract screen): the search and person screens, the
    search index and the grid's page textures wait for a visitor, then work."""
    driver, app = wall_station
    wall = app.wall
    driver.frames(3)
    assert app.screens.current == "attract"
    assert not app.screens.get_screen("search").built and not app.screens.get_screen("person").built
    assert not wall.index.ready and wall.grid.loaded_pages == ()

    driver.tap("attract")
    shows(driver, app, "grid")
    driver.wait_until(lambda: wall.grid.tile_loaded(0), timeout=20, what="the first face")
    driver.tap("open-search")
    shows(driver, app, "search")
    assert app.screens.get_screen("search").built
    driver.wait_until(lambda: wall.index.ready, timeout=30, what="the search index, made in the background")
    target = next(p for p in wall.wall.in_list_order if p.surname[:4].isascii() and p.surname[:4].isalpha() and len(p.surname) >= 4)
    for letter in target.surname.upper()[:4]:
        driver.tap(f"key-{letter}", settle=0.05)
    driver.wait_until(lambda: wall.view.query == target.surname.lower()[:4], timeout=30, what="the query")
    driver.wait_until(lambda: any(row["person_id"] == target.person_id for row in wall.view.results), timeout=20, what="the results")
    wall.open_person(target.person_id)
    shows(driver, app, "person")
    assert app.screens.get_screen("person").built
    assert driver.find("person-name").text == target.display_name
