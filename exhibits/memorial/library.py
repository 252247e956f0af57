"""The memorial's copy of the approved recordings, so it plays on when the network is down.

The copy is the stations' one voice cache (`kiosk.link.voices.VoiceCache`) with the
`AHEAD` policy: each refresh fetches every approved recording not here yet, saves the
list, and deletes the audio of recordings no longer on it (withdrawn or rejected: personal
data that must go). This module only turns that cache into what the memorial plays: a
`Snapshot` of `playlist.Entry`s whose audio is here, and a verified read of one of them.

Layout under the station's data folder (`data/memorial/`): `voices.json` (the store's last
list) and `audio/ab/abcdef….flac` (each recording under its sha256).

A refresh that fails half-way (network down, store down) changes nothing already saved;
the memorial goes on with the last list on disk.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from exhibits.memorial.playlist import Entry
from kiosk.errors import KioskError
from kiosk.link.client import CentralClient, StoreUnreachable
from kiosk.link.voices import Policy, VoiceCache, VoiceList, VoiceUnavailable, VoiceWithdrawn

log = logging.getLogger(__name__)


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


class Library:
    """The memorial's view of its voice cache (see the module docstring)."""

    def __init__(self, folder: Path):
        self.cache = VoiceCache(folder, Policy.AHEAD)
        self.folder = self.cache.folder
        self.list_path = self.cache.list_path
        self.audio_dir = self.cache.audio_dir

    def saved(self) -> Snapshot | None:
        """The list saved by the last refresh, or None (first start, or an unreadable file)."""
        if not self.cache.knows_list:
            return None
        return self._snapshot(self.cache.current)

    def path_of(self, sha256: str) -> Path:
        return self.cache.path_of(sha256)

    def read(self, entry: Entry) -> bytes:
        """The recording's audio, verified; NotPlayable (Withdrawn, missing, corrupt) if not."""
        try:
            return self.cache.read(entry.sha256, entry.size_bytes)
        except VoiceWithdrawn as error:
            raise Withdrawn("withdrawn", str(error)) from None
        except VoiceUnavailable as error:
            raise NotPlayable(error.reason, str(error)) from None

    def set_aside(self, entry: Entry) -> None:
        """Move a recording that decodes badly out of the way, so a refresh fetches it again."""
        self.cache.set_aside(entry.sha256)

    def refresh(self, client: CentralClient, *, stop: threading.Event | None = None) -> Snapshot:
        """Fetch the list and the audio not yet here; save; delete withdrawn audio.

        Raises StoreUnreachable (try later) or KioskError (a technician must act); what was
        saved before stays as it was.
        """
        return self._snapshot(self.cache.refresh(client, stop=stop))

    def _snapshot(self, voices: VoiceList) -> Snapshot:
        entries = []
        for voice in self.cache.kept_entries():
            try:
                entries.append(Entry.from_voice(voice.document))
            except ValueError as error:
                log.error("memorial voice refused", extra={"problem": str(error)})
        return Snapshot(voices.persons, voices.names_with_voice, tuple(entries), voices.fetched_at)


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
