"""The store's housekeeping: the orphan sweep (also finishing interrupted withdrawals) and
heartbeats kept 30 days, at `kiosk central serve`'s start and then on a timer; SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from central_support import Store, flac_bytes, keep_recording
from sqlalchemy import func, insert, select, update
from test_central_cli import central_toml, free_port, kiosk, kiosk_process, wait_for_health  # noqa: F401

from kiosk.central.config import load_central_config
from kiosk.central.db import open_database
from kiosk.central.moderation import sweep_orphan_audio
from kiosk.central.recordings import AudioStore
from kiosk.central.schema import heartbeats, latest_heartbeats, recordings
from kiosk.central.stations import Heartbeat, authenticate, enroll, prune_heartbeats, record_heartbeat
from kiosk.central.upkeep import Upkeep

BEAT = Heartbeat("1.0", 0, 10**9, "ok", "ok", 0)


def _orphan(files: AudioStore, audio: bytes, age_s: float) -> Path:
    import hashlib

    sha = hashlib.sha256(audio).hexdigest()
    path = files.root / files.relative_path(sha)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(audio)
    moment = time.time() - age_s
    os.utime(path, (moment, moment))
    return path


def _interrupted_withdrawal(store: Store, files: AudioStore, person_id: str, audio: bytes) -> Path:
    """A withdrawal whose row committed but whose file deletion a crash cut short."""
    rid = keep_recording(store, person_id, audio=audio)
    with store.database.write() as connection:
        path = connection.execute(select(recordings.c.audio_path).where(recordings.c.id == rid)).scalar_one()
        connection.execute(
            update(recordings)
            .where(recordings.c.id == rid)
            .values(status="withdrawn", status_at=datetime.now(timezone.utc), audio_path=None)
        )
    return files.root / path


def test_the_sweep_finishes_an_interrupted_withdrawal_even_within_the_hour(store: Store):
    files = AudioStore(store.config.audio_dir)
    files.prepare()
    withdrawn = _interrupted_withdrawal(store, files, "t-xx-001", flac_bytes(frequency=300))
    young = _orphan(files, flac_bytes(frequency=400), age_s=60)  # an upload about to write its row
    old = _orphan(files, flac_bytes(frequency=500), age_s=2 * 3600)
    kept = keep_recording(store, "t-xx-002", audio=flac_bytes(frequency=600))
    removed = sweep_orphan_audio(store.database, files)
    assert not withdrawn.exists() and not old.exists() and young.exists()
    assert sorted(removed) == sorted(p.relative_to(files.root).as_posix() for p in (withdrawn, old))
    with store.database.read() as connection:
        path = connection.execute(select(recordings.c.audio_path).where(recordings.c.id == kept)).scalar_one()
    assert (files.root / path).exists()


def test_heartbeats_older_than_30_days_are_pruned_but_each_stations_latest_stays(store: Store):
    database = store.database
    now = [datetime(2026, 11, 1, tzinfo=timezone.utc)]
    database.clock = lambda: now[0]
    chatty = authenticate(database, enroll(database, "booth-1"))
    quiet = authenticate(database, enroll(database, "wall-1", "wall"))
    record_heartbeat(database, quiet, BEAT)  # its only one: kept however old
    for _ in range(3):
        record_heartbeat(database, chatty, BEAT)
    now[0] += timedelta(days=29)
    record_heartbeat(database, chatty, BEAT)
    now[0] += timedelta(days=2)
    assert prune_heartbeats(database) == 3
    with database.read() as connection:
        left = connection.execute(select(heartbeats.c.station_id, heartbeats.c.received_at)).all()
        latest = connection.execute(select(func.count()).select_from(latest_heartbeats)).scalar_one()
    assert sorted(station for station, _ in left) == sorted([chatty.id, quiet.id]) and latest == 2


def test_upkeep_runs_at_start_and_then_again_on_its_timer(store: Store):
    files = AudioStore(store.config.audio_dir)
    files.prepare()
    first = _orphan(files, flac_bytes(frequency=410), age_s=2 * 3600)
    upkeep = Upkeep(store.database, files, every_s=0.2).start()
    try:
        deadline = time.monotonic() + 60
        while first.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not first.exists()
        second = _orphan(files, flac_bytes(frequency=420), age_s=2 * 3600)
        while second.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not second.exists(), "a later round removes what appeared after the first"
    finally:
        upkeep.stop()


def test_serve_sweeps_and_prunes_when_it_starts(central_toml: Path, small_collection: Path, tmp_path: Path):
    kiosk("collection", "import", small_collection, "--central", central_toml)
    config = load_central_config(central_toml)
    database = open_database(config)
    try:
        store = Store(config, database)
        files = AudioStore(config.audio_dir)
        files.prepare()
        withdrawn = _interrupted_withdrawal(store, files, "t-xx-003", flac_bytes(frequency=310))
        old = _orphan(files, flac_bytes(frequency=320), age_s=3 * 3600)
        young = _orphan(files, flac_bytes(frequency=330), age_s=10)
        station = authenticate(database, enroll(database, "booth-1"))
        with database.write() as connection:
            connection.execute(
                insert(heartbeats).values(
                    station_id=station.id,
                    received_at=datetime.now(timezone.utc) - timedelta(days=40),
                    **BEAT.__dict__,
                )
            )
        record_heartbeat(database, station, BEAT)
    finally:
        database.dispose()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log_file:
        import subprocess
        import sys

        from test_central_cli import RUNNER

        process = subprocess.Popen(
            [sys.executable, "-c", RUNNER, "central", "serve", "--config", str(central_toml)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_health(f"http://127.0.0.1:{config.server.port}", process)
            deadline = time.monotonic() + 60
            while "upkeep done" not in log_path.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            process.terminate()
            process.wait(30)
    entries = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    [done] = [entry for entry in entries if entry["msg"] == "upkeep done"]
    assert done["orphan_audio"] == 2 and done["heartbeats"] == 1
    assert not withdrawn.exists() and not old.exists() and young.exists()
