"""Withdrawal from the command line, and what the store tells each station afterwards."""

from __future__ import annotations

import json
import logging

import httpx
from central_support import flac_bytes, keep_recording, logged_text
from test_central_cli import kiosk

from kiosk.central.api import create_app
from kiosk.central.moderation import approve, withdraw, withdrawn_from
from kiosk.central.recordings import AudioStore
from kiosk.central.stations import authenticate, enroll


def _station(store, station_id):
    token = enroll(store.database, station_id)
    return token, authenticate(store.database, token)


def test_the_command_withdraws_as_the_staff_page_does(store):
    recording = keep_recording(store, "t-xx-004", audio=flac_bytes(frequency=300), code="HJKM-4567")
    approve(store.database, recording, by="anna")
    toml = store.config.source

    asked = kiosk("central", "withdraw", "--config", toml, "hjkm 4567")  # no terminal, no --yes: nothing happens
    assert asked.returncode != 0 and "add --yes" in asked.stderr and "Testowa4" in asked.stderr
    assert withdrawn_from(store.database, authenticate(store.database, enroll(store.database, "booth-1")).id) == []

    done = kiosk("central", "withdraw", "--config", toml, "HJKM-4567", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result == {
        "code": "HJKM-4567",
        "recording_id": str(recording),
        "person_id": "t-xx-004",
        "status": "withdrawn",
        "audio_deleted": True,
        "name_has_voice": False,
    }
    assert not list(AudioStore(store.config.audio_dir).root.glob("??/*.flac"))
    again = kiosk("central", "withdraw", "--config", toml, "HJKM-4567", "--yes")
    assert again.returncode == 0 and "withdrawn before" in again.stdout

    # A code no recording has yet: test_central_pending_withdrawals.
    not_a_code = kiosk("central", "withdraw", "--config", toml, "hello", "--yes")
    assert not_a_code.returncode != 0 and "not a withdrawal code" in not_a_code.stderr


def test_the_log_says_a_withdrawal_happened_never_whose(store, caplog):
    recording = keep_recording(store, "t-xx-005", code="HJKM-4568")
    caplog.set_level(logging.DEBUG)
    withdraw(store.database, AudioStore(store.config.audio_dir), "HJKM-4568", by="anna")
    said = [record for record in caplog.records if "withdrawn" in record.getMessage()]
    assert said, "a withdrawal must be logged"
    for record in caplog.records:
        everything = logged_text(record)
        for secret in ("t-xx-005", "Testowa5", "HJKM", "4568", str(recording)):
            assert secret not in everything, (secret, record.getMessage())


def test_each_station_hears_only_of_its_own_withdrawn_recordings(store, live_server):
    token_1, booth_1 = _station(store, "booth-1")
    token_2, _ = _station(store, "booth-2")
    mine = keep_recording(store, "t-xx-006", station_id="booth-1", code="HJKM-4569")
    keep_recording(store, "t-xx-007", station_id="booth-1", code="HJKM-4572")
    theirs = keep_recording(store, "t-xx-008", station_id="booth-2", code="HJKM-4573")
    token_1, _ = _station(store, "booth-1")  # keep_recording enrolls again: fresh tokens
    token_2, _ = _station(store, "booth-2")
    files = AudioStore(store.config.audio_dir)
    withdraw(store.database, files, "HJKM-4569", by="anna")
    withdraw(store.database, files, "HJKM-4573", by="anna")
    server = live_server(create_app(store.config, store.database))
    for token, expected in ((token_1, [str(mine)]), (token_2, [str(theirs)])):
        answer = httpx.get(f"{server.url}/api/v1/withdrawn", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and answer.json() == {"recordings": expected}
    assert httpx.get(f"{server.url}/api/v1/withdrawn").status_code == 401
