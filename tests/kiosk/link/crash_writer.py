"""Keeps takes in a loop until it is killed: the victim of test_takes' kill -9 test.

    python crash_writer.py ROOT SEED

Prints "ready" once the store is open, then the recording id of every take whose keep()
has returned, one per line, flushed at once: what it printed, it promised was kept.
Takes vary in length, rate and sample format so a kill lands in every step of keep().
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import numpy as np

from exhibits.booth.take_store import TakeStore
from kiosk.link.outbox import Consent


def main(root: Path, seed: int) -> None:
    store = TakeStore(root, "booth-crash")
    consent = Consent(version="2026-11", language="fr", age_band="9-12", guardian_confirmed=True)
    rng = np.random.default_rng(seed)
    print("ready", flush=True)
    number = 0
    while True:
        number += 1
        rate = int(rng.choice([48_000, 44_100, 16_000]))
        # Short and mostly tone, so hundreds of takes stay small on the test's disk.
        frames = int(rng.integers(rate // 20, rate // 2))
        t = np.arange(frames) / rate
        samples = 0.5 * np.sin(2 * np.pi * 440 * t) + rng.uniform(-0.01, 0.01, frames)
        if number % 3 == 0:
            samples = (samples * 32767).astype(np.int16)
        kept = store.keep(samples, rate, person_id=f"P{seed}-{number}", consent=consent, quality={"verdict": "ok"})
        print(kept.recording_id, flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
