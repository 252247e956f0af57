"""`kiosk sync run` and `kiosk sync status` as a technician runs them: child processes,
a real central store on loopback."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness.faultproxy import Fault, FaultProxy
from sync_support import central_recordings, enrolled_station, free_port, keep_takes, local_takes, make_station

from kiosk.central.stations import enroll, latest_heartbeats_by_station

CHILD = Path(__file__).with_name("sync_child.py")


def kiosk(*args: str, timeout: float = 120, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, sys.executable, str(CHILD), *args], capture_output=True, text=True, timeout=timeout)


def test_status_json_is_exactly_the_contract_shape(station):
    kept = keep_takes(station.store, 3)
    station.store.mark_sent(kept[0].recording_id, status=201)
    station.store.mark_failed(kept[1].recording_id, "refused")
    result = kiosk("sync", "status", str(station.toml), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"queued": 1, "sent": 1, "failed": 1}
    human = kiosk("sync", "status", str(station.toml))
    assert human.stdout.splitlines() == ["queued: 1", "sent: 1", "failed: 1", f"  {kept[1].recording_id} failed: refused"]


def test_once_uploads_the_queue_and_exits_0(station, central):
    keep_takes(station.store, 6)
    result = kiosk("sync", "run", str(station.toml), "--once")
    assert result.returncode == 0, result.stderr
    assert "sent 6, failed 0, still queued 0" in result.stdout
    assert central_recordings(central.database) == local_takes(station.store)
    again = kiosk("sync", "run", str(station.toml), "--once")
    assert again.returncode == 0 and "sent 0" in again.stdout


def test_once_with_the_store_unreachable_exits_1_and_says_so(tmp_path, collection):
    station = make_station(tmp_path / "alone", f"http://127.0.0.1:{free_port()}", "some-token", collection, retry_first_s=0.05, retry_max_s=0.2)
    keep_takes(station.store, 2)
    started = time.monotonic()
    result = kiosk("sync", "run", str(station.toml), "--once")
    assert result.returncode == 1, result.stderr
    assert "could not be reached" in result.stderr and "2 takes stay queued" in result.stderr
    assert time.monotonic() - started < 30
    assert station.store.counts() == {"queued": 2, "sent": 0, "failed": 0}


def test_once_with_the_cable_pulled_exits_1(station):
    """`unshare -n`: a network namespace with nothing in it, not even a working loopback."""
    keep_takes(station.store, 2)
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    assert probe.returncode == 0, f"`unshare -n` (util-linux, as root) is needed to pull the cable: {probe.stderr!r}"
    result = kiosk("sync", "run", str(station.toml), "--once", prefix=("unshare", "-n"))
    assert result.returncode == 1, result.stderr
    assert "could not be reached" in result.stderr
    assert station.store.counts()["queued"] == 2


def _answering(central, *answers: tuple[int, dict]) -> FaultProxy:
    """A fault proxy before the real store that answers the next requests as `answers` say."""
    return FaultProxy(central.url, plan=[Fault("answer", status=status, body=json.dumps(body)) for status, body in answers])


def _booth_with_takes(tmp_path: Path, url: str, central, collection: Path, takes: int):
    station = enrolled_station(tmp_path / "booth", url, central.database, collection, retry_first_s=0.05, retry_max_s=0.2)
    keep_takes(station.store, takes)
    return station


def test_once_says_the_stores_disk_is_full_keeps_the_takes_and_exits_1(tmp_path, central, collection):
    disk_full = {"detail": "the store's disk is full; nothing was kept", "code": "disk_full"}
    with _answering(central, (507, disk_full)) as proxy:
        station = _booth_with_takes(tmp_path, proxy.url, central, collection, 3)
        result = kiosk("sync", "run", str(station.toml), "--once")
        assert result.returncode == 1, result.stderr
        assert "the central store's disk is full (507: the store's disk is full; nothing was kept)" in result.stderr
        assert "could not be reached" not in result.stderr and "3 takes stay queued" in result.stderr
        assert "make room on the store's disk" in result.stderr
        assert proxy.applied["answer"] == 1 and proxy.applied["pass"] == 0, "nothing more sent to a full disk"
        assert station.store.counts() == {"queued": 3, "sent": 0, "failed": 0}
        assert central_recordings(central.database) == {}
        # Room was made: the next run sends them all.
        again = kiosk("sync", "run", str(station.toml), "--once")
        assert again.returncode == 0, again.stderr
        assert station.store.counts() == {"queued": 0, "sent": 3, "failed": 0}
        assert central_recordings(central.database) == local_takes(station.store)


@pytest.mark.parametrize(
    ("code", "marked"),
    [
        ("name_taken_elsewhere", "name taken elsewhere: another booth holds this name"),
        ("name_has_voice", "name already has a voice: staff approved another voice"),
    ],
)
def test_a_name_taken_elsewhere_fails_the_take_and_sync_status_shows_it(tmp_path, central, collection, code, marked):
    refusal = {"detail": "the store's words; nothing was kept", "code": code}
    with _answering(central, (409, refusal)) as proxy:
        station = _booth_with_takes(tmp_path, proxy.url, central, collection, 2)
        result = kiosk("sync", "run", str(station.toml), "--once")
    assert result.returncode == 0, result.stderr  # nothing stayed queued: the refusal is for good
    assert "sent 1, failed 1, still queued 0" in result.stdout
    (refused,) = station.store.failed_reasons().items()
    recording_id, reason = refused
    assert reason.startswith(marked) and "the store's words" in reason
    assert f"take {recording_id} failed: {marked}" in result.stderr
    # Still there, counted and listed, for staff to judge: never sent again, never deleted.
    status = kiosk("sync", "status", str(station.toml), "--json")
    assert json.loads(status.stdout) == {"queued": 0, "sent": 1, "failed": 1}
    listed = kiosk("sync", "status", str(station.toml)).stdout
    assert f"{recording_id} failed: {marked}" in listed
    assert (station.store.root / "audio" / f"{recording_id}.flac").exists()
    assert recording_id not in central_recordings(central.database)


def test_a_revoked_token_stops_the_run_with_what_to_do(station, central):
    keep_takes(station.store, 2)
    enroll(central.database, "booth-1")  # a new token: the station's old one stops working
    result = kiosk("sync", "run", str(station.toml), "--once")
    assert result.returncode != 0
    assert "wrong or has been revoked" in result.stderr and "kiosk central enroll" in result.stderr
    assert station.token not in result.stderr + result.stdout
    assert station.store.counts() == {"queued": 2, "sent": 0, "failed": 0}


def test_run_sends_heartbeats_uploads_and_stops_cleanly_on_sigterm(station, central):
    keep_takes(station.store, 3)
    child = subprocess.Popen(
        [sys.executable, str(CHILD), "sync", "run", str(station.toml)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and station.store.counts()["sent"] < 3:
            time.sleep(0.1)
        keep_takes(station.store, 1, first_person=40)  # a take kept while it runs goes too
        while time.monotonic() < deadline and station.store.counts()["sent"] < 4:
            time.sleep(0.1)
        assert station.store.counts() == {"queued": 0, "sent": 4, "failed": 0}
        assert "booth-1" in latest_heartbeats_by_station(central.database)
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(line["msg"] == "sync stopped" for line in lines)
    assert station.token not in out + err
    assert central_recordings(central.database) == local_takes(station.store)


def test_a_token_revoked_while_running_stops_the_service(station, central):
    child = subprocess.Popen(
        [sys.executable, str(CHILD), "sync", "run", str(station.toml)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while "booth-1" not in latest_heartbeats_by_station(central.database) and time.monotonic() < deadline:
            time.sleep(0.1)
        enroll(central.database, "booth-1")
        out, err = child.communicate(timeout=30)  # the next heartbeat (heartbeat_s = 5) finds out
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode != 0 and "kiosk central enroll" in err
