"""Issue 18Y: several uploads in flight, each take on the store once, no code leaves the booth.

Against the real central store on uvicorn over loopback, on SQLite and on PostgreSQL.
Between uvicorn and the store's app sits `Recorder`, an ASGI layer that keeps every
upload body exactly as the store received it, counts the uploads in progress at once,
and can hold an upload back until the test lets it go (the test waits on conditions,
never on the clock).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sync_support import (
    ADULT,
    QUALITY,
    Central,
    LiveServer,
    Station,
    central_recordings,
    enrolled_station,
    keep_takes,
    local_takes,
    make_central,
    tone,
)

from harness.faultproxy import Fault, FaultProxy
from kiosk.central.api import create_app
from kiosk.central.moderation import recording_for_code
from kiosk.contract import withdrawal_code_hash
from kiosk.link.client import CentralClient
from kiosk.link.outbox import Outbox
from kiosk.link.runner import SyncRunner
from kiosk.link.uploader import InvalidLedger, Uploader

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "central"))
from pg_cluster import PostgresCluster, cluster_for_tests  # noqa: E402

FAST = {"retry_first_s": 0.05, "retry_max_s": 0.5, "invalid_retry_s": 1, "heartbeat_s": 5}
WAIT_S = 60.0  # generous: the machine may be loaded; a condition, never a measured time


class Recorder:
    """An ASGI layer in front of the store's app: what each upload brought, and how many at once."""

    def __init__(self, app: Any, *, gather: int = 0, hold: str | None = None):
        self.app = app
        # The `gather` uploads after the first (which a pass sends alone) wait until that many are in progress.
        self.gather = gather
        self.hold = hold  # this recording's upload waits, whole, until `release` is set
        self.gathered = threading.Event()
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.bodies: dict[str, list[bytes]] = {}
        self.events: list[tuple[str, str]] = []
        self.in_progress = 0
        self.most = 0
        self.started = 0
        self.gave_up_waiting = False
        self._lock = threading.Lock()

    def all_bytes(self) -> bytes:
        return b"".join(body for bodies in self.bodies.values() for body in bodies)

    async def _wait(self, event: threading.Event) -> None:
        deadline = time.monotonic() + WAIT_S
        while not event.is_set():
            if time.monotonic() > deadline:
                self.gave_up_waiting = True
                return
            await asyncio.sleep(0.01)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "PUT" or "/recordings/" not in path:
            await self.app(scope, receive, send)
            return
        rid = path.rsplit("/", 1)[1]
        with self._lock:
            self.in_progress += 1
            self.most = max(self.most, self.in_progress)
            self.started += 1
            number = self.started
            self.events.append(("start", rid))
            if self.started >= 1 + self.gather:
                self.gathered.set()
        ended = False

        def end() -> None:
            nonlocal ended
            with self._lock:
                if not ended:
                    ended = True
                    self.in_progress -= 1
                    self.events.append(("end", rid))

        try:
            body = bytearray()
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    self.bodies.setdefault(rid, []).append(bytes(body))
                    return  # the station broke the upload off
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
            self.bodies.setdefault(rid, []).append(bytes(body))
            if 1 < number <= 1 + self.gather:
                await self._wait(self.gathered)
            if rid == self.hold:
                self.arrived.set()
                await self._wait(self.release)
            delivered = False

            async def replay() -> dict[str, Any]:
                nonlocal delivered
                if not delivered:
                    delivered = True
                    return {"type": "http.request", "body": bytes(body), "more_body": False}
                return await receive()

            async def answer(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.body" and not message.get("more_body", False):
                    end()  # before the station can have the answer
                await send(message)

            await self.app(scope, replay, answer)
        finally:
            end()


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresCluster]:
    with cluster_for_tests("the sync tests") as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def start_central(request: pytest.FixtureRequest, tmp_path: Path, collection: Path) -> Iterator[Any]:
    """start_central(**recorder options) -> Central: the store on the database of this run."""
    url = request.getfixturevalue("postgres").new_database() if request.param == "postgresql" else None
    config, database = make_central(tmp_path / "central", collection, database_url=url)
    started: list[Central] = []

    def start(**options: Any) -> Central:
        recorder = Recorder(create_app(config, database), **options)
        central = Central(config, database, LiveServer(recorder).start(), recorder)
        started.append(central)
        return central

    try:
        yield start
    finally:
        for central in started:
            central.server.stop()
        database.dispose()


def station_for(tmp_path: Path, url: str, central: Central, collection: Path, **sync: object) -> Station:
    return enrolled_station(tmp_path / "station", url, central.database, collection, **{**FAST, **sync})


def run_until_sent(station: Station, runs: int = 10) -> None:
    for number in range(runs):
        if not station.store.counts()["queued"]:
            return
        runner = SyncRunner(station.config, rng=random.Random(number))
        try:
            runner.run_once()
        finally:
            runner.close()


def test_three_in_flight_each_take_once_names_in_order_and_no_code_leaves_the_booth(tmp_path, start_central, collection):
    central = start_central(gather=3)
    station = station_for(tmp_path, central.url, central, collection, uploads_in_flight=3)
    store = station.store
    takes = keep_takes(store, 6)
    again = store.keep(tone(0.5, seed=77), 48_000, person_id="p-0001", consent=ADULT, quality=QUALITY, second_take=True)
    takes.append(again)

    run_until_sent(station)

    recorder = central.recorder
    assert not recorder.gave_up_waiting, "three uploads were never in progress at once"
    assert recorder.most == 3, f"{recorder.most} uploads at once; [sync] uploads_in_flight is 3"
    assert central_recordings(central.database) == local_takes(store)
    assert store.counts() == {"queued": 0, "sent": 7, "failed": 0}
    assert sorted(recorder.bodies) == sorted(take.recording_id for take in takes)
    # Two takes of one name: the later one is sent only after the earlier one's answer.
    first = takes[0].recording_id
    assert recorder.events.index(("end", first)) < recorder.events.index(("start", again.recording_id))
    # What the store received holds each take's hash and none of the codes, in any spelling.
    received = recorder.all_bytes()
    for take in takes:
        code = take.metadata["withdrawal_code"]
        for spelling in (code, code.replace("-", ""), code.lower(), code.replace("-", " ")):
            assert spelling.encode() not in received
        [body] = recorder.bodies[take.recording_id]
        assert withdrawal_code_hash(code).encode() in body
        # Staff typing the participant's code find the take.
        assert recording_for_code(central.database, code)["id"] == uuid.UUID(take.recording_id)


def test_the_next_take_goes_while_an_answer_is_recorded_and_the_store_never_has_more_than_the_limit(
    tmp_path, start_central, collection, monkeypatch
):
    central = start_central()
    station = station_for(tmp_path, central.url, central, collection, uploads_in_flight=1)
    store = station.store
    takes = keep_takes(store, 4)
    # The second take's answer (the first after the pass's lone first take) is recorded only
    # once the store has seen the third take arrive: an upload slot that waited for that
    # record would never send it.
    slow = takes[1].recording_id
    seen_while_recording: list[int] = []
    mark_sent = Outbox.mark_sent

    def recording_slowly(self: Outbox, recording_id: str, *, status: int) -> None:
        if recording_id == slow:
            deadline = time.monotonic() + WAIT_S
            while central.recorder.started < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            seen_while_recording.append(central.recorder.started)
        mark_sent(self, recording_id, status=status)

    monkeypatch.setattr(Outbox, "mark_sent", recording_slowly)
    run_until_sent(station)

    assert seen_while_recording and seen_while_recording[0] >= 3, "the next take waited for the answer to be recorded"
    assert central.recorder.most == 1, f"{central.recorder.most} uploads at once; [sync] uploads_in_flight is 1"
    assert central_recordings(central.database) == local_takes(store)
    assert store.counts() == {"queued": 0, "sent": 4, "failed": 0}


def test_faults_mid_flight_and_retries_leave_each_take_on_the_store_once(tmp_path, start_central, collection):
    central = start_central()
    plan = [
        Fault("cut_response", at_byte=20),  # the store kept it, the station never heard
        Fault("cut_request", at_byte=20_000),  # the body stops midway
        Fault("reset", at_byte=10_000),
        Fault("error", status=503),
        Fault("cut_response", at_byte=0),
    ]
    with FaultProxy(central.url, plan=plan, lifetime_s=300) as proxy:
        station = station_for(tmp_path, proxy.url, central, collection, uploads_in_flight=4, upload_timeout_s=10)
        store = station.store
        keep_takes(store, 10, seconds=0.8)
        run_until_sent(station)
        applied = dict(proxy.applied)
    assert applied.get("cut_response") == 2 and applied.get("cut_request") == 1 and applied.get("reset") == 1
    assert central_recordings(central.database) == local_takes(store)
    assert store.counts() == {"queued": 0, "sent": 10, "failed": 0}
    incoming = central.config.audio_dir / ".incoming"
    assert not list(incoming.glob("*")), "a broken upload left audio behind"


def test_a_withdrawal_after_the_last_piece_waits_for_the_answer_and_finds_the_take_sent(tmp_path, start_central, collection):
    central = start_central()
    station = station_for(tmp_path, central.url, central, collection, uploads_in_flight=3)
    store = station.store
    takes = keep_takes(store, 4)
    held = takes[1]
    central.recorder.hold = held.recording_id
    syncing = threading.Thread(target=run_until_sent, args=(station,), daemon=True)
    syncing.start()
    assert central.recorder.arrived.wait(WAIT_S), "the held upload never arrived whole"
    # The whole body is at the store: the station holds the take's sending lock now.
    answers: list[Any] = []
    withdrawing = threading.Thread(target=lambda: answers.append(store.withdraw(held.metadata["withdrawal_code"])), daemon=True)
    withdrawing.start()
    withdrawing.join(0.5)  # not a measurement: a withdrawal that did not wait would be done by now
    central.recorder.release.set()
    withdrawing.join(WAIT_S)
    syncing.join(WAIT_S)
    assert not syncing.is_alive() and not withdrawing.is_alive()
    [answer] = answers
    assert answer.status == "sent", answer
    assert held.recording_id in central_recordings(central.database)
    assert central_recordings(central.database) == local_takes(store)
    assert (store.root / "sent" / f"{held.recording_id}.json").exists()


class WithdrawMidBody(threading.Event):
    """The uploader's stop event; the first time the uploader asks it between two pieces of
    the body, the participant withdraws the take at the booth."""

    def __init__(self, store: Any, code: str):
        super().__init__()
        self._store = store
        self._code = code
        self.answers: list[Any] = []

    def is_set(self) -> bool:
        if not self.answers:
            self.answers.append(self._store.withdraw(self._code))
        return super().is_set()


def test_a_take_withdrawn_while_its_body_is_sent_is_broken_off_and_never_kept(tmp_path, start_central, collection):
    central = start_central()
    station = station_for(tmp_path, central.url, central, collection)
    store = station.store
    [take] = keep_takes(store, 1, seconds=2.0)
    stop = WithdrawMidBody(store, take.metadata["withdrawal_code"])
    client = CentralClient.for_station(station.config)
    try:
        uploader = Uploader(store, client, InvalidLedger(tmp_path / "invalid.json"), stop=stop)
        outcome = uploader.upload(take)
    finally:
        client.close()
    assert [answer.status for answer in stop.answers] == ["deleted"]
    assert outcome.kind == "gone"
    assert central_recordings(central.database) == {}
    assert not (store.root / "sent" / f"{take.recording_id}.json").exists()
    assert json.loads((store.root / "withdrawn" / f"{take.recording_id}.json").read_text())["recording_id"] == take.recording_id
    assert local_takes(store) == {} and not list((store.root / "audio").iterdir())
    incoming = central.config.audio_dir / ".incoming"
    deadline = time.monotonic() + WAIT_S  # the store notices the broken connection in its own time
    while (take.recording_id not in central.recorder.bodies or list(incoming.glob("*"))) and time.monotonic() < deadline:
        time.sleep(0.05)
    [body] = central.recorder.bodies[take.recording_id]
    assert not body.endswith(b"--\r\n"), "the body was broken off before its closing boundary"
    assert not list(incoming.glob("*")), "the broken-off upload left audio on the store"
