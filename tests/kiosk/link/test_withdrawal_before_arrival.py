"""Issue WD: a participant withdraws while their take is still on an offline booth. Staff
keep the withdrawal on the store; when the booth's network comes back and sync runs, no
copy is kept anywhere: not on the store, not on the booth, not on the wall or in the
memorial, and the name goes back to the queue.

Real parts: the central store on uvicorn over loopback (SQLite and PostgreSQL), the
booth's take store and `SyncRunner`, the staff action as `kiosk central withdraw`, the
wall's and the memorial's voice caches. "Offline" is the booth's URL pointing at a port
where nothing listens, as a cable pulled at the gallery leaves it.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sync_support import ADULT, QUALITY, CentralServer, Station, free_port, make_central, make_station, tone

from kiosk.central.errors import Conflict
from kiosk.config import load_station_config
from kiosk.central.moderation import approve
from kiosk.central.schema import leases, persons, recordings
from kiosk.central.stations import enroll
from kiosk.contract import withdrawal_code_hash
from kiosk.link.client import CentralClient
from kiosk.link.runner import SyncRunner
from kiosk.link.voices import Policy, VoiceCache, VoiceUnavailable

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "central"))
from pg_cluster import PostgresCluster, cluster_for_tests  # noqa: E402

KIOSK = str(Path(sys.executable).parent / "kiosk")
FAST = {"retry_first_s": 0.05, "retry_max_s": 0.5, "invalid_retry_s": 1, "heartbeat_s": 5}


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresCluster]:
    with cluster_for_tests("the withdrawal-before-arrival tests") as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("postgres").new_database() if request.param == "postgresql" else None


def test_a_take_withdrawn_while_its_booth_is_offline_leaves_no_copy_anywhere(tmp_path, collection, database_url, caplog):
    config, database = make_central(tmp_path / "central", collection, database_url=database_url)
    server = CentralServer(config, database).start()
    try:
        _every_copy_goes(tmp_path, collection, config, database, server.url, caplog)
    finally:
        server.stop()
        database.dispose()


def _every_copy_goes(tmp_path, collection, config, database, url, caplog) -> None:
    token = enroll(database, "booth-1")
    online = make_station(tmp_path / "booth", url, token, collection, **FAST)
    with CentralClient.for_station(online.config) as client:
        answer = client.send("POST", "/leases", json={"how": "next", "count": 2})
    assert answer.status_code == 200, answer.text
    withdrawn_person, other_person = (lease["person_id"] for lease in answer.json()["leases"])

    # The gallery loses its network; the booth keeps recording.
    offline = _pointed_at(online, f"http://127.0.0.1:{free_port()}")
    takes = offline.store
    withdrawn = takes.keep(tone(0.5, seed=1), 48_000, person_id=withdrawn_person, consent=ADULT, quality=QUALITY)
    stays = takes.keep(tone(0.5, seed=2), 48_000, person_id=other_person, consent=ADULT, quality=QUALITY)
    code = withdrawn.metadata["withdrawal_code"]
    runner = SyncRunner(offline.config)
    try:
        assert runner.run_once().unreachable
    finally:
        runner.close()
    assert takes.counts() == {"queued": 2, "sent": 0, "failed": 0}

    # The participant writes to the museum; staff withdraw the code: kept, as pending.
    staff = subprocess.run([KIOSK, "central", "withdraw", "--config", str(config.source), code, "--yes", "--json"],
                           capture_output=True, text=True, timeout=120)
    assert staff.returncode == 0, staff.stderr
    assert json.loads(staff.stdout)["status"] == "pending"

    # The network comes back and sync runs.
    online = _pointed_at(offline, url)
    caplog.set_level(logging.DEBUG)
    runner = SyncRunner(online.config)
    try:
        report = runner.run_once()
    finally:
        runner.close()
    assert report.sent == 2 and report.withdrawn == 1 and report.queued_left == 0, report

    # The store: the row says withdrawn, no audio of it anywhere in its folder.
    with database.read() as connection:
        rows = {str(row.id): row for row in connection.execute(select(recordings))}
    assert rows[withdrawn.recording_id].status == "withdrawn" and rows[withdrawn.recording_id].audio_path is None
    assert rows[stays.recording_id].status == "received"
    stored = sorted(p.name for p in config.audio_dir.rglob("*") if p.is_file())
    assert stored == [f"{stays.metadata['sha256']}.flac"]

    # The booth: the take's audio and sidecar are gone; the other take is sent and kept.
    left = sorted(str(p.relative_to(takes.root)) for p in takes.root.rglob(f"{withdrawn.recording_id}*"))
    assert left == [f"withdrawn/{withdrawn.recording_id}.json"], left  # the marker a crash half-way needs
    assert (takes.root / "audio" / f"{stays.recording_id}.flac").exists()
    assert takes.counts() == {"queued": 0, "sent": 1, "failed": 0}
    assert withdrawn_person not in takes.voiced_person_ids()

    # The name goes back to the queue: no voice, the booth's lease given back, another booth gets it.
    with database.read() as connection:
        person = connection.execute(select(persons).where(persons.c.person_id == withdrawn_person)).one()
        ends = dict(
            connection.execute(
                select(persons.c.person_id, leases.c.end_reason).join(persons, persons.c.id == leases.c.person_id)
            ).all()
        )
    assert not person.voiced and person.held_until is None
    assert ends == {withdrawn_person: "released", other_person: "used"}
    other_booth = make_station(tmp_path / "booth-2", url, enroll(database, "booth-2"), collection, station_id="booth-2")
    with CentralClient.for_station(other_booth.config) as client:
        queue = client.send("POST", "/leases", json={"how": "next", "count": 5}).json()["leases"]
    assert withdrawn_person in {lease["person_id"] for lease in queue}

    # The wall and the memorial never get it, and staff cannot approve it into their lists.
    with pytest.raises(Conflict, match="withdrawn"):
        approve(database, rows[withdrawn.recording_id].id, by="anna")
    approve(database, rows[stays.recording_id].id, by="anna")
    for role, policy in (("wall", Policy.ON_DEMAND), ("memorial", Policy.AHEAD)):
        station = make_station(tmp_path / role, url, enroll(database, f"{role}-1", role=role), collection,
                               station_id=f"{role}-1")
        cache = VoiceCache(tmp_path / role / "voices", policy)
        with CentralClient.for_station(station.config) as client:
            assert list(cache.refresh(client).entries) == [other_person], role
            with pytest.raises(VoiceUnavailable):
                cache.audio(client, withdrawn_person)
            cache.audio(client, other_person)
        held = {p.name for p in (tmp_path / role / "voices").rglob("*.flac")}
        assert held == {f"{stays.metadata['sha256']}.flac"}, (role, held)

    # Nobody logged whose: not the code, its hash, the recording, the person or the name.
    secrets = (code, withdrawal_code_hash(code), withdrawn.recording_id, withdrawn_person, withdrawn.metadata["sha256"])
    about = [json.dumps(r.__dict__, default=str) for r in caplog.records
             if "withdr" in r.getMessage() or r.name.startswith("kiosk.central")]
    assert any("consent was withdrawn before" in line for line in about), about
    assert any("withdrawn takes deleted" in line for line in about), about
    for said in [*about, staff.stderr]:
        for secret in secrets:
            assert secret not in said, (secret, said[-500:])


def _pointed_at(station: Station, url: str) -> Station:
    """The same booth, its [central] url changed (as a technician would edit station.toml)."""
    toml = station.toml.read_text(encoding="utf-8")
    assert toml.count(f'"{station.config.central.url}"') == 1
    station.toml.write_text(toml.replace(f'"{station.config.central.url}"', f'"{url}"'), encoding="utf-8")
    return Station(station.toml, load_station_config(station.toml), station.token)
