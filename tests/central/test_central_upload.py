"""The upload protocol of CONTRACT.md, against a real uvicorn over loopback, on both databases."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from central_support import Store, flac_bytes, make_config
from sqlalchemy import create_engine, delete, select, update

from kiosk.central.api import create_app
from kiosk.central.codes import token_hash, withdrawal_code_hash
from kiosk.central.db import open_database
from kiosk.central.importer import import_collection
from kiosk.central.leases import NameRules, claim
from kiosk.central.moderation import recording_for_code, sweep_orphan_audio
from kiosk.central.recordings import AudioStore, ReceivedAudio
from kiosk.central.schema import leases, persons, recordings, stations
from kiosk.central.stations import authenticate, enroll


@dataclass
class Booths:
    store: Store
    url: str
    token: str  # booth-1's
    other_token: str  # booth-2's

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    @property
    def audio_dir(self) -> Path:
        return self.store.config.audio_dir


@pytest.fixture
def booths(store: Store, live_server: Any) -> Booths:
    server = live_server(create_app(store.config, store.database))
    return Booths(store, server.url, enroll(store.database, "booth-1"), enroll(store.database, "booth-2"))


def sidecar(audio: bytes, recording_id: str, **changes: Any) -> dict[str, Any]:
    """Metadata as the booth's take store writes it (exhibits.booth.take_store)."""
    metadata = {
        "schema_version": 1,
        "recording_id": recording_id,
        "person_id": "t-xx-001",
        "station_id": "booth-1",
        "recorded_at": "2026-11-21T10:42:00.123Z",
        "duration_s": 0.5,
        "sample_rate": 48000,
        "channels": 1,
        "format": "flac",
        "subtype": "PCM_16",
        "sha256": hashlib.sha256(audio).hexdigest(),
        "size_bytes": len(audio),
        "consent": {"version": "2026-11", "language": "nl", "age_band": "18+", "guardian_confirmed": False},
        "quality": {"verdict": "ok", "problems": [], "duration_s": 0.5},
        "withdrawal_code": "HJKM-4567",
    }
    metadata.update(changes)
    return metadata


def put(client: httpx.Client, recording_id: str, metadata: dict[str, Any] | bytes, audio: bytes) -> httpx.Response:
    body = metadata if isinstance(metadata, bytes) else json.dumps(metadata).encode()
    files = {"metadata": (None, body, "application/json"), "audio": ("take.flac", audio, "audio/flac")}
    return client.put(f"/api/v1/recordings/{recording_id}", files=files)


def audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def committed_rows(store: Store) -> list[Any]:
    """The recordings as a brand-new connection sees them: only what was committed."""
    engine = create_engine(store.config.database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(recordings)))
    finally:
        engine.dispose()


def test_201_means_the_audio_is_in_place_and_the_row_committed(booths: Booths):
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    with booths.client() as client:
        response = put(client, rid, sidecar(audio, rid), audio)
    assert response.status_code == 201, response.text
    answer = response.json()
    digest = hashlib.sha256(audio).hexdigest()
    assert answer["recording_id"] == rid and answer["status"] == "received" and answer["sha256"] == digest
    # At the moment 201 arrives: the file at its content address, whole, and the row
    # visible to any other connection.
    kept = booths.audio_dir / digest[:2] / f"{digest}.flac"
    assert kept.read_bytes() == audio
    assert audio_files(booths.audio_dir) == [kept], "no temporary file is left behind"
    [row] = committed_rows(booths.store)
    assert str(row.id) == rid and row.sha256 == digest and row.size_bytes == len(audio)
    assert row.status == "received" and row.audio_path == f"{digest[:2]}/{digest}.flac"
    assert row.metadata["person_id"] == "t-xx-001" and row.metadata["consent"]["version"] == "2026-11"


def test_the_same_id_and_audio_again_is_200_and_changes_nothing(booths: Booths):
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    with booths.client() as client:
        first = put(client, rid, sidecar(audio, rid), audio)
        files_before, rows_before = audio_files(booths.audio_dir), committed_rows(booths.store)
        again = put(client, rid, sidecar(audio, rid), audio)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert audio_files(booths.audio_dir) == files_before
    assert committed_rows(booths.store) == rows_before


def test_the_same_id_with_other_audio_is_409(booths: Booths):
    audio, other = flac_bytes(frequency=220), flac_bytes(frequency=330)
    rid = str(uuid.uuid4())
    with booths.client() as client:
        assert put(client, rid, sidecar(audio, rid), audio).status_code == 201
        files_before = audio_files(booths.audio_dir)
        conflict = put(client, rid, sidecar(other, rid), other)
    assert conflict.status_code == 409, conflict.text
    assert audio_files(booths.audio_dir) == files_before
    assert [row.sha256 for row in committed_rows(booths.store)] == [hashlib.sha256(audio).hexdigest()]


@pytest.mark.parametrize(
    "change",
    [
        {"sha256": "0" * 64},
        {"size_bytes": 12},
    ],
    ids=["sha256", "size"],
)
def test_audio_that_does_not_match_its_metadata_is_422_and_nothing_is_kept(booths: Booths, change: dict[str, Any]):
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    with booths.client() as client:
        response = put(client, rid, sidecar(audio, rid, **change), audio)
    assert response.status_code == 422
    assert "does not match" in response.json()["detail"]
    assert audio_files(booths.audio_dir) == []
    assert committed_rows(booths.store) == []


def test_audio_changed_on_the_way_is_422(booths: Booths):
    audio = flac_bytes()
    damaged = audio[:100] + bytes([audio[100] ^ 0xFF]) + audio[101:]
    rid = str(uuid.uuid4())
    with booths.client() as client:
        response = put(client, rid, sidecar(audio, rid), damaged)
    assert response.status_code == 422 and audio_files(booths.audio_dir) == []


@pytest.mark.parametrize(
    "header", [None, "Bearer not-a-token", "Basic Ym9vdGgtMTpwYXNz"], ids=["none", "unknown", "basic"]
)
def test_no_or_unknown_token_is_401(booths: Booths, header: str | None):
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    headers = {"Authorization": header} if header else {}
    with httpx.Client(base_url=booths.url, headers=headers) as client:
        response = put(client, rid, sidecar(audio, rid), audio)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "kiosk central enroll" in response.json()["detail"]
    assert audio_files(booths.audio_dir) == []


def test_a_replaced_token_no_longer_works(booths: Booths):
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    new_token = enroll(booths.store.database, "booth-1")
    with booths.client() as old_client, booths.client(new_token) as new_client:
        assert put(old_client, rid, sidecar(audio, rid), audio).status_code == 401
        assert put(new_client, rid, sidecar(audio, rid), audio).status_code == 201


def test_a_token_revoked_by_another_process_is_refused_on_the_next_upload(booths: Booths):
    """The upload takes the station from the process's map of known tokens; a revocation
    the map cannot hear (another process wrote it) is found in the upload's own read."""
    first, second = flac_bytes(frequency=300), flac_bytes(frequency=400)
    rid1, rid2 = str(uuid.uuid4()), str(uuid.uuid4())
    with booths.client() as client:
        assert put(client, rid1, sidecar(first, rid1), first).status_code == 201  # the token is known now
        files_before, rows_before = audio_files(booths.audio_dir), committed_rows(booths.store)
        with booths.store.database.write() as connection:  # as `kiosk central revoke` does, from outside
            revoked = update(stations).where(stations.c.station_id == "booth-1")
            connection.execute(revoked.values(revoked_at=datetime.now(timezone.utc)))
        assert booths.store.database.tokens.get(token_hash(booths.token)) is not None
        for rid, audio in ((rid2, second), (rid1, first)):  # a new take, and one held already
            answer = put(client, rid, sidecar(audio, rid), audio)
            assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer", answer.text
        assert booths.store.database.tokens.get(token_hash(booths.token)) is None  # and forgotten
    assert audio_files(booths.audio_dir) == files_before
    assert committed_rows(booths.store) == rows_before


def test_a_station_writes_only_as_itself_403(booths: Booths):
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    with booths.client(booths.other_token) as client:
        response = put(client, rid, sidecar(audio, rid, station_id="booth-1"), audio)
    assert response.status_code == 403
    assert "booth-2" in response.json()["detail"]
    assert audio_files(booths.audio_dir) == [] and committed_rows(booths.store) == []


def test_another_stations_recording_id_is_a_conflict(booths: Booths):
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    with booths.client() as first, booths.client(booths.other_token) as second:
        assert put(first, rid, sidecar(audio, rid), audio).status_code == 201
        assert put(second, rid, sidecar(audio, rid, station_id="booth-2"), audio).status_code == 409


def test_an_unknown_person_is_422_with_what_to_do(booths: Booths):
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    with booths.client() as client:
        response = put(client, rid, sidecar(audio, rid, person_id="nobody-42"), audio)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "nobody-42" in detail and "kiosk collection import" in detail
    assert audio_files(booths.audio_dir) == []


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"person_id": NaN}', "not JSON"),
        ("consent_child", "guardian"),
        ("no_consent", "consent"),
        ("naive_time", "recorded_at"),
        ("bad_code", "withdrawal_code"),
        ("other_id", "recording_id"),
        ("nul", "NUL"),
    ],
)
def test_metadata_that_is_not_valid_is_422_and_says_why(booths: Booths, metadata: Any, expected: str):
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    good = sidecar(audio, rid)
    variants = {
        "consent_child": {**good, "consent": {**good["consent"], "age_band": "9-12", "guardian_confirmed": False}},
        "no_consent": {key: value for key, value in good.items() if key != "consent"},
        "naive_time": {**good, "recorded_at": "2026-11-21T10:42:00"},
        "bad_code": {**good, "withdrawal_code": "OOOO-IIII"},
        "other_id": {**good, "recording_id": str(uuid.uuid4())},
        "nul": {**good, "quality": {"note": "a\x00b"}},
    }
    with booths.client() as client:
        response = put(client, rid, variants.get(metadata, metadata), audio)
    assert response.status_code == 422, response.text
    assert expected in response.json()["detail"]
    assert audio_files(booths.audio_dir) == []


def test_the_body_must_be_multipart_with_exactly_metadata_and_audio(booths: Booths):
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    metadata = json.dumps(sidecar(audio, rid)).encode()
    url = f"/api/v1/recordings/{rid}"
    with booths.client() as client:
        assert client.put(url, content=audio, headers={"Content-Type": "audio/flac"}).status_code == 415
        only_metadata = client.put(url, files={"metadata": (None, metadata, "application/json")})
        assert only_metadata.status_code == 422 and "no audio" in only_metadata.json()["detail"]
        extra = client.put(
            url, files={"metadata": (None, metadata), "audio": ("a.flac", audio), "name": (None, b"Chaja Goldsztajn")}
        )
        assert extra.status_code == 422 and "unexpected part" in extra.json()["detail"]
        not_flac = put(client, rid, sidecar(b"RIFF" + bytes(100), rid), b"RIFF" + bytes(100))
        assert not_flac.status_code == 422 and "not FLAC" in not_flac.json()["detail"]
    assert audio_files(booths.audio_dir) == []


def test_a_cut_body_is_refused_and_nothing_kept(booths: Booths):
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    request = httpx.Request(
        "PUT",
        f"{booths.url}/api/v1/recordings/{rid}",
        files={"metadata": (None, json.dumps(sidecar(audio, rid)).encode()), "audio": ("a.flac", audio)},
    )
    body = request.read()
    cut = body[: len(body) - 200]
    with booths.client() as client:
        response = client.put(
            f"/api/v1/recordings/{rid}", content=cut, headers={"Content-Type": request.headers["Content-Type"]}
        )
    assert response.status_code == 422
    assert audio_files(booths.audio_dir) == []


def test_the_withdrawal_code_is_kept_only_hashed(booths: Booths):
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    with booths.client() as client:
        assert put(client, rid, sidecar(audio, rid, withdrawal_code="hjkm 4567"), audio).status_code == 201
    [row] = committed_rows(booths.store)
    assert row.withdrawal_code_hash == withdrawal_code_hash("HJKM-4567")
    assert "withdrawal_code" not in row.metadata
    # A booth of before issue 18Y sends the code: staff still find the take by it.
    assert recording_for_code(booths.store.database, "HJKM-4567")["id"] == uuid.UUID(rid)
    assert recording_for_code(booths.store.database, "HJKM-4568") is None
    if booths.store.database.dialect == "sqlite":
        booths.store.database.dispose()
        stored = b"".join(p.read_bytes() for p in booths.store.config.folder.glob("central.sqlite3*"))
        assert b"HJKM-4567" not in stored and b"HJKM4567" not in stored


def test_a_recording_uses_up_the_booths_lease_and_gives_the_name_a_voice(booths: Booths):
    database = booths.store.database
    station = authenticate(database, booths.token)
    [lease] = claim(database, station, NameRules(), how="next")
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    with booths.client() as client:
        assert put(client, rid, sidecar(audio, rid, person_id=lease.person_id), audio).status_code == 201
    with database.read() as connection:
        ended = connection.execute(
            select(leases.c.ended_at, leases.c.end_reason).where(leases.c.id == lease.lease_id)
        ).one()
        person = connection.execute(select(persons).where(persons.c.person_id == lease.person_id)).one()
    assert ended.end_reason == "used" and ended.ended_at is not None
    assert person.voiced and person.held_until is None
    # The name never comes back in the queue.
    again = claim(database, station, NameRules(), how="next", count=5)
    assert lease.person_id not in {other.person_id for other in again}


# -- uploads at once, and a crash between the audio and the row (issue 18Y) -----------


def test_uploads_at_the_same_moment_are_each_answered_and_each_durable(booths: Booths):
    """The audio is placed outside the write lock and the row's log synced after it: six
    uploads let go together (two booths, one take sent twice at once) each get their answer,
    and every 201 has its whole file and its committed row."""
    takes = [(booths.token, f"t-xx-00{n}", flac_bytes(frequency=200 + 40 * n)) for n in (1, 2, 3, 4)]
    takes.append((booths.other_token, "t-xx-005", flac_bytes(frequency=500)))
    rids = [str(uuid.uuid4()) for _ in takes]
    jobs = list(zip(rids, takes)) + [(rids[0], takes[0])]  # the first one twice
    start = threading.Barrier(len(jobs))
    answers: dict[int, httpx.Response] = {}

    def send(index: int, rid: str, token: str, person: str, audio: bytes) -> None:
        station = "booth-1" if token == booths.token else "booth-2"
        with booths.client(token) as client:
            start.wait(30)
            answers[index] = put(client, rid, sidecar(audio, rid, person_id=person, station_id=station), audio)

    threads = [
        threading.Thread(target=send, args=(index, rid, *take)) for index, (rid, take) in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = [answers[index].status_code for index in range(len(jobs))]
    # The take sent twice: one of the two keeps it (201), the other finds it held (200).
    assert statuses[1:5] == [201] * 4 and sorted([statuses[0], statuses[5]]) == [200, 201], statuses
    rows = {str(row.id): row for row in committed_rows(booths.store)}
    assert set(rows) == set(rids)
    for rid, (_, _, audio) in zip(rids, takes):
        assert (booths.audio_dir / rows[rid].audio_path).read_bytes() == audio
    assert len(audio_files(booths.audio_dir)) == len(takes), "no temporary file is left behind"


def test_a_refused_upload_never_takes_back_audio_another_upload_holds(tmp_path: Path):
    """Two uploads of the same audio: the one refused in its transaction leaves the file to
    the other (pinned until released); with nobody holding it and no row, it goes."""
    files = AudioStore(tmp_path / "audio")
    files.prepare()
    audio = flac_bytes()

    def received() -> ReceivedAudio:
        path, fd = files.new_incoming()
        os.write(fd, audio)
        os.close(fd)
        return ReceivedAudio(path, hashlib.sha256(audio).hexdigest(), len(audio), True)

    first, fresh = files.place(received())
    second, again_fresh = files.place(received())
    assert first == second and fresh and not again_fresh
    files.release(first, referenced=lambda: False)  # the first is refused: the second holds the file
    assert (files.root / first).read_bytes() == audio
    files.release(second)  # the second's row is in
    assert (files.root / first).read_bytes() == audio
    third, _ = files.place(received())
    files.release(third, referenced=lambda: False)  # refused, nobody else, no row
    assert not (files.root / first).exists()
    assert audio_files(files.root) == []


CRASH_BETWEEN_AUDIO_AND_ROW = """
import os, sys, uuid
from pathlib import Path
from kiosk.central.config import load_central_config
from kiosk.central.db import Database, open_database
from kiosk.central.recordings import AudioStore, ReceivedAudio, parse_metadata, store_recording
from kiosk.central.stations import authenticate

config = load_central_config(sys.argv[1])
database = open_database(config)
audio = AudioStore(config.audio_dir)
source = Path(sys.argv[4]).read_bytes()
path, fd = audio.new_incoming()
os.write(fd, source)
os.fsync(fd)
os.close(fd)
metadata, document = parse_metadata(Path(sys.argv[5]).read_bytes())
received = ReceivedAudio(path, metadata.sha256, metadata.size_bytes, True)
# The power goes at the start of the write transaction: the audio is in place, no row.
Database.write = lambda *args, **kwargs: os._exit(9)
store_recording(database, audio, authenticate(database, sys.argv[2]), uuid.UUID(sys.argv[3]), metadata, document, received)
"""


def test_a_crash_between_the_audio_and_its_row_leaves_only_an_orphan_the_sweep_removes(booths: Booths, tmp_path: Path):
    audio = flac_bytes(frequency=330)
    rid = str(uuid.uuid4())
    (tmp_path / "take.flac").write_bytes(audio)
    (tmp_path / "take.json").write_text(json.dumps(sidecar(audio, rid)))
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_BETWEEN_AUDIO_AND_ROW, str(booths.store.config.source), booths.token, rid,
         str(tmp_path / "take.flac"), str(tmp_path / "take.json")],
        capture_output=True, text=True, timeout=120,
    )
    assert crashed.returncode == 9, crashed.stderr
    digest = hashlib.sha256(audio).hexdigest()
    orphan = booths.audio_dir / digest[:2] / f"{digest}.flac"
    assert orphan.read_bytes() == audio and committed_rows(booths.store) == []
    # The booth had no 201: it sends the take again, and the file in place is used.
    with booths.client() as client:
        assert put(client, rid, sidecar(audio, rid), audio).status_code == 201
    [row] = committed_rows(booths.store)
    assert (booths.audio_dir / row.audio_path).read_bytes() == audio
    # Had it not come back, the sweep removes the orphan (past its grace).
    with booths.store.database.write() as connection:
        connection.execute(delete(recordings))
    assert sweep_orphan_audio(booths.store.database, AudioStore(booths.audio_dir), grace_s=0) == [row.audio_path]
    assert audio_files(booths.audio_dir) == []


def _withdrawn_before_arrival(booths: Booths) -> tuple[str, bytes, dict[str, Any]]:
    """A take as a booth of now sends it (the code's hash only), its code withdrawn by staff already."""
    from kiosk.central.moderation import withdraw

    withdraw(booths.store.database, AudioStore(booths.audio_dir), "HJKM-4567", by="anna")
    audio = flac_bytes(frequency=350)
    rid = str(uuid.uuid4())
    metadata = sidecar(audio, rid, withdrawal_code_hash=withdrawal_code_hash("HJKM-4567"))
    del metadata["withdrawal_code"]
    return rid, audio, metadata


def test_audio_whose_code_was_withdrawn_before_it_arrived_is_never_placed(booths: Booths, monkeypatch):
    """Issue WD's check decides in the write transaction; the upload's first read already
    sees the withdrawal, so the audio never reaches the audio folder, not even for a moment."""
    rid, audio, metadata = _withdrawn_before_arrival(booths)

    def place(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("withdrawn audio placed")

    monkeypatch.setattr(AudioStore, "place", place)
    with booths.client() as client:
        answer = put(client, rid, metadata, audio)
    assert answer.status_code == 201 and answer.json()["status"] == "withdrawn", answer.text
    assert audio_files(booths.audio_dir) == []


def test_a_withdrawal_gone_between_the_first_read_and_the_transaction_still_keeps_the_audio(
    booths: Booths, monkeypatch
):
    """What the transaction finds decides: a take that looked withdrawn but is not (the
    transaction's check says so) has its audio placed under the lock and kept."""
    import kiosk.central.recordings as upload_path

    rid, audio, metadata = _withdrawn_before_arrival(booths)
    monkeypatch.setattr(upload_path, "arrived_withdrawn", lambda *args, **kwargs: False)
    with booths.client() as client:
        answer = put(client, rid, metadata, audio)
    assert answer.status_code == 201 and answer.json()["status"] == "received", answer.text
    [row] = committed_rows(booths.store)
    assert (booths.audio_dir / row.audio_path).read_bytes() == audio


# -- the size limit --------------------------------------------------------------------


@pytest.fixture
def small_limit(tmp_path: Path, small_collection: Path, live_server: Any) -> Iterator[tuple[str, str, Path]]:
    """A store on SQLite that accepts at most 1 MB: (url, token, audio folder)."""
    config = make_config(tmp_path / "limited")
    config.server.max_upload_mb = 1
    database = open_database(config)
    import_collection(database, small_collection)
    server = live_server(create_app(config, database))
    try:
        yield server.url, enroll(database, "booth-1"), config.audio_dir
    finally:
        database.dispose()


def test_a_declared_length_over_the_limit_is_413_before_the_body_is_sent(small_limit: tuple[str, str, Path]):
    url, token, audio_dir = small_limit
    port = int(url.rsplit(":", 1)[1])
    head = (
        f"PUT /api/v1/recordings/{uuid.uuid4()} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        "Content-Length: 5000000000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head.encode())  # and not one byte of the 5 GB
        received = b""
        while chunk := connection.recv(4096):  # the store answers and closes the connection
            received += chunk
        answer = received.decode()
    assert answer.startswith("HTTP/1.1 413"), answer
    assert "max_upload_mb" in answer
    assert audio_files(audio_dir) == []


def test_a_streamed_body_over_the_limit_is_cut_off_while_it_streams(small_limit: tuple[str, str, Path]):
    url, token, audio_dir = small_limit
    rid = str(uuid.uuid4())
    offered = 200_000_000
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        head = (
            b'--b\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{}\r\n'
            b'--b\r\nContent-Disposition: form-data; name="audio"; filename="a.flac"\r\n\r\nfLaC'
        )
        yield head
        block = bytes(64 * 1024)
        while sent < offered:
            sent += len(block)
            yield block

    with httpx.Client(timeout=30) as client:
        response = client.put(
            f"{url}/api/v1/recordings/{rid}",
            content=body(),  # chunked: no Content-Length to refuse early
            headers={"Authorization": f"Bearer {token}", "Content-Type": "multipart/form-data; boundary=b"},
        )
    assert response.status_code == 413
    # Loopback buffers take some megabytes more; nowhere near all of it.
    assert sent < offered / 4, f"the server read {sent} bytes of a body over a 1 MB limit"
    assert audio_files(audio_dir) == [], "the part received before the cut is removed"
