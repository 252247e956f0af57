"""Time as the project's logic sees it: a function that returns seconds.

Flows, sessions, leases and devices take a clock instead of calling `time` themselves, so
tests and screenshots step time exactly (`ManualClock`) and nothing waits on the wall
clock. `time.monotonic` is the clock of durations; `time.time` the one of moments that
leave the process (a lease's deadline on disk).
"""

from __future__ import annotations

from collections.abc import Callable

Clock = Callable[[], float]


class ManualClock:
    """A clock that moves only when told: for tests, and for screenshots of timed states."""

    def __init__(self, start: float = 0.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
