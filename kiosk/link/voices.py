"""The approved voices, as a station keeps them: the store's list, and the audio it fetched.

One cache for every station that plays voices, with one of two policies:

- `AHEAD` (the memorial): a refresh fetches every approved recording it does not have
  yet, so the memorial plays on from disk when the network is down;
- `ON_DEMAND` (the portrait wall): a recording is fetched when a visitor first asks to
  hear the name, then kept.

The central store says which recordings are approved (`GET /api/v1/voices`) and serves
their audio by sha256. The cache keeps the last list on disk, so a station still knows who
has a voice after a restart without network, and keeps each audio file under its sha256
(`audio/ab/abcdef….flac`), written under a temporary name, verified against the list's
sha256 and size, fsynced and renamed into place (rclone, Syncthing).

A withdrawn or rejected recording disappears from the store's next list; every refresh
then deletes from this station each file that the list does not name, because a
participant who withdraws consent must not go on being heard in the gallery. This is the
one place a station deletes voice audio, whatever the station. The log says how many
files went, never whose.

A refresh that fails half-way (network down, store down) changes nothing already saved.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError
from kiosk.link.client import CentralClient, StoreUnreachable, problem_detail
from kiosk.files import fsync_directory, write_json_atomically

log = logging.getLogger(__name__)

LIST_NAME = "voices.json"
AUDIO_LIMIT = 50 * 1024 * 1024  # a name is a few seconds; anything near this is not one
SAVE_EVERY = 100  # a long first fetch (AHEAD) saves its progress this often (files)


class Policy(enum.Enum):
    """When a station fetches the audio of an approved voice."""

    AHEAD = "ahead"  # at each refresh, all of it (the memorial)
    ON_DEMAND = "on_demand"  # when it is first played (the wall)


class VoiceUnavailable(Exception):
    """This voice cannot be played now; `reason` is a short code for the log."""

    def __init__(self, detail: str, reason: str = "unavailable"):
        super().__init__(detail)
        self.reason = reason


class VoiceWithdrawn(VoiceUnavailable):
    """No longer on the store's list (withdrawn, rejected or replaced): not a fault, just gone."""

    def __init__(self, detail: str = "no longer on the central store's list"):
        super().__init__(detail, "withdrawn")


@dataclass(frozen=True)
class VoiceEntry:
    """One approved voice as the store lists it; `document` is the store's item, kept whole."""

    person_id: str
    recording_id: str
    sha256: str
    size_bytes: int
    duration_s: float
    transport: str
    list_number: int
    document: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> VoiceEntry:
        sha256 = str(document["sha256"]).lower()
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"sha256 {sha256!r} is not 64 hexadecimal digits")
        return cls(
            person_id=str(document["person_id"]),
            recording_id=str(document.get("recording_id") or ""),
            sha256=sha256,
            size_bytes=int(document["size_bytes"]),
            duration_s=float(document.get("duration_s") or 0.0),
            transport=str(document["transport"]),
            list_number=int(document["list_number"]),
            document=dict(document),
        )


@dataclass(frozen=True)
class VoiceList:
    persons: int
    names_with_voice: int
    entries: dict[str, VoiceEntry]  # by person_id, in the store's order
    fetched_at: str = ""
    etag: str = ""  # the store's version of this list, sent back to ask "changed?"

    @classmethod
    def empty(cls) -> VoiceList:
        return cls(0, 0, {})

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> VoiceList:
        """The store's answer (or the saved copy); ValueError, KeyError or TypeError if it is not one."""
        entries: dict[str, VoiceEntry] = {}
        for item in document["voices"]:
            try:
                entry = VoiceEntry.from_json(item)
            except (ValueError, KeyError, TypeError) as error:
                log.error("a voice in the store's list is refused", extra={"problem": str(error)})
                continue
            entries[entry.person_id] = entry
        return cls(
            int(document["persons"]),
            int(document["names_with_voice"]),
            entries,
            str(document.get("fetched_at", "")),
            str(document.get("etag", "")),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "persons": self.persons,
            "names_with_voice": self.names_with_voice,
            "fetched_at": self.fetched_at,
            "etag": self.etag,
            "voices": [entry.document for entry in self.entries.values()],
        }


class VoiceCache:
    """The approved voices of one station's central store, kept under `folder`."""

    def __init__(self, folder: Path, policy: Policy):
        self.folder = Path(folder)
        self.policy = policy
        self.audio_dir = self.folder / "audio"
        self.list_path = self.folder / LIST_NAME
        self._lock = threading.Lock()
        self._loaded = False
        self._shas: frozenset[str] = frozenset()
        self._use(self._load())

    # -- reading ---------------------------------------------------------------------

    @property
    def current(self) -> VoiceList:
        return self._list

    @property
    def knows_list(self) -> bool:
        """Whether a list was ever saved or fetched (before that, nothing counts as withdrawn)."""
        return self._loaded

    def has_voice(self, person_id: str) -> bool:
        return person_id in self._list.entries

    def listed(self, sha256: str) -> bool:
        return sha256 in self._shas

    def path_of(self, sha256: str) -> Path:
        return self.audio_dir / sha256[:2] / f"{sha256}.flac"

    def is_kept(self, entry: VoiceEntry) -> bool:
        try:
            return self.path_of(entry.sha256).stat().st_size == entry.size_bytes
        except OSError:
            return False

    def kept_entries(self) -> list[VoiceEntry]:
        """The listed voices whose audio is here, in the store's order."""
        return [entry for entry in self._list.entries.values() if self.is_kept(entry)]

    def cached_audio(self, person_id: str) -> Path | None:
        entry = self._list.entries.get(person_id)
        if entry is None or not self.is_kept(entry):
            return None
        return self.path_of(entry.sha256)

    def read(self, sha256: str, size_bytes: int) -> bytes:
        """A kept recording's audio, verified; VoiceWithdrawn or VoiceUnavailable if not playable.

        Before any list is known (a station set up by hand) every kept file may be played.
        """
        if self._loaded and not self.listed(sha256):
            raise VoiceWithdrawn()
        path = self.path_of(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise VoiceUnavailable(f"{path} is missing; it is fetched again", "missing") from None
        except OSError as error:
            raise VoiceUnavailable(f"{path} cannot be read ({error.strerror}): check the disk", "unreadable") from None
        if len(data) != size_bytes or hashlib.sha256(data).hexdigest() != sha256:
            self.set_aside(sha256)
            raise VoiceUnavailable(
                f"{path} does not match its sha256 (damaged on disk): set aside, fetched again", "corrupt"
            )
        return data

    def set_aside(self, sha256: str) -> None:
        """Move a damaged file out of the way; the next refresh (or play) fetches it again,
        and the next refresh deletes what was set aside."""
        path = self.path_of(sha256)
        try:
            path.replace(path.with_name(path.name + ".corrupt"))
        except OSError:
            pass

    # -- the store -------------------------------------------------------------------

    def refresh(self, client: CentralClient, *, stop: threading.Event | None = None) -> VoiceList:
        """Ask the store for the list; fetch (AHEAD) what is missing; save; delete what is not listed.

        StoreUnreachable (try later) or KioskError (a technician must act); the last list
        stays in use then.
        """
        known = self._list.etag if self._loaded else ""
        response = client.send("GET", "/voices", headers={"If-None-Match": known} if known else {})
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        if response.status_code == 304:  # nothing changed: what is missing is still fetched
            current = self._list
            voices = VoiceList(current.persons, current.names_with_voice, current.entries, now, current.etag)
        elif response.status_code != 200:
            raise KioskError(
                f"the central store answered {response.status_code} to GET /api/v1/voices: {problem_detail(response)}",
                "check the store's version and the station's token (`kiosk doctor`)",
            )
        else:
            try:
                listed = VoiceList.from_json(response.json())
            except (ValueError, KeyError, TypeError) as error:
                raise StoreUnreachable(f"the store's list of voices is not readable: {error!r}") from None
            etag = response.headers.get("etag", "")
            voices = VoiceList(listed.persons, listed.names_with_voice, listed.entries, now, etag)
        # The list is in force before any fetch: from now on nothing withdrawn is played.
        with self._lock:
            self._use(voices)
            self._loaded = True
        fetched = 0
        if self.policy is Policy.AHEAD:
            for entry in voices.entries.values():
                if stop is not None and stop.is_set():
                    break
                if self.is_kept(entry):
                    continue
                try:
                    self._fetch(client, entry)
                except VoiceUnavailable as error:
                    if not isinstance(error, VoiceWithdrawn):
                        log.error("voice not fetched; tried again at the next refresh", extra={"problem": str(error)})
                    continue
                fetched += 1
                if fetched % SAVE_EVERY == 0:
                    self._save(voices)
        with self._lock:
            self._save(voices)
            removed = self._prune({entry.sha256 for entry in voices.entries.values()})
        log.info("list of voices refreshed", extra={"voices": len(voices.entries), "fetched": fetched, "removed": removed})
        if removed:
            log.info("audio of voices no longer approved deleted", extra={"files": removed})
        return voices

    def audio(self, client: CentralClient | None, person_id: str) -> Path:
        """The audio file of this person's approved voice, fetched now if not kept yet."""
        entry = self._list.entries.get(person_id)
        if entry is None:
            raise VoiceWithdrawn(f"{person_id} has no approved voice in the list")
        kept = self.cached_audio(person_id)
        if kept is not None:
            return kept
        if client is None:
            raise VoiceUnavailable("the audio is not kept here and there is no central store to ask")
        try:
            return self._fetch(client, entry)
        except StoreUnreachable as error:
            raise VoiceUnavailable(f"the central store cannot be reached: {error}", "unreachable") from error

    # -- on disk ---------------------------------------------------------------------

    def _fetch(self, client: CentralClient, entry: VoiceEntry) -> Path:
        response = client.send("GET", f"/voices/audio/{entry.sha256}", timeout_s=60)
        if response.status_code == 404:
            raise VoiceWithdrawn("the store no longer has this voice approved")
        if response.status_code != 200:
            raise VoiceUnavailable(f"{response.status_code} from the store: {problem_detail(response)}", "refused")
        body = response.content
        if len(body) > AUDIO_LIMIT or len(body) != entry.size_bytes or hashlib.sha256(body).hexdigest() != entry.sha256:
            raise VoiceUnavailable("the audio the store sent does not match its sha256; not kept", "damaged")
        with self._lock:
            if not self.listed(entry.sha256):
                raise VoiceWithdrawn()  # a refresh withdrew it while it was on its way
            final = self.path_of(entry.sha256)
            final.parent.mkdir(parents=True, exist_ok=True)
            _write_durably(final, body)
        return final

    def _prune(self, keep: set[str]) -> int:
        """Delete every file under audio/ that is not a listed recording; how many went."""
        if not self.audio_dir.is_dir():
            return 0
        removed = 0
        for path in sorted(self.audio_dir.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if path.is_dir():
                try:
                    path.rmdir()  # only when empty
                except OSError:
                    pass
                continue
            sha256 = path.name.split(".")[0]
            if sha256 in keep and path == self.path_of(sha256):
                continue
            path.unlink(missing_ok=True)
            removed += path.suffix == ".flac" or path.name.endswith(".corrupt")
        if removed:
            fsync_directory(self.audio_dir)
        return removed

    def _use(self, voices: VoiceList) -> None:
        self._list = voices
        self._shas = frozenset(entry.sha256 for entry in voices.entries.values())

    def _save(self, voices: VoiceList) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_json_atomically(self.list_path, voices.to_json())

    def _load(self) -> VoiceList:
        try:
            document = json.loads(self.list_path.read_text(encoding="utf-8"))
            voices = VoiceList.from_json(document)
            self._loaded = True
            return voices
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


def approved_voice_on_store(config, person_id: str) -> str | None:
    """Why this name counts as having a voice on the central store, or None when it has none.

    A station without a store ([central] url empty) knows of none. A store that cannot be
    asked counts as a voice that may exist: one voice per name is not given up unasked.
    """
    if not config.central.url:
        return None
    try:
        with CentralClient.for_station(config) as client:
            response = client.send("GET", "/voices", params={"person_id": person_id})
    except (StoreUnreachable, KioskError) as error:
        return f"the central store could not be asked whether it has one: {error}"
    if response.status_code != 200:
        return f"the central store could not be asked whether it has one: {response.status_code} {problem_detail(response)}"
    try:
        voices = response.json()["voices"]
    except (ValueError, KeyError, TypeError):
        return "the central store's answer could not be read"
    return "an approved recording on the central store" if voices else None
