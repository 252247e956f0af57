"""Uploading accepted takes to the central store, exactly as CONTRACT.md describes.

One `PUT /api/v1/recordings/{id}` per take, oldest first, with a multipart body of two
parts: `metadata` (JSON built from the take's sidecar) and `audio` (the FLAC, streamed
from disk in 64 KiB pieces: a station never holds a whole take in memory to send it).
The metadata carries the withdrawal code's hash, never the code (`kiosk.central.codes`).

Several takes may be in flight at once (`kiosk.link.runner`, `[sync] uploads_in_flight`);
`Uploader.upload` is safe to call from several threads. A take withdrawn on the station
while it is being sent is never left on the store: the last piece of the body goes only
under the take's sending lock (`Outbox.sending`) and only while its sidecar is still
there, and that lock is held until the answer is recorded. A take withdrawn before its
last piece went is broken off (the store, missing the closing boundary, keeps nothing);
a withdrawal arriving after it waits for the answer and then finds the take sent.

What each answer means for the take on the station:

| answer | the take |
| --- | --- |
| 201, 200 | `mark_sent`: the store holds it durably (200: it held it already, same audio) |
| 409 `name_taken_elsewhere` | `mark_failed` "name taken elsewhere": another booth holds the name; the take stays here, counted as failed, for staff to judge |
| 409 `name_has_voice` | `mark_failed` "name already has a voice": staff approved another voice for it meanwhile |
| 409 | `mark_failed`: the store holds other audio under this id; a technician must look |
| 413 | `mark_failed`: larger than the store accepts ([server] max_upload_mb) |
| 422 | the local audio is checked against its sidecar: damaged, `mark_failed`; intact, tried again after `[sync] invalid_retry_s`, at most `[sync] invalid_retries` times, then `mark_failed` |
| 401, 403 | `TokenRefused`: the run stops, nothing is marked (the token is wrong, revoked, or another station's) |
| 507 | stays queued: "the central store's disk is full"; tried again after a backoff wait |
| 5xx, no answer, a cut answer, a time-out, anything else | stays queued; tried again after a backoff wait |

Before each upload the booth's lease on the take's name (kept by the booth in
`<data>/names.json`) is renewed. A booth that was offline longer than the lease lasts
then holds the name again if no other booth took it meanwhile, so no booth can claim
it between the booth's return and its upload; if another booth did take it, the
renewal is refused (410) and the upload gets 409 `name_taken_elsewhere`. Renewing
every time, rather than when this station's clock says the lease ran out, keeps a
station whose clock is wrong right.

A take is marked sent only after a 201 or 200, so a kill, a power cut or a reset at any
moment leaves it queued, and the next upload of the same id gets 200: the store holds
each take once. Nothing here deletes a take; sent takes stay until `prune`.

The count of 422s per take is kept in `<data>/sync/invalid.json`, so a station that is
switched off every night still gives up after `invalid_retries`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from kiosk.contract import UPLOAD_FIELDS, withdrawal_code_hash
from kiosk.files import read_json, write_json_atomically
from kiosk.link.client import CentralClient, StoreDiskFull, StoreUnreachable, problem_code, problem_detail, token_refused
from kiosk.link.outbox import SENT_STATUSES, KeptTake, Outbox

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
METADATA_FIELDS = UPLOAD_FIELDS  # what of a sidecar leaves the station (`kiosk.contract`)

Kind = Literal["sent", "failed", "retry_later", "unreachable", "disk_full", "gone"]
# What a booth marks a take refused by the store's leases, as staff and `sync status` read it.
NAME_TAKEN_ELSEWHERE = "name taken elsewhere"
NAME_HAS_VOICE = "name already has a voice"


@dataclass(frozen=True)
class Outcome:
    """What one upload attempt did to one take."""

    recording_id: str
    kind: Kind  # sent | failed (for good) | retry_later (422, intact) | unreachable | disk_full (507) | gone (withdrawn meanwhile)
    status: int | None  # the HTTP status, None when there was no answer
    detail: str


class UploadStopped(Exception):
    """The run was asked to stop while a body was being sent; the take stays queued."""


class TakeWithdrawn(Exception):
    """The participant withdrew the take while its body was being sent; it was broken off."""


class SendingGate:
    """The take's sending lock, taken just before the body's last piece (see the module docstring)."""

    def __init__(self, store: Outbox, take: KeptTake):
        self._store = store
        self._take = take
        self._held = contextlib.ExitStack()
        self._holding = False

    def close(self) -> None:
        """Take the lock; TakeWithdrawn when the take is no longer accepted here."""
        if not self._holding:
            self._held.enter_context(self._store.sending(self._take.recording_id))
            self._holding = True
        if not self._take.sidecar_path.exists():
            raise TakeWithdrawn("withdrawn on this station while it was being sent")

    def release(self) -> None:
        self._holding = False
        self._held.close()


def metadata_part(take: KeptTake) -> bytes:
    """The `metadata` part: the protocol's fields of the sidecar, as JSON.

    The withdrawal code stays here: only its hash goes (`kiosk.central.codes`). A take
    kept before issue 18Y has no hash in its sidecar; it is computed now, once.
    """
    document = {key: take.metadata[key] for key in METADATA_FIELDS if key in take.metadata}
    code = take.metadata.get("withdrawal_code")
    if "withdrawal_code_hash" not in document and isinstance(code, str):
        try:
            document["withdrawal_code_hash"] = withdrawal_code_hash(code)
        except ValueError:
            log.error("the take's withdrawal code is not a code; sent without it", extra={"recording_id": take.recording_id})
    return json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class MultipartBody:
    """A multipart/form-data body whose audio part is read from disk as it is sent.

    The length is known before sending (the metadata, the file's size, the boundaries),
    so the request carries a Content-Length and the store can refuse a body that is too
    large before a byte of it is read. `should_stop` is asked between pieces, so a
    station shutting down does not wait for a slow upload to finish.
    """

    def __init__(
        self,
        metadata: bytes,
        audio: BinaryIO,
        audio_name: str,
        should_stop: Callable[[], bool],
        before_tail: Callable[[], None] | None = None,
    ):
        self.boundary = uuid.uuid4().hex
        self._audio = audio
        self._should_stop = should_stop
        self._before_tail = before_tail
        self._head = (
            f"--{self.boundary}\r\n"
            'Content-Disposition: form-data; name="metadata"\r\n'
            "Content-Type: application/json\r\n\r\n"
        ).encode() + metadata + (
            f"\r\n--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="audio"; filename="{audio_name}"\r\n'
            "Content-Type: audio/flac\r\n\r\n"
        ).encode()
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.audio_size = os.fstat(audio.fileno()).st_size

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self._head) + self.audio_size + len(self._tail)

    def __iter__(self) -> Iterator[bytes]:
        self._audio.seek(0)
        yield self._head
        left = self.audio_size
        while left > 0:
            if self._should_stop():
                raise UploadStopped("the run is stopping")
            piece = self._audio.read(min(CHUNK, left))
            if not piece:
                break  # the file shrank while it was sent: the store will answer 422
            left -= len(piece)
            yield piece
        if self._before_tail is not None:
            self._before_tail()  # may raise: the body then ends without its closing boundary
        yield self._tail


class InvalidLedger:
    """How often the store called each intact take invalid (422), kept across restarts."""

    def __init__(self, path: Path):
        self.path = Path(path)
        document = read_json(self.path)
        self._entries: dict[str, dict[str, Any]] = document if isinstance(document, dict) else {}
        self._lock = threading.Lock()

    def tries(self, recording_id: str) -> int:
        return int(self._entries.get(recording_id, {}).get("tries", 0))

    def not_before(self, recording_id: str) -> float:
        """Wall-clock time (epoch seconds) before which the take is not tried again."""
        return float(self._entries.get(recording_id, {}).get("next_at", 0.0))

    def note(self, recording_id: str, *, next_at: float, detail: str) -> int:
        """One more 422 for this take; returns how many now."""
        with self._lock:
            tries = self.tries(recording_id) + 1
            self._entries[recording_id] = {"tries": tries, "next_at": next_at, "detail": detail[:500]}
            self._save()
            return tries

    def retain(self, queued: set[str]) -> None:
        """Forget takes that left the queue some other way (withdrawn, sent by another run)."""
        with self._lock:
            gone = set(self._entries) - queued
            for recording_id in gone:
                del self._entries[recording_id]
            if gone:
                self._save()

    def forget(self, recording_id: str) -> None:
        with self._lock:
            if self._entries.pop(recording_id, None) is not None:
                self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomically(self.path, self._entries)


class Uploader:
    """Uploads takes and records the answers in the take store; several threads may share it.

    `clock` is wall-clock time (epoch seconds), since a 422 retry time must survive a
    restart; `stop` ends an upload in progress between two pieces of its body.
    """

    def __init__(
        self,
        store: Outbox,
        client: CentralClient,
        ledger: InvalidLedger,
        *,
        invalid_retries: int = 6,
        invalid_retry_s: float = 600,
        timeout_s: float = 60,
        clock: Callable[[], float] = time.time,
        stop: threading.Event | None = None,
        names_file: Path | None = None,
    ):
        self.store = store
        self.names_file = names_file
        self.client = client
        self.ledger = ledger
        self.invalid_retries = invalid_retries
        self.invalid_retry_s = invalid_retry_s
        self.timeout_s = timeout_s
        self.clock = clock
        self.stop = stop or threading.Event()

    def due(self) -> list[KeptTake]:
        """Queued takes, oldest first, without those waiting after a 422."""
        now = self.clock()
        queued = self.store.queued()
        self.ledger.retain({take.recording_id for take in queued})
        return [take for take in queued if self.ledger.not_before(take.recording_id) <= now]

    def upload(self, take: KeptTake, on_answer: Callable[[], None] | None = None) -> Outcome:
        """Send one take and act on the answer (see the module docstring).

        `on_answer()` is called the moment the store has answered that it holds the take
        (201, 200), before that is recorded here: the runner then sends its next take
        while this one is marked sent (`kiosk.link.runner`); any other answer ends the
        call soon enough. Raises `TokenRefused` for 401 and 403, `UploadStopped`
        when `stop` was set during the upload; everything else is an `Outcome`.
        """
        rid = take.recording_id
        try:
            audio = take.audio_path.open("rb")
        except FileNotFoundError:
            return self._audio_missing(take)
        gate = SendingGate(self.store, take)
        try:
            with audio:
                body = MultipartBody(metadata_part(take), audio, f"{rid}.flac", self.stop.is_set, gate.close)
                try:
                    self._renew_lease(take)
                    response = self.client.send(
                        "PUT",
                        f"/recordings/{rid}",
                        content=iter(body),
                        headers={"Content-Type": body.content_type, "Content-Length": str(len(body))},
                        timeout_s=self.timeout_s,
                    )
                    if on_answer is not None and response.status_code in SENT_STATUSES:
                        on_answer()
                except TakeWithdrawn:
                    log.info("a take withdrawn while it was being sent was broken off", extra={"recording_id": rid})
                    return Outcome(rid, "gone", None, "withdrawn while it was being sent; the store kept nothing")
                except StoreUnreachable as error:
                    if self.stop.is_set():
                        raise UploadStopped("the run is stopping") from error
                    if isinstance(error, StoreDiskFull):
                        log.error("the central store's disk is full; the take stays queued", extra={"recording_id": rid, "problem": str(error)})
                        return Outcome(rid, "disk_full", 507, str(error))
                    log.warning("upload failed, will retry", extra={"recording_id": rid, "problem": str(error)})
                    return Outcome(rid, "unreachable", None, str(error))
            refused = response.status_code >= 300
            return self._answer(
                take,
                response.status_code,
                problem_detail(response) if refused else "",
                code=problem_code(response) if refused else None,
            )
        finally:
            gate.release()  # after the answer is recorded: a withdrawal waiting now finds it sent

    def _renew_lease(self, take: KeptTake) -> None:
        """Renew the booth's lease on the take's name, if it holds one (see the module docstring).

        A refusal is left for the upload to meet: the store decides there. Raises
        StoreUnreachable (the upload would not get through either) and TokenRefused.
        """
        if self.names_file is None:
            return
        document = read_json(self.names_file)
        held = document.get("leases", []) if isinstance(document, dict) else []
        person = take.metadata.get("person_id")
        for lease in held:
            if not isinstance(lease, dict) or lease.get("person_id") != person or not lease.get("lease_id"):
                continue
            lease_id = str(lease["lease_id"])
            response = self.client.send("POST", f"/leases/{lease_id}/renew", timeout_s=self.timeout_s)
            if response.status_code == 200:
                log.info("lease renewed before the upload", extra={"recording_id": take.recording_id, "lease_id": lease_id})
            else:
                log.warning(
                    "the lease could not be renewed before the upload; the central store decides on the take",
                    extra={
                        "recording_id": take.recording_id,
                        "lease_id": lease_id,
                        "status": response.status_code,
                        "detail": problem_detail(response),
                    },
                )

    def _answer(self, take: KeptTake, status: int, detail: str, *, code: str | None = None) -> Outcome:
        rid = take.recording_id
        if status in SENT_STATUSES:
            self.store.mark_sent(rid, status=status)
            self.ledger.forget(rid)
            return Outcome(rid, "sent", status, "held already" if status == 200 else "kept")
        if status in (401, 403):
            client = self.client
            raise token_refused(client.station_id, client.token_file, client.base_url, status, detail)
        if status == 409 and code == "name_taken_elsewhere":
            return self._fail(
                take,
                status,
                f"{NAME_TAKEN_ELSEWHERE}: another booth holds this name (the central store said 409: {detail}); "
                "kept on this station for staff to judge",
            )
        if status == 409 and code == "name_has_voice":
            return self._fail(
                take,
                status,
                f"{NAME_HAS_VOICE}: staff approved another voice for this name while this booth held no lease on it "
                f"(the central store said 409: {detail}); kept on this station for staff to judge",
            )
        if status == 409:
            return self._fail(
                take,
                status,
                f"the central store holds a different recording under this id (409: {detail}); a technician must "
                "compare this take's audio with the store's copy before anything else is done with it",
            )
        if status == 413:
            return self._fail(
                take,
                status,
                f"the central store refused it as too large (413: {detail}); raise [server] max_upload_mb on the store, "
                f"then queue it again by removing failed/{rid}.json from the take store",
            )
        if status == 422:
            return self._invalid(take, detail)
        log.error(
            "the central store gave an answer the upload protocol does not name; will retry",
            extra={"recording_id": rid, "status": status, "detail": detail},
        )
        return Outcome(rid, "unreachable", status, f"{status}: {detail}")

    def _invalid(self, take: KeptTake, detail: str) -> Outcome:
        """422: damaged here, or something the store lacks (say, the person's name)?"""
        rid = take.recording_id
        damage = local_damage(take)
        if damage is not None:
            return self._fail(take, 422, f"the audio on this station is damaged ({damage}); the central store said: {detail}")
        tries = self.ledger.note(rid, next_at=self.clock() + self.invalid_retry_s, detail=detail)
        if tries > self.invalid_retries:
            return self._fail(
                take,
                422,
                f"the central store refused this intact take {tries} times as invalid (422: {detail}); "
                f"fix what it names, then queue it again by removing failed/{rid}.json from the take store",
            )
        log.warning(
            "the central store called an intact take invalid; will try again later",
            extra={"recording_id": rid, "tries": tries, "detail": detail, "retry_in_s": self.invalid_retry_s},
        )
        return Outcome(rid, "retry_later", 422, detail)

    def _fail(self, take: KeptTake, status: int | None, reason: str) -> Outcome:
        self.store.mark_failed(take.recording_id, reason)
        self.ledger.forget(take.recording_id)
        return Outcome(take.recording_id, "failed", status, reason)

    def _audio_missing(self, take: KeptTake) -> Outcome:
        if not take.sidecar_path.exists():
            # Withdrawn by the participant after the queue was read: nothing to send.
            return Outcome(take.recording_id, "gone", None, "withdrawn meanwhile")
        return self._fail(take, None, "the audio file is missing on this station; run `kiosk doctor` and check the disk")


def local_damage(take: KeptTake) -> str | None:
    """Why the take's audio no longer matches its sidecar, or None when it does."""
    expected_size = take.metadata.get("size_bytes")
    expected_sha = take.metadata.get("sha256")
    digest = hashlib.sha256()
    size = 0
    try:
        with take.audio_path.open("rb") as audio:
            for block in iter(lambda: audio.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
    except FileNotFoundError:
        return "the audio file is missing"
    except OSError as error:
        return f"the audio file cannot be read ({error.strerror})"
    if size != expected_size:
        return f"the audio has {size} bytes, its sidecar says {expected_size}"
    if digest.hexdigest() != expected_sha:
        return "the audio does not match the sha256 in its sidecar"
    return None
