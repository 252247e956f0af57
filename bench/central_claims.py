"""Names claimed per second by 16 booths at once, on SQLite and on PostgreSQL, beside the HTTP ceiling.

    python bench/central_claims.py [--booths 16] [--seconds 8] [--persons 25843] [--backend sqlite|postgresql|both]

For each database: a central store with an invented collection of --persons names (the
default is as many as were deported from Mechelen) and 16 enrolled booths, and
- over HTTP: `kiosk central serve` in its own process, each booth a thread with its own
  token and connection, claiming the next name and giving it back, again and again;
- in process ("direct"): the same loop calling `claim` and `release` on the database,
  which is what the database layer alone can do.
The ceiling: the same client, the same booths, against an app whose two endpoints do
nothing (an empty FastAPI app answering the same paths with a lease-shaped answer),
served by uvicorn exactly as `kiosk central serve` serves the store. It is measured
after the first database and after the last, and the mean is the figure, so that a
machine whose load changes during the run weighs on both sides alike.

The bench checks the promise as it goes: every booth notes a name as held from the
moment its claim's answer arrived until it sends the give-back (a span inside the real
lease), across all booths; a name claimed while another booth holds it is a duplicate.

It prints a table, then as its last line one JSON object:
{"sqlite_http_per_s", "postgresql_http_per_s", "ceiling_http_per_s", "duplicates"}
(claims per second: a claim and its give-back; duplicates over both databases).
Goals (issue 18): SQLite >= 0.65 x ceiling, PostgreSQL >= 0.4 x ceiling, 0 duplicates.
PostgreSQL is a throwaway server started for the run (tests/central/pg_cluster.py);
everything the bench made is removed at the end. The store logs at INFO, as `kiosk
central init` configures it, to a file (--log-level WARNING is how the issue's old
figures were taken; DEBUG adds a line per claim and give-back, and uvicorn's access log).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

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
                    rng.choice(["f", "m", ""]),
                    code,
                    n // len(codes) + 1,
                    "unknown",
                    "",
                    "yes",
                ]
            )
    return folder


class Holdings:
    """Which booth holds which name now, as the booths see it; counts names claimed while held."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: dict[str, int] = {}
        self.duplicates = 0
        self.examples: list[str] = []

    def took(self, person_id: str, booth: int) -> None:
        with self._lock:
            other = self._holder.get(person_id)
            if other is not None:
                self.duplicates += 1
                if len(self.examples) < 5:
                    self.examples.append(f"{person_id}: booth {other} and booth {booth}")
            self._holder[person_id] = booth

    def gives_back(self, person_id: str, booth: int) -> None:
        with self._lock:
            if self._holder.get(person_id) == booth:
                del self._holder[person_id]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def run_booths(booths: int, seconds: float, work) -> tuple[int, list[float]]:
    """Run `work(booth_index, stop_at, latencies)` in `booths` threads; total claims, latencies."""
    latencies: list[list[float]] = [[] for _ in range(booths)]
    counts = [0] * booths
    errors: list[BaseException] = []
    start_line = threading.Barrier(booths + 1)

    def booth(index: int) -> None:
        start_line.wait()
        try:
            counts[index] = work(index, time.monotonic() + seconds, latencies[index])
        except BaseException as error:  # reported below, not lost in a thread
            errors.append(error)

    threads = [threading.Thread(target=booth, args=(i,)) for i in range(booths)]
    for thread in threads:
        thread.start()
    start_line.wait()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"a booth failed: {errors[0]!r}")
    return sum(counts), [value for per_booth in latencies for value in per_booth]


def over_http(url: str, tokens: list[str], seconds: float, holdings: Holdings) -> tuple[int, list[float]]:
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
                    holdings.took(lease["person_id"], index)
                    holdings.gives_back(lease["person_id"], index)  # before the give-back is sent
                    client.delete(f"/api/v1/leases/{lease['lease_id']}").raise_for_status()
        return claimed

    return run_booths(len(tokens), seconds, work)


def in_process(database: Database, tokens: list[str], seconds: float, holdings: Holdings) -> tuple[int, list[float]]:
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
                holdings.took(lease.person_id, index)
                holdings.gives_back(lease.person_id, index)
                release(database, stations[index], lease.lease_id)
        return claimed

    return run_booths(len(tokens), seconds, work)


def wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def start_server(arguments: list[str], log: Path, url: str) -> subprocess.Popen:
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, *arguments], cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, text=True
        )
    try:
        wait_for(url, process, log)
    except BaseException:
        stop_server(process)
        raise
    return process


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(30)


def store_config(folder: Path, database_url: str | None, log_level: str = "INFO") -> Path:
    target = write_central_config(folder, port=free_port())
    text = target.read_text().replace('level = "INFO"', f'level = "{log_level}"')
    if database_url is not None:
        text = text.replace('url = "sqlite:///central.sqlite3"', f'url = "{database_url}"')
    target.write_text(text)
    return target


def cpu_seconds(process: subprocess.Popen) -> float:
    """User and system CPU time the process used so far (Linux /proc), 0.0 where unknown."""
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ceiling(work_dir: Path, tokens: list[str], seconds: float, name: str) -> float:
    """Claims per second of the same client against the empty app (see the module docstring)."""
    target = store_config(work_dir / name, None)
    config = load_central_config(target)
    url = f"http://127.0.0.1:{config.server.port}"
    process = start_server([str(Path(__file__).resolve()), "--serve-empty", str(target)], work_dir / f"{name}.log", url)
    try:
        cpu = cpu_seconds(process)
        claims, _ = over_http(url, tokens, seconds, Holdings())
        cpu = cpu_seconds(process) - cpu
    finally:
        stop_server(process)
    return claims / seconds, cpu / max(claims, 1) * 1000


def serve_empty(target: str) -> None:
    """The ceiling's server: the lease paths answering at once, on `kiosk central serve`'s uvicorn settings."""
    import uuid

    import uvicorn
    from fastapi import FastAPI, Response

    from kiosk.central.server import uvicorn_config

    app = FastAPI()
    served = [0]

    @app.get("/api/v1/health")
    async def health():  # noqa: ANN202
        return {"status": "ok"}

    @app.post("/api/v1/leases")
    async def post_leases():  # noqa: ANN202
        served[0] += 1
        return {
            "leases": [
                {
                    "lease_id": str(uuid.uuid4()),
                    "person_id": f"e-{served[0]:08d}",
                    "expires_at": "2026-12-05T01:00:00.000000Z",
                    "how": "next",
                    "surname": "Empty",
                    "given_names": "Endpoint",
                    "transport": "T01",
                    "list_number": 1,
                    "birth_date": "1920-01-01",
                    "birth_place": "Anvers",
                    "fictional": True,
                    "sex": "",
                }
            ]
        }

    @app.delete("/api/v1/leases/{lease_id}", status_code=204, response_class=Response)
    async def delete_lease(lease_id: str):  # noqa: ANN202 (FastAPI reads a return annotation as a body)
        return Response(status_code=204)

    uvicorn.Server(uvicorn_config(load_central_config(Path(target)), app)).run()


def bench(backend: str, collection: Path, work_dir: Path, args: argparse.Namespace, cluster, holdings: Holdings):
    target = store_config(work_dir / backend, cluster.new_database() if cluster is not None else None, args.log_level)
    config = load_central_config(target)
    database = open_database(config)
    began = time.perf_counter()
    import_collection(database, collection)
    imported = time.perf_counter() - began
    tokens = [enroll(database, f"booth-{n}") for n in range(1, args.booths + 1)]

    claims, latencies = in_process(database, tokens, args.seconds, holdings)
    figures = {
        "import_s": imported,
        "direct_per_s": claims / args.seconds,
        "direct_p50_ms": statistics.median(latencies) * 1000,
        "direct_p95_ms": percentile(latencies, 0.95) * 1000,
    }
    database.dispose()

    url = f"http://127.0.0.1:{config.server.port}"
    serve = ["-m", "kiosk", "central", "serve", "--config", str(target)]
    process = start_server(serve, work_dir / f"{backend}.log", url)
    try:
        cpu = cpu_seconds(process)
        claims, latencies = over_http(url, tokens, args.seconds, holdings)
        cpu = cpu_seconds(process) - cpu
        figures |= {
            "server_cpu_ms": cpu / max(claims, 1) * 1000,
            "http_per_s": claims / args.seconds,
            "http_p50_ms": statistics.median(latencies) * 1000,
            "http_p95_ms": percentile(latencies, 0.95) * 1000,
        }
    finally:
        stop_server(process)
    return figures, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--booths", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0, help="each measurement (default 8)")
    parser.add_argument("--persons", type=int, default=25_843)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING"],
        default="INFO",
        help="the store's [log] level (default INFO, as `kiosk central init` writes it)",
    )
    parser.add_argument("--serve-empty", metavar="CENTRAL_TOML", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_empty:
        serve_empty(args.serve_empty)
        return

    # The duplicate count means something only if it sees a double hold.
    probe = Holdings()
    probe.took("p", 1)
    probe.gives_back("p", 1)
    probe.took("p", 2)
    probe.took("p", 3)
    assert probe.duplicates == 1, "the bench's duplicate check is broken"

    work_dir = Path(tempfile.mkdtemp(prefix="bench-central-claims-"))
    collection = invented_collection(work_dir / "collection", args.persons)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: dict[str, dict[str, float]] = {}
    holdings = Holdings()
    ceilings: list[tuple[float, float]] = []
    cluster = None
    try:
        for backend in backends:
            if backend == "postgresql":
                from pg_cluster import PostgresCluster

                cluster = PostgresCluster().start()
            results[backend], tokens = bench(
                backend, collection, work_dir, args, cluster if backend == "postgresql" else None, holdings
            )
            if not ceilings:
                ceilings.append(ceiling(work_dir, tokens, args.seconds, "ceiling-1"))
        ceilings.append(ceiling(work_dir, tokens, args.seconds, "ceiling-2"))
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work_dir, ignore_errors=True)

    top = statistics.mean(per_s for per_s, _ in ceilings)
    top_cpu = statistics.mean(cpu for _, cpu in ceilings)
    print(f"{args.booths} booths, {args.seconds:g} s each, {args.persons} persons, {os.cpu_count()} CPU cores")
    print(f"load average before the run ended: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    heads = ["import", "direct/s", "p50 ms", "p95 ms", "HTTP/s", "p50 ms", "p95 ms", "x ceiling", "server CPU ms/claim"]
    widths = [9, 10, 8, 8, 9, 8, 8, 11, 21]
    print(f"{'':<12}" + "".join(f"{head:>{width}}" for head, width in zip(heads, widths, strict=True)))
    for backend, f in results.items():
        print(
            f"{backend:<12}{f['import_s']:>8.1f}s{f['direct_per_s']:>10.0f}{f['direct_p50_ms']:>8.1f}"
            f"{f['direct_p95_ms']:>8.1f}{f['http_per_s']:>9.0f}{f['http_p50_ms']:>8.1f}{f['http_p95_ms']:>8.1f}"
            f"{f['http_per_s'] / top:>11.2f}{f['server_cpu_ms']:>21.2f}"
        )
    runs = ", ".join(f"{per_s:.0f}" for per_s, _ in ceilings)
    print(f"{'ceiling':<12}{'':>35}{top:>9.0f}{'':>27}{top_cpu:>21.2f}   (runs: {runs})")
    print(
        "direct: claim + give back on the database in this process; HTTP: POST /api/v1/leases + DELETE, to "
        "`kiosk central serve` in its own process (claims counted, latency of the claim alone); ceiling: the "
        "same client against empty endpoints on the same uvicorn settings; server CPU: the serving process's "
        "user + system CPU time per claim (a figure the machine's load changes little)"
    )
    print(f"duplicates (a name claimed while another booth held it): {holdings.duplicates} {holdings.examples}")
    print(
        json.dumps(
            {
                "sqlite_http_per_s": round(results["sqlite"]["http_per_s"], 1) if "sqlite" in results else None,
                "postgresql_http_per_s": round(results["postgresql"]["http_per_s"], 1)
                if "postgresql" in results
                else None,
                "ceiling_http_per_s": round(top, 1),
                "duplicates": holdings.duplicates,
            }
        )
    )


if __name__ == "__main__":
    main()
