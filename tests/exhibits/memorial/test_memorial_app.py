"""The memorial station as a whole: its loop with a central store, and `kiosk run`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from memorial_support import approve_voice, enroll_memorial, name_audio, start_central  # noqa: E402

from exhibits.memorial.app import MemorialStation  # noqa: E402
from hardware.multichannel.simulated import SimulatedMultichannel  # noqa: E402
from kiosk.config import load_station_config  # noqa: E402


@pytest.fixture
def central(tmp_path):
    started = start_central(tmp_path / "store")
    try:
        yield started
    finally:
        started.server.stop()
        started.database.dispose()


def run_until(station: MemorialStation, output: SimulatedMultichannel, condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the memorial did not get there in time"
        station.tick()
        output.advance(0.1)
        time.sleep(0.01)


def test_the_station_fetches_plays_shows_and_goes_on_when_the_store_goes_away(central, tmp_path):
    approve_voice(central, "t-xx-004", name_audio(300))
    approve_voice(central, "t-z-002", name_audio(500))
    config = load_station_config(enroll_memorial(tmp_path / "memorial", central, channels=2, pause_s=0.3))
    output = SimulatedMultichannel(2)
    station = MemorialStation(config, output)
    station.start()
    try:
        run_until(station, output, lambda: station.player.played >= 1)
        view = station.view()
        assert view.name == "Abram Maria Testowa4"
        assert (view.transport, view.departed.isoformat(), view.persons, view.names_with_voice) == ("XX", "1943-04-19", 40, 2)
        assert view.fictional  # the test collection is marked fictional: the screen says so
        central.server.stop()
        played = station.player.played
        run_until(station, output, lambda: station.player.played >= played + 3)
    finally:
        station.stop()


def test_kiosk_run_plays_a_memorial_until_systemd_stops_it(central, tmp_path):
    approve_voice(central, "t-xx-004", name_audio(300))
    station_toml = enroll_memorial(tmp_path / "memorial", central)
    kiosk = Path(sys.executable).parent / "kiosk"
    environment = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    environment.pop("DISPLAY", None)
    process = subprocess.Popen(
        [str(kiosk), "run", str(station_toml), "--windowed"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
    )
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "memorial" / "data" / "memorial" / "voices.json").exists():
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "no list fetched in 30 s"
            time.sleep(0.2)
        time.sleep(2)
    finally:
        process.send_signal(signal.SIGTERM)
        out, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    messages = [json.loads(line).get("msg") for line in out.splitlines() if line.startswith("{")]
    assert "memorial started" in messages and "memorial stopped" in messages, out + errors
    stopped = [json.loads(line) for line in out.splitlines() if '"memorial stopped"' in line][0]
    assert stopped["names_played"] >= 1  # the name sounded (on the simulated card)
