"""`kiosk station init` lists the sound devices it sees and writes a commented choice, never "default"
when there is a device to name (the doctor fails "default", "pulse" and "simulated")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from harness.alsa import named_devices  # noqa: E402

from kiosk.config import load_station_config  # noqa: E402


def init(folder: Path, exhibit: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", "station", "init", str(folder), "--exhibit", exhibit, "--station-id", f"{exhibit}-1"],
                          capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.audio
def test_a_booth_gets_the_devices_it_sees_with_the_others_listed(tmp_path, pulse):
    env = named_devices(tmp_path / "home", {"booth_usb_microphone": "booth.monitor", "booth_speaker": "booth"})
    result = init(tmp_path / "booth", "booth", env)
    assert result.returncode == 0, result.stderr
    toml = tmp_path / "booth" / "station.toml"
    config = load_station_config(toml)
    # Both test devices play and record; the first seen is chosen, the other listed beside it.
    assert config.booth.microphone == "booth_usb_microphone" and config.booth.speaker == "booth_usb_microphone"
    text = toml.read_text(encoding="utf-8")
    assert '#   "booth_usb_microphone" (32 ch)   <- chosen' in text and '#   "booth_speaker" (32 ch)' in text
    assert "[booth] microphone = 'booth_usb_microphone' (of 2 seen, listed in station.toml)" in result.stdout
    for stand_in in ('"pulse"', '"default"'):
        assert f"#   {stand_in}" not in text, "the sound server's own devices are not offered"


def test_with_no_device_to_see_it_says_so_and_the_doctor_will_refuse(tmp_path):
    env = {**named_devices(tmp_path / "home", {}), "PULSE_SERVER": "unix:/nonexistent"}
    result = init(tmp_path / "wall", "wall", env)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "wall" / "station.toml").read_text(encoding="utf-8")
    assert "# no output device was seen when this file was written" in text
    assert "no device for [wall] speaker seen here; name it in station.toml before `kiosk doctor`" in result.stdout
    doctor = subprocess.run([sys.executable, "-m", "kiosk", "doctor", str(tmp_path / "wall" / "station.toml"), "--json"],
                            capture_output=True, text=True, timeout=120, env=env)
    assert doctor.returncode == 1 and "[wall] speaker is 'default'" in doctor.stdout
