"""How each station is doing, in the words staff read: ok, or what needs attention since
when and what to do (the staff's stations page and `kiosk central stations`).

A heartbeat says which devices the station's own program has and their state, whether
that program runs, the disk, the queue. `conditions_of` turns one heartbeat into
condition codes; `record_heartbeat` keeps them in `station_conditions` with the moment
each first appeared, so "since when" needs no reading of history. Silence (no
heartbeat for `station_silent_after_s`), a revoked token and a station never heard from
are judged when the page is read.

Only the devices a station reports count: a wall has no microphone, so nothing about a
microphone is ever shown for it. A station that uploaded a take counts as heard from,
even before its first heartbeat.

The codes are stable (scripts read `--json`); texts are `staff.health.*` in media/i18n.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from kiosk.central.db import Database
from kiosk.central.schema import heartbeats, latest_heartbeats, recordings, station_conditions, station_screens, stations

LOW_DISK_BYTES = 2 * 10**9
LONG_QUEUE = 20
TROUBLED_STATES = frozenset({"lost", "failed", "searching", "error", "missing", "disconnected", "broken", "unknown", "stale"})
KNOWN_DEVICES = ("microphone", "controller", "speaker", "output")
"""Devices with their own sentence in the catalogues; others get the general one."""
LEGACY_ABSENT = frozenset({"unknown", "none", "absent", ""})


def devices_of(beat: Any) -> dict[str, str]:
    """The devices a heartbeat reports; from before issue 14, guessed from its two states."""
    get = beat.get if isinstance(beat, Mapping) else lambda key: getattr(beat, key, None)
    devices = get("devices")
    if devices is not None:
        return {str(name): str(state) for name, state in devices.items()}
    guessed = {}
    for name, key in (("microphone", "audio_state"), ("controller", "controller_state")):
        state = str(get(key) or "").lower()
        if state not in LEGACY_ABSENT:
            guessed[name] = state
    return guessed


def program_of(beat: Any) -> str | None:
    """"running", "stopped" or None (not said); a station from before issue 14 said "stale"."""
    get = beat.get if isinstance(beat, Mapping) else lambda key: getattr(beat, key, None)
    if get("program"):
        return str(get("program"))
    return "stopped" if str(get("audio_state") or "").lower() == "stale" else None


def device_ok(state: str) -> bool:
    return state.lower() not in TROUBLED_STATES


def conditions_of(beat: Any) -> set[str]:
    """What needs attention according to one heartbeat, as condition codes."""
    found = set()
    if program_of(beat) == "stopped":
        found.add("program_stopped")
    else:
        found.update(f"device:{name}" for name, state in devices_of(beat).items() if not device_ok(state))
    if beat.free_disk_bytes < LOW_DISK_BYTES:
        found.add("disk_low")
    if beat.input_overflows > 0:
        found.add("sound_interrupted")
    if beat.queue_length >= LONG_QUEUE:
        found.add("queue_long")
    return found


def update_conditions(connection: Connection, station_id: int, now_found: set[str], now: datetime) -> None:
    """Keep the conditions that hold (with their first moment), add new ones, drop the rest."""
    held = set(
        connection.execute(select(station_conditions.c.condition).where(station_conditions.c.station_id == station_id)).scalars()
    )
    gone = held - now_found
    if gone:
        connection.execute(
            delete(station_conditions).where(
                station_conditions.c.station_id == station_id, station_conditions.c.condition.in_(gone)
            )
        )
    for condition in sorted(now_found - held):
        connection.execute(insert(station_conditions).values(station_id=station_id, condition=condition, since=now))


@dataclass(frozen=True)
class Problem:
    """One thing that needs attention: its code, since when, and what the text needs."""

    code: str  # silent, never, revoked, program_stopped, device, disk_low, sound_interrupted, queue_long
    since: datetime | None
    device: str | None = None
    state: str | None = None
    count: int | None = None

    @property
    def text_key(self) -> str:
        if self.code == "device":
            return f"device_{self.device}" if self.device in KNOWN_DEVICES else "device"
        return self.code

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"code": self.code, "since": self.since.isoformat() if self.since else None}
        for key in ("device", "state", "count"):
            if getattr(self, key) is not None:
                document[key] = getattr(self, key)
        return document


@dataclass(frozen=True)
class StationHealth:
    """One station as staff see it."""

    station_id: str
    state: str  # "ok" or "attention"
    problems: list[Problem]
    last_heard_at: datetime | None
    last_take_at: datetime | None
    devices: dict[str, str] = field(default_factory=dict)
    program: str | None = None
    version: str | None = None
    queue_length: int | None = None
    free_disk_bytes: int | None = None
    screen_taken_at: datetime | None = None

    def device_rows(self) -> list[tuple[str, str, bool]]:
        return [(name, state, device_ok(state)) for name, state in self.devices.items()]

    def to_json(self) -> dict[str, Any]:
        def moment(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "station_id": self.station_id,
            "state": self.state,
            "problems": [problem.to_json() for problem in self.problems],
            "last_heard_at": moment(self.last_heard_at),
            "last_take_at": moment(self.last_take_at),
            "devices": {name: {"state": state, "ok": fine} for name, state, fine in self.device_rows()},
            "program": self.program,
            "version": self.version,
            "queue_length": self.queue_length,
            "free_disk_bytes": self.free_disk_bytes,
            "screen_taken_at": moment(self.screen_taken_at),
        }


def stations_health(database: Database, *, silent_after: timedelta) -> list[StationHealth]:
    """Every enrolled station, in station id order, as the stations page shows it."""
    with database.read() as connection:
        now = database.now()
        known = connection.execute(
            select(stations.c.id, stations.c.station_id, stations.c.revoked_at).order_by(stations.c.station_id)
        ).all()
        beats = {
            row.station_id: row
            for row in connection.execute(
                select(heartbeats).join(latest_heartbeats, latest_heartbeats.c.heartbeat_id == heartbeats.c.id)
            )
        }
        last_takes = dict(
            connection.execute(select(recordings.c.station_id, func.max(recordings.c.received_at)).group_by(recordings.c.station_id)).all()
        )
        conditions: dict[int, dict[str, datetime]] = {}
        for row in connection.execute(select(station_conditions)):
            conditions.setdefault(row.station_id, {})[row.condition] = row.since
        screens = dict(connection.execute(select(station_screens.c.station_id, station_screens.c.taken_at)).all())
    return [
        _health(row, beats.get(row.id), last_takes.get(row.id), conditions.get(row.id, {}), screens.get(row.id), now, silent_after)
        for row in known
    ]


def _health(
    station: Any,
    beat: Any,
    last_take: datetime | None,
    held: dict[str, datetime],
    screen_taken_at: datetime | None,
    now: datetime,
    silent_after: timedelta,
) -> StationHealth:
    heard = max((moment for moment in (beat.received_at if beat else None, last_take) if moment), default=None)
    problems: list[Problem] = []
    devices = devices_of(beat._mapping) if beat is not None else {}
    program = program_of(beat._mapping) if beat is not None else None
    if station.revoked_at is not None:
        problems.append(Problem("revoked", station.revoked_at))
    elif heard is None:
        problems.append(Problem("never", None))
    elif now - heard > silent_after:
        problems.append(Problem("silent", heard))
    elif beat is not None:
        if program == "stopped":
            problems.append(Problem("program_stopped", beat.program_seen_at or held.get("program_stopped", heard)))
        else:
            for name, state in devices.items():
                if not device_ok(state):
                    problems.append(Problem("device", held.get(f"device:{name}", heard), device=name, state=state))
        if "disk_low" in held:
            problems.append(Problem("disk_low", held["disk_low"]))
        if "queue_long" in held:
            problems.append(Problem("queue_long", held["queue_long"], count=beat.queue_length))
        if "sound_interrupted" in held:
            problems.append(Problem("sound_interrupted", held["sound_interrupted"], count=beat.input_overflows))
    return StationHealth(
        station_id=station.station_id,
        state="attention" if problems else "ok",
        problems=problems,
        last_heard_at=heard,
        last_take_at=last_take,
        devices=devices if program != "stopped" else {},
        program=program,
        version=beat.version if beat is not None else None,
        queue_length=beat.queue_length if beat is not None else None,
        free_disk_bytes=beat.free_disk_bytes if beat is not None else None,
        screen_taken_at=screen_taken_at,
    )


def device_label(name: str, language: str) -> str:
    from kiosk.i18n import text

    return text(language, f"staff.health.device.{name}") if name in KNOWN_DEVICES else name


def problem_words(problem: Problem, language: str, when: Callable[[datetime | None], str]) -> tuple[str, str]:
    """What needs attention and what to do, in `language` (`when` writes a moment)."""
    from kiosk.i18n import number, text

    key = problem.text_key
    what = text(
        language,
        f"staff.health.problem.{key}",
        when=when(problem.since),
        count=number(language, problem.count or 0),
        device=device_label(problem.device or "", language),
    )
    return what, text(language, f"staff.health.todo.{key}")


def station_screen(database: Database, station_id: str) -> tuple[datetime, bytes] | None:
    """The latest picture of this station's screen (PNG) and when it was taken; None if none came."""
    with database.read() as connection:
        row = connection.execute(
            select(station_screens.c.taken_at, station_screens.c.png)
            .join(stations, stations.c.id == station_screens.c.station_id)
            .where(stations.c.station_id == station_id)
        ).first()
    return (row.taken_at, bytes(row.png)) if row is not None else None
