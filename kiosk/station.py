"""What a station shows, gathered once at start-up, without Kivy.

The shell receives a `StationContent` summary rather than the collection itself, so the
screens stay thin and every figure on them (how many people, how many transports) is
computed from the data, never written into a text.
"""

from __future__ import annotations

import ctypes
import gc
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.errors import KioskError

if TYPE_CHECKING:
    from kiosk.collection import Collection
    from kiosk.collection.imagefacts import ImageFactsIndex

log = logging.getLogger(__name__)

COLLECTION_HANDED_ON = ("wall", "booth")
"""Exhibits whose screens take the collection from the app's content (`load_content`)
instead of reading it again; the others get the summary only, so it is never held twice."""
SHARED_CACHES = ("thumbs",)
"""Folders of a station's data that a picture of it (`kiosk screenshot`) links to and reads,
never writes (but for building them when missing): the wall's thumbnails, seconds to draw."""
CACHE_DIR = "cache"
"""In a station's data folder: what can be rebuilt from the collection at any time."""


@dataclass(frozen=True)
class TransportSummary:
    code: str
    departed: date | None
    persons: int


@dataclass(frozen=True)
class StationContent:
    persons: int
    fictional: bool
    transports: tuple[TransportSummary, ...]
    collection: Collection | None = field(default=None, repr=False, compare=False)
    """The collection itself, for the exhibit's screens (the wall's grid, search and
    pages): read once per process, here, and handed on, never read a second time."""

    @property
    def transports_with_persons(self) -> tuple[TransportSummary, ...]:
        return tuple(t for t in self.transports if t.persons)


def summarize(collection, *, keep: bool = False) -> StationContent:
    """Counts per transport, in the order of transports.csv (KEEP: and the collection)."""
    counts = collection.counts()
    return StationContent(
        persons=len(collection.persons),
        fictional=collection.fictional,
        transports=tuple(TransportSummary(t.code, t.departed, counts.get(t.code, 0)) for t in collection.transports),
        collection=collection if keep else None,
    )


def image_index(data_dir: Path, *, read_only: bool = False) -> ImageFactsIndex:
    """The station's index of its portraits' facts, in DATA_DIR/cache (kiosk.collection.imagefacts)."""
    from kiosk.collection.imagefacts import ImageFactsIndex, index_path

    return ImageFactsIndex(index_path(data_dir / CACHE_DIR), read_only=read_only)


def load_content(collection_dir: Path, *, images: ImageFactsIndex | None = None, keep: bool = True) -> StationContent | None:
    """The station's content with its collection, or None (logged) when the collection
    cannot be used. IMAGES: the station's image index (`image_index`), so that a start
    opens only the portraits that changed. KEEP=False: the summary only (for an exhibit
    whose screens read the collection themselves, so it is not held twice).

    A station that cannot read its collection still starts and says, soberly, that it is
    out of order: a gallery screen stuck in a restart loop helps nobody.
    """
    from kiosk.collection import load_collection

    try:
        return summarize(load_collection(collection_dir, images=images), keep=keep)
    except KioskError as error:
        log.error("collection unusable", extra={"path": str(collection_dir), "problem": error.message, "hint": error.hint})
        return None


def start_quietly() -> None:
    """No cyclic garbage collection while a station builds what it keeps all day.

    A wall's start makes about a million objects (persons, search words, tiles) that live
    as long as the process; each pass of the collector over them is wasted work. Call
    `started()` once the first screen is up (a second later: the collection it makes
    must not delay the first picture).
    """
    gc.disable()


def started(*, collect: bool = True) -> None:
    """The start's objects set aside for good (the collector never scans them again, so
    frames stay short), collection back on, and freed memory handed back to the system.

    COLLECT=False: the start's little garbage is kept (a short-lived process saves the
    0.2 s of CPU its collection takes)."""
    if collect:
        gc.collect()
    gc.freeze()
    gc.enable()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory stays with the process
        pass
