"""The memorial's own copy of the approved recordings, so it plays on when the network is down.

Layout under the station's data folder (`data/memorial/`):
- `voices.json`: the last list the central store gave, as played (names whose audio is
  here), with the collection's size and how many names have a voice.
- `audio/ab/abcdef….flac`: each recording under its sha256 (content-addressed, so a file
  never changes; a new recording of a name is a new file).

A refresh asks the store for the list (`GET /api/v1/voices`), fetches the audio it does not
have (`GET /api/v1/voices/audio/{sha256}`), each file written under a temporary name,
verified against its sha256 and size, fsynced and renamed into place (rclone,
Syncthing), saves the list the same way, and then deletes the audio of recordings no
longer on the list: a withdrawn recording is personal data that must go.

A refresh that fails half-way (network down, store down) changes nothing already saved;
the memorial goes on with the last list on disk.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from exhibits.memorial.playlist import Entry
from kiosk.errors import KioskError
from kiosk.link.client import CentralClient, StoreUnreachable, problem_detail
from kiosk.files import fsync_directory, read_json, write_json_atomically

log = logging.getLogger(__name__)

SAVE_EVERY = 100  # a long first fetch saves its progress this often (files)


class NotPlayable(Exception):
    """A recording that cannot be played now; `reason` is a short code for the log."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


class Withdrawn(NotPlayable):
    """No longer on the list (withdrawn or replaced meanwhile): not a fault, just gone."""


@dataclass(frozen=True)
class Snapshot:
    """What the memorial knows from the store: the names it can play and the totals."""

    persons: int
    names_with_voice: int
    entries: tuple[Entry, ...]
    fetched_at: str

    def to_json(self) -> dict:
        return {
            "persons": self.persons,
            "names_with_voice": self.names_with_voice,
            "fetched_at": self.fetched_at,
            "voices": [entry.__dict__ for entry in self.entries],
        }


class Library:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.list_path = self.folder / "voices.json"
        self.audio_dir = self.folder / "audio"
        self._lock = threading.Lock()
        self._listed: frozenset[str] | None = None  # sha256 of the current list; None: not known yet

    # -- reading, from the player's thread -------------------------------------------------

    def saved(self) -> Snapshot | None:
        """The list saved by the last refresh, or None (first start, or an unreadable file)."""
        document = read_json(self.list_path)
        if document is None:
            if self.list_path.exists():
                log.error("memorial list unreadable", extra={"path": str(self.list_path), "hint": "it is fetched again from the central store"})
            return None
        try:
            entries = tuple(Entry(**item) for item in document["voices"])
            snapshot = Snapshot(int(document["persons"]), int(document["names_with_voice"]), entries, str(document["fetched_at"]))
        except (KeyError, TypeError, ValueError) as error:
            log.error("memorial list unreadable", extra={"path": str(self.list_path), "problem": repr(error)})
            return None
        with self._lock:
            self._listed = frozenset(entry.sha256 for entry in entries)
        return snapshot

    def path_of(self, sha256: str) -> Path:
        return self.audio_dir / sha256[:2] / f"{sha256}.flac"

    def read(self, entry: Entry) -> bytes:
        """The recording's audio, verified; NotPlayable (Withdrawn, missing, corrupt) if not."""
        with self._lock:
            listed = self._listed
        if listed is not None and entry.sha256 not in listed:
            raise Withdrawn("withdrawn", "no longer on the central store's list")
        path = self.path_of(entry.sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotPlayable("missing", f"{path} is missing; it is fetched again at the next refresh") from None
        except OSError as error:
            raise NotPlayable("unreadable", f"{path} cannot be read ({error.strerror}): check the disk") from None
        if len(data) != entry.size_bytes or hashlib.sha256(data).hexdigest() != entry.sha256:
            self._set_aside(path)
            raise NotPlayable(
                "corrupt",
                f"{path} does not match its sha256 (damaged on disk): set aside, fetched again at the next refresh",
            )
        return data

    def set_aside(self, entry: Entry) -> None:
        """Move a recording that decodes badly out of the way, so a refresh fetches it again."""
        self._set_aside(self.path_of(entry.sha256))

    def _set_aside(self, path: Path) -> None:
        try:
            path.replace(path.with_name(path.name + ".corrupt"))
        except OSError:
            pass

    # -- refreshing, from the refresher's thread -------------------------------------------

    def refresh(self, client: CentralClient, *, stop: threading.Event | None = None) -> Snapshot:
        """Fetch the list and the audio not yet here; save; delete withdrawn audio.

        Raises StoreUnreachable (try later) or KioskError (a technician must act); what was
        saved before stays as it was.
        """
        response = client.send("GET", "/voices")
        if response.status_code != 200:
            raise KioskError(
                f"the central store answered {response.status_code} to GET /api/v1/voices: {problem_detail(response)}",
                "check the store's version and the station's token (`kiosk doctor`)",
            )
        try:
            document = response.json()
            persons = int(document["persons"])
            names_with_voice = int(document["names_with_voice"])
            voices = list(document["voices"])
        except (ValueError, KeyError, TypeError) as error:
            raise StoreUnreachable(f"the voices list is not what the store sends: {error!r}") from None
        listed: list[Entry] = []
        for voice in voices:
            try:
                listed.append(Entry.from_voice(voice))
            except ValueError as error:
                log.error("memorial voice refused", extra={"problem": str(error)})
        fetched_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        here: list[Entry] = []
        fetched = 0
        for entry in listed:
            if stop is not None and stop.is_set():
                break
            if self._have(entry):
                here.append(entry)
                continue
            if self._fetch(client, entry):
                here.append(entry)
                fetched += 1
                if fetched % SAVE_EVERY == 0:
                    self._save(Snapshot(persons, names_with_voice, tuple(here), fetched_at), listed=listed)
        snapshot = Snapshot(persons, names_with_voice, tuple(here), fetched_at)
        self._save(snapshot, listed=listed)
        removed = self._prune({entry.sha256 for entry in listed})
        log.info(
            "memorial list refreshed",
            extra={"voices": len(listed), "playable": len(here), "fetched": fetched, "removed": removed},
        )
        return snapshot

    def _have(self, entry: Entry) -> bool:
        try:
            return self.path_of(entry.sha256).stat().st_size == entry.size_bytes
        except OSError:
            return False

    def _fetch(self, client: CentralClient, entry: Entry) -> bool:
        """Download one recording; False when the store no longer offers it (404)."""
        response = client.send("GET", f"/voices/audio/{entry.sha256}", timeout_s=60)
        if response.status_code == 404:
            return False  # withdrawn between the list and now
        if response.status_code != 200:
            raise KioskError(
                f"the central store answered {response.status_code} to GET /api/v1/voices/audio/…: {problem_detail(response)}",
                "check the store's log",
            )
        data = response.content
        if len(data) != entry.size_bytes or hashlib.sha256(data).hexdigest() != entry.sha256:
            log.error("memorial download damaged", extra={"sha256": entry.sha256, "bytes": len(data)})
            return False  # tried again at the next refresh
        target = self.path_of(entry.sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        with open(partial, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, target)
        fsync_directory(target.parent)
        return True

    def _save(self, snapshot: Snapshot, *, listed: list[Entry]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_json_atomically(self.list_path, snapshot.to_json())
        with self._lock:
            self._listed = frozenset(entry.sha256 for entry in listed)

    def _prune(self, keep: set[str]) -> int:
        removed = 0
        if not self.audio_dir.is_dir():
            return 0
        for path in self.audio_dir.glob("*/*"):
            sha256 = path.name.split(".")[0]
            if sha256 in keep and path.name == f"{sha256}.flac":
                continue
            path.unlink(missing_ok=True)
            removed += 1
        return removed


def refresh_forever(
    library: Library,
    client_factory: Callable[[], CentralClient],
    deliver: Callable[[Snapshot], None],
    *,
    every_s: float,
    stop: threading.Event,
    retry_s: float = 30.0,
) -> None:
    """The refresher thread: refresh every `every_s`, sooner again after a failure."""
    while not stop.is_set():
        wait = every_s
        try:
            with client_factory() as client:
                deliver(library.refresh(client, stop=stop))
        except StoreUnreachable as error:
            log.warning("central store unreachable; the memorial plays what it has", extra={"problem": str(error)})
            wait = min(every_s, retry_s)
        except KioskError as error:
            log.error("memorial cannot refresh", extra={"problem": error.message, "hint": error.hint})
        except OSError as error:
            log.error("memorial cannot save its copy", extra={"problem": str(error), "hint": "check the disk of the data folder"})
            wait = min(every_s, retry_s)
        stop.wait(wait)
