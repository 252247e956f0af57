"""`kiosk doctor` on a healthy booth and on broken ones, run as a technician runs it.

Everything is real: the microphone and speaker through the private PulseAudio (espeak-ng
speaks into the booth sink while the doctor listens on its monitor), the controller is
the firmware on a pseudo-terminal, the central store runs on loopback with the station
enrolled, and the full disk is a 1 MB tmpfs mounted over the station's data folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "link"))

from sync_support import CentralServer, enrolled_station, make_central, write_small_collection  # noqa: E402

from hardware.controller.firmware.main import FIRMWARE_VERSION  # noqa: E402
from hardware.controller.simulator import PtyControllerSimulator  # noqa: E402

KIOSK = [sys.executable, "-m", "kiosk"]


class Central(NamedTuple):
    url: str
    database: object
    collection: Path


@pytest.fixture(scope="module")
def central(tmp_path_factory) -> Iterator[Central]:
    folder = tmp_path_factory.mktemp("doctor-central")
    collection = write_small_collection(folder / "collection", count=30)
    config, database = make_central(folder / "central", collection)
    server = CentralServer(config, database).start()
    try:
        yield Central(server.url, database, collection)
    finally:
        server.stop()
        database.dispose()


def set_booth(toml: Path, **settings: str) -> None:
    """Rewrite [booth] keys in station.toml, as a technician edits the file."""
    lines = []
    for line in toml.read_text(encoding="utf-8").splitlines():
        key = line.split("=")[0].strip()
        lines.append(f"{key} = {json.dumps(settings[key])}" if key in settings and "=" in line else line)
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def booth(tmp_path, central) -> Iterator[tuple[Path, PtyControllerSimulator]]:
    """A booth enrolled with the store, its controller plugged in; audio left simulated here."""
    station = enrolled_station(tmp_path / "booth", central.url, central.database, central.collection, station_id="booth-7")
    with PtyControllerSimulator(tmp_path / "dossin-controller") as controller:
        set_booth(station.toml, controller=str(controller.link))
        yield station.toml, controller


def doctor(toml: Path) -> tuple[int, dict, str]:
    result = subprocess.run([*KIOSK, "doctor", str(toml), "--json"], capture_output=True, text=True, timeout=120)
    return result.returncode, json.loads(result.stdout), result.stderr


def by_name(report: dict) -> dict[str, dict]:
    return {check["name"]: check for check in report["checks"]}


@pytest.fixture
def speaking(pulse, tmp_path) -> Iterator[None]:
    """A voice in the booth for as long as the test runs, as a technician speaking."""
    speech = pulse.speak_to_file("Chaja Goldsztajn, Mechelen", "nl", tmp_path / "voice.wav")
    stop = threading.Event()

    def talk() -> None:
        while not stop.is_set():
            pulse.play(speech)

    talker = threading.Thread(target=talk, daemon=True)
    talker.start()
    yield
    stop.set()
    talker.join(timeout=30)


@pytest.mark.audio
@pytest.mark.slow
def test_a_healthy_booth_passes_every_check(booth, speaking):
    toml, _controller = booth
    set_booth(toml, microphone="pulse", speaker="pulse")
    code, report, stderr = doctor(toml)
    checks = by_name(report)
    assert {name: c["status"] for name, c in checks.items()} == {
        "config": "ok", "microphone": "ok", "speaker": "ok", "controller": "ok", "disk": "ok",
        "clock": "ok", "central": "ok", "token": "ok", "sync_queue": "ok",
    }, report
    assert code == 0 and report["ok"]
    assert "speak into the microphone now" in stderr
    assert "heard you at" in checks["microphone"]["detail"]
    assert f"firmware {FIRMWARE_VERSION}" in checks["controller"]["detail"]
    assert "of the central store" in checks["clock"]["detail"]


@pytest.mark.audio
def test_a_silent_microphone_is_named(booth, pulse):
    toml, _ = booth
    set_booth(toml, microphone="pulse", speaker="simulated")
    code, report, _ = doctor(toml)
    microphone = by_name(report)["microphone"]
    assert code == 1 and microphone["status"] == "fail"
    assert "heard nothing" in microphone["detail"] and "mute switch" in microphone["fix"]


@pytest.mark.audio
def test_no_microphone(booth, pulse):
    toml, _ = booth
    set_booth(toml, microphone="USB Audio Device", speaker="simulated")
    code, report, _ = doctor(toml)
    microphone = by_name(report)["microphone"]
    assert code == 1 and microphone["status"] == "fail"
    assert "no input device named like 'USB Audio Device'" in microphone["detail"]
    assert "'pulse'" in microphone["detail"]  # the devices there are, to choose from
    assert "plug the microphone in" in microphone["fix"]
    assert [c["name"] for c in report["checks"] if c["status"] == "fail"] == ["microphone"]


def test_no_controller(booth):
    toml, controller = booth
    controller.unplug()
    code, report, _ = doctor(toml)
    check = by_name(report)["controller"]
    assert code == 1 and check["status"] == "fail"
    assert check["detail"] == f"no controller at {controller.link}"
    assert "plug the controller's USB cable in" in check["fix"] and 'controller = "none"' in check["fix"]
    assert [c["name"] for c in report["checks"] if c["status"] == "fail"] == ["controller"]


def test_a_controller_that_does_not_answer(booth):
    toml, controller = booth
    controller.freeze()
    code, report, _ = doctor(toml)
    check = by_name(report)["controller"]
    assert code == 1 and "answers nothing" in check["detail"] and "flash" in check["fix"]


def test_wrong_token(booth):
    toml, _ = booth
    token_file = toml.parent / "central.token"
    token_file.write_text("not-the-token-the-store-gave\n", encoding="utf-8")
    code, report, _ = doctor(toml)
    check = by_name(report)["token"]
    assert code == 1 and check["status"] == "fail"
    assert "refuses this station's token" in check["detail"]
    assert "kiosk central enroll --config central.toml booth-7" in check["fix"] and str(token_file) in check["fix"]
    assert by_name(report)["central"]["status"] == "ok"


def test_central_store_unreachable(booth):
    toml, _ = booth
    text = toml.read_text(encoding="utf-8")
    lines = [('url = "http://127.0.0.1:9"' if line.startswith("url =") else line) for line in text.splitlines()]
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, report, _ = doctor(toml)
    checks = by_name(report)
    assert code == 1 and checks["central"]["status"] == "fail" and "cannot be reached" in checks["central"]["detail"]
    assert checks["token"]["status"] == "skipped"


@pytest.fixture
def full_data_folder(booth) -> Iterator[Path]:
    toml, _ = booth
    data = toml.parent / "data"
    data.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(data)], check=True)
    try:
        with open(data / "filler", "wb") as filler:
            try:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
            except OSError:
                pass  # ENOSPC: the disk is full, as wanted
        yield data
    finally:
        subprocess.run(["umount", "--lazy", str(data)], check=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root (the CI machines run tests as root)")
def test_full_disk(booth, full_data_folder):
    toml, _ = booth
    code, report, _ = doctor(toml)
    check = by_name(report)["disk"]
    assert code == 1 and check["status"] == "fail"
    assert check["detail"].startswith(f"{full_data_folder} is full")
    assert "kiosk sync run --once" in check["fix"]


def test_a_broken_config_stops_the_other_checks(tmp_path):
    toml = tmp_path / "station.toml"
    toml.write_text('[station]\nid = "Booth 1"\nexhibit = "booth"\n', encoding="utf-8")
    code, report, _ = doctor(toml)
    checks = report["checks"]
    assert code == 1 and checks[0]["status"] == "fail" and "[station] id" in checks[0]["detail"]
    assert {c["status"] for c in checks[1:]} == {"skipped"}


def test_lines_for_a_technician(booth):
    toml, controller = booth
    controller.unplug()
    result = subprocess.run([*KIOSK, "doctor", str(toml)], capture_output=True, text=True, timeout=120)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok    config")
    failing = [line for line in lines if line.startswith("FAIL")]
    assert failing == [f"FAIL  controller  no controller at {controller.link}"]
    assert any(line.strip().startswith("what to do: plug the controller's USB cable in") for line in lines)
    assert lines[-1] == "1 problem(s): controller"
