"""The simulated microphone and speaker: the interface, the fault triggers, loud refusals.

Most tests run the microphone without its thread (`realtime=False`) and with a
ManualClock, so blocks arrive and time passes only when the test says so.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

from harness.sound import dbfs
from hardware import devices
from hardware.audio.api import Capture, DeviceError, Microphone, MicrophoneState, Speaker
from hardware.audio.portaudio import SoundDeviceMicrophone, SoundDeviceSpeaker
from hardware.audio.simulated import SimulatedMicrophone, SimulatedSpeaker
from kiosk.clock import ManualClock

RATE = 48_000
BLOCK = 1024


def ramp(frames: int) -> np.ndarray:
    """A signal whose every sample tells where it came from."""
    return (np.arange(frames) / frames).astype(np.float32)


@pytest.fixture
def on_demand() -> Iterator[Callable[..., tuple[SimulatedMicrophone, ManualClock]]]:
    """Makes microphones that deliver only when told, on a ManualClock; closes them after."""
    made: list[SimulatedMicrophone] = []

    def make(source=None, **options) -> tuple[SimulatedMicrophone, ManualClock]:
        clock = ManualClock(100.0)
        options = {"retry_interval": 2.0, "stall_timeout": 1.0, "start_timeout": 5.0,
                   **options}
        mic = SimulatedMicrophone(source, realtime=False, clock=clock, **options)
        made.append(mic)
        return mic, clock

    yield make
    for mic in made:
        mic.close()


def calls(cls: type) -> set[str]:
    """The public methods of a class: what code can call on its instances."""
    return {name for name, member in inspect.getmembers(cls)
            if not name.startswith("_") and callable(member)}


MICROPHONE_TRIGGERS = {"lose", "stall", "restore", "inject_overflow", "deliver"}
SPEAKER_TRIGGERS = {"lose", "restore"}


def test_the_simulations_implement_the_interfaces_and_only_add_their_triggers():
    assert issubclass(SimulatedMicrophone, Microphone)
    assert issubclass(SimulatedSpeaker, Speaker)
    assert calls(Microphone) == {"open", "close", "start_capture", "stop_capture", "level",
                                 "check"}
    assert calls(SoundDeviceMicrophone) == calls(Microphone)
    assert calls(SimulatedMicrophone) == calls(Microphone) | MICROPHONE_TRIGGERS
    assert calls(SoundDeviceSpeaker) == calls(Speaker) == {"play", "stop", "playing"}
    assert calls(SimulatedSpeaker) == calls(Speaker) | SPEAKER_TRIGGERS
    # A composition root picks them by the setting "simulated", through hardware.devices.
    assert type(devices.speaker_named("simulated")) is SimulatedSpeaker


def test_a_take_holds_exactly_the_blocks_between_start_and_stop(on_demand):
    signal = ramp(20 * BLOCK)
    mic, _ = on_demand(signal)
    assert mic.state is MicrophoneState.CLOSED
    mic.open()
    assert mic.state is MicrophoneState.READY
    assert mic.level() is None  # nothing arrived yet
    assert mic.deliver(3) == 3
    mic.start_capture()
    assert mic.state is MicrophoneState.CAPTURING
    mic.deliver(5)
    take = mic.stop_capture()
    mic.deliver(2)

    assert isinstance(take, Capture)
    assert take.sample_rate == RATE and not take.lost and take.overflows == 0
    assert take.samples.dtype == np.float32
    np.testing.assert_array_equal(take.samples, signal[3 * BLOCK : 8 * BLOCK])
    assert mic.state is MicrophoneState.READY
    assert mic.check() is MicrophoneState.READY
    mic.close()
    assert mic.state is MicrophoneState.CLOSED


def test_the_level_is_the_newest_block_and_read_once(on_demand):
    quiet = np.full(BLOCK, 0.001, dtype=np.float32)  # -60 dBFS
    loud = np.full(BLOCK, 0.5, dtype=np.float32)  # about -6 dBFS
    mic, _ = on_demand(np.concatenate([quiet, loud]))
    mic.open()
    mic.deliver(2)  # the meter missed the quiet block: it shows the newest
    assert mic.level() == pytest.approx(20 * np.log10(0.5), abs=0.01)
    assert mic.level() is None
    mic.deliver(1)  # past the source: room tone
    assert mic.level() == pytest.approx(-60, abs=1)


def test_the_source_loops_or_gives_way_to_room_tone(on_demand):
    signal = ramp(BLOCK + BLOCK // 2)
    looping, _ = on_demand(signal, loop=True)
    looping.open()
    looping.start_capture()
    looping.deliver(3)
    np.testing.assert_array_equal(looping.stop_capture().samples, np.tile(signal, 2))

    once, _ = on_demand(signal)
    once.open()
    once.start_capture()
    once.deliver(3)
    samples = once.stop_capture().samples
    np.testing.assert_array_equal(samples[: len(signal)], signal)
    tone = samples[len(signal) :]
    assert dbfs(tone) == pytest.approx(-60, abs=1)


def test_a_sound_file_is_heard_at_the_microphones_rate(tmp_path: Path, on_demand):
    seconds = 0.5
    file_rate = 22_050
    times = np.arange(int(seconds * file_rate)) / file_rate
    tone = 0.5 * np.sin(2 * np.pi * 440 * times)
    path = tmp_path / "voice.wav"
    soundfile.write(path, np.column_stack([tone, tone]), file_rate, subtype="PCM_24")
    mic, _ = on_demand(path)
    mic.open()
    mic.start_capture()
    mic.deliver(int(np.ceil(seconds * RATE / BLOCK)))
    samples = mic.stop_capture().samples[: int(seconds * RATE) - 10]
    assert dbfs(samples) == pytest.approx(dbfs(tone), abs=0.1)
    crossings = np.count_nonzero(np.diff(np.signbit(samples)))
    assert crossings / 2 / seconds == pytest.approx(440, rel=0.02)


def test_overflows_are_counted_per_take_and_in_total(on_demand):
    mic, _ = on_demand()
    mic.open()
    mic.inject_overflow(2)
    mic.deliver(3)
    mic.start_capture()
    mic.inject_overflow(3)
    mic.deliver(4)
    take = mic.stop_capture()
    assert take.overflows == 3
    assert mic.overflows_total == 5


def test_an_unplugged_microphone_is_lost_at_once_and_taken_back_when_sound_returns(on_demand):
    signal = ramp(30 * BLOCK)
    mic, clock = on_demand(signal)
    mic.open()
    mic.deliver(1)
    mic.start_capture()
    mic.deliver(4)

    mic.lose()
    assert mic.state is MicrophoneState.LOST  # without waiting for check()
    assert mic.deliver(3) == 0
    take = mic.stop_capture()
    assert take.lost
    np.testing.assert_array_equal(take.samples, signal[BLOCK : 5 * BLOCK])

    for _ in range(3):  # the booth's checks meet an absent device
        clock.advance(2.5)
        assert mic.check() is MicrophoneState.LOST
    assert "unplugged" in mic.last_problem

    mic.restore()
    clock.advance(2.5)
    assert mic.check() is MicrophoneState.LOST  # reopened, but no sound yet
    mic.deliver(1)
    assert mic.check() is MicrophoneState.READY
    mic.start_capture()
    mic.deliver(2)
    again = mic.stop_capture()
    assert not again.lost and len(again.samples) == 2 * BLOCK


def test_retries_come_at_most_every_retry_interval(on_demand):
    mic, clock = on_demand()
    mic.open()
    mic.deliver(1)
    mic.lose()
    mic.check()
    mic.restore()
    clock.advance(1.0)
    mic.check()
    assert mic.deliver(1) == 0, "reopened before the retry interval had passed"
    clock.advance(1.5)
    mic.check()
    assert mic.deliver(1) == 1
    assert mic.check() is MicrophoneState.READY


def test_a_microphone_that_falls_silent_is_lost_after_the_stall_timeout(on_demand):
    mic, clock = on_demand()
    mic.open()
    mic.deliver(1)
    mic.start_capture()
    mic.deliver(2)
    mic.stall()
    assert mic.deliver(5) == 0
    clock.advance(0.9)
    assert mic.check() is MicrophoneState.CAPTURING
    clock.advance(0.2)
    assert mic.check() is MicrophoneState.LOST
    assert "stalled" in mic.last_problem
    take = mic.stop_capture()
    assert take.lost and len(take.samples) == 2 * BLOCK

    clock.advance(2.0)
    assert mic.check() is MicrophoneState.LOST  # reopened; as silent as before
    clock.advance(5.1)
    assert mic.check() is MicrophoneState.LOST  # that stream gave nothing: given up, retried
    mic.restore()
    mic.deliver(1)
    assert mic.check() is MicrophoneState.READY


def test_a_microphone_that_never_delivers_is_lost_after_the_start_timeout(on_demand):
    mic, clock = on_demand()
    mic.open()
    clock.advance(4.9)
    assert mic.check() is MicrophoneState.READY
    clock.advance(0.2)
    assert mic.check() is MicrophoneState.LOST
    assert "within 5 s" in mic.last_problem


def test_a_booth_started_without_its_microphone_takes_it_into_service_later(on_demand):
    mic, clock = on_demand()
    mic.lose()
    with pytest.raises(DeviceError, match="unplugged"):
        mic.open()
    assert mic.state is MicrophoneState.LOST
    mic.restore()
    clock.advance(2.0)
    mic.check()
    mic.deliver(1)
    assert mic.check() is MicrophoneState.READY


def test_a_take_begun_on_a_lost_microphone_comes_back_lost(on_demand):
    mic, _ = on_demand()
    mic.open()
    mic.lose()
    mic.start_capture()
    assert mic.state is MicrophoneState.LOST
    take = mic.stop_capture()
    assert take.lost and len(take.samples) == 0


def test_closing_drops_the_take_and_the_microphone_can_be_opened_again(on_demand):
    mic, _ = on_demand(ramp(10 * BLOCK))
    mic.open()
    mic.start_capture()
    mic.deliver(2)
    mic.close()
    mic.close()  # twice is harmless
    mic.open()
    mic.deliver(1)
    mic.start_capture()
    mic.deliver(1)
    assert len(mic.stop_capture().samples) == BLOCK


def test_calls_out_of_order_fail_loudly(on_demand):
    mic, _ = on_demand()
    with pytest.raises(RuntimeError, match="not open"):
        mic.start_capture()
    mic.open()
    with pytest.raises(RuntimeError, match="already open"):
        mic.open()
    with pytest.raises(RuntimeError, match="no capture"):
        mic.stop_capture()
    mic.start_capture()
    with pytest.raises(RuntimeError, match="already capturing"):
        mic.start_capture()
    with pytest.raises(RuntimeError, match="realtime=False"):
        SimulatedMicrophone(None).deliver()


def test_what_a_microphone_does_not_offer_fails_loudly(on_demand):
    mic, _ = on_demand()
    with pytest.raises(AttributeError, match="SimulatedMicrophone has no 'gain'.*offers only"):
        mic.gain
    with pytest.raises(AttributeError, match="no 'record'"):
        mic.record()
    with pytest.raises(AttributeError, match="no 'gain' to set"):
        mic.gain = 0.5
    speaker = SimulatedSpeaker()
    with pytest.raises(AttributeError, match="SimulatedSpeaker has no 'volume'"):
        speaker.volume = 1.0
    with pytest.raises(AttributeError, match="no 'pause'"):
        speaker.pause()


def test_in_real_time_blocks_follow_each_other_without_a_gap():
    length = 7 * BLOCK + 100  # not a whole number of blocks: the loop seam falls mid-block
    mic = SimulatedMicrophone(ramp(length), loop=True)
    mic.open()
    try:
        deadline = time.monotonic() + 5
        while mic.level() is None:
            assert time.monotonic() < deadline, "no block from the simulation's thread"
            time.sleep(0.01)
        mic.start_capture()
        time.sleep(0.3)
        assert mic.check() is MicrophoneState.CAPTURING
        take = mic.stop_capture()
    finally:
        mic.close()
    assert len(take.samples) >= 5 * BLOCK
    steps = np.diff(take.samples.astype(np.float64)) * length
    seams = np.flatnonzero(np.abs(steps - 1) > 1e-3)
    # Consecutive samples of the ramp, except where the loop starts over.
    assert np.allclose(steps[seams], 1 - length)


def test_the_simulated_speaker_keeps_what_it_played_and_plays_for_as_long():
    clock = ManualClock()
    speaker = SimulatedSpeaker(clock=clock)
    take = np.full(RATE, 0.25, dtype=np.float32)
    speaker.play(take, RATE)
    take[:] = 0  # the caller reuses its array; what was played is kept
    assert speaker.playing()
    clock.advance(0.99)
    assert speaker.playing()
    clock.advance(0.02)
    assert not speaker.playing()
    assert len(speaker.played) == 1
    assert speaker.played[0].sample_rate == RATE and speaker.played[0].seconds == 1.0
    assert np.all(speaker.played[0].samples == 0.25)

    speaker.play(np.zeros(RATE, dtype=np.float32), RATE)
    speaker.stop()
    assert not speaker.playing()
    assert len(speaker.played) == 2


def test_an_unplugged_simulated_speaker_refuses_to_play():
    speaker = SimulatedSpeaker(clock=ManualClock())
    speaker.lose()
    with pytest.raises(DeviceError, match="unplugged"):
        speaker.play(np.zeros(10, dtype=np.float32), RATE)
    speaker.restore()
    speaker.play(np.zeros(10, dtype=np.float32), RATE)
    assert len(speaker.played) == 1
