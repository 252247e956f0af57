"""What a station shows, gathered once at start-up, without Kivy.

The shell receives a `StationContent` summary rather than the collection itself, so the
screens stay thin and every figure on them (how many people, how many transports) is
computed from the data, never written into a text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kiosk.errors import KioskError

log = logging.getLogger(__name__)


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

    @property
    def transports_with_persons(self) -> tuple[TransportSummary, ...]:
        return tuple(t for t in self.transports if t.persons)


def summarize(collection) -> StationContent:
    """Counts per transport, in the order of transports.csv."""
    counts = collection.counts()
    return StationContent(
        persons=len(collection.persons),
        fictional=collection.fictional,
        transports=tuple(TransportSummary(t.code, t.departed, counts.get(t.code, 0)) for t in collection.transports),
    )


def load_content(collection_dir: Path) -> StationContent | None:
    """The station's content, or None (logged) when the collection cannot be used.

    A station that cannot read its collection still starts and says, soberly, that it is
    out of order: a gallery screen stuck in a restart loop helps nobody.
    """
    from kiosk.collection import load_collection

    try:
        return summarize(load_collection(collection_dir))
    except KioskError as error:
        log.error("collection unusable", extra={"path": str(collection_dir), "problem": error.message, "hint": error.hint})
        return None
