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
    assert app.screens.current == "grid"
    driver.tap("open-search")
    assert app.screens.current == "search"
    for letter in typed.upper():
        driver.tap("key-space" if letter == " " else f"key-{letter}", settle=0.05)
    driver.settle(0.3)
    assert wall.view.query == typed.lower()

    row = driver.find(f"result-{target.person_id}")
    driver.tap(row)
    assert app.screens.current == "person"
    assert driver.find("person-name").text == target.display_name
    assert wall.view.person.person_id == target.person_id
    assert "wacht nog op een stem" in driver.find("person-voice").text, "no recording yet: the quiet line"


def test_filters_and_transports_narrow_the_grid(wall_station):
    driver, app = wall_station
    wall = app.wall
    driver.tap("attract")
    everyone = wall.view.count
    driver.tap("open-transports")
    assert app.screens.current == "transports"
    driver.tap("transport-II")
    assert app.screens.current == "grid" and wall.view.transport == "II"
    assert 0 < wall.view.count < everyone
    letter = wall.wall.letters()[0]
    driver.tap(f"letter-{letter}")
    assert wall.view.letter == letter
    driver.tap("clear-filters")
    assert wall.view.count == everyone and not wall.view.transport and not wall.view.letter


def test_a_tile_opens_its_person(wall_station):
    driver, app = wall_station
    driver.tap("attract")
    grid = app.wall.grid
    driver.settle(0.5)
    x, y, w, h = grid.cell_at(0)
    driver.tap_at(x + w / 2, y + h / 2)
    assert app.screens.current == "person"
    assert app.wall.view.person.person_id == app.wall.wall.person_ids()[0]


def test_a_new_visitor_finds_no_trace_of_the_last(wall_station):
    driver, app = wall_station
    driver.tap("attract")
    driver.tap("letter-" + app.wall.wall.letters()[0])
    driver.tap("open-search")
    driver.tap("key-A")
    app.finish()
    driver.settle(0.4)
    assert app.wall.view.query == "" and app.wall.view.letter == "" and app.wall.view.results == []
