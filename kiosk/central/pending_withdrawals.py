"""Withdrawals asked for before their recording reached the store (issue WD).

A participant may write to the museum while their take is still on the booth: the
gallery lost its network for days, or the take waits in the booth's queue. Staff type
the code and no recording has it yet. The withdrawal is then kept, by the code's hash
alone (the scheme the booths send, `kiosk.contract.withdrawal_code_hash`), with who
asked and when: never the code, nothing about the participant.

When a take with that code arrives, the upload is answered 201 as for any take, with
status "withdrawn": the store writes its row as received and withdrawn in the same
moment, and keeps no audio. That answer is the one the upload contract already has for
a withdrawn recording (the same id sent again is answered 200 "withdrawn"), so a booth
of any version marks the take sent and stops sending it, then hears of the withdrawal
through `GET /api/v1/withdrawn` like any other and deletes its copy (audio and sidecar).
A refusal would do worse: a 4xx leaves the take on the booth marked failed, audio and
all, and a 5xx has the booth send it again for ever. The name stays in the queue (the
booth's lease is given back), and the wall and the memorial, which only ever receive
approved recordings, never see it.

A withdrawal of a recording that had arrived keeps its code the same way (already
arrived), so that another copy of the take arriving later is withdrawn too.

A kept withdrawal stays for good: it names nobody (a slow hash of a random code, a
staff login, two moments), a booth may be offline for any time, and the record that a
participant withdrew is what the museum shows when asked.

Staff keeping a withdrawal and a booth uploading the same code at that moment must not
pass each other by (both looking before either writes). Both take a lock on the code
inside their write transaction: on SQLite the write lock itself (BEGIN IMMEDIATE), on
PostgreSQL a transaction-level advisory lock keyed by the hash. Whoever comes second
sees what the first one wrote.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text, update

from kiosk.central.bookings import booking_used
from kiosk.central.db import Database, DriverSQL, driver_cursor
from kiosk.central.schema import leases, pending_withdrawals, recordings

log = logging.getLogger(__name__)

WITHDRAWN_BEFORE_ARRIVAL = "consent withdrawn before the recording arrived"
"""The reason a recording withdrawn on arrival carries (staff read it in the history)."""
_LOCK_CLASS = 0x5744  # "WD": the advisory locks of withdrawal codes, apart from any other
_LOCK = "SELECT pg_advisory_xact_lock(:class, :key)"
_UPLOAD_SQL = DriverSQL.each(
    {"lock": _LOCK, "asked_by": "SELECT asked_by FROM pending_withdrawals WHERE code_hash = :code_hash"}
)


@dataclass(frozen=True)
class KeptWithdrawal:
    """A withdrawal kept for a recording not on the store yet."""

    asked_at: datetime
    asked_by: str
    already: bool
    """The same code was kept before (then `asked_at`, `asked_by` are the first time's)."""


def keep_withdrawal(database: Database, code_hash: str, *, by: str) -> KeptWithdrawal | uuid.UUID:
    """Keep a withdrawal of the code with this hash for when its recording arrives.

    Returns the id of a recording with this hash instead when one has arrived since the
    caller looked: the caller withdraws that one (`kiosk.central.moderation`).
    """
    with database.write() as connection:
        _lock_code(connection, code_hash)
        arrived = connection.execute(
            select(recordings.c.id).where(recordings.c.withdrawal_code_hash == code_hash).limit(1)
        ).scalar_one_or_none()
        if arrived is not None:
            return arrived
        before = connection.execute(
            select(pending_withdrawals.c.asked_at, pending_withdrawals.c.asked_by).where(
                pending_withdrawals.c.code_hash == code_hash
            )
        ).first()
        if before is not None:
            return KeptWithdrawal(before.asked_at, before.asked_by, True)
        now = database.now()
        connection.execute(insert(pending_withdrawals).values(code_hash=code_hash, asked_by=by, asked_at=now))
    # That a withdrawal is waiting, never whose: no code, no hash.
    log.info("withdrawal kept for a recording not yet on the store", extra={"staff": by})
    return KeptWithdrawal(now, by, False)


def remember_withdrawn_code(connection: Connection, code_hash: str, *, by: str, now: datetime) -> None:
    """A recording found by its code was withdrawn: keep its code too (as arrived), so a
    copy of the take that reaches the store later, under another id (a booth installed
    again, a queue restored from a backup), is withdrawn on arrival as well.
    Called in the withdrawal's write transaction."""
    _lock_code(connection, code_hash)
    known = connection.execute(
        select(pending_withdrawals.c.code_hash).where(pending_withdrawals.c.code_hash == code_hash)
    ).first()
    if known is None:
        connection.execute(
            insert(pending_withdrawals).values(code_hash=code_hash, asked_by=by, asked_at=now, arrived_at=now)
        )


def kept_withdrawal_of(database: Database, code_hash: str) -> KeptWithdrawal | None:
    """The withdrawal kept for this code's hash, if there is one."""
    with database.read() as connection:
        row = connection.execute(
            select(pending_withdrawals.c.asked_at, pending_withdrawals.c.asked_by).where(
                pending_withdrawals.c.code_hash == code_hash
            )
        ).first()
    return KeptWithdrawal(row.asked_at, row.asked_by, True) if row is not None else None


def arrived_withdrawn(connection: Connection, code_hash: str | None, row: dict[str, Any]) -> bool:
    """Whether this upload's code was withdrawn before it arrived; if so, its row is written
    as withdrawn, without audio, and the booth's lease on the name given back.

    Called by the upload (`kiosk.central.recordings.store_recording`) in its write
    transaction, with the person's row locked, before the lease check: a withdrawn take
    is answered 201 whoever holds its name now. `row` is the recording row's values the
    upload would write (id, person, station, sha256, the metadata as kept, without the
    code or its hash, ...), less its status, reason and audio; the received audio is left
    for the caller to remove, as always.
    """
    if code_hash is None:
        return False
    # Every upload looks: as SQL text (`kiosk.central.db.DriverSQL`), the lock first, then
    # the look-up in a statement of its own, which sees what a withdrawal that held the
    # lock committed.
    sql = _UPLOAD_SQL[connection.dialect.name]
    with driver_cursor(connection) as cursor:
        if sql.dialect == "postgresql":
            cursor.execute(sql.lock, {"class": _LOCK_CLASS, "key": _lock_key(code_hash)})
        cursor.execute(sql.asked_by, {"code_hash": code_hash})
        found = cursor.fetchone()
    if found is None:
        return False
    asked_by = found[0]
    connection.execute(
        insert(recordings).values(**row, audio_path=None, status="withdrawn", reason=WITHDRAWN_BEFORE_ARRIVAL, decided_by=asked_by)
    )
    now, person, station_id = row["status_at"], row["person_id"], row["station_id"]
    connection.execute(
        update(pending_withdrawals)
        .where(pending_withdrawals.c.code_hash == code_hash, pending_withdrawals.c.arrived_at.is_(None))
        .values(arrived_at=now)
    )
    # The name is free again: the booth's lease given back, a booking for it used (as an
    # upload then a withdrawal would have left it).
    given_back = connection.execute(
        update(leases)
        .where(leases.c.person_id == person, leases.c.station_id == station_id, leases.c.ended_at.is_(None))
        .values(ended_at=now, end_reason="released")
    ).rowcount
    booking_used(connection, person, now, free=bool(given_back))
    # That it happened, never whose: no recording id, person, code or hash.
    log.info("a recording arrived whose consent was withdrawn before; its audio was not kept")
    return True


def _lock_code(connection: Connection, code_hash: str) -> None:
    """Hold the code's lock until the transaction ends (SQLite: the write lock is held already)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(_LOCK), {"class": _LOCK_CLASS, "key": _lock_key(code_hash)})


def _lock_key(code_hash: str) -> int:
    return int(code_hash[:8], 16) - 2**31  # any 32 bits of the hash; a shared key only makes two wait
