"""kiosk.link.uploader: every answer of the upload protocol, against a dummy store.

The dummy is httpx's MockTransport: each test says what the store answers, and the
request the uploader made is checked byte for byte. The real store is used in
test_sync_cli and test_sync_faults.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import logging
import random
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sync_support import keep_takes

from exhibits.booth.take_store import TakeStore
from kiosk.config import StationConfig
from kiosk.contract import withdrawal_code_hash
from kiosk.link.client import CentralClient, TokenRefused
from kiosk.link.runner import GIVE_UP_AFTER, SyncRunner
from kiosk.link.uploader import METADATA_FIELDS, InvalidLedger, Uploader, UploadStopped

TOKEN = "s3cret-token-that-must-never-be-logged"
URL = "http://central.test"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def takes(tmp_path: Path) -> TakeStore:
    store = TakeStore(tmp_path / "data" / "takes", "booth-1")
    keep_takes(store, 3)
    return store


def answering(*answers: int | Exception, seen: list[httpx.Request] | None = None) -> httpx.MockTransport:
    """A dummy store giving these answers in turn (the last one for ever after)."""
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        request.read()
        if seen is not None:
            seen.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        if answer in (200, 201):
            return httpx.Response(answer, json={"status": "received"})
        return httpx.Response(answer, json={"detail": f"dummy store says {answer}"})

    return httpx.MockTransport(handle)


def uploader_for(store: TakeStore, transport: httpx.BaseTransport, tmp_path: Path, **kwargs) -> Uploader:
    client = CentralClient(URL, SecretStr(TOKEN), station_id="booth-1", token_file=tmp_path / "central.token", transport=transport)
    return Uploader(store, client, InvalidLedger(tmp_path / "data" / "sync" / "invalid.json"), **kwargs)


def parts(request: httpx.Request) -> dict[str, bytes]:
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(head + request.content)
    return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True) for part in message.iter_parts()}


def test_201_marks_sent_after_a_request_exactly_as_the_contract_says(takes, tmp_path):
    seen: list[httpx.Request] = []
    uploader = uploader_for(takes, answering(201, seen=seen), tmp_path)
    take = takes.queued()[0]
    outcome = uploader.upload(take)
    assert (outcome.kind, outcome.status) == ("sent", 201)
    request = seen[0]
    assert request.method == "PUT" and request.url.path == f"/api/v1/recordings/{take.recording_id}"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert "transfer-encoding" not in request.headers
    assert int(request.headers["content-length"]) == len(request.content)
    body = parts(request)
    assert set(body) == {"metadata", "audio"}
    assert body["audio"] == take.audio_path.read_bytes()
    metadata = json.loads(body["metadata"])
    for key in ("person_id", "station_id", "recorded_at", "duration_s", "sample_rate", "sha256", "size_bytes", "consent", "quality", "withdrawal_code_hash"):
        assert metadata[key] == take.metadata[key]
    assert set(metadata) <= set(METADATA_FIELDS)
    # Issue 18Y: the code's scrypt hash travels, never the code.
    code = take.metadata["withdrawal_code"]
    assert "withdrawal_code" not in metadata and metadata["withdrawal_code_hash"] == withdrawal_code_hash(code)
    assert code.encode() not in request.content and code.replace("-", "").encode() not in request.content
    assert hashlib.sha256(body["audio"]).hexdigest() == metadata["sha256"]
    assert takes.counts() == {"queued": 2, "sent": 1, "failed": 0}
    assert json.loads((takes.root / "sent" / f"{take.recording_id}.json").read_text())["status"] == 201


def test_a_take_kept_before_the_hash_was_kept_sends_the_hash_of_its_code_and_never_the_code(takes, tmp_path):
    take = takes.queued()[0]
    old_sidecar = {key: value for key, value in take.metadata.items() if key != "withdrawal_code_hash"}
    take.sidecar_path.write_text(json.dumps(old_sidecar, indent=2))  # as the booth kept it before issue 18Y
    [take] = [queued for queued in takes.queued() if queued.recording_id == take.recording_id]
    seen: list[httpx.Request] = []
    outcome = uploader_for(takes, answering(201, seen=seen), tmp_path).upload(take)
    assert outcome.kind == "sent"
    metadata = json.loads(parts(seen[0])["metadata"])
    code = old_sidecar["withdrawal_code"]
    assert metadata["withdrawal_code_hash"] == withdrawal_code_hash(code) and "withdrawal_code" not in metadata
    assert code.encode() not in seen[0].content


class PieceCounter(httpx.BaseTransport):
    """A dummy store that reads the body as the network would: piece by piece."""

    def __init__(self) -> None:
        self.pieces: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.pieces.extend(len(piece) for piece in request.stream)  # type: ignore[union-attr]
        return httpx.Response(201, json={})


def test_the_audio_goes_out_in_pieces_not_as_one_block(takes, tmp_path):
    keep_takes(takes, 1, first_person=50, seconds=3.0)  # about 350 KB of FLAC
    big = max(takes.queued(), key=lambda t: t.metadata["size_bytes"])
    transport = PieceCounter()
    uploader_for(takes, transport, tmp_path).upload(big)  # type: ignore[arg-type]
    assert big.metadata["size_bytes"] > 4 * 64 * 1024
    assert max(transport.pieces) <= 64 * 1024 + 1024 and len(transport.pieces) > 4
    assert sum(transport.pieces) > big.metadata["size_bytes"]


def test_200_held_already_marks_sent(takes, tmp_path):
    take = takes.queued()[0]
    outcome = uploader_for(takes, answering(200), tmp_path).upload(take)
    assert (outcome.kind, outcome.status) == ("sent", 200)
    assert json.loads((takes.root / "sent" / f"{take.recording_id}.json").read_text())["status"] == 200


def test_409_other_audio_under_this_id_fails_for_a_technician(takes, tmp_path):
    take = takes.queued()[0]
    outcome = uploader_for(takes, answering(409), tmp_path).upload(take)
    assert outcome.kind == "failed"
    reason = json.loads((takes.root / "failed" / f"{take.recording_id}.json").read_text())["reason"]
    assert "different recording" in reason and "technician" in reason
    assert takes.counts() == {"queued": 2, "sent": 0, "failed": 1}


def test_413_too_large_fails_with_the_reason(takes, tmp_path):
    take = takes.queued()[0]
    outcome = uploader_for(takes, answering(413), tmp_path).upload(take)
    assert outcome.kind == "failed" and "too large" in outcome.detail and "max_upload_mb" in outcome.detail
    assert takes.counts()["failed"] == 1


def test_422_with_damaged_local_audio_fails(takes, tmp_path):
    take = takes.queued()[0]
    data = bytearray(take.audio_path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other content: a disk that lies
    take.audio_path.write_bytes(bytes(data))
    outcome = uploader_for(takes, answering(422), tmp_path).upload(take)
    assert outcome.kind == "failed" and "damaged" in outcome.detail and "sha256" in outcome.detail
    assert takes.counts()["failed"] == 1


def test_422_with_intact_audio_is_tried_again_later_a_bounded_number_of_times(takes, tmp_path):
    clock = Clock()
    take = takes.queued()[0]
    transport = answering(422)
    uploader = uploader_for(takes, transport, tmp_path, invalid_retries=2, invalid_retry_s=600, clock=clock)
    assert uploader.upload(take).kind == "retry_later"
    assert take.recording_id not in {t.recording_id for t in uploader.due()}, "waits before the next try"
    assert takes.counts()["queued"] == 3, "still queued, not failed"
    clock.now += 601
    assert take.recording_id in {t.recording_id for t in uploader.due()}
    # A restart (a new uploader) remembers the tries.
    uploader = uploader_for(takes, transport, tmp_path, invalid_retries=2, invalid_retry_s=600, clock=clock)
    assert uploader.upload(take).kind == "retry_later"
    clock.now += 601
    outcome = uploader.upload(take)
    assert outcome.kind == "failed" and "3 times" in outcome.detail
    assert takes.counts() == {"queued": 2, "sent": 0, "failed": 1}


def test_422_then_201_forgets_the_tries(takes, tmp_path):
    clock = Clock()
    take = takes.queued()[0]
    uploader = uploader_for(takes, answering(422, 201), tmp_path, clock=clock)
    uploader.upload(take)
    clock.now += 10_000
    assert uploader.upload(take).kind == "sent"
    assert uploader.ledger.tries(take.recording_id) == 0


@pytest.mark.parametrize("status, words", [(401, "wrong or has been revoked"), (403, "belongs to another station")])
def test_a_refused_token_stops_the_run_and_marks_nothing(takes, tmp_path, status, words, caplog):
    caplog.set_level(logging.DEBUG)
    uploader = uploader_for(takes, answering(status), tmp_path)
    with pytest.raises(TokenRefused) as raised:
        uploader.upload(takes.queued()[0])
    error = raised.value
    assert words in error.message and str(tmp_path / "central.token") in error.message
    assert "kiosk central enroll" in error.hint and "booth-1" in error.hint
    assert TOKEN not in str(error)
    assert takes.counts() == {"queued": 3, "sent": 0, "failed": 0}


@pytest.mark.parametrize(
    "answer",
    [500, 502, 503, 504, 404, 400, httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut")],
    ids=str,
)
def test_no_usable_answer_leaves_the_take_queued(takes, tmp_path, answer):
    take = takes.queued()[0]
    outcome = uploader_for(takes, answering(answer), tmp_path).upload(take)
    assert outcome.kind == "unreachable"
    assert takes.counts() == {"queued": 3, "sent": 0, "failed": 0}
    assert not (takes.root / "sent" / f"{take.recording_id}.json").exists()


def test_a_take_withdrawn_before_its_upload_is_skipped(takes, tmp_path):
    take = takes.queued()[0]
    takes.withdraw(take.metadata["withdrawal_code"])
    outcome = uploader_for(takes, answering(201), tmp_path).upload(take)
    assert outcome.kind == "gone"
    assert takes.counts() == {"queued": 2, "sent": 0, "failed": 0}


def test_stopping_during_an_upload_leaves_the_take_queued(takes, tmp_path):
    uploader = uploader_for(takes, answering(201), tmp_path)
    uploader.stop.set()
    with pytest.raises(UploadStopped):
        uploader.upload(takes.queued()[0])
    assert takes.counts()["queued"] == 3


def test_the_token_never_reaches_the_log(takes, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    uploader = uploader_for(takes, answering(500, httpx.ConnectError("down"), 422, 409, 201), tmp_path)
    for take in takes.queued() * 2:
        try:
            uploader.upload(take)
        except TokenRefused:
            pass
    text = "\n".join(f"{record.getMessage()} {vars(record)}" for record in caplog.records)
    assert caplog.records and TOKEN not in text
    assert TOKEN not in repr(uploader.client)


def runner_for(tmp_path: Path, store: TakeStore, transport: httpx.MockTransport, waits: list[float]) -> SyncRunner:
    (tmp_path / "central.token").write_text(TOKEN)
    config = StationConfig.model_validate(
        {"station": {"id": "booth-1", "exhibit": "booth"}, "central": {"url": URL, "token_file": str(tmp_path / "central.token")},
         "data": {"dir": str(tmp_path / "data")}, "sync": {"retry_first_s": 1, "retry_max_s": 300}}
    )
    client = CentralClient.for_station(config, transport=transport)
    return SyncRunner(config, client=client, store=store, rng=random.Random(3), sleep=waits.append)


def test_once_backs_off_with_full_jitter_then_calls_the_store_unreachable(takes, tmp_path):
    waits: list[float] = []
    keep_takes(takes, 5, first_person=20)
    report = runner_for(tmp_path, takes, answering(503), waits).run_once()
    assert report.unreachable and report.sent == 0 and report.queued_left == 8
    assert len(waits) == GIVE_UP_AFTER - 1
    assert all(0 <= wait <= 2**n for n, wait in enumerate(waits))
    assert "503" in report.last_problem


def test_once_uploads_everything_through_passing_faults(takes, tmp_path):
    waits: list[float] = []
    transport = answering(503, httpx.ReadError("reset"), 201, 502, 201, 201)
    report = runner_for(tmp_path, takes, transport, waits).run_once()
    assert not report.unreachable and report.sent == 3 and report.queued_left == 0
    assert takes.counts() == {"queued": 0, "sent": 3, "failed": 0}
    assert len(waits) == 3


def test_a_refused_token_ends_run_once(takes, tmp_path):
    with pytest.raises(TokenRefused):
        runner_for(tmp_path, takes, answering(401), []).run_once()
    assert takes.counts() == {"queued": 3, "sent": 0, "failed": 0}
