"""The demo booth's microphone reads the assigned name aloud, and its take passes the booth's check.

Real espeak-ng speaks the name (as the demo booth's composition root has it speak); the take is written as the booth writes takes, and
judged by the real `kiosk booth analyze` in a child process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile

from exhibits.booth.compose import read_aloud
from hardware.audio.reader import ReadingMicrophone


def take(microphone: ReadingMicrophone, seconds: float) -> np.ndarray:
    microphone.start_capture()
    assert microphone.spoken.wait(timeout=60), "espeak-ng gave no voice within 60 s"
    microphone.deliver(int(seconds * microphone.sample_rate / microphone.blocksize))
    return microphone.stop_capture().samples


def analyze(samples: np.ndarray, rate: int, path) -> dict:
    soundfile.write(path, samples, rate, subtype="PCM_24")
    result = subprocess.run([sys.executable, "-m", "kiosk", "booth", "analyze", str(path), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(("name", "language"), [("Chaja Goldsztajn", "nl"), ("Hélène Nowak-Rozenberg", "fr"), ("Abram Lewin", "en")])
def test_the_simulated_readers_take_of_a_name_passes_the_check(tmp_path, name, language):
    asked = []

    def what_to_read():
        asked.append(name)
        return name, language

    microphone = ReadingMicrophone(what_to_read, read_aloud, realtime=False)
    microphone.open()
    try:
        samples = take(microphone, 6.0)
    finally:
        microphone.close()
    assert asked == [name]
    report = analyze(samples, microphone.sample_rate, tmp_path / "take.flac")
    assert report["verdict"] == "ok", report
    assert 1.0 < report["speech_start_s"] < 2.5, "the name comes after a breath, not at the first sample"


def test_each_take_reads_again_and_nothing_to_read_is_room_tone(tmp_path):
    readings = iter([("Sura Fajnsztajn", "nl"), None])
    microphone = ReadingMicrophone(lambda: next(readings), read_aloud, realtime=False)
    microphone.open()
    try:
        first = take(microphone, 5.0)
        microphone.start_capture()  # nothing assigned: no voice comes
        microphone.deliver(int(3.0 * microphone.sample_rate / microphone.blocksize))
        quiet = microphone.stop_capture().samples
    finally:
        microphone.close()
    assert analyze(first, microphone.sample_rate, tmp_path / "first.flac")["verdict"] == "ok"
    assert not microphone.spoken.is_set()
    assert analyze(quiet, microphone.sample_rate, tmp_path / "quiet.flac")["verdict"] == "no_speech"


def test_a_reader_that_cannot_speak_leaves_room_tone_and_says_why(caplog):
    def broken(text, language):
        raise RuntimeError("espeak-ng is not installed")

    microphone = ReadingMicrophone(lambda: ("Abram Lewin", "nl"), broken, realtime=False)
    microphone.open()
    try:
        microphone.start_capture()
        deadline = time.monotonic() + 60
        while "simulated reader cannot speak" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        microphone.deliver(10)
        microphone.stop_capture()
    finally:
        microphone.close()
    assert "simulated reader cannot speak" in caplog.text
    assert not microphone.spoken.is_set()
