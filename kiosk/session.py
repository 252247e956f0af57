"""A visitor's session at a touchscreen, and when it ends.

Visitors leave without logging out. What one visitor chose or typed must not greet the
next, and a slow reader must not lose their place without warning: after a quiet spell
the station asks "Are you still there?" (WCAG 2.2.1, timing adjustable) and only when
nobody answers does it forget the session and return to the attract screen.

Kivy-free; time comes from an injected clock, so tests can step it.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.clock import Clock


class Phase(enum.Enum):
    ATTRACT = "attract"  # nobody is here; the station invites
    ACTIVE = "active"  # a visitor is using the station
    WARNING = "warning"  # "Are you still there?": counting down to the end of the session


@dataclass(frozen=True)
class Settings:
    """How one visitor asked the station to speak and look (issue 17).

    Like the language they belong to the visit: the next visitor starts without them,
    so nobody finds a station talking to them, or in large print, unasked.
    """

    audio: bool = False  # audio mode: screens and controls are spoken (kiosk.accessibility)
    large_text: bool = False
    high_contrast: bool = False

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))


@dataclass
class Visit:
    """What belongs to one visitor; dropped whole when the session ends."""

    language: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    data: dict[str, Any] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)


class VisitorSession:
    """The attract → active → warning → attract cycle of one station.

    `touched()` is called for every touch, `tick()` regularly (twice a second is plenty),
    `still_here()` when the visitor answers the warning. Listeners get the new phase.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        warn_after_s: float,
        answer_within_s: float,
        default_language: str,
    ):
        if warn_after_s <= 0 or answer_within_s <= 0:
            raise ValueError("idle times must be positive")
        self._clock = clock
        self.warn_after_s = warn_after_s
        self.answer_within_s = answer_within_s
        self.default_language = default_language
        self.phase = Phase.ATTRACT
        self.visit: Visit | None = None
        self._last_activity = clock()
        self._warned_at: float | None = None
        self._listeners: list[Callable[[Phase], None]] = []

    def subscribe(self, listener: Callable[[Phase], None]) -> None:
        self._listeners.append(listener)

    def _enter(self, phase: Phase) -> None:
        if phase is self.phase:
            return
        self.phase = phase
        for listener in list(self._listeners):
            listener(phase)

    # -- what the visitor does -------------------------------------------------------

    def touched(self) -> None:
        """Any touch: starts a visit on the attract screen, or shows the visitor is here."""
        self._last_activity = self._clock()
        if self.phase is Phase.ATTRACT:
            self.visit = Visit(language=self.default_language)
            self._enter(Phase.ACTIVE)
        elif self.phase is Phase.WARNING:
            self.still_here()

    def still_here(self) -> None:
        """The visitor answered the warning: the session goes on where it was."""
        if self.phase is not Phase.WARNING:
            return
        self._last_activity = self._clock()
        self._warned_at = None
        self._enter(Phase.ACTIVE)

    def choose_language(self, language: str) -> None:
        self._last_activity = self._clock()
        if self.visit is None:
            self.visit = Visit(language=language)
            self._enter(Phase.ACTIVE)
        else:
            self.visit.language = language

    def change(self, **settings: bool) -> Settings:
        """Switch settings for this visit (`change(audio=True)`); on the attract screen
        this starts the visit, as the language buttons do. Returns the settings now."""
        unknown = set(settings) - set(Settings.names())
        if unknown:
            raise ValueError(f"no visit setting {sorted(unknown)}: the settings are {', '.join(Settings.names())}")
        self._last_activity = self._clock()
        if self.visit is None:
            self.visit = Visit(language=self.default_language)
            self.visit.settings = dataclasses.replace(self.visit.settings, **settings)
            self._enter(Phase.ACTIVE)
        else:
            self.visit.settings = dataclasses.replace(self.visit.settings, **settings)
            if self.phase is Phase.WARNING:
                self.still_here()
        return self.visit.settings

    @property
    def settings(self) -> Settings:
        """This visit's settings; outside a visit, none is on."""
        return self.visit.settings if self.visit else Settings()

    def finish(self) -> None:
        """The visitor ends the session themselves ("start over")."""
        self._end()

    # -- time ------------------------------------------------------------------------

    def tick(self) -> None:
        now = self._clock()
        if self.phase is Phase.ACTIVE and now - self._last_activity >= self.warn_after_s:
            self._warned_at = now
            self._enter(Phase.WARNING)
        elif self.phase is Phase.WARNING and self._warned_at is not None and now - self._warned_at >= self.answer_within_s:
            self._end()

    def seconds_left(self) -> float:
        """How long the warning still waits for an answer (0 outside a warning)."""
        if self.phase is not Phase.WARNING or self._warned_at is None:
            return 0.0
        return max(0.0, self.answer_within_s - (self._clock() - self._warned_at))

    @property
    def language(self) -> str:
        return self.visit.language if self.visit else self.default_language

    def _end(self) -> None:
        self.visit = None
        self._warned_at = None
        self._last_activity = self._clock()
        self._enter(Phase.ATTRACT)
