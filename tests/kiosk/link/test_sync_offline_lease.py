"""A booth offline longer than its lease renews the lease before it uploads the take.

Real processes: the central store runs in a process of its own on a clock the test
moves (`store_child.py`), and `kiosk sync run --once` in another; the booth's names
come from the store's leases as the booth takes them (`RemoteNameSource`).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from store_child import FileClock
from sync_support import ADULT, QUALITY, Station, make_central, make_station, tone

from exhibits.booth.names import RemoteNameSource
from kiosk.central.config import CentralConfig
from kiosk.central.db import open_database
from kiosk.central.schema import leases, persons
from kiosk.central.stations import enroll
from kiosk.link.client import CentralClient

HERE = Path(__file__).resolve().parent
SYNC_CHILD = HERE / "sync_child.py"
STORE_CHILD = HERE / "store_child.py"


@dataclass
class StoreProcess:
    config: CentralConfig
    clock: FileClock
    url: str
    tokens: dict[str, str]

    def lease_of(self, person_id: str) -> list[tuple[str, datetime, str | None]]:
        """(station id, expires_at, end_reason) of every lease the store gave on the person."""
        from kiosk.central.schema import stations

        database = open_database(self.config)
        try:
            with database.read() as connection:
                rows = connection.execute(
                    select(stations.c.station_id, leases.c.expires_at, leases.c.end_reason)
                    .join(persons, persons.c.id == leases.c.person_id)
                    .join(stations, stations.c.id == leases.c.station_id)
                    .where(persons.c.person_id == person_id)
                    .order_by(leases.c.expires_at)
                ).all()
        finally:
            database.dispose()
        return [(row.station_id, _utc(row.expires_at), row.end_reason) for row in rows]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@pytest.fixture
def store_process(tmp_path: Path, collection: Path) -> Iterator[StoreProcess]:
    config, database = make_central(tmp_path / "central", collection)
    tokens = {station: enroll(database, station) for station in ("booth-1", "booth-2")}
    database.dispose()
    clock = FileClock(tmp_path / "store-clock")
    clock.set(datetime.now(timezone.utc))
    child = subprocess.Popen(
        [sys.executable, str(STORE_CHILD), str(config.source), str(clock.path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = child.stdout.readline().strip() if child.stdout else ""
        assert port.isdigit(), f"the store process did not start: {child.stderr.read() if child.stderr else ''}"
        yield StoreProcess(config, clock, f"http://127.0.0.1:{port}", tokens)
    finally:
        child.terminate()
        try:
            child.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()


def _booth(tmp_path: Path, store: StoreProcess, collection: Path, station_id: str) -> Station:
    return make_station(
        tmp_path / station_id, store.url, store.tokens[station_id], collection, station_id=station_id, retry_first_s=0.05, retry_max_s=0.2
    )


def _read_a_name(booth: Station) -> str:
    """The booth leases a name from the store, a participant reads it, the take is kept; then
    the booth goes offline (its name source stops renewing)."""
    names = RemoteNameSource(CentralClient.for_station(booth.config), booth.config.data_dir, names_in_hand=1)
    try:
        names.maintain()
        assignment = names.next_waiting()
        assert assignment is not None, "the store leased no name"
        booth.store.keep(tone(1.0), 48_000, person_id=assignment.person_id, consent=ADULT, quality=QUALITY)
        names.voiced(assignment.person_id)
    finally:
        names.close()
    return assignment.person_id


def _sync_once(booth: Station) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SYNC_CHILD), "sync", "run", str(booth.toml), "--once"], capture_output=True, text=True, timeout=120
    )


def test_a_booth_offline_past_its_lease_renews_it_before_uploading(tmp_path, store_process, collection):
    booth = _booth(tmp_path, store_process, collection, "booth-1")
    person = _read_a_name(booth)
    ((_, first_expiry, _),) = store_process.lease_of(person)
    lease_s = store_process.config.names.lease_s
    back_online = store_process.clock() + timedelta(seconds=2 * lease_s)  # offline for two leases' time
    store_process.clock.set(back_online)

    result = _sync_once(booth)

    assert result.returncode == 0, result.stderr
    assert "sent 1, failed 0, still queued 0" in result.stdout
    ((station, expiry, _),) = store_process.lease_of(person)
    assert station == "booth-1"
    # Renewed on the store's moved clock before the upload: held again, not left expired.
    assert expiry >= back_online + timedelta(seconds=lease_s - 60) > first_expiry


def test_a_name_taken_meanwhile_is_not_renewed_away_from_the_other_booth(tmp_path, store_process, collection):
    booth = _booth(tmp_path, store_process, collection, "booth-1")
    person = _read_a_name(booth)
    store_process.clock.set(store_process.clock() + timedelta(seconds=2 * store_process.config.names.lease_s))
    other = _booth(tmp_path, store_process, collection, "booth-2")
    other_names = RemoteNameSource(CentralClient.for_station(other.config), other.config.data_dir, names_in_hand=1)
    try:
        other_names.maintain()  # the name was free again: booth-2 takes it
        assert other_names.in_hand() == [person]
    finally:
        other_names.close()

    result = _sync_once(booth)

    assert "the lease could not be renewed before the upload" in result.stderr
    held = [(station, reason) for station, _, reason in store_process.lease_of(person) if reason is None]
    assert held == [("booth-2", None)], "booth-2 still holds the name"
