"""The approved voices, as a station keeps them: the list, and the audio it has fetched.

The portrait wall plays a person's name as read in the booth, and only once staff have
approved the recording. The central store says which recordings are approved
(`GET /api/v1/voices`) and serves their audio by sha256. A station keeps the last list
it was given on disk, so it still knows who has a voice after a restart without network,
and keeps each audio file it fetched, by content, as the store does.

A withdrawn or rejected recording disappears from the next list; its audio is then
deleted here too (`refresh` prunes the cache), because a participant who withdraws
consent must not go on being heard in the gallery.

Files are written to a temporary name, fsynced and renamed into place; an audio file is
kept only when its sha256 is the one the list gives.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.link.client import CentralClient, StoreUnreachable, problem_detail
from kiosk.files import fsync_directory, write_json_atomically

log = logging.getLogger(__name__)

LIST_NAME = "voices.json"
AUDIO_LIMIT = 50 * 1024 * 1024  # a name is a few seconds; anything near this is not one


class VoiceUnavailable(Exception):
    """This voice cannot be played now (not approved any more, store unreachable, bad file)."""


@dataclass(frozen=True)
class VoiceEntry:
    person_id: str
    recording_id: str
    sha256: str
    size_bytes: int
    duration_s: float
    transport: str
    list_number: int

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> VoiceEntry:
        return cls(
            person_id=str(document["person_id"]),
            recording_id=str(document["recording_id"]),
            sha256=str(document["sha256"]),
            size_bytes=int(document["size_bytes"]),
            duration_s=float(document["duration_s"]),
            transport=str(document["transport"]),
            list_number=int(document["list_number"]),
        )


@dataclass(frozen=True)
class VoiceList:
    persons: int
    names_with_voice: int
    entries: dict[str, VoiceEntry]  # by person_id, in the store's order

    @classmethod
    def empty(cls) -> VoiceList:
        return cls(0, 0, {})


class VoiceCatalogue:
    """The approved voices of one station's central store, kept under `folder`."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.audio_dir = self.folder / "audio"
        self._lock = threading.Lock()
        self._list = self._load()

    @property
    def current(self) -> VoiceList:
        return self._list

    def has_voice(self, person_id: str) -> bool:
        return person_id in self._list.entries

    def refresh(self, client: CentralClient) -> VoiceList:
        """Ask the store for the list, keep it, and delete audio that is no longer approved.

        StoreUnreachable when the store cannot be asked: the last list stays in use.
        """
        response = client.send("GET", "/voices")
        if response.status_code != 200:
            raise StoreUnreachable(f"{response.status_code} from /voices: {problem_detail(response)}")
        try:
            document = response.json()
            voices = VoiceList(
                int(document["persons"]),
                int(document["names_with_voice"]),
                {entry.person_id: entry for entry in map(VoiceEntry.from_json, document["voices"])},
            )
        except (ValueError, KeyError, TypeError) as error:
            raise StoreUnreachable(f"the store's list of voices is not readable: {error}") from error
        with self._lock:
            self._save(document)
            self._list = voices
            self._prune({entry.sha256 for entry in voices.entries.values()})
        return voices

    def cached_audio(self, person_id: str) -> Path | None:
        entry = self._list.entries.get(person_id)
        if entry is None:
            return None
        path = self._audio_path(entry.sha256)
        try:
            return path if path.stat().st_size == entry.size_bytes else None
        except FileNotFoundError:
            return None

    def audio(self, client: CentralClient | None, person_id: str) -> Path:
        """The audio file of this person's approved voice, fetched now if not kept yet."""
        entry = self._list.entries.get(person_id)
        if entry is None:
            raise VoiceUnavailable(f"{person_id} has no approved voice in the list")
        kept = self.cached_audio(person_id)
        if kept is not None:
            return kept
        if client is None:
            raise VoiceUnavailable("the audio is not kept here and there is no central store to ask")
        try:
            response = client.send("GET", f"/voices/audio/{entry.sha256}")
        except StoreUnreachable as error:
            raise VoiceUnavailable(f"the central store cannot be reached: {error}") from error
        if response.status_code == 404:
            raise VoiceUnavailable("the store no longer has this voice approved")
        if response.status_code != 200:
            raise VoiceUnavailable(f"{response.status_code} from the store: {problem_detail(response)}")
        body = response.content
        if len(body) > AUDIO_LIMIT or hashlib.sha256(body).hexdigest() != entry.sha256:
            raise VoiceUnavailable("the audio the store sent does not match its sha256; not kept")
        return self._keep(entry.sha256, body)

    # -- on disk -----------------------------------------------------------------------

    def _audio_path(self, sha256: str) -> Path:
        return self.audio_dir / f"{sha256}.flac"

    def _keep(self, sha256: str, body: bytes) -> Path:
        with self._lock:
            self.audio_dir.mkdir(parents=True, exist_ok=True)
            final = self._audio_path(sha256)
            _write_durably(final, body)
            return final

    def _prune(self, approved: set[str]) -> None:
        if not self.audio_dir.is_dir():
            return
        for path in self.audio_dir.iterdir():
            if path.suffix == ".flac" and path.stem not in approved:
                path.unlink(missing_ok=True)
                log.info("voice no longer approved: audio deleted", extra={"sha256": path.stem})
            elif path.name.endswith(".partial"):
                path.unlink(missing_ok=True)

    def _save(self, document: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_json_atomically(self.folder / LIST_NAME, document)

    def _load(self) -> VoiceList:
        path = self.folder / LIST_NAME
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            return VoiceList(
                int(document["persons"]),
                int(document["names_with_voice"]),
                {entry.person_id: entry for entry in map(VoiceEntry.from_json, document["voices"])},
            )
        except FileNotFoundError:
            return VoiceList.empty()
        except (ValueError, KeyError, TypeError, OSError) as error:
            # A damaged list is only a cache: the next refresh replaces it.
            log.warning("the saved list of voices is unreadable; waiting for the store", extra={"error": str(error)})
            return VoiceList.empty()


def _write_durably(final: Path, body: bytes) -> None:
    temporary = final.with_name(f".{final.name}.{uuid.uuid4().hex}.partial")
    with open(temporary, "wb") as file:
        file.write(body)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, final)
    fsync_directory(final.parent)
