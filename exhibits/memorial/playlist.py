"""What the memorial plays, in which order, from which loudspeaker, and when.

Plain Python (no pygame, no sound device), so the order, the fold-down of transports onto
the loudspeakers, the joining and leaving of names and the opening hours are tested
without a screen or a sound card.

- Order: transport order (the central store's `transport_position`, the order of
  transports.csv), then list number, then person id; after the last name the list starts
  again. The memorial remembers the *key* of the name it played last, not an index, so a
  name approved meanwhile joins at its place and a withdrawn one is simply no longer
  found: the next name is always "the first one after the key".
- Loudspeakers: `[memorial] channel_of` names a transport's loudspeaker. A transport not
  named goes round the loudspeakers in transport order (position modulo channels): with
  28 loudspeakers each of the 28 transports has its own, with fewer, neighbouring
  transports still come from neighbouring loudspeakers, and a transport that gets its
  first voice later never moves the others (which a fold over "transports with a voice
  so far" would).
- Opening hours: a weekly schedule plus closed dates, in the station's local time, asked
  through an injected clock. They come from the gallery's one hours file
  (/etc/dossin/hours.conf, which `dossin-hours` reads too: `OpeningHours.from_file`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

from kiosk.errors import KioskError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Entry:
    """One name that has a voice: what the memorial plays and shows."""

    person_id: str
    sha256: str
    size_bytes: int
    surname: str
    given_names: str
    transport: str
    transport_position: int
    list_number: int

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.transport_position, self.list_number, self.person_id)

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.given_names, self.surname) if part)

    @classmethod
    def from_voice(cls, voice: Mapping) -> Entry:
        """An entry from one item of `GET /api/v1/voices`; ValueError if it is not one."""
        try:
            sha256 = str(voice["sha256"]).lower()
            if not re.fullmatch(r"[0-9a-f]{64}", sha256):
                raise ValueError(f"sha256 {sha256!r} is not 64 hexadecimal digits")
            return cls(
                person_id=str(voice["person_id"]),
                sha256=sha256,
                size_bytes=int(voice["size_bytes"]),
                surname=str(voice.get("surname") or ""),
                given_names=str(voice.get("given_names") or ""),
                transport=str(voice["transport"]),
                transport_position=int(voice["transport_position"]),
                list_number=int(voice["list_number"]),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a voice: {error!r} in {dict(voice)!r}") from None


class Playlist:
    """The names with a voice in memorial order; asks "which comes after this one?"."""

    def __init__(self, entries: Iterable[Entry]):
        by_person: dict[str, Entry] = {}
        for entry in entries:
            by_person[entry.person_id] = entry  # one voice per person: the later one wins
        self.entries: tuple[Entry, ...] = tuple(sorted(by_person.values(), key=lambda e: e.key))
        self._keys = [entry.key for entry in self.entries]

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, entry: object) -> bool:
        if not isinstance(entry, Entry):
            return False
        index = bisect.bisect_left(self._keys, entry.key)
        return index < len(self.entries) and self.entries[index] == entry

    def after(self, key: tuple[int, int, str] | None) -> Entry | None:
        """The first name after `key` (None: from the start), round again after the last."""
        if not self.entries:
            return None
        if key is None:
            return self.entries[0]
        index = bisect.bisect_right(self._keys, key)
        return self.entries[index % len(self.entries)]


class ChannelMap:
    """Which output channel (0-based) sounds each transport."""

    def __init__(self, channels: int, channel_of: Mapping[str, int] | None = None):
        if channels < 1:
            raise ValueError(f"at least one channel is needed, not {channels}")
        named = dict(channel_of or {})
        wrong = {code: channel for code, channel in named.items() if not 1 <= channel <= channels}
        if wrong:
            raise KioskError(
                f"[memorial] channel_of names loudspeakers the {channels} channels do not have: {wrong}",
                f"use channels 1 to {channels}, or raise [memorial] channels",
            )
        self.channels = channels
        self._named = {code: channel - 1 for code, channel in named.items()}

    def channel_of(self, entry: Entry) -> int:
        named = self._named.get(entry.transport)
        if named is not None:
            return named
        return entry.transport_position % self.channels


def _minutes(text: str) -> int:
    hours, minutes = (int(part) for part in text.split(":"))
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 24 * 60:
        raise ValueError(f"{text} is not a time of day (00:00 to 24:00)")
    return hours * 60 + minutes


def parse_periods(text: str) -> tuple[tuple[int, int], ...]:
    """ "09:00-12:00, 13:00-17:00" -> ((540, 720), (780, 1020)); "closed" -> ()."""
    text = text.strip()
    if text == "closed":
        return ()
    periods = []
    for part in text.split(","):
        start_text, _, end_text = part.strip().partition("-")
        start, end = _minutes(start_text), _minutes(end_text)
        if end <= start:
            raise ValueError(f"{part.strip()} ends before it begins (a period past midnight: split it over two days)")
        periods.append((start, end))
    return tuple(sorted(periods))


HOURS_HINT = (
    "write, per day 1 (Monday) to 7 (Sunday), DAY_1=0900-1700, DAY_2=0900-1200,1300-1700 or DAY_3=closed, "
    'and CLOSED_DATES="2026-12-25 2027-01-01"; the playbook writes it from dossin_opening_hours (deploy/README.md)'
)
_FILE_PERIODS = re.compile(r"closed|\d{4}-\d{4}(,\d{4}-\d{4})*")


class OpeningHours:
    """A weekly schedule and closed dates; `is_open(moment)` in the station's local time."""

    def __init__(self, weekly: Mapping[str, str], closed_dates: Iterable[date] = (), *, source: str = "opening hours"):
        self._weekly: dict[int, tuple[tuple[int, int], ...]] = {}
        for number, day in enumerate(WEEKDAYS):
            try:
                self._weekly[number] = parse_periods(weekly.get(day, "closed"))
            except ValueError as error:
                raise KioskError(f"{source}, {day}: {weekly.get(day)!r}: {error}", HOURS_HINT) from None
        self._closed = frozenset(closed_dates)

    @classmethod
    def always(cls) -> OpeningHours:
        return cls({day: "00:00-24:00" for day in WEEKDAYS})

    @classmethod
    def from_file(cls, path) -> OpeningHours:
        """The gallery's hours file, as `dossin-hours` reads it (a shell file of KEY=VALUE lines).

        DAY_1 (Monday) to DAY_7: "HHMM-HHMM", several joined by commas, or "closed";
        CLOSED_DATES: dates (YYYY-MM-DD) closed whatever the weekday. Every day must be there.
        """
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise KioskError(f"{path}: the opening hours cannot be read ({reason})", HOURS_HINT) from None
        days = {f"DAY_{number}": day for number, day in enumerate(WEEKDAYS, start=1)}
        weekly: dict[str, str] = {}
        closed: list[date] = []
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, equals, value = line.partition("=")
            key, value = key.strip(), value.strip().strip("\"'")
            where = f"{path}:{number}"
            if not equals or (key not in days and key != "CLOSED_DATES"):
                raise KioskError(f"{where}: {line!r} is not a setting of the opening hours", HOURS_HINT)
            if key == "CLOSED_DATES":
                for word in value.split():
                    try:
                        closed.append(date.fromisoformat(word))
                    except ValueError:
                        raise KioskError(f"{where}: {word!r} is not a date (YYYY-MM-DD)", HOURS_HINT) from None
            elif not _FILE_PERIODS.fullmatch(value):
                raise KioskError(f"{where}: {key}={value!r}: write HHMM-HHMM (e.g. 0900-1700), several joined by commas, or closed", HOURS_HINT)
            else:
                weekly[days[key]] = value if value == "closed" else ", ".join(
                    f"{part[0:2]}:{part[2:4]}-{part[5:7]}:{part[7:9]}" for part in value.split(",")
                )
        missing = [key for key, day in days.items() if day not in weekly]
        if missing:
            raise KioskError(f"{path}: no hours for {', '.join(missing)}", HOURS_HINT)
        return cls(weekly, closed, source=str(path))

    def is_open(self, moment: datetime) -> bool:
        if moment.date() in self._closed:
            return False
        minute = moment.hour * 60 + moment.minute
        return any(start <= minute < end for start, end in self._weekly[moment.weekday()])

    def describe(self, moment: datetime) -> str:
        """Today's hours, for the log: "09:00-17:00" or "closed"."""
        if moment.date() in self._closed:
            return "closed today"
        periods = self._weekly[moment.weekday()]
        return ", ".join(f"{_clock(start)}-{_clock(end)}" for start, end in periods) or "closed"


def _clock(minutes: int) -> str:
    return time(minutes // 60, minutes % 60).strftime("%H:%M") if minutes < 24 * 60 else "24:00"
