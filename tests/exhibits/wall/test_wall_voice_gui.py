"""The portrait wall plays a person's name as read in the booth, once staff approved it:
a real window, real taps, a real central store on loopback."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

TESTS = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TESTS / "central"))
sys.path.insert(0, str(TESTS / "kiosk" / "link"))

from central_support import flac_bytes, keep_recording  # noqa: E402
from sync_support import CentralServer, make_central, write_small_collection  # noqa: E402

from kiosk.central.moderation import approve, withdraw  # noqa: E402
from kiosk.central.recordings import AudioStore  # noqa: E402
from kiosk.central.stations import enroll  # noqa: E402
from kiosk.config import load_station_config, write_station_config  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def wall_with_store(display, tmp_path):
    collection = write_small_collection(tmp_path / "collection", count=40)
    config, database = make_central(tmp_path / "central", collection)
    server = CentralServer(config, database).start()
    take = flac_bytes(seconds=0.8, frequency=330)
    approve(database, keep_recording(_Store(config, database), "p-0002", audio=take, code="HJKM-4567"), by="anna")
    keep_recording(_Store(config, database), "p-0003", audio=flac_bytes(frequency=550))  # not yet approved

    folder = tmp_path / "wall"
    token_file = tmp_path / "wall.token"
    token_file.write_text(enroll(database, "wall-1"))
    write_station_config(
        folder, exhibit="wall", station_id="wall-1", central_url=server.url, token_file=str(token_file),
        collection=str(collection), fullscreen=False, size=(1280, 800), audio="simulated",
    )
    station = load_station_config(folder)

    from kiosk.shell import prepare_kivy

    prepare_kivy(width=1280, height=800, fullscreen=False, kivy_home=tmp_path / "kivy", title="kiosk wall voice test")
    from kiosk.shell.app import StationApp
    from kiosk.shell.driver import StationDriver
    from kiosk.station import load_content

    app = StationApp(station, load_content(station.collection_dir))
    driver = StationDriver(app).start()
    try:
        yield driver, app, take, (config, database)
    finally:
        driver.stop()
        server.stop()
        database.dispose()


class _Store:
    def __init__(self, config, database):
        self.config, self.database = config, database


def test_an_approved_voice_is_heard_when_the_visitor_asks(wall_with_store):
    driver, app, take, _store = wall_with_store
    wall = app.wall
    driver.wait_until(lambda: wall.voices.has_voice("p-0002"), 15, "the list of approved voices")
    driver.tap("attract")
    wall.open_person("p-0002")
    driver.settle(0.3)
    hear = driver.find("person-hear")
    assert hear.opacity == 1 and not hear.disabled
    words = app.screens.current_screen.screen_words()  # audio mode offers the voice first
    assert words.controls[0].id == "person-hear" and words.controls[0].spoken.startswith(app.t(app.lang, "wall.say.hear"))
    assert app.t(app.lang, "wall.say.voice_offered") in words.spoken
    driver.tap("person-hear")
    speaker = wall.voices.speaker
    driver.wait_until(lambda: len(speaker.played) == 1, 15, "the name to be played")
    expected, rate = soundfile.read(__import__("io").BytesIO(take), dtype="float32")
    played = speaker.played[0]
    assert played.sample_rate == rate and np.allclose(played.samples, expected, atol=1e-4)
    driver.wait_until(lambda: wall.view.hearing == "playing", 5, "the page to say it plays")


def test_a_name_without_an_approved_voice_offers_the_booth_quietly(wall_with_store):
    driver, app, _take, _store = wall_with_store
    wall = app.wall
    driver.wait_until(lambda: wall.voices.has_voice("p-0002"), 15, "the list of approved voices")
    driver.tap("attract")
    wall.open_person("p-0003")  # received, not approved: not heard outside the booth
    driver.settle(0.3)
    hear = driver.find("person-hear", visible=False)
    assert hear.opacity == 0 and hear.disabled
    assert driver.find("person-voice").text == app.t(app.lang, "person.no_voice")
    words = app.screens.current_screen.screen_words()
    assert [c.id for c in words.controls] == ["back"] and app.t(app.lang, "person.no_voice") in words.spoken


def test_a_withdrawn_voice_is_no_longer_offered(wall_with_store):
    driver, app, _take, (config, database) = wall_with_store
    wall = app.wall
    driver.wait_until(lambda: wall.voices.has_voice("p-0002"), 15, "the list of approved voices")
    withdraw(database, AudioStore(config.audio_dir), "HJKM-4567", by="anna")
    assert wall.voices.refresh_now()
    driver.tap("attract")
    wall.open_person("p-0002")
    driver.settle(0.3)
    assert driver.find("person-hear", visible=False).disabled
    assert driver.find("person-voice").text == app.t(app.lang, "person.no_voice")
