"""Waiting between retries: exponential backoff with full jitter.

When the central store is down, every booth in the gallery notices at once; if they all
retried on the same schedule they would come back in step and knock the store over
again as it starts. Full jitter (a wait drawn uniformly between 0 and an exponentially
growing ceiling, as in "Exponential Backoff And Jitter", AWS Architecture Blog, 2015)
spreads them out while keeping the average wait half the ceiling.
"""

from __future__ import annotations

import random


class Backoff:
    """Waits of full-jitter exponential backoff: the n-th is uniform in [0, min(max_s, first_s * 2**n))."""

    def __init__(self, first_s: float, max_s: float, *, rng: random.Random | None = None):
        if first_s <= 0 or max_s < first_s:
            raise ValueError(f"need 0 < first_s <= max_s, got {first_s} and {max_s}")
        self.first_s = first_s
        self.max_s = max_s
        self.failures = 0
        self._rng = rng or random.Random()

    @property
    def ceiling(self) -> float:
        """The longest the next wait can be."""
        # 2**60 is far past any cap; the exponent stops growing so the number stays a float.
        return min(self.max_s, self.first_s * 2.0 ** min(self.failures, 60))

    def next_delay(self) -> float:
        """One more failure: how long to wait before trying again."""
        delay = self._rng.uniform(0.0, self.ceiling)
        self.failures += 1
        return delay

    def reset(self) -> None:
        """A request went through: the next failure starts from `first_s` again."""
        self.failures = 0
