"""The audio folder's disk: how much room is left, and a full disk as a clear refusal.

A full disk must not look like a broken store. An upload that runs out of room answers
507 ("the store's disk is full"), so the booth keeps its take queued and says why,
instead of a 500 that reads as "unreachable"; whatever the upload had written is gone
by then (the temporary file is removed, no row is written). `/api/v1/health` reports the
free bytes and is not "ok" while one more upload of the largest allowed size would not
fit, so `kiosk doctor` and the staff see it before a take is refused.
"""

from __future__ import annotations

import errno
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import OperationalError

from kiosk.central.errors import InsufficientStorage

log = logging.getLogger(__name__)

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_POSTGRESQL_DISK_FULL = "53100"  # SQLSTATE disk_full
_SQLITE_FULL = "database or disk is full"

FULL_MESSAGE = (
    "the central store's disk is full; nothing of this upload was kept: the booth keeps the take and sends it "
    "again later. Technician: free space in the store's audio folder (or its database's disk)"
)


@dataclass(frozen=True)
class DiskState:
    free_bytes: int
    needed_bytes: int

    @property
    def can_take(self) -> bool:
        return self.free_bytes >= self.needed_bytes

    def to_json(self) -> dict[str, int | bool]:
        return {"free_bytes": self.free_bytes, "needed_bytes": self.needed_bytes, "can_take": self.can_take}


def disk_state(folder: Path, needed_bytes: int) -> DiskState:
    """The room left where `folder` lives, against the room one upload may need."""
    return DiskState(shutil.disk_usage(folder).free, needed_bytes)


def is_disk_full(error: BaseException) -> bool:
    """Whether `error` says a disk is full: the OS's ENOSPC/EDQUOT, SQLite's or PostgreSQL's words for it."""
    if isinstance(error, OSError):
        return error.errno in FULL_ERRNOS
    if isinstance(error, OperationalError):
        original = error.orig
        if getattr(original, "sqlstate", None) == _POSTGRESQL_DISK_FULL:
            return True
        return _SQLITE_FULL in str(original)
    return False


@contextmanager
def refuse_when_full() -> Iterator[None]:
    """Turn a full disk met inside the block into `InsufficientStorage` (507)."""
    try:
        yield
    except (OSError, OperationalError) as error:
        if not is_disk_full(error):
            raise
        log.error("upload refused: the disk is full", extra={"error": str(error).splitlines()[0]})
        refusal = InsufficientStorage(FULL_MESSAGE)
        # The body may not have been read to its end: stop the station sending the rest.
        refusal.close_connection = True
        raise refusal from None
