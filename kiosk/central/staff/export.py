"""Approved recordings as a BagIt bag (RFC 8493), for the museum's archive.

A bag is a folder that says what it holds and proves it:

    dossin-voices-2026-11-21/
      bagit.txt                 the BagIt version and encoding
      bag-info.txt              who made it, when, Payload-Oxum (bytes.files), Bag-Count
      manifest-sha256.txt       the SHA-256 of every file under data/
      tagmanifest-sha256.txt    the SHA-256 of the three files above
      data/<TRANSPORT>/<list number>-<person id>.flac   one approved voice per person
      data/<TRANSPORT>/<list number>-<person id>.json   what it is (below)

The metadata says whose name was read (person id, name, transport, list number), which
recording it is, the consent given (version, language), and when it was recorded and
approved; never anything about the reader (no station, no age band, no code).

Every figure of the manifests is known before a byte is written: the audio is stored
under its SHA-256 (checked again while it is copied: a file that changed on disk stops
the export) and the metadata is made in memory. So the same plan is written either as
a folder (`kiosk central export`: into a temporary folder, fsynced, renamed when
complete) or streamed as one .tar to a browser without a temporary copy.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import secrets
import shutil
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from kiosk import __version__
from kiosk.central.db import Database
from kiosk.central.moderation import approved_voices
from kiosk.central.recordings import AudioStore
from kiosk.central.schema import recordings
from kiosk.errors import KioskError
from kiosk.files import fsync_directory

log = logging.getLogger(__name__)

SOURCE_ORGANIZATION = "Kazerne Dossin"
CHUNK = 1 << 20


@dataclass(frozen=True)
class PayloadFile:
    """One file under data/: from the audio folder (`source`) or made in memory (`content`)."""

    name: str
    size: int
    sha256: str
    source: Path | None = None
    content: bytes | None = None


@dataclass(frozen=True)
class BagPlan:
    name: str
    bagging_date: str
    payload: list[PayloadFile]
    recordings: int

    def tag_files(self) -> list[tuple[str, bytes]]:
        """bagit.txt, bag-info.txt, manifest-sha256.txt, tagmanifest-sha256.txt, in that order."""
        octets = sum(f.size for f in self.payload)
        bagit = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
        info = (
            f"Source-Organization: {SOURCE_ORGANIZATION}\n"
            "Organization-Address: Goswin de Stassartstraat 153, 2800 Mechelen, Belgium\n"
            "External-Description: Every name counts (Elke naam telt / Chaque nom compte): approved "
            "recordings of the names of persons deported from the Dossin barracks, one voice per name, "
            "with metadata. No data about the readers.\n"
            f"Bagging-Date: {self.bagging_date}\n"
            f"Payload-Oxum: {octets}.{len(self.payload)}\n"
            "Bag-Count: 1 of 1\n"
            f"Bag-Software-Agent: dossin-kiosk {__version__}\n"
        ).encode("utf-8")
        manifest = "".join(f"{f.sha256}  data/{f.name}\n" for f in self.payload).encode("utf-8")
        tags = [("bagit.txt", bagit), ("bag-info.txt", info), ("manifest-sha256.txt", manifest)]
        tagmanifest = "".join(f"{hashlib.sha256(body).hexdigest()}  {name}\n" for name, body in tags).encode("utf-8")
        return [*tags, ("tagmanifest-sha256.txt", tagmanifest)]


def plan_bag(database: Database, audio: AudioStore) -> BagPlan:
    """What the bag of every approved voice holds now; KioskError when an audio file is missing."""
    voices = approved_voices(database)
    details = {}
    if voices:
        with database.read() as connection:
            for row in connection.execute(
                select(
                    recordings.c.id,
                    recordings.c.audio_path,
                    recordings.c.recorded_at,
                    recordings.c.consent_version,
                    recordings.c.metadata,
                    recordings.c.sample_rate,
                ).where(recordings.c.status == "approved", recordings.c.audio_path.is_not(None))
            ):
                details[row.id] = row
    now = database.now()
    payload: list[PayloadFile] = []
    missing = []
    for voice in voices:
        row = details[voice.recording_id]
        source = audio.path_of(row.audio_path)
        if not source.is_file():
            missing.append(row.audio_path)
            continue
        stem = f"{_safe(voice.transport)}/{voice.list_number:05d}-{_safe(voice.person_id)}"
        consent = (row.metadata or {}).get("consent") or {}
        document = {
            "person_id": voice.person_id,
            "surname": voice.surname,
            "given_names": voice.given_names,
            "transport": voice.transport,
            "list_number": voice.list_number,
            "recording_id": str(voice.recording_id),
            "audio_file": f"{stem.split('/')[-1]}.flac",
            "audio_sha256": voice.sha256,
            "duration_s": voice.duration_s,
            "sample_rate": row.sample_rate,
            "consent_version": row.consent_version,
            "consent_language": str(consent.get("language", "")),
            "recorded_at": row.recorded_at.isoformat(),
            "approved_at": voice.approved_at.isoformat(),
        }
        content = (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        payload.append(PayloadFile(f"{stem}.flac", voice.size_bytes, voice.sha256, source=source))
        payload.append(PayloadFile(f"{stem}.json", len(content), hashlib.sha256(content).hexdigest(), content=content))
    if missing:
        raise KioskError(
            f"{len(missing)} approved recording(s) have no audio file in the audio folder (first: {missing[0]})",
            "restore the audio folder from the backup, then export again; the store's log names each file",
        )
    return BagPlan(f"dossin-voices-{now:%Y-%m-%d}", now.date().isoformat(), payload, len(voices))


def _safe(text: str) -> str:
    """A path part made of letters, digits, dots, dashes and underscores only."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text).lstrip(".") or "_"


def _copy_checked(item: PayloadFile, write: Callable[[bytes], object]) -> None:
    """Copy a payload file through `write`, refusing it if it is not what the plan says."""
    if item.content is not None:
        write(item.content)
        return
    digest = hashlib.sha256()
    size = 0
    assert item.source is not None
    with item.source.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            write(chunk)
    if size != item.size or digest.hexdigest() != item.sha256:
        raise KioskError(
            f"{item.source} does not hold the audio the store recorded for it (its SHA-256 differs)",
            "the file changed on disk: restore it from the backup, then export again",
        )


def write_bag(plan: BagPlan, out: Path, *, progress: Callable[[int], None] | None = None) -> Path:
    """Write the bag as the folder `out` (which must not exist); returns it when complete.

    Everything goes to a hidden temporary folder next to `out`, is fsynced, and is
    renamed to `out` at the end, so `out` is either absent or a complete bag.
    `progress(n)` is called after each recording with the number of files written.
    """
    out = Path(out)
    if out.exists():
        raise KioskError(f"{out} exists already", "give a new folder name to --out; an export never overwrites")
    parent = out.parent
    if not parent.is_dir():
        raise KioskError(f"the folder {parent} does not exist", "create it first, or choose another --out")
    temporary = parent / f".{out.name}.partial-{secrets.token_hex(4)}"
    temporary.mkdir()
    try:
        for item in plan.payload:
            target = temporary / "data" / item.name
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("xb") as handle:
                _copy_checked(item, handle.write)
                handle.flush()
                os.fsync(handle.fileno())
            if progress is not None:
                progress(1)
        for name, body in plan.tag_files():
            with (temporary / name).open("xb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
        for folder in sorted({p for p in temporary.rglob("*") if p.is_dir()} | {temporary}, reverse=True):
            fsync_directory(folder)
        temporary.rename(out)
        fsync_directory(parent)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    log.info("bag exported", extra={"path": str(out), "recordings": plan.recordings})
    return out


class _Spool(io.RawIOBase):
    """Where tarfile writes; the generator takes what has accumulated after each member."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


class _CheckedReader(io.RawIOBase):
    """A payload file as tarfile reads it, checked against the plan once read to the end."""

    def __init__(self, item: PayloadFile):
        self.item = item
        self.handle = item.source.open("rb") if item.source is not None else io.BytesIO(item.content or b"")
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.handle.read(len(buffer))
        buffer[: len(data)] = data
        self.digest.update(data)
        self.size += len(data)
        return len(data)

    def finish(self) -> None:
        self.handle.close()
        if self.size != self.item.size or self.digest.hexdigest() != self.item.sha256:
            raise KioskError(
                f"{self.item.source} does not hold the audio the store recorded for it (its SHA-256 differs)",
                "the file changed on disk: restore it from the backup, then export again",
            )


def stream_bag_tar(plan: BagPlan) -> Iterator[bytes]:
    """The bag as an uncompressed POSIX tar, in pieces (FLAC does not compress further).

    Members are under one folder named like the bag (RFC 8493's serialization). A file
    that turns out not to match the plan ends the stream early, so the download fails
    visibly instead of giving a bag that does not verify.
    """
    spool = _Spool()
    mtime = time.time()
    with tarfile.open(fileobj=spool, mode="w|", format=tarfile.PAX_FORMAT) as archive:
        members = [(f"data/{item.name}", item) for item in plan.payload]
        for name, item in members:
            info = tarfile.TarInfo(f"{plan.name}/{name}")
            info.size, info.mtime, info.mode = item.size, mtime, 0o644
            reader = _CheckedReader(item)
            archive.addfile(info, io.BufferedReader(reader, CHUNK))
            reader.finish()
            yield spool.take()
        for name, body in plan.tag_files():
            info = tarfile.TarInfo(f"{plan.name}/{name}")
            info.size, info.mtime, info.mode = len(body), mtime, 0o644
            archive.addfile(info, io.BytesIO(body))
        yield spool.take()
    yield spool.take()


def bag_summary(plan: BagPlan, path: Path | None = None) -> dict:
    """What `kiosk central export --json` prints."""
    return {
        "bag": str(path) if path is not None else plan.name,
        "recordings": plan.recordings,
        "files": len(plan.payload),
        "bytes": sum(f.size for f in plan.payload),
        "bagging_date": plan.bagging_date,
    }
