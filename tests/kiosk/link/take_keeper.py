"""Keeps takes in a loop, as a busy booth does, until it is killed: a victim of test_sync_faults.

    python take_keeper.py TAKES_ROOT STATION_ID SEED PERSONS

Prints "ready" once the store is open, then the recording id of each take whose keep()
has returned, flushed at once: what it printed, it promised was kept. It pauses up to
0.3 s between takes. Persons are
p-0001 to p-PERSONS, names the central store knows.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from sync_support import ADULT, QUALITY, tone  # noqa: E402

from exhibits.booth.take_store import TakeStore  # noqa: E402


def main(root: Path, station_id: str, seed: int, persons: int) -> None:
    store = TakeStore(root, station_id)
    rng = np.random.default_rng(seed)
    print("ready", flush=True)
    number = 0
    while True:
        number += 1
        seconds = float(rng.uniform(0.4, 1.2))  # the store refuses takes under 0.3 s
        person = f"p-{int(rng.integers(1, persons + 1)):04d}"
        kept = store.keep(tone(seconds, seed=seed * 1000 + number), 48_000, person_id=person, consent=ADULT, quality=QUALITY)
        print(kept.recording_id, flush=True)
        # About as often as a busy booth with several people queueing, sped up: the
        # uploader keeps up, and kills land in its uploads as often as in keep().
        time.sleep(float(rng.uniform(0.0, 0.3)))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
