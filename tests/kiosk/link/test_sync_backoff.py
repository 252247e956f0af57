"""kiosk.link.backoff: full jitter, doubling from the first wait up to the cap."""

from __future__ import annotations

import random
import statistics

import pytest

from kiosk.link.backoff import Backoff


def test_the_ceiling_doubles_up_to_the_cap_and_resets():
    backoff = Backoff(1.0, 300.0, rng=random.Random(1))
    ceilings = []
    for _ in range(12):
        ceilings.append(backoff.ceiling)
        backoff.next_delay()
    assert ceilings == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    backoff.reset()
    assert backoff.ceiling == 1.0


def test_every_wait_is_between_zero_and_its_ceiling_and_spread_over_it():
    rng = random.Random(7)
    for failures in (0, 3, 9, 40, 2000):
        waits = []
        for _ in range(2000):
            backoff = Backoff(1.0, 300.0, rng=rng)
            backoff.failures = failures
            ceiling = backoff.ceiling
            waits.append(backoff.next_delay())
        assert all(0.0 <= wait <= ceiling for wait in waits)
        # Full jitter: uniform over [0, ceiling], so the mean is near half the ceiling
        # and some waits are near 0 and some near the ceiling (no synchronised retries).
        assert statistics.mean(waits) == pytest.approx(ceiling / 2, rel=0.08)
        assert min(waits) < 0.05 * ceiling and max(waits) > 0.95 * ceiling


def test_two_stations_do_not_retry_in_step():
    a, b = Backoff(1.0, 300.0, rng=random.Random(1)), Backoff(1.0, 300.0, rng=random.Random(2))
    assert [a.next_delay() for _ in range(8)] != [b.next_delay() for _ in range(8)]


@pytest.mark.parametrize("first, cap", [(0, 1), (-1, 5), (5, 1)])
def test_nonsense_settings_are_refused(first, cap):
    with pytest.raises(ValueError):
        Backoff(first, cap)
