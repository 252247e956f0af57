"""A take recorded elsewhere enters the booth pipeline (`kiosk booth ingest`).

Some names are read outside the booth: at a commemoration, by a participant who could
not come, on a recorder when a booth was out of order. Such a file gets exactly what a
take from the booth gets: the same quality check, the same consent record, the same
durable keep and sync queue, so the central store cannot tell the two apart and no
path around the checks exists. `force` is for a technician who has listened to the
take and judges it good despite what the check says.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from exhibits.booth.take_store import TakeStore
from kiosk.link.outbox import Consent, KeptTake
from kiosk.errors import KioskError

if TYPE_CHECKING:
    from exhibits.booth.quality import QualityReport

# The quality-check codes (CONTRACT.md) in words for the person at the command line.
PROBLEMS_IN_WORDS = {
    "no_speech": "no one can be heard saying anything",
    "too_quiet": "the voice is too quiet",
    "clipped": "the voice is distorted: it was too loud for the recorder",
    "noisy": "the background is too loud next to the voice",
    "cut_off": "the name is cut off at the start or at the end",
    "too_short": "the take is too short",
    "too_long": "the take is longer than any name takes to read",
}

# Sources of 16 bits or fewer are kept as 16-bit FLAC: padding them to 24 adds nothing.
_SIXTEEN_BITS_OR_FEWER = {"PCM_16", "PCM_S8", "PCM_U8", "ULAW", "ALAW", "DWVW_12", "DWVW_16", "DPCM_8", "DPCM_16"}


class TakeRefused(KioskError):
    """The quality check found problems and `force` was not given; `report` says which."""

    def __init__(self, message: str, hint: str, report: QualityReport):
        super().__init__(message, hint)
        self.report = report


def ingest(
    store: TakeStore,
    audio_path: Path,
    *,
    person_id: str,
    known_person_ids: Container[str] | None,
    consent: Consent,
    force: bool,
    max_duration_s: float | None = None,
) -> tuple[KeptTake, QualityReport]:
    """Check `audio_path` like a booth take and keep it durably, queued for the central store.

    Raises `KioskError` for an unknown person (when `known_person_ids` is given) and for
    a file that cannot be read, and `TakeRefused` when the check finds problems and
    `force` is false, or, whatever `force` says, when the file is longer than
    `max_duration_s` (the station's [booth] max_recording_s; never more than 60 s): that
    is seen in the file's header, before any audio is decoded. Nothing is kept then. On
    success the kept take is returned with the quality report stored in its sidecar.
    """
    from exhibits.booth.quality import MAX_TAKE_S, TakeTooLong, read_take

    audio_path = Path(audio_path)
    if known_person_ids is not None and person_id not in known_person_ids:
        raise KioskError(
            f"there is no person {person_id!r} in the collection",
            "check the person id: it is the person_id column of the collection's persons.csv",
        )
    try:
        take = read_take(audio_path, max_duration_s=min(MAX_TAKE_S, max_duration_s or MAX_TAKE_S))
    except TakeTooLong as too_long:
        # Not even --force: the central store refuses takes this long, and the booth
        # itself would have stopped recording long before.
        raise TakeRefused(too_long.message, too_long.hint or "", too_long.report) from None
    report = take.analyze()
    if report.verdict != "ok" and not force:
        words = "; ".join(PROBLEMS_IN_WORDS.get(code, code) for code in (report.problems or [report.verdict]))
        raise TakeRefused(
            f"{audio_path}: not kept, the quality check found problems: {words}",
            "listen to the take; record it again, or use --force to keep it anyway",
            report,
        )
    kept = store.keep(
        take.mono,
        take.sample_rate,
        person_id=person_id,
        consent=consent,
        quality=report.to_json(),
        recorded_at=_modified_at(audio_path),
        subtype="PCM_16" if take.subtype in _SIXTEEN_BITS_OR_FEWER else None,
    )
    return kept, report


def _modified_at(path: Path) -> datetime:
    """When the file was last written: for a recorder's file, when the take ended.

    The sidecar's recorded_at is when the name was read, not when it was ingested.
    """
    return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
