"""What an upload must be besides well-formed: the booth's name (leases), real audio, a role
that may upload; over a real uvicorn on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
import soundfile
from central_support import flac_bytes
from sqlalchemy import func, select
from test_staff_accounts import Clock
from test_central_upload import Booths, audio_files, booths, committed_rows, put, sidecar  # noqa: F401

from kiosk.central.leases import NameRules, claim, renew
from kiosk.central.moderation import approve
from kiosk.central.schema import leases, persons
from kiosk.central.stations import authenticate, enroll


def upload(booths: Booths, token: str, person_id: str, station_id: str, audio: bytes | None = None) -> Any:
    audio = audio if audio is not None else flac_bytes()
    rid = str(uuid.uuid4())
    with booths.client(token) as client:
        return put(client, rid, sidecar(audio, rid, person_id=person_id, station_id=station_id), audio)


def refused_with(answer: Any, status: int, code: str) -> bool:
    return answer.status_code == status and answer.json().get("code") == code


# -- leases bind uploads -----------------------------------------------------------------


def test_a_name_another_booth_holds_is_409_name_taken_elsewhere_and_nothing_kept(booths: Booths):
    database = booths.store.database
    booth_2 = authenticate(database, booths.other_token)
    [lease] = claim(database, booth_2, NameRules(), how="next")
    answer = upload(booths, booths.token, lease.person_id, "booth-1")
    assert refused_with(answer, 409, "name_taken_elsewhere"), answer.text
    assert "another booth holds this name" in answer.json()["detail"]
    assert committed_rows(booths.store) == [] and not [p for p in audio_files(booths.audio_dir) if p.suffix == ".flac"]
    # The holder itself uploads it.
    assert upload(booths, booths.other_token, lease.person_id, "booth-2").status_code == 201


def test_a_name_nobody_holds_and_without_an_approved_voice_may_be_uploaded(booths: Booths):
    assert upload(booths, booths.token, "t-xx-030", "booth-1").status_code == 201


def test_a_name_with_an_approved_voice_is_409_name_has_voice(booths: Booths):
    first = upload(booths, booths.token, "t-xx-030", "booth-1")
    assert first.status_code == 201
    approve(booths.store.database, uuid.UUID(first.json()["recording_id"]), by="anna")
    answer = upload(booths, booths.other_token, "t-xx-030", "booth-2", flac_bytes(frequency=330))
    assert refused_with(answer, 409, "name_has_voice"), answer.text
    assert len(committed_rows(booths.store)) == 1


def test_a_booth_offline_past_its_lease_uploads_when_nobody_took_the_name(booths: Booths):
    database = booths.store.database
    clock = Clock()
    database.clock = clock
    booth_1 = authenticate(database, booths.token)
    [lease] = claim(database, booth_1, NameRules(lease_s=600), how="next")
    clock.now += timedelta(hours=3)  # offline far longer than the lease
    assert upload(booths, booths.token, lease.person_id, "booth-1").status_code == 201
    with database.read() as connection:
        assert connection.execute(select(leases.c.end_reason).where(leases.c.id == lease.lease_id)).scalar() == "used"


def test_a_booth_offline_past_its_lease_is_refused_when_another_booth_took_the_name(booths: Booths):
    database = booths.store.database
    clock = Clock()
    database.clock = clock
    booth_1 = authenticate(database, booths.token)
    booth_2 = authenticate(database, booths.other_token)
    rules = NameRules(lease_s=600)
    [lease] = claim(database, booth_1, rules, how="next")
    clock.now += timedelta(seconds=601)
    # Meanwhile the name went back to the queue and the next booth to ask got it.
    [taken] = claim(database, booth_2, rules, how="next")
    assert taken.person_id == lease.person_id
    answer = upload(booths, booths.token, lease.person_id, "booth-1")
    assert refused_with(answer, 409, "name_taken_elsewhere"), answer.text
    # Renewing first (what a booth back online does) tells it the same, before it sends audio.
    from kiosk.central.errors import Gone

    with pytest.raises(Gone):
        renew(database, booth_1, rules, lease.lease_id)
    assert upload(booths, booths.other_token, lease.person_id, "booth-2").status_code == 201


def test_an_upload_ends_another_booths_expired_lease_so_it_cannot_renew_it(booths: Booths):
    database = booths.store.database
    clock = Clock()
    database.clock = clock
    booth_2 = authenticate(database, booths.other_token)
    rules = NameRules(lease_s=600)
    [lease] = claim(database, booth_2, rules, how="next")
    clock.now += timedelta(seconds=601)
    assert upload(booths, booths.token, lease.person_id, "booth-1").status_code == 201
    from kiosk.central.errors import Gone

    with pytest.raises(Gone):
        renew(database, booth_2, rules, lease.lease_id)
    with database.read() as connection:
        open_leases = connection.execute(
            select(func.count()).select_from(leases).where(leases.c.ended_at.is_(None))
        ).scalar_one()
        voiced = connection.execute(select(persons.c.voiced).where(persons.c.person_id == lease.person_id)).scalar()
    assert open_leases == 0 and voiced


# -- the audio itself --------------------------------------------------------------------


def _flac(samples: np.ndarray, rate: int = 48_000) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def _wav(seconds: float) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(int(seconds * 48_000), dtype=np.int16), 48_000, format="WAV")
    return buffer.getvalue()


def _flac_header_only(declared_seconds: float, rate: int = 48_000) -> bytes:
    """A FLAC's header saying `declared_seconds` of samples, and not one frame after it."""
    whole = flac_bytes(seconds=1.0)
    position, blocks = 4, []
    while True:
        last, length = whole[position] & 0x80, int.from_bytes(whole[position + 1 : position + 4], "big")
        blocks.append(bytearray(whole[position : position + 4 + length]))
        position += 4 + length
        if last:
            break
    info = blocks[0]  # STREAMINFO: 36 bits of total samples after rate, channels and bit depth
    packed = int.from_bytes(info[4 + 10 : 4 + 18], "big")
    packed = (packed & ~((1 << 36) - 1)) | int(declared_seconds * rate)
    info[4 + 10 : 4 + 18] = packed.to_bytes(8, "big")
    return b"fLaC" + b"".join(bytes(block) for block in blocks)


def _truncated_flac() -> bytes:
    whole = flac_bytes(seconds=2.0)
    return whole[: len(whole) // 3]


CASES = {
    "random bytes after the magic": (b"fLaC" + np.random.default_rng(1).bytes(5000), {}, {"audio_not_flac"}),
    "WAV": (_wav(1.0), {"duration_s": 1.0}, {"audio_not_flac"}),
    # libsndfile cannot seek in it, or finds no samples.
    "a FLAC with no samples declared as 3 s": (
        _flac_header_only(3.0),
        {"duration_s": 3.0},
        {"audio_not_flac", "audio_too_short"},
    ),
    # It fails to decode, or decodes shorter than declared.
    "a FLAC cut in its middle": (_truncated_flac(), {"duration_s": 2.0}, {"audio_not_flac", "audio_duration_differs"}),
    "0.2 s": (flac_bytes(seconds=0.2), {"duration_s": 0.2}, {"audio_too_short"}),
    "61 s": (flac_bytes(seconds=61.0), {"duration_s": 61.0}, {"audio_too_long"}),
    "declared 3 s, holds 0.5 s": (flac_bytes(seconds=0.5), {"duration_s": 3.0}, {"audio_duration_differs"}),
    "declared 44.1 kHz, holds 48 kHz": (flac_bytes(seconds=0.5), {"sample_rate": 44_100}, {"audio_rate_differs"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_audio_that_is_not_a_take_is_422_with_a_reason_and_nothing_kept(booths: Booths, case: str):
    audio, changes, codes = CASES[case]
    rid = str(uuid.uuid4())
    with booths.client() as client:
        answer = put(client, rid, sidecar(audio, rid, person_id="t-xx-005", **changes), audio)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert "nothing was kept" in body["detail"]
    assert body["code"] in codes
    assert committed_rows(booths.store) == []
    assert audio_files(booths.audio_dir) == []


def test_a_real_take_of_a_few_seconds_in_stereo_at_44_1_khz_is_kept(booths: Booths):
    t = np.arange(int(4.2 * 44_100)) / 44_100
    tone = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16)
    audio = _flac(np.stack([tone, tone], axis=1), 44_100)
    rid = str(uuid.uuid4())
    with booths.client() as client:
        metadata = sidecar(audio, rid, person_id="t-xx-006", duration_s=4.2, sample_rate=44_100)
        assert put(client, rid, metadata, audio).status_code == 201


# -- roles ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["wall", "memorial", "booking"])
def test_only_booth_tokens_lease_and_upload(booths: Booths, role: str):
    token = enroll(booths.store.database, f"{role}-1", role)
    with booths.client(token) as client:
        leased = client.post("/api/v1/leases", json={"how": "next"})
        assert refused_with(leased, 403, "wrong_role"), leased.text
        assert f"enrolled as a {role}" in leased.json()["detail"]
        assert refused_with(client.get("/api/v1/leases"), 403, "wrong_role")
    answer = upload(booths, token, "t-xx-007", f"{role}-1")
    assert refused_with(answer, 403, "wrong_role"), answer.text
    assert committed_rows(booths.store) == [] and audio_files(booths.audio_dir) == []


@pytest.mark.parametrize("role", ["wall", "memorial", "booth"])
def test_walls_memorials_and_booths_read_voices_and_send_heartbeats(booths: Booths, role: str):
    token = enroll(booths.store.database, f"{role}-1", role)
    beat = {
        "version": "1",
        "queue_length": 0,
        "free_disk_bytes": 1,
        "audio_state": "ok",
        "controller_state": "ok",
        "input_overflows": 0,
    }
    with booths.client(token) as client:
        assert client.get("/api/v1/voices").status_code == 200
        assert client.post("/api/v1/heartbeats", json=beat).status_code == 200


def test_a_booking_token_reads_no_voices_and_sends_no_heartbeats(booths: Booths):
    token = enroll(booths.store.database, "desk-1", "booking")
    with booths.client(token) as client:
        assert refused_with(client.get("/api/v1/voices"), 403, "wrong_role")
        assert refused_with(client.post("/api/v1/heartbeats", json={}), 403, "wrong_role")
