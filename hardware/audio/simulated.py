"""Simulated microphone and speaker: for tests, and for `kiosk demo` on a machine without them.

They implement `hardware.audio.api`'s interfaces completely, add explicit fault triggers
(Mopidy's dummy audio), and refuse anything else (Anthias' fake_docker): a call the booth
starts making without a counterpart in the interface fails in the tests instead of being
quietly simulated. Which one a station uses is decided in its composition root only.

The simulated microphone shares `BlockMicrophone` with the real one, so takes, the level
meter, loss and return behave exactly as on PortAudio; only the blocks come from a
signal instead of a device.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hardware.audio.api import SAMPLE_RATE, DeviceError, Speaker
from hardware.audio.blocks import BlockMicrophone
from hardware.strict import FailsLoudly

if TYPE_CHECKING:  # numpy (15 MB) when sound is first made, not at a wall's start (issue 18)
    import numpy as np

ROOM_TONE_DBFS = -60.0  # a quiet booth: air and electronics, well under a voice


def _room_tone(rng: np.random.Generator, frames: int, level_dbfs: float) -> np.ndarray:
    return (rng.standard_normal(frames) * 10 ** (level_dbfs / 20)).astype("float32")


def _load_signal(source: np.ndarray | Path | str | None, sample_rate: int) -> np.ndarray:
    """The source as mono float32 at `sample_rate`; an empty array means room tone only."""
    import numpy as np

    if source is None:
        return np.zeros(0, dtype=np.float32)
    if isinstance(source, (str, Path)):
        import soundfile

        data, rate = soundfile.read(str(source), dtype="float32", always_2d=True)
        mono = data.mean(axis=1)
        if rate != sample_rate and len(mono):
            # Linear interpolation: rough, but a simulation only needs the voice recognisable.
            times = np.arange(int(round(len(mono) * sample_rate / rate))) / sample_rate
            mono = np.interp(times, np.arange(len(mono)) / rate, mono)
        return np.asarray(mono, dtype=np.float32)
    signal = np.asarray(source, dtype=np.float32)
    if signal.ndim == 2:
        signal = signal.mean(axis=1)
    if signal.ndim != 1:
        raise ValueError(f"a source signal has shape (n,) or (n, channels), not {signal.shape}")
    return signal


class SimulatedMicrophone(FailsLoudly, BlockMicrophone):
    """A microphone that hears `source` (array, or sound file), then room tone or `source` again.

    With `realtime` (the default) a thread delivers a block every blocksize/sample_rate
    seconds of wall time, as a sound card would. Without it, nothing arrives until the
    test calls `deliver(blocks)`, which delivers on the caller's thread: deterministic
    tests, with a ManualClock as `clock` for the stall and retry timings.

    Fault triggers:
    - `lose()`: the device is unplugged. The stream ends at once (as PortAudio's finished
      callback reports it) and reopening fails until `restore()`.
    - `stall()`: the device goes silent without saying so, as a suspended PulseAudio source
      does; reopened streams stay silent too until `restore()`.
    - `restore()`: the device is back; `check()` reopens it.
    - `inject_overflow(n)`: the next n blocks carry PortAudio's input-overflow flag.
    """

    _offers = (
        "sample_rate", "state", "overflows_total", "open()", "close()", "start_capture()",
        "stop_capture()", "level()", "check()", "and the triggers lose(), stall(), restore(), "
        "inject_overflow(n), deliver(blocks) (without realtime)",
    )

    def __init__(
        self,
        source: np.ndarray | Path | str | None = None,
        sample_rate: int = SAMPLE_RATE,
        *,
        loop: bool = False,
        blocksize: int = 1024,
        realtime: bool = True,
        room_tone_dbfs: float = ROOM_TONE_DBFS,
        retry_interval: float = 2.0,
        stall_timeout: float = 1.0,
        start_timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        seed: int = 0,
    ):
        super().__init__(
            "simulated microphone",
            sample_rate,
            retry_interval=retry_interval,
            stall_timeout=stall_timeout,
            start_timeout=start_timeout,
            clock=clock,
        )
        if blocksize < 1:
            raise ValueError(f"blocksize must be at least 1, not {blocksize}")
        self.loop = loop
        self.blocksize = blocksize
        self.realtime = realtime
        self.room_tone_dbfs = room_tone_dbfs
        self._signal = _load_signal(source, sample_rate)
        self._position = 0
        import numpy as np

        self._rng = np.random.default_rng(seed)
        self._unplugged = False
        self._stalled = False
        self._overflows_due = 0
        self._producing = threading.Lock()  # one block at a time, whoever produces it
        self._live_token: int | None = None
        self._producer: threading.Thread | None = None
        self._halt = threading.Event()
        self._sealed = True

    # -- fault triggers --------------------------------------------------------------------

    def lose(self) -> None:
        """Unplug the device: the stream ends now, and it cannot be opened until restore()."""
        self._unplugged = True
        token = self._live_token
        if token is not None:
            self._ended(token, "simulated microphone unplugged")

    def stall(self) -> None:
        """Silence the device without an error, as a suspended source does."""
        self._stalled = True

    def restore(self) -> None:
        """Plug the device back in and let it deliver again."""
        self._unplugged = False
        self._stalled = False

    def inject_overflow(self, blocks: int = 1) -> None:
        """Flag the next `blocks` blocks as input overflows."""
        if blocks < 0:
            raise ValueError(f"blocks must not be negative, not {blocks}")
        self._overflows_due += blocks

    def deliver(self, blocks: int = 1) -> int:
        """Deliver `blocks` blocks now (without realtime); returns how many the device gave."""
        if self.realtime:
            raise RuntimeError(
                "deliver() is for SimulatedMicrophone(realtime=False); this one runs by itself"
            )
        given = 0
        for _ in range(blocks):
            token = self._live_token
            if token is None or not self._produce(token):
                break
            given += 1
        return given

    # -- the source ------------------------------------------------------------------------

    def _connect(self, token: int, rescan: bool) -> None:
        if self._unplugged:
            raise DeviceError(
                "the simulated microphone is unplugged "
                "(lose() was called; restore() brings it back)"
            )
        self._live_token = token
        if self.realtime:
            self._halt = threading.Event()
            self._producer = threading.Thread(
                target=self._run, args=(token, self._halt), name="simulated microphone",
                daemon=True,
            )
            self._producer.start()

    def _disconnect(self) -> None:
        self._live_token = None
        self._halt.set()
        producer, self._producer = self._producer, None
        if producer is not None and producer is not threading.current_thread():
            producer.join(timeout=5)

    def _run(self, token: int, halt: threading.Event) -> None:
        period = self.blocksize / self.sample_rate
        due = time.monotonic()
        while not halt.is_set():
            due += period
            self._produce(token)
            # Keep to the schedule, not to the previous block: no drift over a long take.
            halt.wait(max(0.0, due - time.monotonic()))

    def _produce(self, token: int) -> bool:
        """Deliver the next block if the device is delivering; False if it is not."""
        with self._producing:
            if self._unplugged or self._stalled or token != self._live_token:
                return False
            block = self._next_block(self.blocksize)
            overflowed = self._overflows_due > 0
            if overflowed:
                self._overflows_due -= 1
        self._deliver(token, block, overflowed)
        return True

    def _next_block(self, frames: int) -> np.ndarray:
        parts: list[np.ndarray] = []
        needed = frames
        while needed:
            if self._position < len(self._signal):
                part = self._signal[self._position : self._position + needed]
                self._position += len(part)
            elif self.loop and len(self._signal):
                self._position = 0
                continue
            else:
                part = _room_tone(self._rng, needed, self.room_tone_dbfs)
            parts.append(part)
            needed -= len(part)
        if len(parts) == 1:
            return parts[0].copy()
        import numpy as np

        return np.concatenate(parts)


@dataclass(frozen=True)
class Played:
    """One thing a SimulatedSpeaker was asked to play."""

    samples: np.ndarray
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


class SimulatedSpeaker(FailsLoudly, Speaker):
    """A speaker that keeps what it was asked to play in `played`, and plays for as long.

    `playing()` follows `clock`, so a test with a ManualClock decides when playback ends.
    Fault triggers: `lose()` makes `play()` raise DeviceError until `restore()`.
    """

    _offers = ("play()", "stop()", "playing()", "played", "and the triggers lose(), restore()")

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.played: list[Played] = []
        self._clock = clock
        self._ends_at: float | None = None
        self._unplugged = False
        self._sealed = True

    def play(self, samples: np.ndarray, sample_rate: int) -> None:
        if self._unplugged:
            raise DeviceError(
                "the simulated speaker is unplugged (lose() was called; restore() brings it back)"
            )
        if sample_rate <= 0:
            raise ValueError(f"sample rate must be positive, not {sample_rate}")
        import numpy as np

        data = np.array(samples, dtype=np.float32)  # a copy: the caller may reuse its array
        if data.ndim not in (1, 2):
            raise ValueError(f"samples must have shape (n,) or (n, channels), not {data.shape}")
        self.stop()
        self.played.append(Played(data, sample_rate))
        if len(data):
            self._ends_at = self._clock() + len(data) / sample_rate

    def stop(self) -> None:
        self._ends_at = None

    def playing(self) -> bool:
        if self._ends_at is None:
            return False
        if self._clock() >= self._ends_at:
            self._ends_at = None
            return False
        return True

    def lose(self) -> None:
        """Unplug the speaker: play() raises DeviceError until restore()."""
        self._unplugged = True
        self.stop()

    def restore(self) -> None:
        self._unplugged = False

