"""How long the collection takes: write the default demo, check it, load it.

    python bench/collection.py [--out DIR] [--count N] [--workers N]

The portrait wall loads the collection at every start, and `kiosk demo` writes one on a
fresh machine, so both must stay fast; run this after changing the reader, the model or
the portrait renderer. Without --out it writes into a temporary folder and removes it.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.collection import DEFAULT_COUNT, check_collection, load_collection, write_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="folder for the demo (kept afterwards)")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    scratch = None
    out = args.out
    if out is None:
        scratch = Path(tempfile.mkdtemp(prefix="bench-collection-"))
        out = scratch / "demo"
    try:
        print(f"cores: {os.cpu_count()}, persons: {args.count}, folder: {out}")

        started = time.perf_counter()
        written = write_demo(out, count=args.count, workers=args.workers)
        elapsed = time.perf_counter() - started
        print(f"write demo:  {elapsed:6.2f} s  ({written.persons} persons, {written.portraits} portraits)")

        started = time.perf_counter()
        report = check_collection(out)
        elapsed = time.perf_counter() - started
        verdict = "valid" if report.valid else f"{report.problem_count} problems"
        print(f"check:       {elapsed:6.2f} s  ({verdict})")

        gc.collect()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        collection = load_collection(out)
        elapsed = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"load:        {elapsed:6.2f} s  ({len(collection.persons)} persons)")

        started = time.perf_counter()
        for transport in collection.transports:
            collection.persons_of(transport.code)
        images = [collection.image_path(p) for p in collection.persons]
        print(
            f"lists and image paths of everyone: {(time.perf_counter() - started) * 1000:.0f} ms ({len(images)} paths)"
        )

        # Memory on a second load: tracemalloc slows every allocation, so it is not timed.
        del collection, images
        gc.collect()
        tracemalloc.start()
        kept = load_collection(out)
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(kept.persons) == written.persons
        print(
            f"load memory: {peak / 2**20:6.1f} MiB peak Python allocations, "
            f"{held / 2**20:.1f} MiB held by the collection; "
            f"max RSS {rss_before / 1024:.0f} -> {rss_after / 1024:.0f} MiB over the first load"
        )
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
