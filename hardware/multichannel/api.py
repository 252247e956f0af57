"""The memorial's multichannel sound card: one name at a time, each from its own loudspeaker.

Why this module exists: the memorial plays for years without anyone touching it. Names
follow each other with a fixed pause, each on the output channel of its transport, and
neither the screen nor the audio callback may ever wait for the other.

Shape: a `ClipMixer` holds the clips queued to play. The PortAudio callback asks it for
each block (`render`), which only copies samples: the current clip into its channel,
zeros everywhere else. The pause between two names is counted in samples inside the
mixer, so it is exact whatever the screen or the network does, as long as the next clip
is queued before the pause is over (the player keeps one clip queued ahead). When a clip
starts or ends the mixer notes it in a queue the player drains (`events()`): that is how
the screen knows which name sounds. The real output and the simulation share the mixer,
so tests of the simulation exercise the exact timing logic the memorial runs on.

Loss and return: a card that disappears (USB unplugged, sound server gone) ends the
stream; `check()`, called about once a second by the player, notices it and reopens the
device by name every `retry_interval` seconds, with a fresh device list.

This module is the interface and the mixer; the PortAudio card is
`hardware.multichannel.portaudio`, the simulation `hardware.multichannel.simulated`.
"""

from __future__ import annotations

import abc
import collections
import logging
import queue
from dataclasses import dataclass
from typing import Any

import numpy as np


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Clip:
    """One name ready to sound: mono float32 at the output's rate, its gain applied."""

    samples: np.ndarray
    channel: int  # 0-based output channel
    tag: Any = None  # what the player wants back in the events (the playlist entry)


@dataclass(frozen=True)
class ClipEvent:
    kind: str  # "start" or "end"
    tag: Any
    frame: int  # the output's frame counter when it happened


class ClipMixer:
    """Clips in, blocks of (frames, channels) out; the only state the audio callback touches."""

    def __init__(self, channels: int, sample_rate: int, pause_s: float = 0.0):
        self.channels = channels
        self.sample_rate = sample_rate
        self.pause_frames = int(round(pause_s * sample_rate))
        self.frames_rendered = 0
        self.late_frames = 0  # silence beyond a pause because no clip was queued in time
        self._pending: collections.deque[Clip] = collections.deque()
        self._events: queue.SimpleQueue[ClipEvent] = queue.SimpleQueue()
        self._current: Clip | None = None
        self._position = 0
        self._pause_left = 0
        self._after_clip = False  # the last thing played was a clip, so a pause is owed

    def queue(self, clip: Clip) -> None:
        if not 0 <= clip.channel < self.channels:
            raise ValueError(f"channel {clip.channel} is not one of the {self.channels} output channels")
        self._pending.append(clip)  # deque.append/popleft are atomic: no lock with the callback

    def pending(self) -> int:
        return len(self._pending)

    def busy(self) -> bool:
        return self._current is not None or bool(self._pending)

    def clear(self) -> None:
        """Drop what is queued; the clip sounding now plays to its end."""
        self._pending.clear()
        self._after_clip = False

    def events(self) -> list[ClipEvent]:
        found = []
        while True:
            try:
                found.append(self._events.get_nowait())
            except queue.Empty:
                return found

    def render(self, out: np.ndarray) -> None:
        """Fill `out` (frames, channels) with the next block; called on the audio thread."""
        out.fill(0)
        frames = out.shape[0]
        done = 0
        while done < frames:
            if self._current is None:
                if self._pause_left > 0:
                    step = min(self._pause_left, frames - done)
                    self._pause_left -= step
                    done += step
                    continue
                if not self._pending:
                    if self._after_clip:
                        self.late_frames += frames - done
                    break
                self._current = self._pending.popleft()
                self._position = 0
                self._events.put(ClipEvent("start", self._current.tag, self.frames_rendered + done))
            clip = self._current
            step = min(len(clip.samples) - self._position, frames - done)
            out[done : done + step, clip.channel] = clip.samples[self._position : self._position + step]
            self._position += step
            done += step
            if self._position >= len(clip.samples):
                self._events.put(ClipEvent("end", clip.tag, self.frames_rendered + done))
                self._current = None
                self._after_clip = True
                self._pause_left = self.pause_frames
        self.frames_rendered += frames

    def set_pause(self, pause_s: float) -> None:
        self.pause_frames = int(round(pause_s * self.sample_rate))


class MultichannelOutput(abc.ABC):
    """What the memorial needs from a sound card; nothing more, so a simulation can be complete.

    `open()` once, `check()` about once a second (where a lost card is noticed and a
    returned one taken back), `queue()` clips ahead of time. Nothing here blocks.
    """

    channels: int
    sample_rate: int
    last_problem: str | None

    def __init__(self, channels: int, sample_rate: int):
        if channels < 1:
            raise ValueError(f"channels must be at least 1, not {channels}")
        self.channels = channels
        self.sample_rate = sample_rate
        self.mixer = ClipMixer(channels, sample_rate)
        self.last_problem = None

    def queue(self, clip: Clip) -> None:
        self.mixer.queue(clip)

    def pending(self) -> int:
        return self.mixer.pending()

    def busy(self) -> bool:
        return self.mixer.busy()

    def clear(self) -> None:
        self.mixer.clear()

    def events(self) -> list[ClipEvent]:
        return self.mixer.events()

    def set_pause(self, pause_s: float) -> None:
        self.mixer.set_pause(pause_s)

    @abc.abstractmethod
    def open(self) -> None:
        """Start the stream (silence until a clip is queued); DeviceError if it cannot.

        After a DeviceError the output keeps trying in `check()`, so a memorial started
        before its sound card was switched on comes into service by itself.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Stop the stream; safe to call more than once."""

    @abc.abstractmethod
    def check(self) -> bool:
        """Notice a lost stream and reopen it when due; True while sound can flow."""
