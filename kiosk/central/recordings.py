"""Recordings arriving from the booths: kept durably, exactly once, or refused whole.

A booth marks a take as sent only when the store answers 201 (or 200 for a take it
already holds), so 201 must mean the audio and its row are on disk for good: the audio
is written to a temporary name, renamed into place, fsynced there and its folder
fsynced, and only then is the row committed. After a crash between the two the audio
file is there without a row; the booth, not having had its 201, sends the take again,
and the file is found in place (content addressed) and the row written. (A crash before
the fsyncs may leave a damaged file at the address: its content no longer matches its
name, and the next upload of that take replaces it.)

Audio is kept by content, `audio/<sha256[:2]>/<sha256>.flac`, as rclone and Syncthing
identify content by its hash: a file never changes once in place, and the same take
sent twice is one file. Nothing that identifies the reader is kept; the withdrawal code
the participant was given is kept only as a slow hash (see `kiosk.central.codes`): a
booth sends that hash and never the code (issue 18Y), and the code a booth of before
still sends is hashed here and dropped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from kiosk.central.audiocheck import check_take_audio
from kiosk.central.bookings import booking_used
from kiosk.central.codes import withdrawal_code_hash
from kiosk.central.db import Database, DriverSQL, driver_cursor
from kiosk.central.errors import Conflict, Forbidden, Unprocessable
from kiosk.central.leases import check_token, upload_allowed
from kiosk.central.pending_withdrawals import arrived_withdrawn
from kiosk.central.schema import recordings
from kiosk.central.stations import Station
from kiosk.contract import UploadMetadata, check_json_value
from kiosk.files import fsync_directory

log = logging.getLogger(__name__)

FLAC_MAGIC = b"fLaC"
METADATA_LIMIT = 64 * 1024
"""The metadata part is a few hundred bytes; anything near this is not a booth's."""
_FILE_MODE = 0o640  # a voice is personal data: not for every user of the machine
_DIR_MODE = 0o750


def parse_metadata(raw: bytes) -> tuple[UploadMetadata, dict[str, Any]]:
    """The validated metadata and the JSON object as sent; Unprocessable saying what is wrong."""
    try:
        document = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise Unprocessable(f"the metadata part is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise Unprocessable("the metadata part must be a JSON object")
    try:
        check_json_value(document)
    except ValueError as error:
        raise Unprocessable(f"the metadata part {error}") from None
    try:
        metadata = UploadMetadata.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'metadata'}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        )
        raise Unprocessable(f"the metadata is not valid: {problems}") from None
    return metadata, document


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


@dataclass(frozen=True)
class ReceivedAudio:
    """An audio part written to a temporary file (not yet fsynced: `AudioStore.place` does), with what it really holds."""

    path: Path
    sha256: str
    size_bytes: int
    starts_like_flac: bool


class AudioStore:
    """The content-addressed audio folder: `<sha256[:2]>/<sha256>.flac`, and `.incoming/`."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.incoming = self.root / ".incoming"

    def prepare(self) -> int:
        """Create the folders; remove uploads a crash left half-received. Returns how many."""
        self.incoming.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        removed = 0
        for leftover in self.incoming.iterdir():
            if leftover.is_file():
                leftover.unlink()
                removed += 1
        if removed:
            log.warning("removed unfinished uploads", extra={"count": removed})
        return removed

    def new_incoming(self) -> tuple[Path, int]:
        """A new temporary file for an audio part, opened for writing: (path, fd)."""
        path = self.incoming / f"{uuid.uuid4()}.partial"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
        return path, fd

    def relative_path(self, sha256: str) -> str:
        return f"{sha256[:2]}/{sha256}.flac"

    def path_of(self, relative: str) -> Path:
        return self.root / relative

    def place(self, received: ReceivedAudio) -> tuple[str, bool]:
        """Move received audio into its content address, durably: (the relative path, whether it is new there).

        When the address is taken by a file whose content is right, the new copy is
        dropped; a damaged file there is replaced. Either way the file and its folder are
        fsynced before this returns (the file renamed first, then fsynced in place: on
        ext4 one journal commit then covers both, issue 18Y; a file found in place may be
        another upload's, renamed a moment ago and not yet fsynced). The path stays
        pinned until `release()`: while an upload holds it, no other upload's `release`
        removes it.
        """
        relative = self.relative_path(received.sha256)
        final = self.root / relative
        with _PINS_LOCK:
            _PINS[final] += 1
        renamed = False
        try:
            folder = final.parent
            if not folder.is_dir():
                folder.mkdir(mode=_DIR_MODE, exist_ok=True)
                fsync_directory(self.root)
            fresh = not (final.exists() and _sha256_file(final) == received.sha256)
            if fresh:
                os.replace(received.path, final)
                renamed = True
            else:
                received.path.unlink(missing_ok=True)
                # Fresh again, so the orphan sweep leaves it alone until this upload's row is in.
                os.utime(final)
            _fsync_file(final)
            # The new name is what must survive a power cut. That the old one is gone from
            # .incoming need not be durable (issue 18Y: one fsync less per upload): a name
            # left there by a crash is the same file, and `prepare()` removes it at start.
            fsync_directory(folder)
            return relative, fresh
        except BaseException:
            # A file this upload renamed into place but could not make durable (a full
            # disk) is taken back, unless another upload holds it.
            self.release(relative, referenced=(lambda: False) if renamed else None)
            raise

    def release(self, relative: str, *, referenced: Callable[[], bool] | None = None) -> None:
        """Unpin a path `place` returned. With `referenced` (a refused upload that placed the
        file), the file is removed when no other upload holds it and `referenced()` says
        no row points to it."""
        final = self.root / relative
        with _PINS_LOCK:
            _PINS[final] -= 1
            if _PINS[final] <= 0:
                del _PINS[final]
                # Under the lock: an upload that pins this path now waits, then finds the
                # file gone and places its own copy.
                if referenced is not None and not referenced():
                    self.unplace(relative)

    def unplace(self, relative: str) -> None:
        """Take back a file `place` has just put in place for a row that was then not written."""
        path = self.path_of(relative)
        path.unlink(missing_ok=True)
        fsync_directory(path.parent)


# Where an upload's audio is placed while its own thread checks it (`store_recording`).
_PLACING = ThreadPoolExecutor(max_workers=16, thread_name_prefix="kiosk-placing")

# The audio paths uploads of this process have placed and not yet released (see
# `AudioStore.release`), with how many hold each.
_PINS: Counter[Path] = Counter()
_PINS_LOCK = threading.Lock()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Stored:
    """The store's answer to an upload: 201 kept now, 200 held already."""

    status: int
    recording_id: uuid.UUID
    recording_status: str
    sha256: str
    size_bytes: int
    received_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "recording_id": str(self.recording_id),
            "status": self.recording_status,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "received_at": self.received_at.isoformat(),
        }


def store_recording(
    database: Database,
    audio: AudioStore,
    station: Station,
    recording_id: uuid.UUID,
    metadata: UploadMetadata,
    document: dict[str, Any],
    received: ReceivedAudio,
) -> Stored:
    """Keep one upload (see the module docstring), or refuse it and keep nothing of it.

    The checks follow the upload contract: a station writes only as itself (403); the
    audio must match its sha256 and size and be decodable FLAC of a take's length, as
    declared (422, `kiosk.central.audiocheck`); an id already held answers 200 when the
    audio is the same and 409 when not; the person must be known (422); the booth must
    hold the name's lease, or nobody may and the name have no approved voice (409,
    `kiosk.central.leases.upload_allowed`). The file is placed (durably) just before the
    write transaction, outside its lock, and taken back if the row is then not written
    (unless another upload holds it or a row points to it), so a refusal or a full disk
    leaves neither file nor row. The temporary audio file is always gone when this
    returns or raises.
    """
    kept = {key: value for key, value in document.items() if key not in ("withdrawal_code", "withdrawal_code_hash")}
    placed: str | None = None
    fresh = row_in = False
    try:
        _check(station, recording_id, metadata, received)
        held, known, withdrawn = _held_and_person(database, recording_id, station, received, metadata)
        if held is not None:
            return held
        # The audio is made durable in its place before the write transaction (issue 18Y:
        # its folder's fsync no longer holds the write lock), so the row never points to
        # audio a power cut could take; that waits for the disk while the check decodes
        # what arrived (opened first, so its renaming changes nothing for the check).
        # Refused by the check or in the transaction, it is taken back. Audio of a person
        # the store does not know, or whose code was withdrawn before it arrived, is not
        # placed at all.
        arrived = os.open(received.path, os.O_RDONLY)
        placing = None
        try:
            if known is not None and not withdrawn:
                placing = _PLACING.submit(audio.place, received)
            check_take_audio(arrived, metadata.duration_s, metadata.sample_rate)
        finally:
            os.close(arrived)
            if placing is not None:
                placed, fresh = placing.result()
        if known is None:
            raise _unknown_person(metadata)
        code_hash = _code_hash(metadata)
        sql = _UPLOAD_SQL[database.dialect]
        with database.write(sync_after_lock=True) as connection:
            with driver_cursor(connection) as cursor:
                cursor.execute(sql.person, {"person_id": metadata.person_id})
                found = cursor.fetchone()
            if found is None:
                raise _unknown_person(metadata)
            person = found[0]
            now = database.now()
            # Issue WD: staff withdrew this take's code before it arrived: no audio kept, 201 "withdrawn".
            row = {
                "id": recording_id,
                "person_id": person,
                "station_id": station.id,
                "received_at": now,
                "recorded_at": metadata.recorded_at,
                "duration_s": metadata.duration_s,
                "sample_rate": metadata.sample_rate,
                "sha256": received.sha256,
                "size_bytes": received.size_bytes,
                "metadata": kept,
                "consent_version": metadata.consent.version,
                "status_at": now,
                "withdrawal_code_hash": code_hash,
            }
            if arrived_withdrawn(connection, code_hash, row):
                return Stored(201, recording_id, "withdrawn", received.sha256, received.size_bytes, now)
            # A take a technician kept with `kiosk booth ingest --force` for a name that has a
            # voice: staff choose between the takes (one voice per name unless staff decide).
            upload_allowed(connection, station, person, now, second_take=document.get("second_take") is True)
            if placed is None:  # looked withdrawn a moment ago, and is not now: placed under the lock
                placed, fresh = audio.place(received)
            with driver_cursor(connection) as cursor:
                cursor.execute(sql.insert, sql.row(row, placed))
                cursor.execute(sql.use_lease, {"now": sql.moment(now), "person": person, "station": station.id})
                used = cursor.rowcount
            # A booking is fulfilled by the voice it was made for; the name has a voice,
            # and is held no more if this booth's lease was used.
            booking_used(connection, person, now, voiced=True, free=used > 0)
        row_in = True
    except IntegrityError:
        # The same id arrived twice at once and the other one won: answer as for a repeat.
        held = _held(database, recording_id, station, received)
        if held is None:
            raise
        return held
    finally:
        received.path.unlink(missing_ok=True)
        if placed is not None:
            audio.release(placed, referenced=None if row_in or not fresh else partial(_referenced, database, placed))
    log.info(
        "recording received",
        extra={"recording_id": str(recording_id), "station_id": station.station_id, "bytes": received.size_bytes},
    )
    return Stored(201, recording_id, "received", received.sha256, received.size_bytes, now)


def _unknown_person(metadata: UploadMetadata) -> Unprocessable:
    return Unprocessable(
        f"person_id {metadata.person_id!r} is not in the central store's collection: import the collection "
        "the booth uses (`kiosk collection import`), then the booth sends the take again"
    )


def _code_hash(metadata: UploadMetadata) -> str | None:
    """The withdrawal code's hash as the booth sent it; a booth of before sends the code (one scrypt here)."""
    if metadata.withdrawal_code_hash is not None:
        return metadata.withdrawal_code_hash
    if metadata.withdrawal_code is not None:
        return withdrawal_code_hash(metadata.withdrawal_code)
    return None


def _referenced(database: Database, relative: str) -> bool:
    """Whether a row points to this audio file (a take sent under two ids shares one)."""
    try:
        with database.read() as connection:
            return connection.execute(select(recordings.c.id).where(recordings.c.audio_path == relative)).first() is not None
    except Exception:  # noqa: BLE001 - the database is failing: keep the file, the orphan sweep decides later
        return True


def _check(station: Station, recording_id: uuid.UUID, metadata: UploadMetadata, received: ReceivedAudio) -> None:
    if metadata.station_id != station.station_id:
        raise Forbidden(
            f"this token belongs to station {station.station_id!r}, the metadata says {metadata.station_id!r}: "
            "a station uploads only its own recordings"
        )
    if metadata.recording_id is not None and metadata.recording_id != recording_id:
        raise Unprocessable("the metadata's recording_id differs from the one in the URL")
    if received.size_bytes != metadata.size_bytes or received.sha256 != metadata.sha256:
        raise Unprocessable(
            f"the audio part ({received.size_bytes} bytes, sha256 {received.sha256}) does not match its metadata "
            f"({metadata.size_bytes} bytes, sha256 {metadata.sha256}); nothing was kept"
        )
    if not received.starts_like_flac:
        raise Unprocessable("the audio part is not FLAC; nothing was kept", code="audio_not_flac")


def _held(database: Database, recording_id: uuid.UUID, station: Station, received: ReceivedAudio) -> Stored | None:
    """The answer for an id the store holds already: 200 for the same audio, else 409."""
    with database.read() as connection:
        return _held_in(connection, recording_id, station, received)


def _held_and_person(
    database: Database, recording_id: uuid.UUID, station: Station, received: ReceivedAudio, metadata: UploadMetadata
) -> tuple[Stored | None, int | None, bool]:
    """`_held`'s answer, the person's row id (None: not in the collection) and whether the
    code hash the booth sent was withdrawn already (WD; the write transaction decides),
    in one statement that first shows the station's token is still its own (TokenEnded)."""
    sql = _UPLOAD_SQL[database.dialect]
    with database.read() as connection, driver_cursor(connection) as cursor:
        cursor.execute(
            sql.look,
            {
                "station": station.id,
                "recording": sql.key(recording_id),
                "person_id": metadata.person_id,
                "code_hash": metadata.withdrawal_code_hash,
            },
        )
        found = cursor.fetchone()
    check_token(database, station, found)
    _, _, held, person, withdrawn = found
    if held:
        answer = _held(database, recording_id, station, received)
        if answer is not None:
            return answer, None, False
    return None, person, bool(withdrawn)


class _UploadSQL(DriverSQL):
    """An upload's usual statements as SQL text (`kiosk.central.db.DriverSQL`): every take runs them."""

    def row(self, row: dict[str, Any], audio_path: str | None) -> dict[str, Any]:
        """`row` (`store_recording`'s values) as the driver takes them, for `insert`."""
        return row | {
            "id": self.key(row["id"]),
            "received_at": self.moment(row["received_at"]),
            "recorded_at": self.moment(row["recorded_at"]),
            "status_at": self.moment(row["status_at"]),
            "metadata": self.json(row["metadata"]),
            "audio_path": audio_path,
        }

    def json(self, value: Any) -> Any:
        """A JSON column's value: text on SQLite (as SQLAlchemy writes it), psycopg's Json on PostgreSQL."""
        if self.dialect == "sqlite":
            return json.dumps(value)
        from psycopg.types.json import Json

        return Json(value)


def _upload_texts(dialect: str) -> dict[str, str]:
    return {
        # Before the audio check, in one read: the station's token, whether the id is
        # held already, the person's row, and whether the code was withdrawn.
        "look": "SELECT s.token_hash, s.revoked_at, r.id IS NOT NULL, "
        "(SELECT id FROM persons WHERE person_id = :person_id), "
        "EXISTS (SELECT 1 FROM pending_withdrawals WHERE code_hash = :code_hash) "
        "FROM stations AS s LEFT JOIN recordings AS r ON r.id = :recording WHERE s.id = :station",
        # In the write transaction: the person's row locked (SQLite: the write lock is held).
        "person": "SELECT id FROM persons WHERE person_id = :person_id"
        + (" FOR UPDATE" if dialect == "postgresql" else ""),
        "insert": "INSERT INTO recordings (id, person_id, station_id, received_at, recorded_at, duration_s, "
        "sample_rate, sha256, size_bytes, audio_path, metadata, consent_version, status, status_at, reason, "
        "withdrawal_code_hash) VALUES (:id, :person_id, :station_id, :received_at, :recorded_at, :duration_s, "
        ":sample_rate, :sha256, :size_bytes, :audio_path, :metadata, :consent_version, 'received', :status_at, "
        "NULL, :withdrawal_code_hash)",
        "use_lease": "UPDATE leases SET ended_at = :now, end_reason = 'used' "
        "WHERE person_id = :person AND station_id = :station AND ended_at IS NULL",
    }


_UPLOAD_SQL = _UploadSQL.each(_upload_texts)


def _held_in(connection: Connection, recording_id: uuid.UUID, station: Station, received: ReceivedAudio) -> Stored | None:
    row = connection.execute(
        select(
            recordings.c.sha256,
            recordings.c.size_bytes,
            recordings.c.station_id,
            recordings.c.status,
            recordings.c.received_at,
        ).where(recordings.c.id == recording_id)
    ).first()
    if row is None:
        return None
    if row.station_id != station.id or row.sha256 != received.sha256 or row.size_bytes != received.size_bytes:
        raise Conflict("the store holds a different recording under this id; nothing was changed")
    return Stored(200, recording_id, row.status, row.sha256, row.size_bytes, row.received_at)
