"""kiosk.link.status and heartbeats: what the booth writes, what the store receives."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sync_support import keep_takes

from kiosk import __version__
from kiosk.central.stations import latest_heartbeats_by_station
from kiosk.link.client import CentralClient
from kiosk.link.heartbeat import heartbeat_payload, send_heartbeat
from kiosk.link.status import STATUS_FILE, read_station_status, write_station_status


def test_missing_or_unreadable_status_reads_as_unknown(tmp_path):
    assert read_station_status(tmp_path).audio_state == "unknown"
    (tmp_path / STATUS_FILE).write_text("{half a file")
    status = read_station_status(tmp_path)
    assert (status.audio_state, status.controller_state, status.input_overflows) == ("unknown", "unknown", 0)


def test_the_booth_writes_fields_that_changed_and_the_others_stay(tmp_path):
    write_station_status(tmp_path, audio_state="ready", controller_state="connected", input_overflows=0)
    write_station_status(tmp_path, input_overflows=4)
    status = read_station_status(tmp_path)
    assert (status.audio_state, status.controller_state, status.input_overflows) == ("ready", "connected", 4)
    document = json.loads((tmp_path / STATUS_FILE).read_text())
    assert document["pid"] == os.getpid() and document["written_at"].endswith("Z")
    assert [p.name for p in tmp_path.iterdir()] == [STATUS_FILE], "no temporary file left behind"


def test_a_status_not_rewritten_for_long_reads_as_stale(tmp_path):
    write_station_status(tmp_path, audio_state="ready", controller_state="connected")
    later = datetime.now(timezone.utc) + timedelta(minutes=10)
    assert read_station_status(tmp_path, now=later).audio_state == "stale"


def test_readers_never_see_half_a_status_while_the_booth_writes(tmp_path):
    stop = threading.Event()
    problems = []

    def write() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            write_station_status(tmp_path, audio_state="ready" * (number % 10 + 1), input_overflows=number)

    writer = threading.Thread(target=write)
    writer.start()
    deadline = time.monotonic() + 1.0
    try:
        while time.monotonic() < deadline:
            if (tmp_path / STATUS_FILE).exists() and read_station_status(tmp_path).audio_state == "unknown":
                problems.append("unknown")
    finally:
        stop.set()
        writer.join()
    assert not problems


def test_heartbeat_payload_has_what_the_store_expects(station):
    keep_takes(station.store, 2)
    write_station_status(station.config.data_dir, audio_state="ready", controller_state="none", input_overflows=2)
    payload = heartbeat_payload(station.store, station.config.data_dir)
    assert payload == {
        "version": __version__,
        "queue_length": 2,
        "free_disk_bytes": payload["free_disk_bytes"],
        "audio_state": "ready",
        "controller_state": "none",
        "input_overflows": 2,
    }
    assert payload["free_disk_bytes"] > 0


def test_a_heartbeat_reaches_the_real_store(station, central):
    keep_takes(station.store, 1)
    with CentralClient.for_station(station.config) as client:
        assert send_heartbeat(client, station.store, station.config.data_dir)
    latest = latest_heartbeats_by_station(central.database)["booth-1"]
    assert latest["queue_length"] == 1 and latest["audio_state"] == "unknown" and latest["version"] == __version__


def test_a_heartbeat_to_an_absent_store_is_not_an_error(station, tmp_path: Path):
    central_url = "http://127.0.0.1:9"  # discard port: nothing listens
    with CentralClient(central_url, station.config.token(), station_id="booth-1") as client:
        assert send_heartbeat(client, station.store, station.config.data_dir) is False
