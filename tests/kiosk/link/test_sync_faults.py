"""Takes reach the central store exactly once, whatever happens on the way.

Against a real central store (uvicorn on loopback, SQLite, a collection imported, the
station enrolled):

- the station's processes are killed with SIGKILL at random moments while takes are
  kept and uploaded, round after round, and started again each time;
- a fault proxy between station and store resets connections, cuts request and
  response bodies, holds answers back past the station's time-out, and answers 5xx.

At the end every accepted take on the station (every sidecar) is on the store once,
with its checksum and size, and the store holds nothing else.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sync_support import central_recordings, enrolled_station, keep_takes, local_takes

from exhibits.booth.take_store import TakeStore
from harness.faultproxy import Fault, FaultProxy
from kiosk.link.runner import SyncRunner

HERE = Path(__file__).resolve().parent
CHILD = HERE / "sync_child.py"
KEEPER = HERE / "take_keeper.py"
PERSONS = 80


class Child:
    """A child process whose stdout lines are collected by a thread as they come."""

    def __init__(self, *args: str):
        self.process = subprocess.Popen(
            [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, predicate, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(predicate(line) for line in list(self.lines)):
                return True
            if self.process.poll() is not None:
                return False
            time.sleep(0.02)
        return False

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._reader.join(timeout=5)


def assert_exactly_once(store: TakeStore, central) -> dict[str, tuple[str, int]]:
    """Every sidecar on the station is on the store once, checksum and size right; nothing else is."""
    ours = local_takes(store)
    theirs = central_recordings(central.database)
    assert set(theirs) == set(ours), (
        f"missing on the store: {sorted(set(ours) - set(theirs))[:5]}, extra on the store: {sorted(set(theirs) - set(ours))[:5]}"
    )
    assert theirs == ours, "a checksum or size differs"
    audio_root = central.config.audio_dir
    files = {path.stem for path in audio_root.rglob("*.flac")}
    assert files == {sha for sha, _ in ours.values()}, "the store's audio folder holds exactly the recordings"
    assert not [p for p in (audio_root / ".incoming").iterdir()], "no half-received upload left on the store"
    assert store.counts() == {"queued": 0, "sent": len(ours), "failed": 0}
    return ours


def sent_statuses(store: TakeStore) -> dict[int, int]:
    statuses: dict[int, int] = {}
    for marker in (store.root / "sent").glob("*.json"):
        status = json.loads(marker.read_text())["status"]
        statuses[status] = statuses.get(status, 0) + 1
    return statuses


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_kill_9_while_keeping_and_uploading_loses_and_doubles_nothing(tmp_path, central, collection):
    station = enrolled_station(
        tmp_path / "station", central.url, central.database, collection,
        retry_first_s=0.05, retry_max_s=0.5, heartbeat_s=5,
    )
    store = station.store
    rng = random.Random(20261121)
    promised: set[str] = set()
    rounds, busy_rounds = 25, 0
    started = time.monotonic()
    for round_number in range(rounds):
        keeper = Child(str(KEEPER), str(store.root), "booth-1", str(round_number), str(PERSONS))
        syncer = Child(str(CHILD), "sync", "run", str(station.toml))
        try:
            assert keeper.wait_for(lambda line: line == "ready", 60), "the keeper did not start"
            assert syncer.wait_for(lambda line: '"sync started"' in line, 60), "kiosk sync run did not start"
            # Both at work: kill them at random moments, one after the other.
            victims = [keeper, syncer]
            rng.shuffle(victims)
            time.sleep(rng.uniform(0.05, 1.5))
            victims[0].kill()
            time.sleep(rng.uniform(0.0, 0.5))
            if store.counts()["queued"]:
                busy_rounds += 1
            victims[1].kill()
        finally:
            keeper.kill()
            syncer.kill()
        promised.update(line for line in keeper.lines if len(line) == 36)
        # What the booth does when it starts again after a crash.
        store.reconcile()
    rounds_s = time.monotonic() - started
    assert rounds_s < 600
    final = subprocess.run([sys.executable, str(CHILD), "sync", "run", str(station.toml), "--once"], capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    ours = assert_exactly_once(store, central)
    assert promised <= set(ours), "a take whose keep() returned was lost"
    print(
        f"\n{rounds} rounds in {rounds_s:.0f} s, {len(ours)} takes on the store exactly once; {len(promised)} promised by keep(); "
        f"uploads still queued at the moment of a kill in {busy_rounds} rounds; sent markers by status: {sent_statuses(store)}"
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_resets_cut_bodies_delays_and_5xx_lose_and_double_nothing(tmp_path, central, collection):
    weights = {"pass": 4, "reset": 1, "cut_request": 1, "cut_response": 1, "delay": 1, "error": 1}
    with FaultProxy(
        central.url, seed=1942, weights=weights, max_request_cut=600_000, max_response_cut=400, max_delay_s=3.0, lifetime_s=500
    ) as proxy:
        # Every kind at least once, first of all: the first take's response is cut after
        # the store kept it, then held back past the time-out, so it is sent three times.
        proxy.push(
            Fault("cut_response", at_byte=20),
            Fault("delay", delay_s=2.5),
            Fault("reset", at_byte=30_000),
            Fault("cut_request", at_byte=50_000),
            Fault("error", status=503),
            Fault("reset", at_byte=0),
        )
        station = enrolled_station(
            tmp_path / "station", proxy.url, central.database, collection,
            retry_first_s=0.05, retry_max_s=0.4, upload_timeout_s=1.5,
        )
        store = station.store
        keep_takes(store, 60, seconds=0.8)
        first = store.queued()[0].recording_id
        runs = 0
        deadline = time.monotonic() + 400
        while store.counts()["queued"] and time.monotonic() < deadline and runs < 60:
            runs += 1
            runner = SyncRunner(station.config, rng=random.Random(runs))
            try:
                runner.run_once()
            finally:
                runner.close()
        applied = dict(proxy.applied)
    ours = assert_exactly_once(store, central)
    assert all(applied.get(kind, 0) >= 1 for kind in weights), applied
    assert json.loads((store.root / "sent" / f"{first}.json").read_text())["status"] == 200, (
        "the store kept the first take at the first try; the station learnt it from a 200 later"
    )
    print(f"\n{len(ours)} takes on the store exactly once after {runs} runs; faults by kind: {applied}; "
          f"sent markers by status: {sent_statuses(store)}")
