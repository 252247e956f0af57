"""Does the store keep answering while 1,100 connections each hold half a request header?

    python bench/central_half_open.py [--connections 1100] [--seconds 30]

Starts `kiosk central serve` (SQLite, empty) in a child process with its log in a file,
then measures /api/v1/health on a fresh connection every half second: first for
`--baseline-s` seconds with nothing else going on (the baseline), then for SECONDS while
CONNECTIONS sockets each have sent half a request header and nothing more, reopened
whenever the store closes them (tests/central/half_open.py). It prints the health
latency (median, 95th percentile, slowest) for both phases, the probes that failed, how
many stalled connections the store closed, and the size of the store's log (bytes,
lines, the most repeated line).

Run it after changing `kiosk.central.serving`, uvicorn, or the server's start-up.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CENTRAL_TESTS = ROOT / "tests" / "central"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(CENTRAL_TESTS))

from half_open import HalfOpenAttack, Probe, probe_health  # noqa: E402
from test_central_cli import free_port, wait_for_health  # noqa: E402

from kiosk.central.config import write_central_config  # noqa: E402


def summary(label: str, probes: list[Probe]) -> str:
    times = sorted(p.seconds * 1000 for p in probes if p.status == 200)
    failed = sum(p.status != 200 for p in probes)
    if not times:
        return f"{label:<28} no answer in {len(probes)} probes"
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    return (
        f"{label:<28} {len(probes):>4} probes  median {statistics.median(times):7.1f} ms  "
        f"p95 {p95:7.1f} ms  slowest {times[-1]:7.1f} ms  failed {failed}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=1100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--baseline-s", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-half-open-") as folder:
        port = free_port()
        toml = write_central_config(Path(folder) / "store", port=port)
        url = f"http://127.0.0.1:{port}"
        log_path = Path(folder) / "serve.log"
        with log_path.open("w") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "kiosk", "central", "serve", "--config", str(toml)],
                stdout=log_file, stderr=subprocess.STDOUT,
            )
        attack = None
        try:
            wait_for_health(url, process)
            baseline = probe_health(url, args.baseline_s)
            log_before = log_path.stat().st_size
            attack = HalfOpenAttack("127.0.0.1", port, args.connections).start()
            attacked = probe_health(url, args.seconds)
            held = attack.open_now
        finally:
            if attack is not None:
                attack.stop()
            process.terminate()
            process.wait(30)
        lines = log_path.read_text(errors="replace").splitlines()
        messages = collections.Counter(json.loads(line)["msg"].split("\n")[0] for line in lines if line.startswith("{"))
        print(summary("baseline (no attack)", baseline))
        print(summary(f"{args.connections} half-open, {args.seconds:g} s", attacked))
        print(f"attack: {attack.opened} opened, {held} open at the end, {attack.closed_by_server} closed by the store, "
              f"{attack.failed} refused")
        print(f"log: {log_path.stat().st_size} bytes in {len(lines)} lines "
              f"({log_path.stat().st_size - log_before} bytes during the attack and after); "
              f"most repeated: {messages.most_common(1)}")


if __name__ == "__main__":
    main()
