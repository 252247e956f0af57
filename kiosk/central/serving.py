"""How `kiosk central serve` holds up against clients that open connections and stall.

An attacker (or a broken client) can open a thousand connections that each send half a
request header and then nothing. Three things keep the store answering, even without
the reverse proxy in front (the demo and the tests run without it):

- `raise_open_files_limit`: the soft limit on open files goes up to the hard limit at
  start (systemd's `LimitNOFILE=` sets the hard one), so a thousand sockets do not use
  up the descriptors the store needs for its database, its audio and new clients;
- `HeaderTimeoutH11Protocol`: a connection that has not sent a whole request header
  `HEADER_TIMEOUT_S` after it opened (or after its previous answer) is closed; uvicorn
  itself only times out idle keep-alive connections, never an unfinished header;
- `RepeatLimiter`: a warning or error logged over and over (asyncio's "socket.accept()
  out of system resource" comes once per refused accept) is written `BURST` times a
  minute at most, then once more with how many were left out, so the log cannot fill
  the disk.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import threading
import time
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

HEADER_TIMEOUT_S = 10.0
"""A booth sends its request header in one packet; ten seconds is generous on any LAN."""
OPEN_FILES_WANTED = 65_536
"""The soft limit asked for when the hard limit is unlimited."""


def raise_open_files_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit; returns (before, after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES_WANTED if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError) as error:
            log.warning("could not raise the open files limit", extra={"soft": soft, "hard": hard, "error": str(error)})
            return soft, soft
        return soft, wanted
    return soft, soft


class HeaderTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections that stall before a whole request header."""

    header_timeout_s = HEADER_TIMEOUT_S
    closed_for_stalling = 0  # for the log summary and the tests; the event loop's thread only

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        # The first bytes of a next request on a kept-alive connection: its header has
        # as long as the first one had.
        if self._header_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._arm_header_timer()
        super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._waiting_after = self.cycle
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._header_timed_out)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if self.cycle is not self._waiting_after:
            return  # a whole request header arrived in time
        if not self.transport.is_closing():
            HeaderTimeoutH11Protocol.closed_for_stalling += 1
            log.warning(
                "closed a connection that sent no whole request header in time",
                extra={"timeout_s": self.header_timeout_s},
            )
            self.transport.close()


class RepeatLimiter(logging.Filter):
    """Lets each warning or error through `burst` times per `window_s`, then summarises.

    Records are told apart by logger and message template. Lines below WARNING pass
    untouched: they are the store's record of what it did, never a loop of failures.
    """

    def __init__(self, burst: int = 5, window_s: float = 60.0, clock: Any = time.monotonic):
        super().__init__()
        self.burst = burst
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], list[float | int]] = {}  # key -> [window start, passed, left out]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        # The first line: asyncio's exception handler adds lines that may differ per call.
        key = (record.name, str(record.msg).split("\n", 1)[0])
        now = self._clock()
        with self._lock:
            state = self._seen.get(key)
            if state is None or now - state[0] >= self.window_s:
                left_out = int(state[2]) if state is not None else 0
                self._seen[key] = [now, 1, 0]
                if left_out:
                    record.repeats_left_out = left_out
                if len(self._seen) > 1000:  # bounded: forget the oldest windows
                    for old in sorted(self._seen, key=lambda k: self._seen[k][0])[:500]:
                        del self._seen[old]
                return True
            if state[1] < self.burst:
                state[1] += 1
                return True
            state[2] += 1
            return False


def limit_repeated_log_lines(burst: int = 5, window_s: float = 60.0) -> RepeatLimiter:
    """Put a `RepeatLimiter` on every handler of the root logger; returns it."""
    limiter = RepeatLimiter(burst, window_s)
    for handler in logging.getLogger().handlers:
        handler.addFilter(limiter)
    return limiter
