"""The part of a microphone that does not depend on where its blocks come from.

`BlockMicrophone` keeps takes, the level meter, and notices loss and return; the
PortAudio microphone (`hardware.audio.portaudio`) and the simulated one
(`hardware.audio.simulated`) differ only in their source of blocks, so tests of the
simulation exercise the same take and loss logic the booth runs on. The shape is
described in `hardware.audio.portaudio`.
"""

from __future__ import annotations

import abc
import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hardware.audio.api import SAMPLE_RATE, Capture, DeviceError, Microphone, MicrophoneState, dbfs

if TYPE_CHECKING:  # numpy (15 MB) when sound is first made, not at a wall's start (issue 18)
    import numpy as np

log = logging.getLogger(__name__)

_WRITER_REPLY_TIMEOUT = 10.0  # the writer only moves arrays about; longer means it died


@dataclass(frozen=True)
class _Block:
    samples: np.ndarray
    overflowed: bool


@dataclass(frozen=True)
class _EndTake:
    reply: queue.SimpleQueue


_BEGIN_TAKE = object()
_LOST = object()  # the device was lost: the take in progress keeps no more blocks
_SHUTDOWN = object()


@dataclass
class _Take:
    """The blocks of one take, accumulated by the writer thread only."""

    blocks: list[np.ndarray] = field(default_factory=list)
    overflows: int = 0
    lost: bool = False

    def keep(self, block: _Block) -> None:
        if self.lost:
            return
        self.blocks.append(block.samples)
        if block.overflowed:
            self.overflows += 1


def _offer_latest(box: queue.Queue, value: float) -> None:
    """Put `value` into a queue of size 1, dropping a stale value a slow reader left there."""
    try:
        box.get_nowait()
    except queue.Empty:
        pass
    try:
        box.put_nowait(value)
    except queue.Full:
        pass  # another producer got there in between; its value is as fresh


class BlockMicrophone(Microphone):
    """Everything of a microphone except its source: takes, level meter, loss and return.

    A subclass opens its source in `_connect(token, rescan)`, which delivers mono float32
    blocks by calling `_deliver(token, samples, overflowed)` from whatever thread it has,
    and reports an ending stream with `_ended(token, reason)`; `_disconnect()` stops it.
    The token tells blocks of the current connection from late ones of a closed one.
    The real microphone and the simulation share this class, so tests of the simulation
    exercise the same take and loss logic the booth runs on.
    """

    def __init__(
        self,
        name: str,
        sample_rate: int = SAMPLE_RATE,
        *,
        retry_interval: float = 2.0,
        stall_timeout: float = 1.0,
        start_timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        if sample_rate <= 0:
            raise ValueError(f"sample rate must be positive, not {sample_rate}")
        self.name = name
        self.sample_rate = sample_rate
        self.retry_interval = retry_interval
        self.stall_timeout = stall_timeout
        self.start_timeout = start_timeout
        self.last_problem: str | None = None  # why the microphone is (or was last) lost
        self._clock = clock
        self._control = threading.RLock()  # open/close/capture/check, whoever calls them
        self._flags = threading.Lock()  # the loss flags, shared with the finished callback
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._levels: queue.Queue[float] = queue.Queue(maxsize=1)
        self._writer: threading.Thread | None = None
        self._overflows_total = 0
        self._wanted = False  # open() was called and close() was not
        self._connected = False
        self._token = 0
        self._connected_at = 0.0
        self._heard_token = -1  # the token of the newest block: sound flows on that connection
        self._last_block_at = 0.0
        self._ended_reason: str | None = None  # the current connection ended by itself
        self._lost_reason: str | None = None
        self._next_attempt_at = 0.0
        self._take_running = False
        self._take_lost = False

    # -- the interface -----------------------------------------------------------------

    @property
    def state(self) -> MicrophoneState:
        if not self._wanted:
            return MicrophoneState.CLOSED
        if self._lost_reason is not None:
            return MicrophoneState.LOST
        if self._take_running and not self._take_lost:
            return MicrophoneState.CAPTURING
        return MicrophoneState.READY

    @property
    def overflows_total(self) -> int:
        return self._overflows_total

    def open(self) -> None:
        with self._control:
            if self._wanted:
                raise RuntimeError(f"{self.name} is already open")
            self._wanted = True
            self._writer = threading.Thread(
                target=self._write, args=(self._inbox,), name=f"writer for {self.name}",
                daemon=True,
            )
            self._writer.start()
            try:
                self._start_source(rescan=False)
            except DeviceError as error:
                self._lose(str(error))
                raise

    def close(self) -> None:
        with self._control:
            if not self._wanted:
                return
            self._wanted = False
            self._stop_source()
            self._inbox.put(_SHUTDOWN)
            if self._writer is not None:
                self._writer.join(timeout=_WRITER_REPLY_TIMEOUT)
                self._writer = None
            self._inbox = queue.SimpleQueue()
            self._take_running = False
            self._take_lost = False
            self._lost_reason = None
            try:
                self._levels.get_nowait()
            except queue.Empty:
                pass

    def start_capture(self) -> None:
        with self._control:
            if not self._wanted:
                raise RuntimeError(f"{self.name} is not open: open() it first")
            if self._take_running:
                raise RuntimeError(f"{self.name} is already capturing: stop_capture() first")
            with self._flags:  # so a loss reported meanwhile lands after the beginning
                self._take_running = True
                self._take_lost = self._lost_reason is not None
                self._inbox.put(_BEGIN_TAKE)
                if self._take_lost:
                    # Begun on a lost microphone, the take is lost from the start; the
                    # booth learns it from check() and stop_capture() like any other loss.
                    self._inbox.put(_LOST)

    def stop_capture(self) -> Capture:
        with self._control:
            if not self._take_running:
                raise RuntimeError(f"{self.name} has no capture to stop")
            if self._lost_reason is None:
                self._notice_failure()
            reply: queue.SimpleQueue = queue.SimpleQueue()
            self._inbox.put(_EndTake(reply))
            try:
                take: _Take = reply.get(timeout=_WRITER_REPLY_TIMEOUT)
            except queue.Empty:
                raise DeviceError(f"the writer thread of {self.name} does not answer") from None
            self._take_running = False
            self._take_lost = False
        import numpy as np

        samples = np.concatenate(take.blocks) if take.blocks else np.zeros(0, dtype=np.float32)
        return Capture(samples, self.sample_rate, take.overflows, take.lost)

    def level(self) -> float | None:
        try:
            rms = self._levels.get_nowait()
        except queue.Empty:
            return None
        return dbfs(rms)

    def check(self) -> MicrophoneState:
        with self._control:
            if not self._wanted:
                return MicrophoneState.CLOSED
            if self._lost_reason is None:
                self._notice_failure()
            elif self._connected:
                self._await_return()
            if self._lost_reason is not None and not self._connected:
                self._try_reconnect()
            return self.state

    # -- for subclasses ------------------------------------------------------------------

    @abc.abstractmethod
    def _connect(self, token: int, rescan: bool) -> None:
        """Open the source and start delivering blocks tagged with `token`.

        `rescan` asks for a fresh look at the devices present (after a loss). Raise
        DeviceError, saying what to do, if the source cannot be opened.
        """

    @abc.abstractmethod
    def _disconnect(self) -> None:
        """Stop delivering and release the source; must not raise."""

    def _deliver(self, token: int, samples: np.ndarray, overflowed: bool) -> None:
        """Hand over one mono block; called on the audio thread, so it only queues.

        `samples` must be the caller's own copy: PortAudio reuses its buffer.
        """
        if token != self._token:
            return  # a late block from a stream that was closed
        self._last_block_at = self._clock()
        self._heard_token = token
        self._inbox.put(_Block(samples, overflowed))
        size = samples.shape[0]
        rms = math.sqrt(float(samples.dot(samples)) / size) if size else 0.0
        _offer_latest(self._levels, rms)

    def _ended(self, token: int, reason: str) -> None:
        """The source of connection `token` ended by itself (PortAudio's finished callback)."""
        if token != self._token:
            return  # we closed it ourselves
        with self._flags:
            if token != self._token or self._ended_reason is not None:
                return
            self._ended_reason = reason
            if self._lost_reason is not None:
                return
            self._lost_reason = reason
            self.last_problem = reason
            self._inbox.put(_LOST)
            if self._take_running:
                self._take_lost = True
        log.error("microphone lost", extra={"device": self.name, "problem": reason})

    # -- loss and return -----------------------------------------------------------------

    def _start_source(self, rescan: bool) -> None:
        with self._flags:
            self._token += 1
            self._ended_reason = None
            self._connected_at = self._clock()
        self._connect(self._token, rescan)
        self._connected = True

    def _stop_source(self) -> None:
        with self._flags:
            # A new token first: the finished callback of the stream closed below, and
            # any block still under way from it, are then known to be ours to ignore.
            self._token += 1
        if self._connected:
            self._connected = False
            self._disconnect()

    def _failure(self, now: float) -> str | None:
        """Why the current connection no longer counts as a working microphone, if it does not."""
        if self._ended_reason is not None:
            return self._ended_reason
        if self._heard_token != self._token:
            if now - self._connected_at > self.start_timeout:
                return f"no sound from {self.name} within {self.start_timeout:g} s of opening it"
            return None
        silent_for = now - self._last_block_at
        if silent_for > self.stall_timeout:
            return f"no sound from {self.name} for {silent_for:.1f} s: the stream stalled"
        return None

    def _notice_failure(self) -> None:
        reason = self._failure(self._clock()) if self._connected else None
        if reason is not None:
            self._lose(reason)

    def _lose(self, reason: str) -> None:
        with self._flags:
            first = self._lost_reason is None
            self._lost_reason = reason
            self.last_problem = reason
            if first:
                self._inbox.put(_LOST)
                if self._take_running:
                    self._take_lost = True
        if first:
            log.error("microphone lost", extra={"device": self.name, "problem": reason})
        self._stop_source()
        self._next_attempt_at = self._clock() + self.retry_interval

    def _await_return(self) -> None:
        """After a reconnection: back in service once blocks flow, else give up on it."""
        now = self._clock()
        reason = self._failure(now)
        if reason is not None:
            self.last_problem = reason
            self._stop_source()
            return
        with self._flags:  # not back if the finished callback came in between
            back = self._ended_reason is None and self._heard_token == self._token
            if back:
                self._lost_reason = None
        if back:
            log.info("microphone back", extra={"device": self.name})

    def _try_reconnect(self) -> None:
        now = self._clock()
        if now < self._next_attempt_at:
            return
        self._next_attempt_at = now + self.retry_interval
        try:
            self._start_source(rescan=True)
        except DeviceError as error:
            self.last_problem = str(error)

    # -- the writer thread ---------------------------------------------------------------

    def _write(self, inbox: queue.SimpleQueue) -> None:
        """Own the take: the only code that touches its blocks, so nothing needs a lock."""
        take: _Take | None = None
        while True:
            item = inbox.get()
            if isinstance(item, _Block):
                if item.overflowed:
                    self._overflows_total += 1
                if take is not None:
                    take.keep(item)
            elif item is _BEGIN_TAKE:
                take = _Take()
            elif item is _LOST:
                if take is not None:
                    take.lost = True
            elif isinstance(item, _EndTake):
                item.reply.put(take if take is not None else _Take())
                take = None
            elif item is _SHUTDOWN:
                return
