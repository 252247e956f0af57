"""Approve, reject, withdraw: the name's voice, the audio files, and what the wall may play."""

from __future__ import annotations

import os
import time
import uuid

import httpx
import pytest
from central_support import Store, flac_bytes, keep_recording
from sqlalchemy import select

from kiosk.central.api import create_app
from kiosk.central.errors import Conflict, NotFound, Unprocessable
from kiosk.central.leases import NameRules, claim, create_booking
from kiosk.central.moderation import (
    approve,
    approved_voices,
    choose_take,
    other_takes,
    recordings_to_review,
    reject,
    sweep_orphan_audio,
    voice_audio,
    withdraw,
)
from kiosk.central.recordings import AudioStore
from kiosk.central.schema import persons, recordings
from kiosk.central.stations import authenticate, enroll


def voiced(store: Store, person_id: str) -> bool:
    with store.database.read() as connection:
        return connection.execute(select(persons.c.voiced).where(persons.c.person_id == person_id)).scalar_one()


def audio_files(store: Store) -> list[str]:
    return sorted(p.name for p in store.config.audio_dir.glob("??/*.flac"))


def test_a_received_recording_waits_for_staff_oldest_first(store: Store):
    first = keep_recording(store, "t-xx-001")
    second = keep_recording(store, "t-xx-002", audio=flac_bytes(frequency=330))
    waiting, total = recordings_to_review(store.database)
    assert [item.recording_id for item in waiting] == [first, second]
    assert total == 2
    assert waiting[0].person_id == "t-xx-001" and waiting[0].transport == "XX" and waiting[0].station_id == "booth-1"
    assert waiting[0].consent_language == "nl" and waiting[0].quality_verdict == "ok"


def test_approving_makes_the_voice_playable_in_transport_order(store: Store):
    later = keep_recording(store, "t-z-001", audio=flac_bytes(frequency=330))
    earlier = keep_recording(store, "t-xx-007")
    assert approved_voices(store.database) == []
    approve(store.database, later, by="anna")
    decision = approve(store.database, earlier, by="anna")
    assert decision.status == "approved" and decision.previous_status == "received" and decision.name_has_voice
    voices = approved_voices(store.database)
    assert [(v.person_id, v.transport, v.list_number) for v in voices] == [("t-xx-007", "XX", 7), ("t-z-001", "Z", 1)]
    assert [v.recording_id for v in approved_voices(store.database, "t-z-001")] == [later]
    files = AudioStore(store.config.audio_dir)
    assert voice_audio(store.database, files, voices[0].sha256).read_bytes() == flac_bytes()
    with store.database.read() as connection:
        row = connection.execute(select(recordings.c.decided_by, recordings.c.status).where(recordings.c.id == later)).one()
    assert tuple(row) == ("anna", "approved")


def test_of_two_approved_recordings_the_one_approved_last_is_heard(store: Store):
    one = keep_recording(store, "t-xx-003")
    two = keep_recording(store, "t-xx-003", audio=flac_bytes(frequency=440))
    approve(store.database, two, by="anna")
    approve(store.database, one, by="anna")
    assert [v.recording_id for v in approved_voices(store.database)] == [one]


def test_rejecting_needs_a_reason_and_frees_the_name_for_the_booths(store: Store):
    recording = keep_recording(store, "t-xx-001")
    assert voiced(store, "t-xx-001")
    with pytest.raises(Unprocessable, match="say why"):
        reject(store.database, recording, reason="   ", by="anna")
    decision = reject(store.database, recording, reason="Another name was read", by="anna")
    assert not decision.name_has_voice and not voiced(store, "t-xx-001")
    booth = authenticate(store.database, enroll(store.database, "booth-9"))
    handed = claim(store.database, booth, NameRules(lease_s=600, hand_size=3), how="next", count=1)
    assert [lease.person_id for lease in handed] == ["t-xx-001"]
    # Staff may change their mind: approved after all, the name has its voice again.
    assert approve(store.database, recording, by="bert").name_has_voice


def test_a_rejected_recording_keeps_the_voice_another_recording_gives(store: Store):
    bad = keep_recording(store, "t-xx-002")
    keep_recording(store, "t-xx-002", audio=flac_bytes(frequency=440))
    assert reject(store.database, bad, reason="noise", by="anna").name_has_voice
    assert voiced(store, "t-xx-002")


def test_withdrawal_by_code_deletes_the_audio_and_frees_the_name(store: Store):
    recording = keep_recording(store, "t-xx-004", code="HJKM-4567")
    approve(store.database, recording, by="anna")
    files = AudioStore(store.config.audio_dir)
    sha = approved_voices(store.database)[0].sha256
    assert audio_files(store) == [f"{sha}.flac"]

    done = withdraw(store.database, files, " hjkm 4567 ", by="anna")  # as a person may type it
    assert (done.recording_id, done.already, done.audio_deleted, done.name_has_voice) == (recording, False, True, False)
    assert audio_files(store) == []
    assert approved_voices(store.database) == []
    assert not voiced(store, "t-xx-004")
    with pytest.raises(NotFound):
        voice_audio(store.database, files, sha)
    with store.database.read() as connection:
        row = connection.execute(select(recordings.c.status, recordings.c.audio_path).where(recordings.c.id == recording)).one()
    assert tuple(row) == ("withdrawn", None)
    # The same code again: answered, nothing more happens.
    again = withdraw(store.database, files, "HJKM-4567", by="anna")
    assert again.already and not again.audio_deleted
    with pytest.raises(Conflict, match="withdrawn"):
        approve(store.database, recording, by="anna")


def test_withdrawal_keeps_a_file_another_recording_still_uses(store: Store):
    same = flac_bytes()
    withdrawn = keep_recording(store, "t-xx-005", audio=same, code="HJKM-4567")
    kept = keep_recording(store, "t-xx-005", audio=same, station_id="booth-2")
    done = withdraw(store.database, AudioStore(store.config.audio_dir), "HJKM-4567", by="anna")
    assert not done.audio_deleted and done.name_has_voice
    assert len(audio_files(store)) == 1
    approve(store.database, kept, by="anna")
    assert [v.recording_id for v in approved_voices(store.database)] == [kept]
    assert withdrawn != kept


@pytest.mark.parametrize(
    ("code", "expected"),
    [("ABCD", "not a withdrawal code"), ("ABCD-0000", "not a withdrawal code")],
)
def test_a_wrong_withdrawal_code_says_what_to_check(store: Store, code: str, expected: str):
    """A code no recording has yet is kept instead (test_central_pending_withdrawals)."""
    keep_recording(store, "t-xx-006", code="HJKM-4567")
    with pytest.raises(Unprocessable, match=expected):
        withdraw(store.database, AudioStore(store.config.audio_dir), code, by="anna")
    assert len(audio_files(store)) == 1


def test_unknown_recordings_are_not_found(store: Store):
    with pytest.raises(NotFound):
        approve(store.database, uuid.uuid4(), by="anna")


def test_the_sweep_removes_only_old_files_nobody_points_to(store: Store):
    keep_recording(store, "t-xx-008")
    files = AudioStore(store.config.audio_dir)
    orphan = files.root / "ab" / ("ab" + "0" * 62 + ".flac")
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"fLaC left by a crash")
    fresh = files.root / "cd" / ("cd" + "0" * 62 + ".flac")
    fresh.parent.mkdir(exist_ok=True)
    fresh.write_bytes(b"fLaC an upload in flight")
    hour_ago = time.time() - 7200
    os.utime(orphan, (hour_ago, hour_ago))
    kept_before = audio_files(store)
    assert sweep_orphan_audio(store.database, files) == [orphan.relative_to(files.root).as_posix()]
    assert sorted(set(kept_before) - set(audio_files(store))) == [orphan.name]
    assert fresh.exists()


def test_the_wall_and_the_memorial_fetch_only_approved_voices(store: Store, live_server):
    approved = keep_recording(store, "t-xx-010", audio=flac_bytes(frequency=550))
    keep_recording(store, "t-xx-011", audio=flac_bytes(frequency=660))
    approve(store.database, approved, by="anna")
    token = enroll(store.database, "wall-1")
    server = live_server(create_app(store.config, store.database))
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        listing = client.get("/api/v1/voices")
        assert listing.status_code == 200
        document = listing.json()
        assert document["persons"] == 40 and document["names_with_voice"] == 2
        assert [v["person_id"] for v in document["voices"]] == ["t-xx-010"]
        voice = document["voices"][0]
        fetched = client.get(f"/api/v1/voices/audio/{voice['sha256']}")
        assert fetched.status_code == 200 and fetched.content == flac_bytes(frequency=550)
        assert fetched.headers["content-type"] == "audio/flac"
        assert client.get("/api/v1/voices", params={"person_id": "t-xx-011"}).json()["voices"] == []
        unapproved = flac_bytes(frequency=660)
        import hashlib

        assert client.get(f"/api/v1/voices/audio/{hashlib.sha256(unapproved).hexdigest()}").status_code == 404
        assert client.get("/api/v1/voices/audio/not-a-hash").status_code == 422
    assert httpx.get(f"{server.url}/api/v1/voices", timeout=30).status_code == 401


def test_a_name_with_an_approved_voice_is_given_to_no_booth(store: Store):
    rules = NameRules(hand_size=40)
    booth = authenticate(store.database, enroll(store.database, "booth-9"))
    approve(store.database, keep_recording(store, "t-xx-001"), by="anna")  # Łaja Maria, born 1911-02-02
    everyone = {lease.person_id for lease in claim(store.database, booth, rules, how="next", count=40)}
    assert "t-xx-001" not in everyone and len(everyone) == 39
    booth_2 = authenticate(store.database, enroll(store.database, "booth-8"))
    assert claim(store.database, booth_2, rules, how="match", first_name="Łaja", birthday=(2, 2)) == []


def test_a_booking_for_a_name_with_an_approved_voice_gives_nothing(store: Store):
    code = create_booking(store.database, "t-xx-002")
    approve(store.database, keep_recording(store, "t-xx-002"), by="anna")
    booth = authenticate(store.database, enroll(store.database, "booth-9"))
    assert claim(store.database, booth, NameRules(), how="booking", code=code) == []


def test_of_two_takes_of_one_name_staff_keep_one_and_the_other_is_rejected(store: Store):
    first = keep_recording(store, "t-xx-003", audio=flac_bytes(frequency=300))
    approve(store.database, first, by="anna")
    with pytest.raises(Conflict, match="approved voice"):  # one voice per name...
        keep_recording(store, "t-xx-003", audio=flac_bytes(frequency=400), station_id="booth-2")
    # ...unless a technician kept a second take (`kiosk booth ingest --force`): staff choose.
    second = keep_recording(store, "t-xx-003", audio=flac_bytes(frequency=400), station_id="booth-2", second_take=True)
    lone = keep_recording(store, "t-xx-004")
    both = other_takes(store.database, [second, lone])
    assert [take.recording_id for take in both[second]] == [first] and lone not in both
    assert both[second][0].status == "approved"
    rejected = choose_take(store.database, second, reason="Another take of this name was kept", by="bert")
    assert rejected == [first]
    [voice] = approved_voices(store.database, "t-xx-003")
    assert voice.recording_id == second and voiced(store, "t-xx-003")
    with store.database.read() as connection:
        status, reason, by = connection.execute(
            select(recordings.c.status, recordings.c.reason, recordings.c.decided_by).where(recordings.c.id == first)
        ).one()
    assert (status, reason, by) == ("rejected", "Another take of this name was kept", "bert")
    assert other_takes(store.database, [second]) == {}
