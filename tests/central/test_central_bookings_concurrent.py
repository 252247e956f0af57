"""Sixteen clients at once, booking and claiming: no name is ever given twice.

Eight booths (station tokens) ask for the next names and for matches on first name,
birthday and age, while eight booking systems (booking tokens) book single participants
and groups, each over its own HTTP connection to a real uvicorn. Names run out during
the run, so both sides meet "nothing waits". Nothing is given back during the run: every
name handed out is still held at the end, so any person handed out twice (booked twice,
leased twice, or booked and leased to a booth by "next" or a match) is a double.
Afterwards booths redeem every code at once: each code gives its own person, once.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from central_support import make_config, write_collection
from sqlalchemy import func, select

from kiosk.central.api import create_app
from kiosk.central.db import open_database
from kiosk.central.importer import import_collection
from kiosk.central.schema import bookings, leases
from kiosk.central.stations import enroll

CLIENTS = 16
FIRST_NAMES = ["Chaja", "Abram", "Sura", "Rywka"]
TRANSPORTS = [["A", "1942-08-04", "Auschwitz-Birkenau", ""], ["B", "1943-04-19", "Auschwitz-Birkenau", ""]]


def collection(folder: Path, per_transport: int = 60) -> Path:
    rows = []
    for code in ("A", "B"):
        for number in range(1, per_transport + 1):
            birth = f"{1900 + number % 40}-{number % 12 + 1:02d}-{number % 5 + 1:02d}"
            rows.append(
                [f"c-{code}-{number:03d}", f"Lista{number}", FIRST_NAMES[number % 4], birth, "Anvers", "", code,
                 str(number), "unknown", "", "yes"]
            )
    return write_collection(folder, TRANSPORTS, rows)


@pytest.fixture
def crowd(tmp_path: Path, database_url: str | None, live_server: Any):
    config = make_config(tmp_path / "central", database_url, lease_s=3600, hand_size=100)
    database = open_database(config)
    import_collection(database, collection(tmp_path / "collection"))
    server = live_server(create_app(config, database))
    booths = {f"booth-{n}": enroll(database, f"booth-{n}") for n in range(1, CLIENTS // 2 + 1)}
    systems = {f"booking-{n}": enroll(database, f"booking-{n}", "booking") for n in range(1, CLIENTS // 2 + 1)}
    yield server.url, database, booths, systems
    database.dispose()


def wish(rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.3:
        return {"first_name": rng.choice(FIRST_NAMES).lower()}
    if roll < 0.5:
        return {"birthday": f"{rng.randint(1, 12):02d}-{rng.randint(1, 5):02d}"}
    if roll < 0.8:
        return {"age": rng.randint(9, 60)}
    return {}


def test_bookings_and_claims_from_sixteen_clients_never_give_a_name_twice(crowd):
    url, database, booths, systems = crowd
    given: list[tuple[str, str, str]] = []  # (how, person_id, by)
    codes: dict[str, str] = {}
    errors: list[str] = []
    lock = threading.Lock()

    def booth(name: str, token: str, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
            for _ in range(12):
                body = {"how": "next", "count": rng.randint(1, 3)} if rng.random() < 0.5 else {"how": "match"} | (
                    wish(rng) or {"age": 30}
                )
                answer = client.post("/api/v1/leases", json=body)
                assert answer.status_code == 200, answer.text
                with lock:
                    given.extend((body["how"], lease["person_id"], name) for lease in answer.json()["leases"])

    def system(name: str, token: str, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
            for _ in range(6):
                participants = [wish(rng) for _ in range(rng.randint(1, 3))]
                answer = client.post("/api/v1/bookings", json={"language": "fr", "participants": participants})
                if answer.status_code == 409:  # names ran out
                    assert "no name waits" in answer.json()["detail"]
                    continue
                assert answer.status_code == 201, answer.text
                made = answer.json()["bookings"]
                assert len(made) == len(participants)
                with lock:
                    for booking in made:
                        given.append(("booking", booking["person_id"], name))
                        codes[booking["code"]] = booking["person_id"]

    def guarded(target, *args) -> None:
        try:
            target(*args)
        except BaseException as error:  # reported by the test, not lost in a thread
            errors.append(f"{args[0]}: {error!r}")

    threads = [threading.Thread(target=guarded, args=(booth, n, t, i)) for i, (n, t) in enumerate(booths.items())]
    threads += [
        threading.Thread(target=guarded, args=(system, n, t, 100 + i)) for i, (n, t) in enumerate(systems.items())
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors

    twice = [person for person, count in Counter(person for _, person, _ in given).items() if count > 1]
    assert twice == [], [entry for entry in given if entry[1] in twice]
    assert len(given) == 120, "every name of the collection was handed out once"
    assert codes
    # Once nothing waits, a booking is refused whole and nothing is kept.
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {systems['booking-1']}"}) as client:
        answer = client.post("/api/v1/bookings", json={"participants": [{}, {"age": 30}]})
    assert answer.status_code == 409 and "no name waits" in answer.json()["detail"]
    with database.read() as connection:
        assert connection.execute(select(func.count()).select_from(bookings)).scalar_one() == len(codes)

    # Every code redeemed by two booths at once: each person to one booth, once.
    redeemed: list[tuple[str, str]] = []

    def redeem(token: str, chosen: list[str]) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
            for code in chosen:
                answer = client.post("/api/v1/leases", json={"how": "booking", "code": code.lower()})
                assert answer.status_code == 200, answer.text
                with lock:
                    redeemed.extend((code, lease["person_id"]) for lease in answer.json()["leases"])

    all_codes = sorted(codes)
    tokens = list(booths.values())
    threads = [
        threading.Thread(target=guarded, args=(redeem, tokens[i], all_codes[i % 2 :: 2] + all_codes[(i + 1) % 2 :: 2]))
        for i in range(CLIENTS // 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(redeemed) == sorted(codes.items())
    with database.read() as connection:
        open_twice = connection.execute(
            select(leases.c.person_id).where(leases.c.ended_at.is_(None)).group_by(leases.c.person_id).having(
                func.count() > 1
            )
        ).all()
    assert open_twice == []
