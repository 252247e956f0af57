"""Removing the audio of takes the central store has held for long enough.

A booth's disk is small and a gallery records for years, so audio cannot stay on the
station for ever; but the station's copy is the only other copy until the store's own
backups have caught up. So a take's audio is removed only when the store acknowledged
it (a `sent/<id>.json` marker, written after a 201 or 200) at least
`[sync] keep_sent_days` ago. A take that is queued or failed is never touched: no
sent marker, no pruning.

The take store (`exhibits.booth.take_store`) holds as a rule that a sidecar in `takes/`
has its audio beside it; `reconcile()` would call a sidecar without audio damaged. So a
pruned take leaves `takes/` whole: its sidecar is kept in `pruned/<id>.json` (the
consent and the withdrawal code stay on record, with when it was pruned), then the
sidecar and the audio are removed, in that order. A crash between the steps is
finished by the next `prune()`: a pruned id whose sidecar or audio is still there
(in audio/ or, if `reconcile()` ran meanwhile and called it an orphan, in orphans/) has
them removed. The sent marker stays, so the take still counts as sent (`sync_counts`).

Pruning holds the take store's lock shared (the `.lock` file of its layout), as the
store's writers do, so it never runs while `reconcile()` holds it alone.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kiosk.link.outbox import Outbox
from kiosk.files import fsync_directory, read_json, write_json_atomically

log = logging.getLogger(__name__)

PRUNED = "pruned"
_ID_JSON = re.compile(r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json$")


@dataclass(frozen=True)
class PruneReport:
    """What one `prune()` removed."""

    pruned: tuple[str, ...] = ()  # recording ids whose audio was removed now
    finished: tuple[str, ...] = ()  # prunes a crash had interrupted, finished now
    freed_bytes: int = 0


def prune(store: Outbox, keep_sent_days: float, *, now: datetime | None = None) -> PruneReport:
    """Remove the audio of takes sent more than `keep_sent_days` ago; never of any other take."""
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(days=keep_sent_days)
    root = store.root
    pruned_dir = root / PRUNED
    pruned_dir.mkdir(mode=0o750, exist_ok=True)
    pruned: list[str] = []
    freed = 0
    with _shared_lock(root):
        finished = tuple(rid for rid in _ids(pruned_dir) if _finish(root, rid))
        # Only sent takes still whole are read: years of pruned takes cost a listing, no more.
        for rid in sorted(set(_ids(root / "sent")) & set(_ids(root / "takes"))):
            sent_at = _sent_at(root / "sent" / f"{rid}.json")
            sidecar = root / "takes" / f"{rid}.json"
            if sent_at is None or sent_at > cutoff or not sidecar.exists():
                continue
            document = read_json(sidecar)
            if not isinstance(document, dict):
                continue  # unreadable: reconcile() deals with it, prune leaves it be
            audio = root / "audio" / f"{rid}.flac"
            try:
                size = audio.stat().st_size
            except FileNotFoundError:
                size = 0
            record = {**document, "pruned_at": _iso(now), "sent_at": _iso(sent_at)}
            write_json_atomically(pruned_dir / f"{rid}.json", record)
            _remove(sidecar)
            _remove(audio)
            pruned.append(rid)
            freed += size
    if pruned or finished:
        log.info("audio of sent takes removed", extra={"count": len(pruned), "finished": len(finished), "bytes": freed})
    return PruneReport(tuple(pruned), finished, freed)


def pruned_ids(store: Outbox) -> set[str]:
    """Takes whose audio was pruned: sent, and no longer in the store's takes/."""
    return set(_ids(store.root / PRUNED))


def sync_counts(store: Outbox) -> dict[str, int]:
    """The `kiosk sync status --json` shape; pruned takes count as sent, as they were."""
    counts = store.counts()
    sent_markers = set(_ids(store.root / "sent"))
    still_accepted = set(_ids(store.root / "takes"))  # a prune a crash interrupted: counted already
    counts["sent"] += len((pruned_ids(store) & sent_markers) - still_accepted)
    return counts


def _finish(root: Path, rid: str) -> bool:
    """Remove what a crash left of a prune of `rid`; True if there was anything."""
    leftovers = [root / "takes" / f"{rid}.json", root / "audio" / f"{rid}.flac"]
    leftovers += sorted((root / "orphans").glob(f"{rid}.flac*"))
    found = False
    for path in leftovers:
        if path.exists():
            _remove(path)
            found = True
    return found


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        return
    fsync_directory(path.parent)


def _sent_at(marker: Path) -> datetime | None:
    record = read_json(marker)
    if not isinstance(record, dict) or record.get("status") not in (200, 201):
        return None
    try:
        moment = datetime.fromisoformat(str(record.get("sent_at")))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _ids(directory: Path) -> list[str]:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return [match.group(1) for name in names if (match := _ID_JSON.match(name))]


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@contextmanager
def _shared_lock(root: Path) -> Iterator[None]:
    fd = os.open(root / ".lock", os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)
