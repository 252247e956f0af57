"""A withdrawal asked for before its recording reached the store (issue WD): kept by the
code's hash alone, and the recording withdrawn the moment it arrives, on both databases,
uploads over a real uvicorn on loopback."""

from __future__ import annotations

import json
import logging
import threading
import uuid

import httpx
import pytest
from central_support import flac_bytes, keep_recording, logged_text
from sqlalchemy import func, select, text
from test_central_cli import kiosk
from test_central_upload import Booths, booths, put, sidecar  # noqa: F401 - booths is a fixture

from kiosk.central.codes import withdrawal_code_hash
from kiosk.central.errors import Conflict
from kiosk.central.leases import NameRules, claim
from kiosk.central.moderation import approve, approved_voices, withdraw, withdrawn_from
from kiosk.central.pending_withdrawals import (
    WITHDRAWN_BEFORE_ARRIVAL,
    KeptWithdrawal,
    keep_withdrawal,
)
from kiosk.central.recordings import AudioStore
from kiosk.central.schema import leases, pending_withdrawals, persons, recordings
from kiosk.central.stations import authenticate
from kiosk.contract import withdrawal_code_hash as booth_side_hash

CODE = "HJKM-4567"  # sidecar()'s code


def _flac_files(booths: Booths) -> list:
    return sorted(p for p in booths.audio_dir.rglob("*") if p.is_file())


def kept_withdrawals(database) -> tuple[int, int]:
    """How many withdrawals are kept, and how many of their recordings have arrived since."""
    with database.read() as connection:
        return tuple(connection.execute(select(func.count(), func.count(pending_withdrawals.c.arrived_at))).one())


def _row(database, recording_id: str):
    with database.read() as connection:
        return connection.execute(select(recordings).where(recordings.c.id == uuid.UUID(recording_id))).one()


def test_a_code_no_recording_has_is_kept_by_its_hash_alone(store, caplog):
    caplog.set_level(logging.DEBUG)
    files = AudioStore(store.config.audio_dir)
    kept = withdraw(store.database, files, " hjkm 4567 ", by="anna")  # as a person may type it
    assert isinstance(kept, KeptWithdrawal) and not kept.already and kept.asked_by == "anna"
    with store.database.read() as connection:
        [row] = connection.execute(select(pending_withdrawals)).all()
    # The hash the booths send now, who asked, when; nothing else, never the code.
    assert row.code_hash == booth_side_hash(CODE) == withdrawal_code_hash(CODE)
    assert (row.asked_by, row.asked_at, row.arrived_at) == ("anna", kept.asked_at, None)
    assert not any("HJKM" in str(value) or "4567" in str(value) for value in row)
    again = withdraw(store.database, files, CODE, by="ben")
    assert isinstance(again, KeptWithdrawal) and again.already
    assert (again.asked_by, again.asked_at) == ("anna", kept.asked_at), "the first asking is what is kept"
    assert kept_withdrawals(store.database) == (1, 0)
    assert any("withdrawal kept" in record.getMessage() for record in caplog.records)
    for record in caplog.records:
        said = logged_text(record)
        for secret in ("HJKM", "4567", row.code_hash):
            assert secret not in said, (secret, record.getMessage())


@pytest.mark.parametrize("booth_sends", ["hash", "plain code (a booth of before)"])
def test_a_take_arriving_with_a_withdrawn_code_keeps_no_audio_and_its_booth_hears_of_it(booths: Booths, booth_sends, caplog):
    database = booths.store.database
    station = authenticate(database, booths.token)
    [lease] = claim(database, station, NameRules(), how="next")
    withdraw(database, AudioStore(booths.audio_dir), CODE, by="anna")
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    code = {"withdrawal_code_hash": booth_side_hash(CODE), "withdrawal_code": None} if booth_sends == "hash" else {}
    metadata = sidecar(audio, rid, person_id=lease.person_id, **code)
    caplog.set_level(logging.DEBUG)
    with booths.client() as client:
        first = put(client, rid, metadata, audio)
        # 201 as the contract has it for a take the store now holds, so the booth stops
        # sending it; its status says it is withdrawn.
        assert first.status_code == 201, first.text
        assert first.json()["status"] == "withdrawn" and first.json()["recording_id"] == rid
        assert _flac_files(booths) == [], "no audio kept, no temporary file left"
        # The same take again (its answer was lost): 200, still withdrawn, still nothing kept.
        again = put(client, rid, metadata, audio)
        assert again.status_code == 200 and again.json()["status"] == "withdrawn"
        assert _flac_files(booths) == []
        # The booth hears of it as of any withdrawal, and deletes its copy.
        listed = client.get("/api/v1/withdrawn")
    assert listed.json() == {"recordings": [rid]}
    assert withdrawn_from(database, station.id) == [uuid.UUID(rid)]
    row = _row(database, rid)
    assert (row.status, row.audio_path, row.reason, row.decided_by) == ("withdrawn", None, WITHDRAWN_BEFORE_ARRIVAL, "anna")
    assert row.withdrawal_code_hash == booth_side_hash(CODE) and "withdrawal_code" not in row.metadata
    # The name goes back to the queue: the lease given back, no voice.
    with database.read() as connection:
        ended = connection.execute(select(leases.c.end_reason).where(leases.c.id == lease.lease_id)).scalar_one()
        person = connection.execute(select(persons).where(persons.c.person_id == lease.person_id)).one()
    assert ended == "released" and not person.voiced and person.held_until is None
    other_booth = authenticate(database, booths.other_token)
    assert lease.person_id in {again.person_id for again in claim(database, other_booth, NameRules(), how="next", count=5)}
    # Never played: not on the wall's and the memorial's list, and staff cannot approve it.
    assert approved_voices(database) == []
    with pytest.raises(Conflict, match="withdrawn"):
        approve(database, uuid.UUID(rid), by="anna")
    assert kept_withdrawals(database) == (1, 1)
    # The log says it happened, never whose.
    assert any("consent was withdrawn before" in record.getMessage() for record in caplog.records)
    for record in caplog.records:
        if "withdrawn" in record.getMessage():
            said = logged_text(record)
            for secret in (rid, lease.person_id, "HJKM", booth_side_hash(CODE)):
                assert secret not in said, (secret, record.getMessage())


def test_a_withdrawn_take_is_answered_201_even_when_another_booth_holds_its_name_now(booths: Booths):
    """Refused (409), it would stay on its booth marked failed, audio and all."""
    database = booths.store.database
    [lease] = claim(database, authenticate(database, booths.other_token), NameRules(), how="next")
    withdraw(database, AudioStore(booths.audio_dir), CODE, by="anna")
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    with booths.client() as client:
        answer = put(client, rid, sidecar(audio, rid, person_id=lease.person_id), audio)
    assert answer.status_code == 201 and answer.json()["status"] == "withdrawn"
    assert _flac_files(booths) == []
    with database.read() as connection:
        still = connection.execute(select(leases.c.ended_at).where(leases.c.id == lease.lease_id)).scalar_one()
    assert still is None, "the other booth's lease is not touched"


def test_other_codes_arrive_as_ever(booths: Booths):
    withdraw(booths.store.database, AudioStore(booths.audio_dir), "WXYZ-9999", by="anna")
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    with booths.client() as client:
        answer = put(client, rid, sidecar(audio, rid), audio)
        assert answer.status_code == 201 and answer.json()["status"] == "received"
        no_code = str(uuid.uuid4())
        other = flac_bytes(frequency=330)
        answer = put(client, no_code, sidecar(other, no_code, person_id="t-xx-002", withdrawal_code=None), other)
        assert answer.status_code == 201 and answer.json()["status"] == "received"
    assert len(_flac_files(booths)) == 2


def test_a_copy_of_a_withdrawn_take_arriving_later_under_another_id_is_withdrawn_too(booths: Booths):
    """A booth installed again, or a queue restored from a backup, may send the take once more."""
    database = booths.store.database
    audio = flac_bytes()
    first, copy = str(uuid.uuid4()), str(uuid.uuid4())
    with booths.client() as client:
        assert put(client, first, sidecar(audio, first), audio).json()["status"] == "received"
        done = withdraw(database, AudioStore(booths.audio_dir), CODE, by="anna")
        assert not isinstance(done, KeptWithdrawal) and done.audio_deleted
        answer = put(client, copy, sidecar(audio, copy), audio)
        listed = client.get("/api/v1/withdrawn").json()["recordings"]
    assert answer.status_code == 201 and answer.json()["status"] == "withdrawn"
    assert _flac_files(booths) == []
    assert sorted(listed) == sorted([first, copy])
    assert kept_withdrawals(database) == (1, 1)


def test_a_recording_that_arrived_since_staff_looked_is_withdrawn_not_kept_waiting(store):
    recording = keep_recording(store, "t-xx-004", code=CODE)
    arrived = keep_withdrawal(store.database, withdrawal_code_hash(CODE), by="anna")
    assert arrived == recording
    with store.database.read() as connection:
        assert connection.execute(select(pending_withdrawals)).all() == []


def test_the_command_keeps_a_withdrawal_and_says_so(store):
    toml = store.config.source
    asked = kiosk("central", "withdraw", "--config", toml, "WXYZ-9999")  # no terminal, no --yes
    assert asked.returncode != 0 and "no recording has the code WXYZ-9999 yet" in asked.stderr
    assert "--yes" in asked.stderr and "Traceback" not in asked.stderr
    assert kept_withdrawals(store.database) == (0, 0)
    done = kiosk("central", "withdraw", "--config", toml, "wxyz 9999", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "pending" and result["code"] == "WXYZ-9999" and result["recording_id"] is None
    assert result["asked_by"] == "kiosk central withdraw" and result["pending_since"]
    said = kiosk("central", "withdraw", "--config", toml, "WXYZ-9999", "--yes")
    assert said.returncode == 0
    assert "The withdrawal is kept" in said.stdout and "deleted at once and never used" in said.stdout
    assert kept_withdrawals(store.database) == (1, 0)
    for output in (done.stderr, said.stderr):
        assert "WXYZ" not in output and withdrawal_code_hash("WXYZ-9999") not in output


def test_staff_keeping_a_withdrawal_and_the_take_arriving_at_once_never_miss_each_other(booths: Booths, backend):
    """The upload waits for staff's lock on the code, then sees the kept withdrawal.

    On PostgreSQL the two run at once; the test holds the staff side's transaction open
    until the upload is seen waiting for the code's lock (pg_locks), then commits. On
    SQLite writers take turns anyway (BEGIN IMMEDIATE): the same steps, one after the other.
    """
    from kiosk.central.pending_withdrawals import _lock_code  # staff's side, held open here

    database = booths.store.database
    code_hash = booth_side_hash(CODE)
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    answers: list[httpx.Response] = []

    def upload() -> None:
        with booths.client() as client:
            answers.append(put(client, rid, sidecar(audio, rid), audio))

    uploading = threading.Thread(target=upload, daemon=True)
    with database.write() as connection:  # staff: looked, found nothing, now keeping it
        _lock_code(connection, code_hash)
        if backend == "postgresql":
            uploading.start()
            _wait_for_an_advisory_lock_waiter(database)
        connection.execute(
            pending_withdrawals.insert().values(code_hash=code_hash, asked_by="anna", asked_at=database.now())
        )
    if backend == "sqlite":
        uploading.start()
    uploading.join(timeout=120)
    assert answers and answers[0].status_code == 201, answers
    assert answers[0].json()["status"] == "withdrawn"
    assert _flac_files(booths) == []


def _wait_for_an_advisory_lock_waiter(database) -> None:
    """Until a session waits for a withdrawal code's lock (on this database)."""
    import time

    from kiosk.central.pending_withdrawals import _LOCK_CLASS

    deadline = time.monotonic() + 120
    while True:
        with database.engine.connect() as probe:
            waiting = probe.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objsubid = 2 "
                    "AND classid = :class AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"class": _LOCK_CLASS},
            ).scalar_one()
        if waiting:
            return
        assert time.monotonic() < deadline, "the upload never waited for the code's lock"
        time.sleep(0.05)
