"""Staff decisions on recordings, and what the wall and the memorial may play.

A recording arrives as "received": it gives its person a voice at once (the name leaves
the booths' queue), but nobody hears it outside the booth until staff have listened
and approved it. Staff may reject a recording with a reason (the name then goes back
to the queue unless another recording still gives it a voice), and change their mind
later. A participant who withdraws consent gives the withdrawal code from the thank-you
screen; the recording's audio is deleted and its name freed. A withdrawal is final: the
row stays, without audio, so the figures and the log still add up and the same code
given again is answered "withdrawn already" instead of "unknown". A code no recording
has yet is kept, and its recording withdrawn the moment it arrives
(`kiosk.central.pending_withdrawals`).

Every change of status locks the person's row first and sets `persons.voiced` again in
the same transaction (the rule in `kiosk.central.schema`), so a booth claiming names at
that moment sees either the old state or the new one, never half of it.

Audio is content-addressed and may be shared by two rows (the same take uploaded under
two ids by a re-installed booth): a file is deleted only when no row still points to it.
The database change commits first and the file goes after; a crash in between leaves a
file nobody points to, which `sweep_orphan_audio` removes later.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, and_, exists, func, select, update

from kiosk.central.codes import legacy_withdrawal_code_hash, withdrawal_code_hash
from kiosk.central.db import Database
from kiosk.central.errors import Conflict, NotFound, Unprocessable
from kiosk.central.pending_withdrawals import KeptWithdrawal, keep_withdrawal, remember_withdrawn_code
from kiosk.central.recordings import AudioStore
from kiosk.central.schema import VOICED_STATUSES, collection_imports, persons, recordings, stations, transports
from kiosk.contract import normalise_code
from kiosk.files import fsync_directory

log = logging.getLogger(__name__)

REASON_MAX = 500
ORPHAN_GRACE_S = 3600
"""An audio file nobody points to is left this long: an upload in flight places its file
before it writes its row."""


@dataclass(frozen=True)
class Decision:
    """What a status change did."""

    recording_id: uuid.UUID
    person_id: str
    status: str
    previous_status: str
    name_has_voice: bool
    audio_deleted: bool = False


def approve(database: Database, recording_id: uuid.UUID, *, by: str) -> Decision:
    """Approve a recording for the wall and the memorial (again harmless)."""
    return _decide(database, recording_id, "approved", reason=None, by=by)


def reject(database: Database, recording_id: uuid.UUID, *, reason: str, by: str) -> Decision:
    """Reject a recording, saying why (staff read the reason later; nobody else does)."""
    reason = " ".join(str(reason).split())
    if not reason:
        raise Unprocessable("say why the recording is rejected (for example: another name was read)")
    if len(reason) > REASON_MAX:
        raise Unprocessable(f"the reason is longer than {REASON_MAX} characters")
    return _decide(database, recording_id, "rejected", reason=reason, by=by)


def _decide(database: Database, recording_id: uuid.UUID, status: str, *, reason: str | None, by: str) -> Decision:
    with database.write() as connection:
        row = _locked(connection, recording_id)
        if row.status == "withdrawn":
            raise Conflict("this recording was withdrawn by its participant; it can no longer be approved or rejected")
        previous = row.status
        connection.execute(
            update(recordings)
            .where(recordings.c.id == recording_id)
            .values(status=status, status_at=database.now(), reason=reason, decided_by=by)
        )
        voiced = _set_voiced(connection, row.person)
    log.info("recording %s", status, extra={"recording_id": str(recording_id), "staff": by})
    return Decision(recording_id, row.person_id, status, previous, voiced)


def choose_take(database: Database, recording_id: uuid.UUID, *, reason: str, by: str) -> list[uuid.UUID]:
    """Staff keep this take of a name: it is approved, and the name's other waiting or
    approved takes are rejected with `reason`, in one transaction (one voice per name).
    Returns the ids rejected."""
    reason = " ".join(str(reason).split())[:REASON_MAX]
    with database.write() as connection:
        row = _locked(connection, recording_id)
        if row.status == "withdrawn":
            raise Conflict("this recording was withdrawn by its participant; it can no longer be chosen")
        now = database.now()
        others = list(
            connection.execute(
                select(recordings.c.id).where(
                    recordings.c.person_id == row.person,
                    recordings.c.id != recording_id,
                    recordings.c.status.in_(VOICED_STATUSES),
                )
            ).scalars()
        )
        connection.execute(
            update(recordings)
            .where(recordings.c.id == recording_id)
            .values(status="approved", status_at=now, reason=None, decided_by=by)
        )
        if others:
            connection.execute(
                update(recordings)
                .where(recordings.c.id.in_(others))
                .values(status="rejected", status_at=now, reason=reason, decided_by=by)
            )
        _set_voiced(connection, row.person)
    log.info("take chosen among the takes of one name", extra={"rejected": len(others), "staff": by})
    return others


def other_takes(database: Database, recording_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Pending]]:
    """For each of these recordings, the other takes of the same name still waiting or approved."""
    if not recording_ids:
        return {}
    with database.read() as connection:
        person_of = dict(
            connection.execute(select(recordings.c.id, recordings.c.person_id).where(recordings.c.id.in_(recording_ids))).all()
        )
        siblings = connection.execute(
            _pending_query().where(
                recordings.c.person_id.in_(set(person_of.values())), recordings.c.status.in_(VOICED_STATUSES)
            ).order_by(recordings.c.received_at, recordings.c.id)
        ).all()
    by_person: dict[int, list[Any]] = {}
    for sibling in siblings:
        by_person.setdefault(sibling.person, []).append(sibling)
    return {
        recording_id: [_pending(row) for row in by_person.get(person, []) if row.id != recording_id]
        for recording_id, person in person_of.items()
        if any(row.id != recording_id for row in by_person.get(person, []))
    }


def _locked(connection: Connection, recording_id: uuid.UUID) -> Any:
    """The recording with its person's row locked (person before recording, like the upload)."""
    found = connection.execute(
        select(recordings.c.person_id).where(recordings.c.id == recording_id)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no recording {recording_id}")
    connection.execute(select(persons.c.id).where(persons.c.id == found).with_for_update()).scalar_one()
    return connection.execute(
        select(
            recordings.c.status,
            recordings.c.audio_path,
            recordings.c.sha256,
            recordings.c.withdrawal_code_hash,
            recordings.c.person_id.label("person"),
            persons.c.person_id,
        )
        .join(persons, persons.c.id == recordings.c.person_id)
        .where(recordings.c.id == recording_id)
    ).one()


def _set_voiced(connection: Connection, person: int) -> bool:
    """Set `persons.voiced` from the person's recordings; its row must be locked."""
    voiced = connection.execute(
        select(
            exists().where(recordings.c.person_id == person, recordings.c.status.in_(VOICED_STATUSES))
        )
    ).scalar_one()
    connection.execute(update(persons).where(persons.c.id == person).values(voiced=voiced))
    return bool(voiced)


@dataclass(frozen=True)
class Withdrawal:
    """A withdrawal by code: which recording, and whether it had been withdrawn before."""

    recording_id: uuid.UUID
    person_id: str
    already: bool
    audio_deleted: bool
    name_has_voice: bool


def recording_for_code(database: Database, code: str) -> dict[str, Any] | None:
    """The recording a participant's withdrawal code names, with its person; None when none does.

    Unprocessable when the text is not a code. See `find_code`.
    """
    return find_code(database, code)[0]


def find_code(database: Database, code: str) -> tuple[dict[str, Any] | None, str]:
    """The recording a withdrawal code names (None when none does) and the code's hash as
    booths send it now (what `keep_withdrawal` keeps when no recording has it yet).

    Unprocessable when the text is not a code. The code is hashed once here (scrypt is
    slow on purpose), so a caller that shows the recording before withdrawing it passes
    its id on to `withdraw_recording` rather than the code again. Only when no recording
    has that hash is it hashed once more the old way, for rows kept before issue 18Y
    (see `kiosk.central.codes`): two scrypt runs at most, however many takes are stored.
    """
    canonical = normalise_code(code)
    if canonical is None:
        raise Unprocessable(
            "that is not a withdrawal code: eight letters and digits like ABCD-2345, as on the thank-you screen "
            "(no 0, O, 1, I, L or U)"
        )
    current = withdrawal_code_hash(canonical)
    found = _recording_with_code_hash(database, current)
    if found is None:  # the old scheme only when needed
        found = _recording_with_code_hash(database, legacy_withdrawal_code_hash(canonical))
    return found, current


def _recording_with_code_hash(database: Database, code_hash: str) -> dict[str, Any] | None:
    with database.read() as connection:
        row = connection.execute(
            select(
                recordings.c.id,
                recordings.c.status,
                recordings.c.received_at,
                recordings.c.recorded_at,
                recordings.c.status_at,
                persons.c.person_id,
                persons.c.surname,
                persons.c.given_names,
                persons.c.list_number,
                transports.c.code,
            )
            .join(persons, persons.c.id == recordings.c.person_id)
            .join(transports, transports.c.id == persons.c.transport_id)
            .where(recordings.c.withdrawal_code_hash == code_hash)
        ).first()
    return dict(row._mapping) if row is not None else None


def withdraw(database: Database, audio: AudioStore, code: str, *, by: str) -> Withdrawal | KeptWithdrawal:
    """Withdraw the recording a participant's code names: delete its audio, free the name.

    When no recording has that code yet (the take is still on its booth), the withdrawal
    is kept instead (`KeptWithdrawal`): the recording is withdrawn the moment it arrives
    (`kiosk.central.pending_withdrawals`). Unprocessable when the text is not a code.
    """
    found, code_hash = find_code(database, code)
    if found is None:
        return keep_or_withdraw(database, audio, code_hash, by=by)
    return withdraw_recording(database, audio, found["id"], by=by)


def keep_or_withdraw(database: Database, audio: AudioStore, code_hash: str, *, by: str) -> Withdrawal | KeptWithdrawal:
    """For a code `find_code` found no recording of: keep its withdrawal for when the
    recording arrives, or withdraw the recording if it arrived in the meantime."""
    kept = keep_withdrawal(database, code_hash, by=by)
    if isinstance(kept, KeptWithdrawal):
        return kept
    return withdraw_recording(database, audio, kept, by=by)


def withdraw_recording(database: Database, audio: AudioStore, recording_id: uuid.UUID, *, by: str) -> Withdrawal:
    """Withdraw one recording (found by its code): delete its audio unless shared, free the
    name, and keep its code so that a copy of the take arriving later is withdrawn too."""
    with database.write() as connection:
        row = _locked(connection, recording_id)
        if row.status == "withdrawn":
            return Withdrawal(recording_id, row.person_id, True, False, _voiced(connection, row.person))
        now = database.now()
        connection.execute(
            update(recordings)
            .where(recordings.c.id == recording_id)
            .values(status="withdrawn", status_at=now, reason="consent withdrawn", decided_by=by, audio_path=None)
        )
        if row.withdrawal_code_hash is not None:
            remember_withdrawn_code(connection, row.withdrawal_code_hash, by=by, now=now)
        voiced = _set_voiced(connection, row.person)
        still_used = connection.execute(
            select(func.count()).where(
                recordings.c.sha256 == row.sha256,
                recordings.c.audio_path.is_not(None),
                recordings.c.id != recording_id,
            )
        ).scalar_one()
    deleted = False
    if row.audio_path and not still_used:
        deleted = _delete_audio(audio, row.audio_path)
    # That a withdrawal happened, never whose: no recording id, person, name or code.
    log.info("recording withdrawn", extra={"audio_deleted": deleted})
    return Withdrawal(recording_id, row.person_id, False, deleted, voiced)


def withdrawn_from(database: Database, station_id: int) -> list[uuid.UUID]:
    """The recordings this station uploaded that were withdrawn since: it deletes its own copies."""
    with database.read() as connection:
        return list(
            connection.execute(
                select(recordings.c.id)
                .where(recordings.c.station_id == station_id, recordings.c.status == "withdrawn")
                .order_by(recordings.c.status_at, recordings.c.id)
            ).scalars()
        )


def _voiced(connection: Connection, person: int) -> bool:
    return bool(connection.execute(select(persons.c.voiced).where(persons.c.id == person)).scalar_one())


def _delete_audio(audio: AudioStore, relative: str) -> bool:
    path = audio.path_of(relative)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    fsync_directory(path.parent)
    return True


def sweep_orphan_audio(database: Database, audio: AudioStore, *, grace_s: float = ORPHAN_GRACE_S) -> list[str]:
    """Delete audio files no recording points to; their relative paths.

    A file younger than `grace_s` is kept (an upload places its file just before it
    writes its row), except the file of a withdrawn recording that was last written
    before the withdrawal: that is a deletion a crash interrupted, and withdrawn audio
    goes at once. The store runs this at start and then hourly (`kiosk.central.upkeep`).
    """
    with database.read() as connection:
        referenced = {
            path for (path,) in connection.execute(select(recordings.c.audio_path).where(recordings.c.audio_path.is_not(None)))
        }
        withdrawn_at: dict[str, float] = {}
        for sha256, status_at in connection.execute(
            select(recordings.c.sha256, recordings.c.status_at).where(recordings.c.status == "withdrawn")
        ):
            moment = status_at.timestamp()
            withdrawn_at[sha256] = max(moment, withdrawn_at.get(sha256, moment))
    cutoff = time.time() - grace_s
    removed = []
    for path in sorted(audio.root.glob("??/*.flac")):
        relative = path.relative_to(audio.root).as_posix()
        if relative in referenced:
            continue
        try:
            written = path.stat().st_mtime
        except FileNotFoundError:
            continue
        left_by_withdrawal = path.stem in withdrawn_at and written <= withdrawn_at[path.stem]
        if written > cutoff and not left_by_withdrawal:
            continue
        if _delete_audio(audio, relative):
            removed.append(relative)
    if removed:
        log.warning("removed audio files no recording points to", extra={"count": len(removed)})
    return removed


# What the wall and the memorial may play -------------------------------------------


@dataclass(frozen=True)
class Voice:
    """The approved recording that gives one person their voice outside the booth."""

    person_id: str
    recording_id: uuid.UUID
    sha256: str
    size_bytes: int
    duration_s: float
    surname: str
    given_names: str
    transport: str
    transport_position: int
    list_number: int
    approved_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "recording_id": str(self.recording_id),
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "duration_s": self.duration_s,
            "surname": self.surname,
            "given_names": self.given_names,
            "transport": self.transport,
            "transport_position": self.transport_position,
            "list_number": self.list_number,
            "approved_at": self.approved_at.isoformat(),
        }


def approved_voices(database: Database, person_id: str | None = None) -> list[Voice]:
    """One voice per person with an approved recording, in transport and list order.

    When a person has several approved recordings, the one approved last is theirs.
    """
    ranked = (
        select(
            recordings.c.id,
            recordings.c.person_id,
            func.row_number()
            .over(partition_by=recordings.c.person_id, order_by=(recordings.c.status_at.desc(), recordings.c.id))
            .label("rank"),
        )
        .where(recordings.c.status == "approved", recordings.c.audio_path.is_not(None))
        .subquery()
    )
    query = (
        select(
            persons.c.person_id,
            recordings.c.id,
            recordings.c.sha256,
            recordings.c.size_bytes,
            recordings.c.duration_s,
            persons.c.surname,
            persons.c.given_names,
            transports.c.code,
            transports.c.position,
            persons.c.list_number,
            recordings.c.status_at,
        )
        .select_from(ranked)
        .join(recordings, and_(recordings.c.id == ranked.c.id, ranked.c.rank == 1))
        .join(persons, persons.c.id == ranked.c.person_id)
        .join(transports, transports.c.id == persons.c.transport_id)
        .order_by(transports.c.position, persons.c.list_number, persons.c.person_id)
    )
    if person_id is not None:
        query = query.where(persons.c.person_id == person_id)
    with database.read() as connection:
        return [Voice(*row) for row in connection.execute(query)]


def voices_version(database: Database) -> str:
    """A tag that changes whenever the list of approved voices (or its figures) may have:
    every change of a recording's status, and every upload, sets its `status_at` to now,
    and an import adds a row. Stations send it back (If-None-Match) so an unchanged list
    costs them, and the store, almost nothing, and they can ask every minute."""
    with database.read() as connection:
        latest, count = connection.execute(select(func.max(recordings.c.status_at), func.count())).one()
        imported = connection.execute(select(func.max(collection_imports.c.id))).scalar()
    return f'"v-{count}-{latest.timestamp() if latest else 0}-{imported or 0}"'


def voice_audio(database: Database, audio: AudioStore, sha256: str) -> Path:
    """The file of an approved recording's audio; NotFound for anything not approved."""
    with database.read() as connection:
        relative = connection.execute(
            select(recordings.c.audio_path)
            .where(recordings.c.sha256 == sha256, recordings.c.status == "approved", recordings.c.audio_path.is_not(None))
            .limit(1)
        ).scalar_one_or_none()
    if relative is None:
        raise NotFound("no approved recording has this audio")
    path = audio.path_of(relative)
    if not path.is_file():
        log.error("approved audio is missing from the audio folder", extra={"path": relative})
        raise NotFound("the audio of this approved recording is missing on the store; staff are told in the log")
    return path


# What staff see --------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A recording waiting for staff to listen to it."""

    recording_id: uuid.UUID
    person_id: str
    surname: str
    given_names: str
    transport: str
    list_number: int
    station_id: str
    received_at: datetime
    duration_s: float
    sha256: str
    consent_language: str
    quality_verdict: str
    status: str
    reason: str | None


def recordings_to_review(
    database: Database, *, status: Literal["received", "approved", "rejected", "withdrawn"] = "received", limit: int = 50, offset: int = 0
) -> tuple[list[Pending], int]:
    """Recordings in one status, oldest first for "received" (newest first otherwise), and how many in all."""
    order = recordings.c.received_at.asc() if status == "received" else recordings.c.status_at.desc()
    query = _pending_query().where(recordings.c.status == status).order_by(order, recordings.c.id).limit(limit).offset(offset)
    with database.read() as connection:
        total = connection.execute(select(func.count()).where(recordings.c.status == status)).scalar_one()
        rows = connection.execute(query).all()
    return [_pending(row) for row in rows], total


def _pending_query() -> Any:
    return (
        select(
            recordings.c.id,
            recordings.c.person_id.label("person"),
            persons.c.person_id,
            persons.c.surname,
            persons.c.given_names,
            transports.c.code,
            persons.c.list_number,
            stations.c.station_id,
            recordings.c.received_at,
            recordings.c.duration_s,
            recordings.c.sha256,
            recordings.c.metadata,
            recordings.c.status,
            recordings.c.reason,
        )
        .join(persons, persons.c.id == recordings.c.person_id)
        .join(transports, transports.c.id == persons.c.transport_id)
        .join(stations, stations.c.id == recordings.c.station_id)
    )


def _pending(row: Any) -> Pending:
    document = row.metadata or {}
    return Pending(
        recording_id=row.id,
        person_id=row.person_id,
        surname=row.surname,
        given_names=row.given_names,
        transport=row.code,
        list_number=row.list_number,
        station_id=row.station_id,
        received_at=row.received_at,
        duration_s=row.duration_s,
        sha256=row.sha256,
        consent_language=str((document.get("consent") or {}).get("language", "")),
        quality_verdict=str((document.get("quality") or {}).get("verdict", "")),
        status=row.status,
        reason=row.reason,
    )


def recording_audio(database: Database, audio: AudioStore, recording_id: uuid.UUID) -> Path:
    """The audio of any recording that still has some (for staff listening before a decision)."""
    with database.read() as connection:
        relative = connection.execute(
            select(recordings.c.audio_path).where(recordings.c.id == recording_id)
        ).scalar_one_or_none()
    if relative is None:
        raise NotFound("no audio for this recording (unknown, or withdrawn)")
    path = audio.path_of(relative)
    if not path.is_file():
        raise NotFound("the audio of this recording is missing on the store")
    return path


def collection_size(database: Database) -> int:
    """Active persons of the last import: the "of 25,843" figure."""
    with database.read() as connection:
        return connection.execute(select(func.count()).select_from(persons).where(persons.c.active)).scalar_one()


def waiting_count(database: Database) -> int:
    """Recordings waiting for a decision (the number beside "Queue" on every staff page)."""
    with database.read() as connection:
        return connection.execute(select(func.count()).where(recordings.c.status == "received")).scalar_one()


def status_counts(database: Database) -> dict[str, int]:
    """Recordings per status: received, approved, rejected, withdrawn."""
    with database.read() as connection:
        return dict(connection.execute(select(recordings.c.status, func.count()).group_by(recordings.c.status)).all())


def decisions(database: Database, ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """When and by whom each of these recordings was decided (rows with status_at, decided_by)."""
    if not ids:
        return {}
    with database.read() as connection:
        rows = connection.execute(
            select(recordings.c.id, recordings.c.status_at, recordings.c.decided_by).where(recordings.c.id.in_(ids))
        ).all()
    return {row.id: row for row in rows}
