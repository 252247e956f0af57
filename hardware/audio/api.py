"""The booth's microphone and speaker as the booth sees them: one small interface each.

Why this module exists: the booth flow, the wall and the memorial need only these names,
and a module that needs only them must not load PortAudio, pyserial or a simulation.
The real devices are in `hardware.audio.portaudio`, the simulations in
`hardware.audio.simulated`; a station's composition root picks one of them.
"""

from __future__ import annotations

import abc
import enum
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy (15 MB) when sound is first made, not at a wall's start (issue 18)
    import numpy as np

SAMPLE_RATE = 48_000
SILENCE_DBFS = -120.0  # what digital zero measures; a floor for the level meter


class DeviceError(RuntimeError):
    """A sound device is missing, refuses the settings, or failed.

    The message names the device and says what a technician can do about it; the booth
    shows "out of order" and logs it.
    """


class MicrophoneState(enum.Enum):
    CLOSED = "closed"  # not opened, or closed: nothing listens
    READY = "ready"  # blocks flow; the level meter moves
    CAPTURING = "capturing"  # blocks flow and are kept for the take
    LOST = "lost"  # the device disappeared, failed or fell silent; check() tries to reopen it


@dataclass(frozen=True)
class Capture:
    """One take as recorded: mono float32 samples and what went wrong while recording."""

    samples: np.ndarray  # float32, shape (n,)
    sample_rate: int
    overflows: int  # blocks PortAudio flagged with an input overflow during the take
    lost: bool  # the device was lost during the take; samples hold what came before


class Microphone(abc.ABC):
    """What the booth needs from a microphone; nothing more, so a simulation can be complete.

    Call `open()` once when the booth starts and `check()` regularly (every second) from
    then on: `check()` is where a lost microphone is noticed and where a returned one is
    taken back into service. `level()` is for a meter and never blocks.
    """

    sample_rate: int

    @property
    @abc.abstractmethod
    def state(self) -> MicrophoneState: ...

    @property
    @abc.abstractmethod
    def overflows_total(self) -> int:
        """Input overflows since the microphone was made, for the technicians' heartbeat."""

    @abc.abstractmethod
    def open(self) -> None:
        """Start listening; raise DeviceError if the device cannot be opened.

        After a DeviceError the microphone is LOST, not CLOSED: `check()` keeps trying, so
        a booth started before its microphone was plugged in comes into service by itself.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Stop listening and drop any take in progress; safe to call more than once."""

    @abc.abstractmethod
    def start_capture(self) -> None:
        """Begin keeping blocks for a take (the stream is already running for the meter)."""

    @abc.abstractmethod
    def stop_capture(self) -> Capture:
        """End the take and return it; it is marked lost if the device was lost meanwhile."""

    @abc.abstractmethod
    def level(self) -> float | None:
        """RMS of the newest block in dBFS, or None if no block came since the last call."""

    @abc.abstractmethod
    def check(self) -> MicrophoneState:
        """Notice a lost device, reopen a returned one; return the state."""


class Speaker(abc.ABC):
    """Plays a take back on the review screen; never blocks the caller."""

    @abc.abstractmethod
    def play(self, samples: np.ndarray, sample_rate: int) -> None:
        """Start playing (stopping what played before); raise DeviceError if it cannot."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop playing; nothing happens if nothing plays."""

    @abc.abstractmethod
    def playing(self) -> bool:
        """Whether sound is still coming out."""


def dbfs(rms: float) -> float:
    """An RMS amplitude (full scale 1.0) in dB relative to full scale, floored at SILENCE_DBFS."""
    if rms <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20.0 * math.log10(rms))

