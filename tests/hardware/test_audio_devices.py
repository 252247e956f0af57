"""The real microphone and speaker on a real audio path: PulseAudio's null sink, ALSA "pulse".

What is played into a null sink comes out of its monitor, which sounddevice records
through the ALSA device "pulse". The sink's clock is not wall time, so these tests judge
what was recorded (a loud voice amid silence), never how many frames a second brought.
Loss is made three ways, each a way a booth loses its microphone: the source disappears
(its sink unloaded, as a USB microphone unplugged), the source falls silent without an
error (its sink suspended), and the sound server dies and another one starts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile

from harness.pulse import PulseAudio
from harness.sound import loudest_window_dbfs, read_wav
from hardware.audio import blocks
from hardware.audio.api import Capture, DeviceError, MicrophoneState
from hardware.audio.portaudio import SoundDeviceMicrophone, SoundDeviceSpeaker

SPOKEN_NAME = "Chaja Goldsztajn"
RATE = 48_000
HEARD = -30.0  # espeak-ng peaks near -10 dBFS; silence from a null sink is digital zero
QUIET = -90.0


def wait_for(condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)


def wait_for_state(mic: SoundDeviceMicrophone, state: MicrophoneState, timeout: float) -> None:
    """Call check() as the booth does (here more often), until the microphone is in `state`."""
    wait_for(lambda: mic.check() is state, timeout,
             f"{mic.name} to be {state.name} (last problem: {mic.last_problem})", poll=0.1)


def wait_for_sound(mic: SoundDeviceMicrophone, timeout: float = 10.0) -> None:
    """Until a block arrived: the first one through ALSA "pulse" took up to 2 s here."""
    wait_for(lambda: mic.level() is not None, timeout, f"sound from {mic.name}")


@pytest.fixture
def microphones() -> Iterator[list[SoundDeviceMicrophone]]:
    """Microphones a test opens; closed afterwards whatever happened."""
    opened: list[SoundDeviceMicrophone] = []
    yield opened
    for mic in opened:
        mic.close()


@pytest.fixture
def speech(pulse: PulseAudio, tmp_path: Path) -> Path:
    return pulse.speak_to_file(SPOKEN_NAME, "nl", tmp_path / "speech.wav")


@dataclass
class PluggableSource:
    """A null sink of its own whose monitor the ALSA "pulse" device records (PULSE_SOURCE).

    Unplugging unloads the sink, so the source disappears as a USB microphone would;
    the booth sink of the session's daemon is left alone for other tests.
    """

    pulse: PulseAudio
    sink: str
    module: str | None = None

    def plug_in(self) -> None:
        self.module = self.pulse.pactl("load-module", "module-null-sink",
                                       f"sink_name={self.sink}").strip()

    def unplug(self) -> None:
        if self.module is not None:
            self.pulse.pactl("unload-module", self.module)
            self.module = None

    def suspend(self, suspended: bool) -> None:
        self.pulse.pactl("suspend-sink", self.sink, "1" if suspended else "0")

    def play(self, path: Path) -> None:
        self.pulse.play(path, sink=self.sink)


@pytest.fixture
def own_source(pulse: PulseAudio, monkeypatch: pytest.MonkeyPatch,
               request: pytest.FixtureRequest) -> Iterator[PluggableSource]:
    source = PluggableSource(pulse, f"mic_{request.node.name[-20:].strip('_')}")
    source.plug_in()
    monkeypatch.setenv("PULSE_SOURCE", f"{source.sink}.monitor")
    try:
        yield source
    finally:
        source.unplug()


def capture_while(mic: SoundDeviceMicrophone, action: Callable[[], None]) -> Capture:
    mic.start_capture()
    action()
    time.sleep(0.3)  # the last blocks are still on their way through the sound server
    return mic.stop_capture()


@pytest.mark.audio
def test_a_spoken_name_is_captured_and_metered(pulse, speech, microphones):
    mic = SoundDeviceMicrophone("pulse")
    microphones.append(mic)
    mic.open()
    wait_for_sound(mic)
    assert mic.state is MicrophoneState.READY

    levels: list[float] = []
    metering = threading.Event()

    def meter() -> None:  # as the booth's screen does, some 30 times a second
        while not metering.wait(0.03):
            level = mic.level()
            if level is not None:
                levels.append(level)

    meter_thread = threading.Thread(target=meter)
    meter_thread.start()
    try:
        mic.start_capture()
        assert mic.state is MicrophoneState.CAPTURING
        time.sleep(0.3)
        silence_levels = list(levels)
        pulse.play(speech)
        time.sleep(0.3)
        capture = mic.stop_capture()
    finally:
        metering.set()
        meter_thread.join()

    assert mic.state is MicrophoneState.READY
    assert capture.samples.dtype == np.float32 and capture.samples.ndim == 1
    assert capture.sample_rate == RATE
    assert not capture.lost
    assert capture.overflows == 0 and mic.overflows_total == 0

    spoken, spoken_rate = read_wav(speech)
    loudest = loudest_window_dbfs(capture.samples, RATE)
    assert loudest > HEARD, f"the capture's loudest 50 ms measure only {loudest:.1f} dBFS"
    assert abs(loudest - loudest_window_dbfs(spoken, spoken_rate)) < 6
    # The voice sits amid silence: the take begins before it and ends after it.
    assert loudest_window_dbfs(capture.samples[: RATE // 10], RATE) < QUIET
    assert loudest_window_dbfs(capture.samples[-RATE // 20 :], RATE) < QUIET

    assert silence_levels and max(silence_levels) < QUIET
    assert max(levels) > HEARD, f"the meter never rose above {max(levels):.1f} dBFS"
    assert mic.check() is MicrophoneState.READY


@pytest.mark.audio
def test_an_unknown_device_is_refused_with_the_devices_there_are(pulse, microphones):
    mic = SoundDeviceMicrophone("Studio Mic 3000")
    microphones.append(mic)
    with pytest.raises(DeviceError) as refused:
        mic.open()
    message = str(refused.value)
    assert "'Studio Mic 3000'" in message
    assert "'pulse'" in message and "'default'" in message
    # Not CLOSED: the booth keeps calling check(), which keeps looking for it.
    assert mic.state is MicrophoneState.LOST
    assert mic.check() is MicrophoneState.LOST

    with pytest.raises(DeviceError, match="no output device named like 'Studio Speaker'.*'pulse'"):
        SoundDeviceSpeaker("Studio Speaker").play(np.zeros(100, dtype=np.float32), RATE)


@pytest.mark.audio
def test_a_rate_the_device_does_not_give_is_named(pulse, microphones):
    # ALSA "pulse" resamples anything up to 384 kHz; a megahertz is beyond it.
    mic = SoundDeviceMicrophone("pulse", sample_rate=1_000_000)
    microphones.append(mic)
    with pytest.raises(DeviceError, match=r"does not record at 1000000 Hz \(its default is"):
        mic.open()


@pytest.fixture
def private_pulse(pulse: PulseAudio, monkeypatch: pytest.MonkeyPatch) -> Iterator[PulseAudio]:
    """A daemon of the test's own, for faults the session's daemon must not suffer."""
    daemon = PulseAudio()
    try:
        daemon.start()
        for key, value in daemon.env.items():
            monkeypatch.setenv(key, value)
        yield daemon
    finally:
        daemon.stop()


def booth_module(daemon: PulseAudio) -> str:
    for line in daemon.pactl("list", "short", "modules").splitlines():
        if f"sink_name={daemon.sink}" in line:
            return line.split("\t", 1)[0]
    raise AssertionError(f"no module for the {daemon.sink} sink")


@pytest.mark.audio
def test_an_unplugged_source_is_lost_and_taken_back_when_it_returns(private_pulse, speech,
                                                                    microphones):
    mic = SoundDeviceMicrophone("pulse", retry_interval=0.3)
    microphones.append(mic)
    mic.open()
    wait_for_sound(mic)

    mic.start_capture()
    private_pulse.play(speech)
    time.sleep(0.3)
    # The daemon's only source disappears. (Were there another, PulseAudio would move
    # the stream to it and the stream would go on: see hardware.audio's docstring.)
    private_pulse.pactl("unload-module", booth_module(private_pulse))
    # PortAudio ends the stream and calls its finished callback: lost without waiting.
    wait_for(lambda: mic.state is MicrophoneState.LOST, 5, "the finished callback")
    assert mic.check() is MicrophoneState.LOST
    take = mic.stop_capture()
    assert take.lost
    assert loudest_window_dbfs(take.samples, RATE) > HEARD, "the voice before the loss is kept"

    time.sleep(1.0)  # several retries meet a missing source
    assert mic.check() is MicrophoneState.LOST
    assert "cannot be opened" in (mic.last_problem or "")

    private_pulse.pactl("load-module", "module-null-sink", f"sink_name={private_pulse.sink}")
    private_pulse.pactl("set-default-source", private_pulse.source)
    wait_for_state(mic, MicrophoneState.READY, timeout=20)
    again = capture_while(mic, lambda: private_pulse.play(speech))
    assert not again.lost
    assert loudest_window_dbfs(again.samples, RATE) > HEARD


@pytest.mark.audio
def test_a_source_that_falls_silent_without_an_error_is_lost_too(own_source, speech,
                                                                 microphones):
    mic = SoundDeviceMicrophone("pulse", retry_interval=0.3, stall_timeout=1.0)
    microphones.append(mic)
    mic.open()
    wait_for_sound(mic)
    mic.start_capture()
    own_source.play(speech)
    time.sleep(0.3)

    # A suspended source: the stream stays "active", its callback simply stops coming.
    own_source.suspend(True)
    try:
        wait_for_state(mic, MicrophoneState.LOST, timeout=10)
        assert "stalled" in (mic.last_problem or "")
        take = mic.stop_capture()
        assert take.lost
        assert loudest_window_dbfs(take.samples, RATE) > HEARD
        # Reopened streams are as silent: not back while nothing arrives.
        time.sleep(2.0)
        assert mic.check() is MicrophoneState.LOST
    finally:
        own_source.suspend(False)
    wait_for_state(mic, MicrophoneState.READY, timeout=20)
    again = capture_while(mic, lambda: own_source.play(speech))
    assert not again.lost and loudest_window_dbfs(again.samples, RATE) > HEARD


@pytest.mark.audio
def test_a_sound_server_that_dies_and_restarts_is_followed(pulse, monkeypatch, speech,
                                                           microphones):
    # A daemon of this test's own: the session's daemon must live on for other tests.
    first = PulseAudio().start()
    second = PulseAudio()
    try:
        for key, value in first.env.items():
            monkeypatch.setenv(key, value)
        mic = SoundDeviceMicrophone("pulse", retry_interval=0.3)
        microphones.append(mic)
        mic.open()
        wait_for_sound(mic)

        first.stop()
        wait_for_state(mic, MicrophoneState.LOST, timeout=10)
        time.sleep(1.0)
        # With no server, re-scanned PortAudio does not even list "pulse" any more.
        assert mic.check() is MicrophoneState.LOST
        assert "no input device named like 'pulse'" in (mic.last_problem or "")

        second.start()
        for key, value in second.env.items():
            monkeypatch.setenv(key, value)
        wait_for_state(mic, MicrophoneState.READY, timeout=20)
        take = capture_while(mic, lambda: second.play(speech))
        assert not take.lost and loudest_window_dbfs(take.samples, RATE) > HEARD
    finally:
        for mic in microphones:
            mic.close()
        microphones.clear()
        first.stop()
        second.stop()


@pytest.mark.audio
def test_the_audio_callback_never_waits_for_a_slow_writer(pulse, monkeypatch, microphones):
    """The callback queues and returns while the writer thread lags by seconds."""
    slow = threading.Event()
    slow.set()
    keep = blocks._Take.keep

    def slow_keep(take: blocks._Take, block: blocks._Block) -> None:
        if slow.is_set():
            time.sleep(0.02)
        keep(take, block)

    monkeypatch.setattr(blocks._Take, "keep", slow_keep)
    mic = SoundDeviceMicrophone("pulse")
    microphones.append(mic)
    mic.open()
    wait_for_sound(mic)
    mic.start_capture()

    import sounddevice

    calls = 500  # 10 s of writer time at 20 ms a block
    durations = []
    for number in range(1, calls + 1):
        block = np.full((1024, 1), number / 1000, dtype=np.float32)
        status = sounddevice.CallbackFlags()
        status.input_overflow = number % 100 == 0
        started = time.perf_counter()
        mic._audio_callback(mic._token, block, 1024, None, status)
        durations.append(time.perf_counter() - started)
    assert sum(durations) < 0.5, f"{calls} callbacks took {sum(durations):.2f} s"
    assert max(durations) < 0.01, f"the slowest callback took {max(durations) * 1000:.1f} ms"
    level = mic.level()
    assert level is not None and level > -10  # the meter is current while the writer lags

    slow.clear()
    take = mic.stop_capture()
    # Every block was kept, in order, amid the silent blocks the device itself delivered.
    ours = take.samples[take.samples != 0].reshape(calls, 1024)
    assert np.array_equal(ours[:, 0], np.arange(1, calls + 1, dtype=np.float32) / 1000)
    assert take.overflows == calls // 100
    assert mic.overflows_total == calls // 100


@pytest.mark.audio
def test_the_speaker_plays_a_take_back_into_the_room(pulse, speech, monkeypatch, tmp_path):
    monkeypatch.setenv("PULSE_SINK", pulse.sink)
    samples, rate = soundfile.read(speech, dtype="float32")
    speaker = SoundDeviceSpeaker("pulse")
    with pulse.recording(tmp_path / "room.wav"):
        speaker.play(samples, rate)
        assert speaker.playing()
        wait_for(lambda: not speaker.playing(), 30, "the playback to end")
    heard, heard_rate = read_wav(tmp_path / "room.wav")
    assert loudest_window_dbfs(heard, heard_rate) > HEARD


@pytest.mark.audio
def test_the_speaker_stops_when_asked(pulse, monkeypatch, tmp_path):
    monkeypatch.setenv("PULSE_SINK", pulse.sink)
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(30 * RATE) / RATE)).astype(np.float32)
    speaker = SoundDeviceSpeaker()
    speaker.play(tone, RATE)
    time.sleep(0.3)
    assert speaker.playing()
    speaker.stop()
    assert not speaker.playing()
    with pulse.recording(tmp_path / "after.wav"):
        time.sleep(0.5)
    heard, heard_rate = read_wav(tmp_path / "after.wav")
    assert loudest_window_dbfs(heard, heard_rate) < QUIET


def test_integer_samples_are_played_at_their_own_loudness():
    """espeak-ng's speech is 16-bit: played as floats unscaled it would be a clipped roar."""
    from hardware.audio.portaudio import _playable

    played = _playable(np.array([16384, -32768, 0], dtype=np.int16), 22050)
    assert played.dtype == np.float32 and played.shape == (3, 1)
    assert played[:, 0].tolist() == [0.5, -1.0, 0.0]
    floats = np.array([0.25, -0.5], dtype=np.float32)
    assert _playable(floats, 22050)[:, 0].tolist() == [0.25, -0.5], "floats are full scale already"
