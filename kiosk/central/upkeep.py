"""The store's housekeeping, at start and then hourly, in a thread of `kiosk central serve`.

- `sweep_orphan_audio`: audio files no recording points to (an upload whose row never
  came, a withdrawal whose file deletion a crash interrupted);
- `prune_heartbeats`: station heartbeats older than 30 days (each station's latest stays);
- `prune_login_failures`: counts of failed staff logins nobody has added to for a day.

A round that fails (the database restarting, say) is logged and tried again at the next
hour; it never stops the store.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kiosk.central.db import Database
from kiosk.central.moderation import sweep_orphan_audio
from kiosk.central.recordings import AudioStore
from kiosk.central.staff.accounts import prune_login_failures
from kiosk.central.stations import prune_heartbeats

log = logging.getLogger(__name__)

EVERY_S = 3600.0


def upkeep_round(database: Database, audio: AudioStore) -> dict[str, Any]:
    """One round of housekeeping; what it removed."""
    return {
        "orphan_audio": len(sweep_orphan_audio(database, audio)),
        "heartbeats": prune_heartbeats(database),
        "login_failures": prune_login_failures(database),
    }


class Upkeep:
    """Runs `upkeep_round` now and every `every_s` seconds until `stop()`."""

    def __init__(self, database: Database, audio: AudioStore, *, every_s: float = EVERY_S):
        self._database = database
        self._audio = audio
        self._every_s = every_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="central-upkeep", daemon=True)

    def start(self) -> Upkeep:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                removed = upkeep_round(self._database, self._audio)
                log.info("upkeep done", extra=removed)
            except Exception as error:  # noqa: BLE001 - logged; the next round tries again
                log.error("upkeep failed; trying again in an hour", extra={"error": str(error).splitlines()[0]})
            self._stopping.wait(self._every_s)
