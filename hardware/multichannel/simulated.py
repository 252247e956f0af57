"""A simulated multichannel sound card: for tests, and for the demo on a machine without one.

It implements `hardware.multichannel.api.MultichannelOutput` completely, through the same
`ClipMixer` the real card's callback uses, adds explicit fault triggers, and refuses
anything else (`FailsLoudly`, as `hardware.audio.simulated` does).

Without `realtime` (tests) nothing sounds until the test calls `advance(seconds)`, which
renders that much output on the caller's thread and, with `keep=True`, keeps it: a test
then reads `recorded()` and checks order, channels, pauses and loudness sample-exactly.
With `realtime` a thread renders a block every blocksize/sample_rate seconds of wall
time, as a card would (`kiosk run` with `output = "simulated"`).

Fault triggers: `lose()` ends the stream as an unplugged card does, and opening fails
until `restore()`.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from hardware.audio.api import SAMPLE_RATE, DeviceError
from hardware.multichannel.api import MultichannelOutput
from hardware.strict import FailsLoudly


class SimulatedMultichannel(FailsLoudly, MultichannelOutput):
    _offers = (
        "channels", "sample_rate", "last_problem", "mixer", "open()", "close()", "check()", "queue()",
        "pending()", "busy()", "clear()", "events()", "set_pause()",
        "and advance(seconds), recorded(), lose(), restore()",
    )

    def __init__(
        self,
        channels: int,
        sample_rate: int = SAMPLE_RATE,
        *,
        realtime: bool = False,
        keep: bool = True,
        blocksize: int = 1024,
    ):
        MultichannelOutput.__init__(self, channels, sample_rate)
        self.realtime = realtime
        self.keep = keep
        self.blocksize = blocksize
        self._blocks: list[np.ndarray] = []
        self._open = False
        self._unplugged = False
        self._ended = False
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._sealed = True

    # -- the interface -----------------------------------------------------------------

    def open(self) -> None:
        self._open = True
        if self._unplugged:
            self.last_problem = "the simulated sound card is unplugged (lose() was called; restore() brings it back)"
            raise DeviceError(self.last_problem)
        self._start()

    def close(self) -> None:
        self._open = False
        self._stop()

    def check(self) -> bool:
        if not self._open:
            return False
        if self._ended and not self._unplugged:
            self._start()
        return not self._ended

    # -- fault triggers and test helpers -------------------------------------------------

    def lose(self) -> None:
        """Unplug the card: the stream ends now and cannot be reopened until restore()."""
        self._unplugged = True
        self._stop()
        self.last_problem = "the simulated sound card is unplugged (lose() was called; restore() brings it back)"

    def restore(self) -> None:
        self._unplugged = False

    def advance(self, seconds: float) -> None:
        """Play `seconds` of output now (without realtime), in blocks as a card asks for them."""
        if self.realtime:
            raise RuntimeError("advance() is for SimulatedMultichannel(realtime=False); this one runs by itself")
        frames = int(round(seconds * self.sample_rate))
        while frames > 0:
            step = min(frames, self.blocksize)
            if not self._ended:
                self._render(step)
            frames -= step

    def recorded(self) -> np.ndarray:
        """Everything played since the start, shape (frames, channels) (needs keep=True)."""
        if not self._blocks:
            return np.zeros((0, self.channels), dtype=np.float32)
        return np.concatenate(self._blocks)

    # -- inside ------------------------------------------------------------------------

    def _start(self) -> None:
        self._ended = False
        self.last_problem = None
        if self.realtime and self._thread is None:
            self._halt = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(self._halt,), name="simulated memorial output", daemon=True)
            self._thread.start()

    def _stop(self) -> None:
        self._ended = True
        self._halt.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _run(self, halt: threading.Event) -> None:
        period = self.blocksize / self.sample_rate
        due = time.monotonic()
        while not halt.is_set():
            due += period
            self._render(self.blocksize)
            halt.wait(max(0.0, due - time.monotonic()))

    def _render(self, frames: int) -> None:
        block = np.empty((frames, self.channels), dtype=np.float32)
        self.mixer.render(block)
        if self.keep:
            self._blocks.append(block)
