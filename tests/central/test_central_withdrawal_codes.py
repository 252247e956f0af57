"""Issue 18Y: the store keeps a booth's withdrawal-code hash as sent, and staff still find it by code.

Against a real uvicorn over loopback, on SQLite and PostgreSQL. The booth's side (what
leaves the station, several uploads in flight) is in tests/kiosk/link/test_sync_in_flight.py.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
from central_support import Store, flac_bytes, keep_recording
from sqlalchemy import update
from test_central_upload import Booths, booths, committed_rows, put, sidecar  # noqa: F401 - booths is a fixture

from kiosk.central.codes import legacy_withdrawal_code_hash
from kiosk.central.moderation import recording_for_code, withdraw
from kiosk.central.recordings import AudioStore
from kiosk.central.schema import recordings
from kiosk.contract import withdrawal_code_hash


class ScryptCounter:
    """The real hashlib.scrypt, counted: how many slow hashes a lookup costs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.calls = 0
        self._real = hashlib.scrypt
        monkeypatch.setattr(hashlib, "scrypt", self)

    def __call__(self, *args: Any, **kwargs: Any) -> bytes:
        self.calls += 1
        return self._real(*args, **kwargs)


def test_the_hash_is_kept_as_the_booth_sent_it_and_staff_find_the_take_by_its_code(booths: Booths, monkeypatch):
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    sent_hash = withdrawal_code_hash("HJKM-4567")
    counter = ScryptCounter(monkeypatch)
    with booths.client() as client:
        response = put(client, rid, sidecar(audio, rid, withdrawal_code_hash=sent_hash), audio)
    assert response.status_code == 201, response.text
    assert counter.calls == 0, "the store hashes nothing on a new booth's upload"
    [row] = committed_rows(booths.store)
    assert row.withdrawal_code_hash == sent_hash
    assert "withdrawal_code_hash" not in row.metadata and "withdrawal_code" not in row.metadata

    database = booths.store.database
    assert recording_for_code(database, "hjkm 4567")["id"] == uuid.UUID(rid)  # as staff type it
    assert recording_for_code(database, "HJKM-4568") is None
    done = withdraw(database, AudioStore(booths.audio_dir), "HJKM-4567", by="anna")
    assert done.recording_id == uuid.UUID(rid) and not done.already


def test_a_hash_that_is_not_one_is_refused_and_nothing_kept(booths: Booths):
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    with booths.client() as client:
        for wrong in ("HJKM-4567", "ab" * 31, "AB" * 32, 42):
            response = put(client, rid, sidecar(audio, rid, withdrawal_code_hash=wrong), audio)
            assert response.status_code == 422 and "withdrawal_code_hash" in response.text, response.text
    assert committed_rows(booths.store) == []


def _row_of_before(store: Store, person_id: str, code: str) -> uuid.UUID:
    """A recording as the store kept it before issue 18Y: the code hashed with the one fixed salt."""
    recording = keep_recording(store, person_id, audio=flac_bytes(frequency=200 + len(person_id) * 7 + ord(code[0])))
    with store.database.write() as connection:
        connection.execute(
            update(recordings)
            .where(recordings.c.id == recording)
            .values(withdrawal_code_hash=legacy_withdrawal_code_hash(code))
        )
    return recording


def test_rows_kept_before_are_found_by_their_code(store: Store):
    old = _row_of_before(store, "t-xx-002", "ABCD-2345")
    new = keep_recording(store, "t-xx-003", audio=flac_bytes(frequency=330), code="ABCD-2346")
    assert recording_for_code(store.database, "abcd 2345")["id"] == old
    assert recording_for_code(store.database, "ABCD-2346")["id"] == new
    assert recording_for_code(store.database, "ABCD-2347") is None
    done = withdraw(store.database, AudioStore(store.config.audio_dir), "ABCD-2345", by="anna")
    assert done.recording_id == old and done.audio_deleted


def test_a_staff_lookup_costs_at_most_two_scrypt_runs_however_many_takes_are_stored(store: Store, monkeypatch):
    codes = [f"HJK{letter}-234{digit}" for letter, digit in zip("MNPQRS", "567892")]
    new_ids = {
        code: keep_recording(store, f"t-xx-{number:03d}", audio=flac_bytes(frequency=150 + 20 * number), code=code)
        for number, code in enumerate(codes, start=1)
    }
    old_id = _row_of_before(store, "t-z-001", "WXYZ-7777")
    counter = ScryptCounter(monkeypatch)
    for code, recording in new_ids.items():
        before = counter.calls
        assert recording_for_code(store.database, code)["id"] == recording
        assert counter.calls - before == 1
    before = counter.calls
    assert recording_for_code(store.database, "WXYZ-7777")["id"] == old_id
    assert counter.calls - before == 2
    before = counter.calls
    assert recording_for_code(store.database, "WXYZ-7778") is None
    assert counter.calls - before == 2
