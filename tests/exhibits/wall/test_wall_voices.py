"""The wall's voices without a screen: fetched on a worker thread, heard through a real
PulseAudio sink, stopped when the visitor moves on, and quiet about failures."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TESTS / "central"))
sys.path.insert(0, str(TESTS / "kiosk" / "link"))

from central_support import flac_bytes, keep_recording  # noqa: E402
from sync_support import CentralServer, enrolled_station, make_central, write_small_collection  # noqa: E402
from harness.sound import loudest_window_dbfs, read_wav  # noqa: E402

from exhibits.wall.voices import Hearing, WallVoices  # noqa: E402
from hardware.audio.portaudio import SoundDeviceSpeaker  # noqa: E402
from hardware.audio.simulated import SimulatedSpeaker  # noqa: E402
from kiosk.central.moderation import approve  # noqa: E402
from kiosk.link.client import CentralClient  # noqa: E402
from kiosk.link.voices import VoiceCatalogue  # noqa: E402


class Reports:
    def __init__(self):
        self.seen: list[Hearing] = []
        self.changed = threading.Condition()

    def __call__(self, hearing: Hearing) -> None:
        with self.changed:
            self.seen.append(hearing)
            self.changed.notify_all()

    def wait_for(self, hearing: Hearing, timeout: float = 15) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: hearing in self.seen, timeout), f"never {hearing}: {self.seen}"


class Central:
    def __init__(self, folder: Path, collection: Path):
        self.config, self.database = make_central(folder, collection)
        self.server = CentralServer(self.config, self.database).start()


@pytest.fixture
def central(tmp_path):
    central = Central(tmp_path / "central", write_small_collection(tmp_path / "collection", count=20))
    yield central
    central.server.stop()
    central.database.dispose()


@pytest.fixture
def voices_of(central, tmp_path):
    station = enrolled_station(tmp_path / "wall", central.server.url, central.database, tmp_path / "collection", station_id="wall-1")
    approve(central.database, keep_recording(central, "p-0002", audio=flac_bytes(seconds=1.0, frequency=330), station_id="booth-7"), by="anna")

    def make(speaker) -> WallVoices:
        voices = WallVoices(VoiceCatalogue(tmp_path / "voices"), speaker, lambda: CentralClient.for_station(station.config))
        assert voices.refresh_now()
        return voices

    return make


@pytest.mark.audio
def test_a_voice_is_heard_in_the_room(voices_of, pulse, monkeypatch, tmp_path):
    monkeypatch.setenv("PULSE_SINK", pulse.sink)
    speaker = SoundDeviceSpeaker("pulse")
    voices = voices_of(speaker)
    reports = Reports()
    with pulse.recording(tmp_path / "room.wav"):
        voices.play("p-0002", reports)
        reports.wait_for(Hearing.PLAYING)
        deadline = time.monotonic() + 15
        while speaker.playing() and time.monotonic() < deadline:
            time.sleep(0.05)
    heard, rate = read_wav(tmp_path / "room.wav")
    assert loudest_window_dbfs(heard, rate) > -30
    assert reports.seen == [Hearing.LOADING, Hearing.PLAYING]


def test_moving_on_while_it_loads_plays_nothing(voices_of):
    speaker = SimulatedSpeaker()
    voices = voices_of(speaker)
    reports = Reports()
    voices.play("p-0002", reports)
    voices.stop()  # the visitor left before the audio arrived
    time.sleep(1.0)
    assert speaker.played == []


def test_a_voice_that_cannot_be_fetched_is_reported_not_raised(voices_of, central):
    speaker = SimulatedSpeaker()
    voices = voices_of(speaker)
    central.server.stop()
    reports = Reports()
    voices.play("p-0002", reports)
    reports.wait_for(Hearing.UNAVAILABLE)
    assert speaker.played == []


def test_an_unplugged_speaker_is_reported_not_raised(voices_of):
    speaker = SimulatedSpeaker()
    voices = voices_of(speaker)
    speaker.lose()
    reports = Reports()
    voices.play("p-0002", reports)
    reports.wait_for(Hearing.UNAVAILABLE)
