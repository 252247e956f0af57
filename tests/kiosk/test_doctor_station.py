"""`kiosk doctor` on a healthy booth and on broken ones, run as a technician runs it.

Everything is real: the microphone and speaker through the private PulseAudio, named as
a gallery's cards are (`harness.alsa`; espeak-ng speaks into the booth sink while the
doctor listens on its monitor), the controller is
the firmware on a pseudo-terminal, the central store runs on loopback with the station
enrolled, and the full disk is a 1 MB tmpfs mounted over the station's data folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "link"))

from sync_support import CentralServer, enrolled_station, make_central, write_small_collection  # noqa: E402

from harness.alsa import named_devices  # noqa: E402

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


def mark_demo(toml: Path) -> None:
    """Say in station.toml that `kiosk demo` made it, as the demo does."""
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace("[station]\n", "[station]\ndemo = true\n", 1), encoding="utf-8")


@pytest.fixture
def gallery_booth(tmp_path, central) -> Iterator[tuple[Path, PtyControllerSimulator]]:
    """A booth enrolled with the store, its controller plugged in, audio still simulated."""
    station = enrolled_station(tmp_path / "booth", central.url, central.database, central.collection, station_id="booth-7")
    with PtyControllerSimulator(tmp_path / "dossin-controller") as controller:
        set_booth(station.toml, controller=str(controller.link))
        yield station.toml, controller


@pytest.fixture
def booth(gallery_booth) -> tuple[Path, PtyControllerSimulator]:
    """The booth for the checks that are not about audio: marked as a demo, so its simulated
    microphone and speaker pass (the audio tests name real devices)."""
    mark_demo(gallery_booth[0])
    return gallery_booth


@pytest.fixture
def devices(pulse, tmp_path) -> dict[str, str]:
    """The environment in which the booth sink's monitor and the sink have names of their own."""
    return named_devices(tmp_path / "home", {"dossin_booth_mic": f"{pulse.sink}.monitor", "dossin_booth_speaker": pulse.sink})


def doctor(toml: Path, *options: str, env: dict[str, str] | None = None) -> tuple[int, dict, str]:
    result = subprocess.run([*KIOSK, "doctor", str(toml), "--json", *options], capture_output=True, text=True, timeout=180, env=env)
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
def test_a_healthy_booth_passes_every_check(gallery_booth, speaking, devices):
    toml, _controller = gallery_booth
    set_booth(toml, microphone="dossin_booth_mic", speaker="dossin_booth_speaker")
    code, report, stderr = doctor(toml, env=devices)
    checks = by_name(report)
    assert {name: c["status"] for name, c in checks.items()} == {
        "config": "ok", "microphone": "ok", "speaker": "ok", "controller": "ok", "speech": "ok", "disk": "ok",
        "clock": "ok", "central": "ok", "token": "ok", "sync_queue": "ok",
    }, report
    assert code == 0 and report["ok"]
    assert "speak into the microphone now" in stderr
    assert "heard you at" in checks["microphone"]["detail"]
    assert f"firmware {FIRMWARE_VERSION}" in checks["controller"]["detail"] and "tactile keys" in checks["controller"]["detail"]
    assert checks["speech"]["detail"].startswith("espeak-ng speaks nl (nl, ") and "fr (fr-be, " in checks["speech"]["detail"]
    assert "of the central store" in checks["clock"]["detail"]


@pytest.mark.audio
def test_a_silent_microphone_is_named(booth, devices):
    toml, _ = booth
    set_booth(toml, microphone="dossin_booth_mic", speaker="simulated")
    code, report, _ = doctor(toml, env=devices)
    microphone = by_name(report)["microphone"]
    assert code == 1 and microphone["status"] == "fail"
    assert "heard nothing" in microphone["detail"] and "mute switch" in microphone["fix"]


@pytest.mark.audio
def test_no_microphone(booth, devices):
    toml, _ = booth
    set_booth(toml, microphone="USB Audio Device", speaker="simulated")
    code, report, _ = doctor(toml, env=devices)
    microphone = by_name(report)["microphone"]
    assert code == 1 and microphone["status"] == "fail"
    assert "no input device named like 'USB Audio Device'" in microphone["detail"]
    assert "'dossin_booth_mic'" in microphone["detail"]  # the devices there are, to choose from
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


def test_a_controller_without_tactile_keys_is_named_with_what_to_do(tmp_path, booth):
    toml, controller = booth
    controller.stop()
    with PtyControllerSimulator(controller.link, features=""):  # a board as firmware 1.0 made it
        code, report, _ = doctor(toml)
    check = by_name(report)["controller"]
    assert check["status"] == "warn" and "has no tactile keys" in check["detail"], check
    assert "firmware 1.1 or later" in check["fix"] and "GP10, GP11 and GP12" in check["fix"]


def test_without_espeak_ng_the_doctor_says_audio_mode_cannot_speak(tmp_path, booth):
    toml, _controller = booth
    bare = tmp_path / "bin"  # a PATH with everything the station needs but espeak-ng
    bare.mkdir()
    for program in ("timedatectl", "df"):
        found = shutil.which(program)
        if found:
            (bare / program).symlink_to(found)
    code, report, _ = doctor(toml, env=dict(os.environ, PATH=str(bare)))
    check = by_name(report)["speech"]
    assert check["status"] == "fail" and check["detail"].startswith("audio mode cannot speak nl: espeak-ng is not installed"), check
    assert "apt-get install espeak-ng" in check["fix"] and code != 0


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


# -- devices a gallery station must name, and a demo station that may simulate them ----------


def test_a_gallery_booth_with_a_simulated_microphone_fails(gallery_booth):
    toml, _ = gallery_booth
    code, report, _ = doctor(toml)
    checks = by_name(report)
    assert code == 1 and not report["ok"]
    assert checks["microphone"]["status"] == "fail"
    assert checks["microphone"]["detail"].startswith("[booth] microphone is 'simulated': a gallery station must name the device itself")
    assert "python -m sounddevice" in checks["microphone"]["fix"] and "[station] demo = true" in checks["microphone"]["fix"]
    assert checks["speaker"]["status"] == "fail" and "[booth] speaker is 'simulated'" in checks["speaker"]["detail"]
    assert [c["name"] for c in report["checks"] if c["status"] == "fail"] == ["microphone", "speaker"]


@pytest.mark.parametrize("stand_in", ["pulse", "default"])
def test_a_gallery_booth_on_the_sound_servers_device_fails(gallery_booth, stand_in):
    toml, _ = gallery_booth
    set_booth(toml, microphone=stand_in, speaker=stand_in)
    code, report, _ = doctor(toml)
    checks = by_name(report)
    assert code == 1
    assert checks["microphone"]["status"] == checks["speaker"]["status"] == "fail"
    assert f"is {stand_in!r}: a gallery station must name the device itself" in checks["microphone"]["detail"]


def test_a_station_the_demo_made_passes(tmp_path, central):
    from kiosk.central.stations import enroll
    from kiosk.cli.demo import write_demo_station

    (tmp_path / "collection").symlink_to(central.collection)
    for station_id, exhibit in (("booth-1", "booth"), ("wall-1", "wall"), ("memorial-1", "memorial")):
        toml = write_demo_station(tmp_path / station_id, station_id, exhibit, central.url, enroll(central.database, station_id))
        assert "\ndemo = true " in toml.read_text(encoding="utf-8")
        # The demo runs the booth's controller simulator behind this link; so does the test.
        with PtyControllerSimulator(tmp_path / station_id / "controller"):
            code, report, _ = doctor(toml)
        failed = [c for c in report["checks"] if c["status"] == "fail"]
        assert code == 0 and report["ok"] and not failed, (station_id, failed)
        checks = by_name(report)
        if exhibit == "booth":
            assert checks["microphone"]["detail"] == "simulated ([booth] microphone: a station made by `kiosk demo`)"
        assert checks["speaker"]["status"] == "ok" and "simulated" in checks["speaker"]["detail"]
        assert checks["token"]["status"] == "ok"


def test_a_missing_token_file_is_reported_when_the_store_is_down(booth):
    toml, _ = booth
    lines = [('url = "http://127.0.0.1:9"' if line.startswith("url =") else line) for line in toml.read_text(encoding="utf-8").splitlines()]
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, report, _ = doctor(toml)
    assert by_name(report)["token"]["status"] == "skipped"  # readable: only the store could say more
    assert "is readable" in by_name(report)["token"]["detail"]
    (toml.parent / "central.token").unlink()
    code, report, _ = doctor(toml)
    token = by_name(report)["token"]
    assert code == 1 and token["status"] == "fail"
    assert "central.token cannot be read" in token["detail"] and "kiosk central enroll" in token["fix"]
    assert by_name(report)["central"]["status"] == "fail"


# -- the wall's speaker and the memorial's loudspeakers, heard back from the sound server --------


def wall_station(tmp_path: Path, speaker: str) -> Path:
    from kiosk.config import write_station_config

    return write_station_config(tmp_path / "wall", exhibit="wall", station_id="wall-3", audio=speaker, fullscreen=False)


def test_a_gallery_wall_with_a_simulated_speaker_fails(tmp_path):
    code, report, _ = doctor(wall_station(tmp_path, "simulated"))
    speaker = by_name(report)["speaker"]
    assert code == 1 and speaker["status"] == "fail" and "[wall] speaker is 'simulated'" in speaker["detail"]


@pytest.mark.audio
def test_the_walls_speaker_sounds_a_soft_tone_on_request(tmp_path, pulse, devices):
    import numpy as np
    import soundfile

    toml = wall_station(tmp_path, "dossin_booth_speaker")
    code, report, _ = doctor(toml, env=devices)
    assert by_name(report)["speaker"]["status"] == "ok" and "--play" in by_name(report)["speaker"]["detail"]
    with pulse.recording(tmp_path / "heard.wav"):
        code, report, _ = doctor(toml, "--play", env=devices)
    assert code == 0, report
    assert "played a short soft tone on 'dossin_booth_speaker'" in by_name(report)["speaker"]["detail"]
    heard, rate = soundfile.read(tmp_path / "heard.wav", dtype="float32", always_2d=True)
    mono = heard.mean(axis=1)
    loud = np.flatnonzero(np.abs(mono) > 1e-3)
    assert len(loud) > 0.2 * rate, "the tone was heard on the wall's speaker"
    tone = mono[loud[0] : loud[-1]]
    spectrum = np.abs(np.fft.rfft(tone * np.hanning(len(tone))))
    assert abs(np.fft.rfftfreq(len(tone), 1 / rate)[np.argmax(spectrum)] - 440) < 10
    assert 20 * np.log10(np.max(np.abs(tone))) < -20, "a soft tone"


@pytest.mark.audio
@pytest.mark.slow
def test_the_memorials_loudspeakers_each_sound_a_soft_tone_in_turn_on_request(tmp_path, pulse):
    import soundfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exhibits" / "memorial"))
    from memorial_support import dominant_frequency, sounding_stretches, write_memorial_config

    four = "front-left,front-right,rear-left,rear-right"  # ALSA's order for 4 channels
    pulse.add_sink("doctor4", 4, channel_map=four)
    env = named_devices(tmp_path / "home", {"dossin_memorial_card": "doctor4"})
    toml = write_memorial_config(tmp_path / "memorial", output="dossin_memorial_card", channels=4)
    code, report, _ = doctor(toml, env=env)
    assert code == 0 and "has 32 channels for the 4 loudspeakers" in by_name(report)["speaker"]["detail"], report
    with pulse.recording(tmp_path / "heard.wav", sink="doctor4", channels=4, channel_map=four):
        code, report, stderr = doctor(toml, "--play", env=env)
    assert code == 0, report
    assert "listen to each loudspeaker, 1 to 4" in stderr
    assert "a soft tone on each of the 4 channels" in by_name(report)["speaker"]["detail"]
    heard, rate = soundfile.read(tmp_path / "heard.wav", dtype="float32", always_2d=True)
    stretches = sounding_stretches(heard, rate)
    assert [channel for _, _, channel in stretches] == [0, 1, 2, 3], "one tone per loudspeaker, in order"
    for first, end, channel in stretches:
        assert abs(dominant_frequency(heard[first:end, channel], rate) - 440) < 10
        others = [c for c in range(4) if c != channel]
        assert abs(heard[first:end, others]).max() < 1e-3, "only that loudspeaker sounds"


def test_a_gallery_memorial_on_a_simulated_card_fails(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exhibits" / "memorial"))
    from memorial_support import write_memorial_config

    code, report, _ = doctor(write_memorial_config(tmp_path / "memorial"))
    speaker = by_name(report)["speaker"]
    assert code == 1 and speaker["status"] == "fail" and "[memorial] output is 'simulated'" in speaker["detail"]


def test_an_old_memorial_hours_section_is_named_for_removal(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exhibits" / "memorial"))
    from memorial_support import write_memorial_config

    toml = write_memorial_config(tmp_path / "memorial")
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[memorial.hours]\nmon = "09:00-17:00"\n', encoding="utf-8")
    _, report, _ = doctor(toml)
    config = by_name(report)["config"]
    assert config["status"] == "warn" and "its [memorial.hours] is no longer read" in config["detail"]
    assert "remove [memorial.hours]" in config["fix"] and "/etc/dossin/hours.conf" in config["fix"]


def test_a_memorial_without_the_gallerys_hours_file_fails_with_what_to_write(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exhibits" / "memorial"))
    from memorial_support import write_memorial_config

    toml = write_memorial_config(tmp_path / "memorial")
    (toml.parent / "hours.conf").unlink()
    code, report, _ = doctor(toml)
    config = by_name(report)["config"]
    assert code == 1 and config["status"] == "fail" and "the opening hours cannot be read" in config["detail"]
    assert "DAY_1=0900-1700" in config["fix"]
