"""Names claimed per second by 16 booths at once, on SQLite and on PostgreSQL.

    python bench/central_claims.py [--booths 16] [--seconds 10] [--persons 25843] [--backend sqlite|postgresql|both]

For each database: a central store with an invented collection of --persons names (the
default is as many as were deported from Mechelen), 16 enrolled booths, and
- over HTTP: `kiosk central serve` in its own process, each booth a thread with its own
  token and connection, claiming the next name and giving it back, again and again
  (each claim is one token check and one write transaction);
- in process: the same loop calling `claim` and `release` on the database directly,
  which is what the database layer alone can do.
It prints claims per second and the claim latency (median and 95th percentile) for
each, and how long importing the collection took. PostgreSQL is a throwaway server
started for the run (tests/central/pg_cluster.py).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "central"))

from kiosk.central.config import load_central_config, write_central_config  # noqa: E402
from kiosk.central.db import Database, open_database  # noqa: E402
from kiosk.central.importer import import_collection  # noqa: E402
from kiosk.central.leases import NameRules, claim, release  # noqa: E402
from kiosk.central.stations import authenticate, enroll  # noqa: E402

# `kiosk central serve --config FILE`, whether or not the entry point lists it yet.
SERVE = (
    "import sys; from kiosk.central.config import load_central_config; "
    "from kiosk.central.server import serve; serve(load_central_config(sys.argv[1]))"
)
FIRST_NAMES = ["Chaja", "Abram", "Sura", "Mozes", "Rywka", "Icek", "Hinda", "Szmul", "Hélène", "Łaja"]


def invented_collection(folder: Path, count: int) -> Path:
    """A FICTIONAL collection of `count` invented persons on 26 transports (no portraits)."""
    folder.mkdir(parents=True)
    (folder / "portraits").mkdir()
    codes = [f"T{n:02d}" for n in range(1, 27)]
    with (folder / "transports.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["code", "departed", "destination", "note"])
        for n, code in enumerate(codes):
            writer.writerow([code, f"1943-{n % 12 + 1:02d}-10", "Auschwitz-Birkenau", "invented for a benchmark"])
    rng = random.Random(1)
    with (folder / "persons.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(
            [
                "person_id",
                "surname",
                "given_names",
                "birth_date",
                "birth_place",
                "sex",
                "transport",
                "list_number",
                "fate",
                "portrait",
                "fictional",
            ]
        )
        for n in range(count):
            code = codes[n % len(codes)]
            birth = f"19{rng.randint(0, 40):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            writer.writerow(
                [
                    f"b-{n:05d}",
                    f"Bench{n}",
                    rng.choice(FIRST_NAMES),
                    birth,
                    "Anvers",
                    "",
                    code,
                    n // len(codes) + 1,
                    "unknown",
                    "",
                    "yes",
                ]
            )
    return folder


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def run_booths(booths: int, seconds: float, work) -> tuple[int, list[float]]:
    """Run `work(booth_index, stop_at, latencies)` in `booths` threads; total claims, latencies."""
    latencies: list[list[float]] = [[] for _ in range(booths)]
    counts = [0] * booths
    start_line = threading.Barrier(booths + 1)

    def booth(index: int) -> None:
        start_line.wait()
        counts[index] = work(index, time.monotonic() + seconds, latencies[index])

    threads = [threading.Thread(target=booth, args=(i,)) for i in range(booths)]
    for thread in threads:
        thread.start()
    start_line.wait()
    for thread in threads:
        thread.join()
    return sum(counts), [value for per_booth in latencies for value in per_booth]


def over_http(url: str, tokens: list[str], seconds: float) -> tuple[int, list[float]]:
    def work(index: int, stop_at: float, latencies: list[float]) -> int:
        claimed = 0
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens[index]}"}, timeout=60) as client:
            while time.monotonic() < stop_at:
                began = time.perf_counter()
                answer = client.post("/api/v1/leases", json={"how": "next", "count": 1})
                latencies.append(time.perf_counter() - began)
                answer.raise_for_status()
                for lease in answer.json()["leases"]:
                    claimed += 1
                    client.delete(f"/api/v1/leases/{lease['lease_id']}").raise_for_status()
        return claimed

    return run_booths(len(tokens), seconds, work)


def in_process(database: Database, tokens: list[str], seconds: float) -> tuple[int, list[float]]:
    stations = [authenticate(database, token) for token in tokens]
    rules = NameRules(lease_s=3600, hand_size=5)

    def work(index: int, stop_at: float, latencies: list[float]) -> int:
        claimed = 0
        while time.monotonic() < stop_at:
            began = time.perf_counter()
            taken = claim(database, stations[index], rules, how="next", count=1)
            latencies.append(time.perf_counter() - began)
            for lease in taken:
                claimed += 1
                release(database, stations[index], lease.lease_id)
        return claimed

    return run_booths(len(tokens), seconds, work)


def wait_for(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the store exited: {process.stderr.read() if process.stderr else ''}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the store did not start")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench(backend: str, collection: Path, work_dir: Path, args: argparse.Namespace, cluster) -> dict[str, float]:
    folder = work_dir / backend
    port = free_port()
    target = write_central_config(folder, port=port)
    if cluster is not None:
        text = target.read_text().replace('url = "sqlite:///central.sqlite3"', f'url = "{cluster.new_database()}"')
        target.write_text(text.replace('level = "INFO"', 'level = "WARNING"'))
    else:
        target.write_text(target.read_text().replace('level = "INFO"', 'level = "WARNING"'))
    config = load_central_config(target)
    database = open_database(config)
    began = time.perf_counter()
    import_collection(database, collection)
    imported = time.perf_counter() - began
    tokens = [enroll(database, f"booth-{n}") for n in range(1, args.booths + 1)]

    claims, latencies = in_process(database, tokens, args.seconds)
    figures = {
        "import_s": imported,
        "direct_per_s": claims / args.seconds,
        "direct_p50_ms": statistics.median(latencies) * 1000,
        "direct_p95_ms": percentile(latencies, 0.95) * 1000,
    }
    database.dispose()

    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(target)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(url, process)
        claims, latencies = over_http(url, tokens, args.seconds)
        figures |= {
            "http_per_s": claims / args.seconds,
            "http_p50_ms": statistics.median(latencies) * 1000,
            "http_p95_ms": percentile(latencies, 0.95) * 1000,
        }
    finally:
        process.terminate()
        process.wait(30)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--booths", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--persons", type=int, default=25_843)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()

    work_dir = Path(tempfile.mkdtemp(prefix="bench-central-"))
    collection = invented_collection(work_dir / "collection", args.persons)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: dict[str, dict[str, float]] = {}
    cluster = None
    try:
        for backend in backends:
            if backend == "postgresql":
                from pg_cluster import PostgresCluster

                cluster = PostgresCluster().start()
            results[backend] = bench(backend, collection, work_dir, args, cluster if backend == "postgresql" else None)
    finally:
        if cluster is not None:
            cluster.stop()
        subprocess.run(["rm", "-rf", str(work_dir)], check=False)

    print(f"{args.booths} booths, {args.seconds:g} s each way, {args.persons} persons, {os.cpu_count()} CPU cores")
    print(f"{'':<12}{'import':>9}{'direct/s':>10}{'p50 ms':>8}{'p95 ms':>8}{'HTTP/s':>9}{'p50 ms':>8}{'p95 ms':>8}")
    for backend, f in results.items():
        print(
            f"{backend:<12}{f['import_s']:>8.1f}s{f['direct_per_s']:>10.0f}{f['direct_p50_ms']:>8.1f}{f['direct_p95_ms']:>8.1f}"
            f"{f['http_per_s']:>9.0f}{f['http_p50_ms']:>8.1f}{f['http_p95_ms']:>8.1f}"
        )
    print(
        "direct: claim + give back on the database in this process; HTTP: POST /api/v1/leases + DELETE, "
        "to `kiosk central serve` in its own process (claims counted, latency of the claim alone)"
    )


if __name__ == "__main__":
    main()
