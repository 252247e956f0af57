"""The booth's "my age" match end to end: a Kivy window under Xvfb touched through X, the
booth's names from a real central store on loopback (leases over HTTP), a name booked
beforehand that the match must not give to anyone else."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "kiosk" / "link"))

from sync_support import CentralServer, enrolled_station, make_central  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def booth_with_store(display, tmp_path):
    from kiosk.collection import load_collection, write_demo

    write_demo(tmp_path / "collection", count=150, seed=3)
    config, database = make_central(tmp_path / "central", tmp_path / "collection")
    server = CentralServer(config, database).start()
    station = enrolled_station(tmp_path / "booth", server.url, database, tmp_path / "collection")

    from kiosk.shell import prepare_kivy

    prepare_kivy(width=1280, height=800, fullscreen=False, kivy_home=tmp_path / "kivy", title="kiosk booth test")
    from kiosk.shell.app import StationApp
    from kiosk.shell.driver import StationDriver
    from kiosk.station import load_content

    app = StationApp(station.config, load_content(station.config.collection_dir))
    driver = StationDriver(app).start()
    try:
        yield driver, app, database, load_collection(tmp_path / "collection"), tmp_path
    finally:
        driver.stop()
        server.stop()
        database.dispose()


def test_a_participant_finds_a_name_by_age_through_the_screen(booth_with_store):
    from kiosk.central.bookings import BookingRules, book
    from kiosk.central.leases import held_by
    from kiosk.central.matching import Wish
    from kiosk.central.stations import Station

    driver, app, database, collection, tmp_path = booth_with_store
    flow = app.booth.flow
    # The age shared by most persons, from 30 up so the +10 key gets there; one of them
    # is booked for someone else first.
    ages = [collection.age_at_departure(p) for p in collection.persons]
    age = max((a for a in set(ages) if a is not None and 30 <= a <= 59), key=ages.count)
    assert ages.count(age) >= 2
    [booked] = book(database, BookingRules(), [Wish(age=age)])
    assert booked.matched_on == "age"

    def tap_to(name: str, step: str) -> None:
        # On a loaded machine a touch can take a while to arrive: wait for what it does.
        driver.tap(name)
        driver.wait_until(lambda: flow.step.value == step, timeout=10, what=f"{name} to lead to {step}")

    driver.tap("attract")
    driver.wait_until(lambda: app.phase == "active", timeout=10, what="the visit to start")
    driver.tap("language-en")
    driver.wait_until(lambda: app.lang == "en", timeout=10, what="English")
    tap_to("booth-begin", "age")
    tap_to("age-18-plus", "consent")
    tap_to("consent-agree", "choose")
    tap_to("choose-match", "match")
    assert driver.find("match-find", visible=False).disabled, "nothing shared yet"
    assert driver.find("age-value").text == "—"
    shown = lambda: driver.find("age-value").text  # noqa: E731
    for tens in range(1, age // 10 + 1):
        driver.tap("age-up-10")
        driver.wait_until(lambda: shown() == str(10 * tens), what=f"the age to show {10 * tens}")
    for ones in range(1, age % 10 + 1):
        driver.tap("age-up")
        driver.wait_until(lambda: shown() == str(age - age % 10 + ones), what="the age to go up by one")
    driver.tap("age-up-10")
    driver.wait_until(lambda: shown() == str(age + 10), what="the age to go up by ten")
    driver.tap("age-down-10")
    driver.wait_until(lambda: shown() == str(age), what="the age to go down by ten")
    driver.screenshot(tmp_path / "match-age-en.png")
    driver.tap("match-find")
    driver.wait_until(lambda: flow.step.value == "name", timeout=20, what="the matched name")

    assignment = flow.assignment
    assert assignment.how == "match" and flow.notice is None
    assert collection.age_at_departure(collection.by_id[assignment.person_id]) == age
    assert assignment.person_id != booked.person_id, "a booked name goes to its code only"
    assert driver.find("person-name").text == assignment.display_name
    with database.read() as connection:
        from sqlalchemy import select

        from kiosk.central.schema import stations

        row = connection.execute(select(stations.c.id, stations.c.station_id).where(stations.c.station_id == "booth-1")).one()
    leases = {lease.person_id: lease.how for lease in held_by(database, Station(row.id, row.station_id))}
    assert leases.get(assignment.person_id) == "match"
