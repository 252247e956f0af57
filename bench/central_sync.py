"""How fast does a booth's backlog reach the central store, and what memory does it cost?

    python bench/central_sync.py [--takes 1000] [--kb 500] [--in-flight 3] [--keep DIR]

A booth that was offline for a long while has a backlog to send. This builds one: a
central store (SQLite, a collection of as many fictional persons as takes) served by
`kiosk central serve`'s code in a child process, a booth station enrolled with it, and
TAKES queued takes of about KB kilobytes each (24-bit 48 kHz FLAC of a tone with noise,
each take different: the store keeps audio by content, so copies would be free). Then
`kiosk sync run STATION --once` uploads them all, in a child process, with
`[sync] uploads_in_flight` set to --in-flight, and the bench prints the total time,
takes per second, megabytes per second, the CPU time of each side (where the time goes),
and the peak resident memory (VmHWM) of both processes, the store's also before the
uploads. At the end every take must be on the store once with its checksum. The
station's peak is taken from wait4's ru_maxrss as the child is reaped (its VmHWM at the
end), the store's from /proc/PID/status while it still runs.

The baseline, measured in the same run on the same files: raw HTTP PUTs, one after the
other on one kept-alive connection, to a bare server in a child process (Python's
http.server) that streams each body to a file while hashing it with SHA-256, fsyncs
it and answers 201 with the hash: what any upload costs on this machine, without the
upload protocol, the database, the audio check or the station's bookkeeping. It is
bound by the disk's fsyncs, whose speed drifts by a fifth from minute to minute on a
shared virtual disk, so it is measured twice, just before the sync and just after it
(each into a folder of its own, kept until the end: files deleted just before a timed
phase make the file system's next allocations slower), and `baseline_seconds` is the
mean of the two; both are in the details line.

Withdrawal codes (issue 18Y): the booth hashes a take's code when it keeps it (scrypt,
about 40 ms), so the takes here are queued with their hashes, computed on every core
while the backlog is built; neither the station nor the store computes one during the
sync.

The last line printed is one JSON object: {"takes", "seconds", "baseline_seconds",
"station_peak_rss_mb", "store_peak_rss_mb", "on_store_exactly_once"}; the line before it
has the details. Everything is built in a temporary folder that is removed at the end
(--keep DIR: built there and left). Load on a shared machine changes the figures: note
`uptime` beside them. Run it after changing the uploader, the store's upload path, or on
new station hardware.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import io
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parent.parent
SYNC_TESTS = ROOT / "tests" / "kiosk" / "link"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(SYNC_TESTS))

from sync_support import (  # noqa: E402
    ADULT,
    QUALITY,
    central_recordings,
    free_port,
    local_takes,
    make_central,
    make_station,
    write_small_collection,
)

from exhibits.booth.take_store import TakeStore  # noqa: E402
from kiosk.link.outbox import WITHDRAWAL_ALPHABET  # noqa: E402
from kiosk.central.stations import enroll  # noqa: E402
from kiosk.contract import withdrawal_code_hash  # noqa: E402

CHILD = SYNC_TESTS / "sync_child.py"  # `kiosk` with the sync commands registered
RATE = 48_000
BYTES_PER_SECOND = 118_000  # about what a tone with this much noise costs as 24-bit FLAC


def cpu_s(pid: int) -> float:
    """User and system CPU time of a live process so far, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vm_hwm_kb(pid: int) -> int:
    """Peak resident memory of a live process, from /proc (VmHWM, in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def noisy_samples(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A tone with noise: compresses about as badly as a voice in a quiet booth."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    return 0.3 * np.sin(2 * np.pi * rng.uniform(150, 400) * t) + rng.normal(0, 0.02, n)


def noisy_flac(seconds: float, rng: np.random.Generator) -> bytes:
    """A different take every call, as 24-bit FLAC like the booth's."""
    pcm = np.clip(np.rint(noisy_samples(seconds, rng) * 8_388_608), -8_388_608, 8_388_607).astype(np.int32) << 8
    buffer = io.BytesIO()
    soundfile.write(buffer, pcm, RATE, format="FLAC", subtype="PCM_24")
    return buffer.getvalue()


def _audio_and_hash(job: tuple[int, float, str, str]) -> tuple[str, int, str]:
    """One take's audio written to `path` (seeded by `number`) and its code hashed: (sha256, size, code hash)."""
    number, seconds, path, code = job
    audio = noisy_flac(seconds, np.random.default_rng(1000 + number))  # not 7, the first take's
    Path(path).write_bytes(audio)
    return hashlib.sha256(audio).hexdigest(), len(audio), withdrawal_code_hash(code)


def queue_takes(store: TakeStore, count: int, kb: int) -> int:
    """`count` queued takes: the first kept by `keep()`, the others written in its layout
    from its sidecar, each with its own audio, id, checksum and withdrawal code and its
    hash (much faster than `keep()`'s fsyncs, which are not what is measured; audio and
    hashes made on every core). Returns audio bytes."""
    seconds = kb * 1000 / BYTES_PER_SECOND
    first = store.keep(noisy_samples(seconds, np.random.default_rng(7)), RATE, person_id="p-0001", consent=ADULT, quality=QUALITY)
    codes = {first.metadata["withdrawal_code"]}
    total = first.metadata["size_bytes"]
    pending: list[dict] = []
    for number in range(1, count):
        code = next(iter(codes))
        while code in codes:
            raw = "".join(secrets.choice(WITHDRAWAL_ALPHABET) for _ in range(8))
            code = f"{raw[:4]}-{raw[4:]}"
        codes.add(code)
        pending.append(
            {
                **first.metadata,
                "recording_id": str(uuid.uuid4()),
                "person_id": f"p-{number + 1:04d}",
                "recorded_at": f"2026-11-21T1{number // 3600 % 10}:{number // 60 % 60:02d}:{number % 60:02d}.000Z",
                "withdrawal_code": code,
            }
        )
    jobs = [
        (number, seconds, str(store.root / "audio" / f"{metadata['recording_id']}.flac"), metadata["withdrawal_code"])
        for number, metadata in enumerate(pending, start=1)
    ]
    with concurrent.futures.ProcessPoolExecutor() as pool:
        for metadata, (sha, size, code_hash) in zip(pending, pool.map(_audio_and_hash, jobs, chunksize=8)):
            metadata.update(sha256=sha, size_bytes=size, withdrawal_code_hash=code_hash)
            # The sidecar last: it commits the take.
            (store.root / "takes" / f"{metadata['recording_id']}.json").write_text(json.dumps(metadata, indent=2))
            total += size
    os.sync()
    return total


RAW_SERVER = """
import hashlib, os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

folder = sys.argv[1]

class Put(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go as two writes: no 40 ms delayed-ACK wait

    def do_PUT(self):
        left = int(self.headers["Content-Length"])
        digest = hashlib.sha256()
        path = os.path.join(folder, os.path.basename(self.path))
        fd = os.open(path + ".partial", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        while left:
            piece = self.rfile.read(min(65536, left))
            if not piece:
                break
            digest.update(piece)
            os.write(fd, piece)
            left -= len(piece)
        os.fsync(fd)
        os.close(fd)
        os.replace(path + ".partial", path)
        body = digest.hexdigest().encode()
        self.send_response(201)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Put)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def raw_puts(files: list[tuple[str, Path, str]], folder: Path) -> float:
    """Seconds for raw PUTs of `files` (id, path, sha256), one after the other, to a bare server."""
    import httpx

    folder.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen([sys.executable, "-c", RAW_SERVER, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())

        def pieces(path: Path):
            with path.open("rb") as file:
                yield from iter(lambda: file.read(65536), b"")

        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            started = time.monotonic()
            for name, path, sha in files:
                response = client.put(
                    f"/{name}", content=pieces(path), headers={"Content-Length": str(path.stat().st_size)}
                )
                if response.status_code != 201 or response.text != sha:
                    raise SystemExit(f"the baseline server answered {response.status_code} {response.text[:100]} for {name}")
            return time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)


def start_store(central_toml: Path, log_path: Path) -> subprocess.Popen:
    code = (
        "import sys; from kiosk.central.config import load_central_config; from kiosk.central.server import serve; "
        "serve(load_central_config(sys.argv[1]))"
    )
    log = log_path.open("w")
    return subprocess.Popen([sys.executable, "-c", code, str(central_toml)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def wait_for_health(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the central store exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the central store did not answer in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--takes", type=int, default=1000)
    parser.add_argument("--kb", type=int, default=500, help="size of each take, about")
    parser.add_argument("--in-flight", type=int, default=3, choices=range(1, 5), help="[sync] uploads_in_flight (1-4)")
    parser.add_argument("--keep", type=Path, help="build everything in DIR and leave it there")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-central-sync-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(f"setting up in {work}: a store with {args.takes} persons, {args.takes} takes of about {args.kb} KB", flush=True)
        collection = write_small_collection(work / "collection", count=max(args.takes, 2))
        central_config, database = make_central(work / "central", collection)
        port = free_port()
        toml = work / "central" / "central.toml"
        toml.write_text(toml.read_text().replace("port = 8800", f"port = {port}"))
        token = enroll(database, "booth-1")
        url = f"http://127.0.0.1:{port}"
        station = make_station(work / "station", url, token, collection, uploads_in_flight=args.in_flight)
        store = TakeStore(station.config.data_dir / "takes", "booth-1")
        made = time.monotonic()
        audio_bytes = queue_takes(store, args.takes, args.kb)
        queued = store.queued()
        print(f"queued {len(queued)} takes, {audio_bytes / 1e6:.0f} MB, in {time.monotonic() - made:.0f} s", flush=True)
        files = [(take.recording_id, take.audio_path, take.metadata["sha256"]) for take in queued]
        baseline_before = raw_puts(files, work / "raw-before")
        print(f"baseline: raw PUTs of the same files in {baseline_before:.1f} s", flush=True)

        server = start_store(toml, work / "central.log")
        try:
            wait_for_health(url, server)
            server_before_kb = vm_hwm_kb(server.pid)
            server_cpu_before = cpu_s(server.pid)
            started = time.monotonic()
            syncer = subprocess.Popen(
                [sys.executable, str(CHILD), "sync", "run", str(station.toml), "--once"],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            output: dict[str, str] = {}
            readers = [
                threading.Thread(target=lambda name=name, stream=stream: output.__setitem__(name, stream.read()), daemon=True)
                for name, stream in (("out", syncer.stdout), ("err", syncer.stderr))
            ]
            for reader in readers:
                reader.start()
            # Reaped here with wait4, whose ru_maxrss (kB) is the child's VmHWM at its end.
            _, wait_status, usage = os.wait4(syncer.pid, 0)
            syncer.returncode = os.waitstatus_to_exitcode(wait_status)
            station_peak_kb = usage.ru_maxrss
            for reader in readers:
                reader.join()
            elapsed = time.monotonic() - started
            server_peak_kb = vm_hwm_kb(server.pid)
            server_cpu = cpu_s(server.pid) - server_cpu_before
            station_cpu = usage.ru_utime + usage.ru_stime
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if syncer.returncode != 0:
            raise SystemExit(f"kiosk sync run failed ({syncer.returncode}):\n{output.get('err', '')[-2000:]}")
        baseline_after = raw_puts(files, work / "raw-after")
        print(f"baseline again, after the sync: {baseline_after:.1f} s", flush=True)
        baseline = (baseline_before + baseline_after) / 2
        held = central_recordings(database)
        counts = store.counts()
        audio_files = list(Path(central_config.audio_dir).glob("??/*.flac"))
        exactly_once = (
            held == local_takes(store)  # every take, with its checksum, and nothing else
            and len(held) == args.takes
            and len({sha for sha, _ in held.values()}) == args.takes
            and len(audio_files) == args.takes
            and counts == {"queued": 0, "sent": args.takes, "failed": 0}
        )
        print(output.get("out", "").strip())
        print(
            json.dumps(
                {
                    "uploads_in_flight": args.in_flight,
                    "audio_mb": round(audio_bytes / 1e6, 1),
                    "ratio_to_baseline": round(elapsed / baseline, 2),
                    "baseline_before_s": round(baseline_before, 2),
                    "baseline_after_s": round(baseline_after, 2),
                    "takes_per_s": round(args.takes / elapsed, 1),
                    "mb_per_s": round(audio_bytes / 1e6 / elapsed, 1),
                    "station_cpu_s": round(station_cpu, 1),
                    "store_cpu_s": round(server_cpu, 1),
                    "store_rss_mb_before": round(server_before_kb / 1024, 1),
                    "station_counts": counts,
                    "rows_on_store": len(held),
                    "load_average": [round(value, 2) for value in os.getloadavg()],
                }
            )
        )
        print(
            json.dumps(
                {
                    "takes": args.takes,
                    "seconds": round(elapsed, 2),
                    "baseline_seconds": round(baseline, 2),
                    "station_peak_rss_mb": round(station_peak_kb / 1024, 1),
                    "store_peak_rss_mb": round(server_peak_kb / 1024, 1),
                    "on_store_exactly_once": exactly_once,
                }
            )
        )
        database.dispose()
        if not exactly_once:
            raise SystemExit(1)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
