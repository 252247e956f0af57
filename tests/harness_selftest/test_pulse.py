"""The `pulse` fixture gives a sound path that carries real sound end to end."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from harness.pulse import PulseAudio
from harness.sound import dbfs, loudest_window_dbfs, read_wav
from harness.tools import HarnessError, process_is_running

SPOKEN_NAME = "Chaja Goldsztajn, Mechelen"

# Digital silence measures -120 dBFS; espeak-ng's voice peaks around -10 dBFS. A level
# this high can only come from the speech.
HEARD = -30.0


@pytest.mark.audio
def test_speech_played_into_the_booth_comes_out_of_its_monitor(pulse, tmp_path: Path):
    speech = pulse.speak_to_file(SPOKEN_NAME, "nl", tmp_path / "speech.wav")
    with pulse.recording(tmp_path / "heard.wav"):
        pulse.play(speech)

    spoken, spoken_rate = read_wav(speech)
    heard, heard_rate = read_wav(tmp_path / "heard.wav")
    loudest_spoken = loudest_window_dbfs(spoken, spoken_rate)
    loudest_heard = loudest_window_dbfs(heard, heard_rate)
    assert loudest_heard > HEARD, f"the monitor heard only {loudest_heard:.1f} dBFS"
    # Same speech, resampled from 22.05 kHz mono to the sink's format: about as loud.
    assert abs(loudest_heard - loudest_spoken) < 6, (loudest_spoken, loudest_heard)
    assert dbfs(heard) > -60


@pytest.mark.audio
def test_speak_goes_into_the_sink(pulse, tmp_path: Path):
    with pulse.recording(tmp_path / "heard.wav"):
        pulse.speak("Elke naam telt", "nl")
    heard, rate = read_wav(tmp_path / "heard.wav")
    assert loudest_window_dbfs(heard, rate) > HEARD


@pytest.mark.audio
def test_sounddevice_records_the_booth_through_alsa_pulse(pulse, tmp_path: Path):
    import sounddevice
    speech = pulse.speak_to_file(SPOKEN_NAME, "nl", tmp_path / "speech.wav")
    rate = 44100
    player = threading.Timer(0.3, pulse.play, args=(speech,))
    player.start()
    try:
        # Player and recorder run on the same sink clock: 6 s of frames hold 2 s of speech.
        heard = sounddevice.rec(6 * rate, samplerate=rate, channels=1, device="pulse",
                                blocking=True)
    finally:
        player.join(timeout=60)
    assert loudest_window_dbfs(heard, rate) > HEARD


@pytest.mark.audio
def test_a_multichannel_sink_can_be_added(pulse):
    assert pulse.add_sink("selftest_memorial", 8) == "selftest_memorial"
    assert pulse.add_sink("selftest_memorial", 8) == "selftest_memorial"
    assert pulse.sinks()["selftest_memorial"] == 8
    assert pulse.sinks()["booth"] == 2
    with pytest.raises(HarnessError, match="already exists with 8 channels"):
        pulse.add_sink("selftest_memorial", 2)


@pytest.mark.audio
def test_audio_tests_get_the_sound_server_unasked():
    assert os.environ["PULSE_SERVER"].startswith("unix:")
    assert Path(os.environ["XDG_RUNTIME_DIR"], "pulse", "native").is_socket()


def test_a_stopped_daemon_is_gone():
    daemon = PulseAudio().start()
    pid, runtime_dir = daemon.pid, daemon.runtime_dir
    try:
        assert daemon.sinks() == {"booth": 2}
        assert "booth.monitor" in daemon.pactl("get-default-source")
    finally:
        daemon.stop()
    assert pid is not None and not process_is_running(pid)
    assert not runtime_dir.exists()
    daemon.stop()  # a second stop is harmless


def test_without_pulseaudio_the_error_says_to_run_setup(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(HarnessError, match="run scripts/setup"):
        PulseAudio().start()
