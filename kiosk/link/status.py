"""The booth's state as `kiosk sync run` sees it: a small file the booth rewrites.

Heartbeats go out from `kiosk sync run`, a process of its own, but only the booth knows
whether its microphone works and how many input blocks it lost. So the booth writes
what it knows to `<data>/status.json` every few seconds (`write_station_status`), and
the sync process reads it (`read_station_status`). The file is replaced whole
(temporary name, rename), so a reader never sees half of it; it is not fsynced, since
it is rewritten often and a stale copy after a power cut is harmless.

The file:

    {"written_at": "2026-11-21T10:42:00.123Z", "pid": 1234,
     "audio_state": "ready", "controller_state": "connected", "input_overflows": 0}

`audio_state` and `controller_state` are short words of the booth's choosing (the
microphone's and controller's state names, lower case). A missing or unreadable file
reads as "unknown"; one not rewritten for `STALE_AFTER_S` as "stale" (the booth is not
running, or hangs), so the staff's overview never shows an old "ready" as current.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kiosk.files import read_json, write_json_atomically

STATUS_FILE = "status.json"
STALE_AFTER_S = 120.0
UNKNOWN = "unknown"
STALE = "stale"
STATE_LIMIT = 64  # the central store keeps at most this many characters of a state

_lock = threading.Lock()


def write_station_status(data_dir: Path, **fields: Any) -> None:
    """Record the booth's current state in `<data_dir>/status.json`.

    Give the fields that changed (e.g. `audio_state="ready"`, `input_overflows=3`); the
    others keep their last value. Values must be JSON (strings, numbers, booleans).
    Call it from the booth every few seconds, from any thread: it takes a few hundred
    microseconds and never raises for a disk problem (a status is not worth a crash).
    """
    path = Path(data_dir) / STATUS_FILE
    with _lock:
        previous = read_json(path)
        document = dict(previous) if isinstance(previous, dict) else {}
        document.update(fields)
        document["written_at"] = _iso(datetime.now(timezone.utc))
        document["pid"] = os.getpid()
        try:
            Path(data_dir).mkdir(parents=True, exist_ok=True)
            write_json_atomically(path, document, durable=False)
        except OSError:
            pass


@dataclass(frozen=True)
class StationStatus:
    """The booth's state for a heartbeat."""

    audio_state: str
    controller_state: str
    input_overflows: int
    written_at: datetime | None


def read_station_status(
    data_dir: Path, *, now: datetime | None = None, stale_after_s: float = STALE_AFTER_S
) -> StationStatus:
    """What the booth last wrote; "unknown" without a file, "stale" when it is too old."""
    document = read_json(Path(data_dir) / STATUS_FILE)
    if not isinstance(document, dict):
        return StationStatus(UNKNOWN, UNKNOWN, 0, None)
    written_at = _moment(document.get("written_at"))
    now = now or datetime.now(timezone.utc)
    if written_at is None or (now - written_at).total_seconds() > stale_after_s:
        return StationStatus(STALE, STALE, _count(document.get("input_overflows")), written_at)
    return StationStatus(
        _state(document.get("audio_state")),
        _state(document.get("controller_state")),
        _count(document.get("input_overflows")),
        written_at,
    )


def _state(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        return UNKNOWN
    return value.strip()[:STATE_LIMIT]


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return value


def _moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
