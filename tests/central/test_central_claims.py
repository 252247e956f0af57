"""Sixteen booths claiming names at once: no name is ever held by two of them.

Each booth is a thread with its own token and its own HTTP connection to a real uvicorn
over loopback. For many rounds it asks for the next names, a match or a booking, and
then gives names back, records them (uploads), renews them or lets them expire. The
store's clock runs 60 times faster than real time, so a one-minute lease expires within
the run and expired names are taken over while booths still work.

What is checked, from outside: every booth notes when it surely held a name, from the
moment the lease arrived until it sent the give-back or upload, or the lease's
expiry. Two such spans of one person never overlap (a sound check: each span lies within
the real lease, so any overlap is a real double lease). From inside: every lease a booth
got is in the database for that person, no person has two open leases, and each
person's `held_until` agrees with its open lease.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from central_support import flac_bytes, lease_rule_breaks, make_config, write_collection
from sqlalchemy import select, update

from kiosk.central.api import create_app
from kiosk.central.db import Database, open_database
from kiosk.central.importer import import_collection
from kiosk.central.leases import NameRules, claim, create_booking, release
from kiosk.central.schema import leases, persons
from kiosk.central.stations import authenticate, enroll

BOOTHS = 16
SPEED = 60.0  # store seconds per real second
FIRST_NAMES = ["Chaja", "Abram", "Sura", "Mozes", "Rywka", "Icek", "Hinda", "Szmul"]
TRANSPORTS = [
    ["A", "1942-08-04", "Auschwitz-Birkenau", ""],
    ["B", "1942-08-11", "Auschwitz-Birkenau", ""],
    ["C", "1942-08-15", "Auschwitz-Birkenau", ""],
]


class FastClock:
    """Store time running SPEED times faster than time.monotonic(), and the way back."""

    def __init__(self) -> None:
        self.start = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)
        self.real_start = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.real_start) * SPEED)

    def real(self, moment: datetime) -> float:
        """The time.monotonic() at which the store's clock reads `moment`."""
        return self.real_start + (moment - self.start).total_seconds() / SPEED


@dataclass
class Holding:
    """A span in which one booth surely held one person's name."""

    booth: str
    lease_id: str
    person_id: str
    start: float
    end: float


@dataclass
class Run:
    url: str
    clock: FastClock
    database: Database
    tokens: dict[str, str]
    codes: list[str]
    holdings: list[Holding] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    errors: list[str] = field(default_factory=list)
    requests: int = 0


def crowded_collection(folder: Path, per_transport: int = 400) -> Path:
    """Invented persons sharing a few first names and birthdays, so matches collide."""
    rows = []
    for code, *_ in TRANSPORTS:
        for number in range(1, per_transport + 1):
            first = FIRST_NAMES[number % len(FIRST_NAMES)]
            birth = f"19{number % 30 + 10:02d}-{number % 12 + 1:02d}-{number % 5 + 1:02d}"
            rows.append(
                [
                    f"c-{code}-{number:04d}",
                    f"Lista{number}",
                    first,
                    birth,
                    "Anvers",
                    "",
                    code,
                    str(number),
                    "unknown",
                    "",
                    "yes",
                ]
            )
    return write_collection(folder, TRANSPORTS, rows)


@pytest.fixture
def crowd(tmp_path: Path, database_url: str | None, live_server: Any) -> Run:
    config = make_config(tmp_path / "central", database_url, lease_s=60, hand_size=5)
    clock = FastClock()
    database = open_database(config, clock=clock)
    import_collection(database, crowded_collection(tmp_path / "collection"))
    server = live_server(create_app(config, database))
    tokens = {f"booth-{n}": enroll(database, f"booth-{n}") for n in range(1, BOOTHS + 1)}
    codes = [create_booking(database, f"c-B-{n:04d}") for n in range(1, 9)]
    yield Run(server.url, clock, database, tokens, codes)
    database.dispose()


AUDIO = flac_bytes(0.5)


def _upload_body(run: Run, booth: str, person_id: str) -> tuple[str, dict[str, Any]]:
    rid = str(uuid.uuid4())
    metadata = {
        "recording_id": rid,
        "person_id": person_id,
        "station_id": booth,
        "recorded_at": "2026-11-21T10:00:00Z",
        "duration_s": 0.5,
        "sample_rate": 48000,
        "sha256": hashlib.sha256(AUDIO).hexdigest(),
        "size_bytes": len(AUDIO),
        "consent": {"version": "2026-11", "language": "fr", "age_band": "13-17", "guardian_confirmed": False},
        "quality": {"verdict": "ok"},
    }
    return rid, {
        "metadata": (None, json.dumps(metadata).encode(), "application/json"),
        "audio": ("t.flac", AUDIO, "audio/flac"),
    }


def booth_loop(run: Run, booth: str, rounds: int, seed: int) -> None:
    rng = random.Random(seed)
    mine: dict[str, Holding] = {}
    with httpx.Client(base_url=run.url, headers={"Authorization": f"Bearer {run.tokens[booth]}"}, timeout=60) as client:

        def end(lease_id: str) -> None:
            holding = mine.pop(lease_id, None)
            if holding is not None:
                holding.end = min(holding.end, time.monotonic())

        for _ in range(rounds):
            roll = rng.random()
            if roll < 0.6:
                body: dict[str, Any] = {"how": "next", "count": rng.randint(1, 3)}
            elif roll < 0.75:
                body = {"how": "match", "first_name": rng.choice(FIRST_NAMES).upper()}
            elif roll < 0.85:
                body = {"how": "match", "birthday": f"{rng.randint(1, 12):02d}-{rng.randint(1, 5):02d}"}
            else:
                body = {"how": "booking", "code": rng.choice(run.codes)}
            answer = client.post("/api/v1/leases", json=body)
            arrived = time.monotonic()
            run.requests += 1
            if answer.status_code == 409:  # a full hand: give everything back
                for lease in client.get("/api/v1/leases").json()["leases"]:
                    end(lease["lease_id"])
                    assert client.delete(f"/api/v1/leases/{lease['lease_id']}").status_code == 204
                continue
            assert answer.status_code == 200, answer.text
            for lease in answer.json()["leases"]:
                expires = run.clock.real(datetime.fromisoformat(lease["expires_at"]))
                if lease["lease_id"] in mine:  # the same booking asked for again
                    continue
                holding = Holding(booth, lease["lease_id"], lease["person_id"], arrived, expires)
                mine[lease["lease_id"]] = holding
                with run.lock:
                    run.holdings.append(holding)
                fate = rng.random()
                if fate < 0.4:
                    end(lease["lease_id"])
                    assert client.delete(f"/api/v1/leases/{lease['lease_id']}").status_code == 204
                elif fate < 0.6:
                    end(lease["lease_id"])
                    rid, files = _upload_body(run, booth, lease["person_id"])
                    response = client.put(f"/api/v1/recordings/{rid}", files=files)
                    if response.status_code == 409:
                        # Leases bind uploads: under load this booth's lease ran out (the clock
                        # runs fast) and another booth took the name before the upload came.
                        assert response.json()["code"] == "name_taken_elsewhere", response.text
                        assert time.monotonic() >= expires - 0.05, "refused while the lease was still this booth's"
                    else:
                        assert response.status_code == 201, response.text
                elif fate < 0.75:
                    renewed = client.post(f"/api/v1/leases/{lease['lease_id']}/renew")
                    if renewed.status_code == 200:
                        holding.end = run.clock.real(datetime.fromisoformat(renewed.json()["expires_at"]))
                    else:
                        assert renewed.status_code == 410, renewed.text
                # else: kept until it expires, or the hand is full
            time.sleep(rng.random() * 0.02)


def run_booths(run: Run, rounds: int) -> None:
    def guarded(booth: str, seed: int) -> None:
        try:
            booth_loop(run, booth, rounds, seed)
        except BaseException as error:  # reported by the test, not lost in a thread
            run.errors.append(f"{booth}: {error!r}")

    threads = [threading.Thread(target=guarded, args=(booth, seed)) for seed, booth in enumerate(run.tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not run.errors, run.errors


def overlaps(holdings: list[Holding]) -> list[tuple[Holding, Holding]]:
    """Pairs of spans in which two leases held the same person at once."""
    by_person: dict[str, list[Holding]] = defaultdict(list)
    for holding in holdings:
        by_person[holding.person_id].append(holding)
    found = []
    for spans in by_person.values():
        spans.sort(key=lambda h: h.start)
        for i, first in enumerate(spans):
            for second in spans[i + 1 :]:
                if second.start < first.end and first.lease_id != second.lease_id:
                    found.append((first, second))
    return found


def check_database(run: Run) -> None:
    with run.database.read() as connection:
        stored = {
            str(row.id): row for row in connection.execute(select(leases.c.id, persons.c.person_id).join(persons))
        }
    for holding in run.holdings:
        assert stored[holding.lease_id].person_id == holding.person_id
    assert lease_rule_breaks(run.database) == {"open_twice": 0, "held_without_lease": 0, "held_otherwise": 0}


def test_sixteen_booths_never_hold_one_name_at_once(crowd: Run):
    run_booths(crowd, rounds=8)
    assert len(crowd.holdings) > BOOTHS * 8
    assert overlaps(crowd.holdings) == []
    check_database(crowd)


@pytest.mark.slow
def test_sixteen_booths_for_many_rounds(crowd: Run):
    run_booths(crowd, rounds=60)
    taken_over = len({h.person_id for h in crowd.holdings}) < len(crowd.holdings)
    assert taken_over, "names went round: released and expired names were handed out again"
    assert overlaps(crowd.holdings) == []
    check_database(crowd)


def test_the_overlap_check_sees_a_double_lease():
    first = Holding("booth-1", "a", "p", 0.0, 2.0)
    second = Holding("booth-2", "b", "p", 1.0, 3.0)
    later = Holding("booth-3", "c", "p", 3.0, 4.0)
    assert overlaps([first, second, later]) == [(first, second)]


def test_the_database_check_sees_names_held_against_the_rules(store):
    database = store.database
    station = authenticate(database, enroll(database, "booth-1"))
    first, second = claim(database, station, NameRules(), how="next", count=2)
    assert lease_rule_breaks(database) == {"open_twice": 0, "held_without_lease": 0, "held_otherwise": 0}
    release(database, station, second.lease_id)
    with database.write() as connection:
        connection.execute(update(persons).where(persons.c.person_id == first.person_id).values(held_until=None))
        connection.execute(
            update(persons)
            .where(persons.c.person_id == second.person_id)
            .values(held_until=datetime(2999, 1, 1, tzinfo=timezone.utc))
        )
    assert lease_rule_breaks(database) == {"open_twice": 0, "held_without_lease": 1, "held_otherwise": 1}


@pytest.mark.slow
def test_sixteen_threads_claiming_straight_from_the_database(tmp_path: Path, database_url: str | None):
    """No HTTP in between: the most contention the database layer can get."""
    config = make_config(tmp_path / "central", database_url)
    database = open_database(config)
    import_collection(database, crowded_collection(tmp_path / "collection", per_transport=200))
    stations = [authenticate(database, enroll(database, f"booth-{n}")) for n in range(1, BOOTHS + 1)]
    rules = NameRules(lease_s=3600, hand_size=3)
    held: dict[str, str] = {}
    lock = threading.Lock()
    problems: list[str] = []

    def work(station: Any, seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(40):
                for lease in claim(database, station, rules, how="next", count=rng.randint(1, 3)):
                    with lock:
                        if lease.person_id in held:
                            problems.append(
                                f"{lease.person_id} held by {held[lease.person_id]} and {station.station_id}"
                            )
                        held[lease.person_id] = station.station_id
                    with lock:
                        del held[lease.person_id]
                    release(database, station, lease.lease_id)
        except BaseException as error:
            problems.append(repr(error))

    threads = [threading.Thread(target=work, args=(station, n)) for n, station in enumerate(stations)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    database.dispose()
    assert problems == []
