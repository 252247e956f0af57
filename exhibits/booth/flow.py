"""The "Elke naam telt" booth, step by step, without Kivy.

One participant's way from the first touch to a safely kept recording: the age (under 9:
a kind "come back with an adult"; 9 to 12: a parent's or guardian's consent first), the
participant's own consent, a name, a sound check, the reading, listening back, and thanks. The screens only show the
current step and call the methods here; time comes from an injected clock and `tick()`
drives what happens without a touch (the countdown, the end of a reading, a microphone
that is lost and found again).

What a participant has not accepted is never kept: `reset()` (a timeout, "start over")
drops the audio and gives the name back.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from exhibits.booth.names import Assignment, NameSource
from hardware.audio.api import DeviceError, Microphone, MicrophoneState, Speaker
from kiosk.contract import AGE_BANDS, MAX_AGE, MIN_AGE, UNDER_13
from kiosk.link.outbox import Consent, KeptTake

log = logging.getLogger(__name__)

# The version of the consent texts in media/i18n (consent.v<version>.*). Each take keeps
# the version it was made under, so a take of 2026-11 stays one of 2026-11.
CONSENT_VERSION = "2026-12"
UNDER_9 = "under-9"  # never recorded: the booth invites them back with an adult who reads

# Why the booth is out of order, as the screen names it.
FAULTS = ("microphone", "controller", "no_names")


class NotNow(RuntimeError):
    """A touch asked for something the current step does not offer: a double tap, or a
    tap that came after the step moved on. The touch is ignored; nothing is wrong."""


class Hush(Protocol):
    """The station's speech as the booth needs it (kiosk.speech.Speech): silent from the
    countdown to the end of the reading, so the microphone hears only the participant."""

    def hold(self) -> None: ...

    def release(self) -> None: ...


class TakeKeeper(Protocol):
    """Where an accepted take goes: the booth's `TakeStore` (`exhibits.booth.take_store`)."""

    def keep(
        self, samples: np.ndarray, sample_rate: int, *, person_id: str, consent: Consent, quality: dict[str, Any]
    ) -> KeptTake: ...


class Step(enum.Enum):
    WELCOME = "welcome"
    AGE = "age"
    TOO_YOUNG = "too_young"
    GUARDIAN = "guardian"
    CONSENT = "consent"
    DECLINED = "declined"
    CHOOSE = "choose"
    BOOKING = "booking"
    MATCH = "match"
    NAME = "name"
    SOUND_CHECK = "sound_check"
    COUNTDOWN = "countdown"
    RECORDING = "recording"
    REVIEW = "review"
    THANKS = "thanks"
    OUT_OF_ORDER = "out_of_order"


# Steps during which the participant is speaking or waiting, not touching: the station's
# idle timeout must not ask "are you still there?" then.
HANDS_FREE = {Step.SOUND_CHECK, Step.COUNTDOWN, Step.RECORDING}
# Steps during which nothing may be spoken: the microphone is about to record, or records.
SILENT = {Step.COUNTDOWN, Step.RECORDING}
# Steps where "start over" is not offered: it would cut into a reading, or could not help.
NO_START_OVER = {Step.COUNTDOWN, Step.RECORDING, Step.OUT_OF_ORDER}


@dataclass(frozen=True)
class Timing:
    countdown_s: float = 3.0
    lead_in_s: float = 1.0  # the microphone starts this long before "now", so no first syllable is lost
    max_recording_s: float = 20.0  # no name takes longer; a take that reaches it stops by itself
    silence_to_stop_s: float = 1.5  # after the name has been said, this much quiet ends the take
    min_speech_s: float = 0.3  # sound above the floor for this long counts as the name having been said
    declined_s: float = 10.0  # the kind goodbye stays this long before the booth is ready again
    too_young_s: float = 30.0  # "come back with an adult" stays long enough to be read to a child
    no_names_retry_s: float = 60.0  # out of names: the booth tries again for the next participant after this


@dataclass
class LevelAdvice:
    """Plain advice from the sound check's levels of the last few seconds: closer,
    louder, further, or good."""

    window_s: float = 3.0
    recent: list[tuple[float, float]] = field(default_factory=list)  # (time, dBFS)

    def add(self, level_dbfs: float, now: float) -> None:
        self.recent = [(t, level) for t, level in self.recent if now - t <= self.window_s]
        self.recent.append((now, level_dbfs))

    def advice(self) -> str:
        loudest = max((level for _, level in self.recent), default=None)
        if loudest is None or loudest < -42:
            return "speak"  # nothing heard yet: say something
        if loudest < -30:
            return "closer"
        if loudest > -4:
            return "further"
        return "good"


class Endpointer:
    """Ends a reading by itself: once speech has been heard, a spell of quiet means done.

    Works on the meter's levels (dBFS of short blocks). The quiet room's own level is
    learnt from the first half second, so a hum or a fan does not count as speech.
    """

    def __init__(self, timing: Timing):
        self.timing = timing
        self.floor: float | None = None
        self._early: list[float] = []
        self.speech_s = 0.0
        self.quiet_s = 0.0

    def threshold(self) -> float:
        return max((self.floor if self.floor is not None else -70.0) + 12.0, -50.0)

    def add(self, level_dbfs: float, elapsed_s: float, dt: float) -> bool:
        """True when the take should end now."""
        if elapsed_s < 0.5:
            self._early.append(level_dbfs)
            return False
        if self.floor is None:
            self.floor = float(np.median(self._early)) if self._early else -70.0
        if level_dbfs >= self.threshold():
            self.speech_s += dt
            self.quiet_s = 0.0
        elif self.speech_s >= self.timing.min_speech_s:
            self.quiet_s += dt
        return self.speech_s >= self.timing.min_speech_s and self.quiet_s >= self.timing.silence_to_stop_s


@dataclass
class Review:
    """A take waiting for the participant's decision."""

    samples: np.ndarray
    sample_rate: int
    report: object  # exhibits.booth.quality.QualityReport
    number: int  # 1 for the first take

    @property
    def problem(self) -> str | None:
        verdict = self.report.verdict
        return None if verdict == "ok" else verdict


def step_age(age: int, delta: int) -> int:
    """The match screen's "my age" after a press of -10, -1, +1 or +10; 0 means not given.

    From nothing, +10 three times is 30; below 9 it is nothing again; never above 120.
    """
    moved = age + delta
    if moved < MIN_AGE:
        return MIN_AGE if delta > 0 else 0
    return min(moved, MAX_AGE)


class WrongCodes:
    """Wrong booking codes typed at one booth: after `limit` within `window_s`, a pause.

    A participant's few typing mistakes pass; trying codes one after another does not.
    """

    def __init__(self, clock: Callable[[], float], *, limit: int = 5, window_s: float = 600.0):
        self.clock = clock
        self.limit = limit
        self.window_s = window_s
        self._times: list[float] = []

    def _recent(self) -> list[float]:
        now = self.clock()
        self._times = [moment for moment in self._times if now - moment < self.window_s]
        return self._times

    def wrong(self) -> None:
        self._recent().append(self.clock())

    def locked(self) -> bool:
        return len(self._recent()) >= self.limit


class BoothFlow:
    """One booth's participant flow. Every public method is something a person does."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        names: NameSource,
        microphone: Microphone,
        speaker: Speaker,
        store: TakeKeeper,
        analyze: Callable,
        timing: Timing = Timing(),
        max_takes: int = 3,
        default_language: str = "nl",
        speech: Hush | None = None,
    ):
        self.clock = clock
        self.names = names
        self.microphone = microphone
        self.speaker = speaker
        self.store = store
        self.analyze = analyze
        self.timing = timing
        self.max_takes = max_takes
        self.default_language = default_language
        self.speech = speech  # audio mode's voice; `hush()` connects it later
        # Wrong booking codes at this booth, kept across participants: codes cannot be
        # guessed at the screen (the store limits them per station too).
        self.wrong_codes = WrongCodes(clock)
        self._listeners: list[Callable[[Step], None]] = []
        self.step = Step.WELCOME
        self._clear()

    def _clear(self) -> None:
        self.language = self.default_language
        self.age_band: str | None = None
        self.guardian_confirmed = False
        self.assignment: Assignment | None = None
        self.notice: str | None = None  # a plain-language line for the current step (e.g. "code_unknown")
        self.review: Review | None = None
        self.takes = 0
        self.kept = None  # the KeptTake after "keep"
        self.advice = LevelAdvice()
        self.level_dbfs: float | None = None
        self._step_started = self.clock()
        self._capture_started: float | None = None
        self._endpointer: Endpointer | None = None
        self._resume_step: Step | None = None
        self._faults: set[str] = set()  # of FAULTS, while out of order

    # -- plumbing --------------------------------------------------------------------

    def subscribe(self, listener: Callable[[Step], None]) -> None:
        self._listeners.append(listener)

    def hush(self, speech: Hush | None) -> None:
        """SPEECH (the station's audio mode voice) stops when the countdown starts and
        comes back once the reading is over, whatever ends it."""
        self.speech = speech
        if speech is not None:
            self._quiet_for(self.step)

    def _quiet_for(self, step: Step) -> None:
        if self.speech is None:
            return
        if step in SILENT:
            self.speech.hold()
        else:
            self.speech.release()

    def _go(self, step: Step) -> None:
        self.step = step
        # Before anyone hears of the new step: a screen's words must not be said
        # once the countdown has begun.
        self._quiet_for(step)
        self._step_started = self.clock()
        log.info("booth step", extra={"step": step.value})
        for listener in list(self._listeners):
            listener(step)

    def _expect(self, *steps: Step) -> None:
        if self.step not in steps:
            raise NotNow(f"not possible during {self.step.value}")

    @property
    def hands_free(self) -> bool:
        return self.step in HANDS_FREE

    @property
    def can_start_over(self) -> bool:
        return self.step not in NO_START_OVER

    def start(self) -> None:
        """Opens the microphone; a booth without one shows that it is out of order. (A booth
        without names says so when a participant asks for one.)"""
        try:
            self.microphone.open()
        except DeviceError as error:
            log.error("microphone unavailable", extra={"problem": str(error)})
            self._out_of_order("microphone")

    def reset(self) -> None:
        """Back to the welcome: unaccepted audio is dropped, the name goes back."""
        if self._capture_started is not None:
            self.microphone.stop_capture()
        if self.assignment is not None and self.kept is None:
            self.names.give_back(self.assignment.person_id)
        self.speaker.stop()
        out_of_order, faults = self.step is Step.OUT_OF_ORDER, self._faults
        self._clear()
        if out_of_order:
            self._faults = faults
            self._resume_step = Step.WELCOME
        else:
            self._go(Step.WELCOME)

    # -- age and consent -------------------------------------------------------------

    def begin(self, language: str) -> None:
        self._expect(Step.WELCOME)
        self.language = language
        self._go(Step.AGE)

    def choose_age(self, band: str) -> None:
        """The age comes first: it decides who must consent before the participant does."""
        self._expect(Step.AGE)
        if band == UNDER_9:
            self.age_band = None
            self._go(Step.TOO_YOUNG)
            return
        if band not in AGE_BANDS:
            raise ValueError(f"unknown age band {band!r}")
        self.age_band = band
        self.guardian_confirmed = False
        self._go(Step.GUARDIAN if band == UNDER_13 else Step.CONSENT)

    def guardian_confirms(self) -> None:
        self._expect(Step.GUARDIAN)
        self.guardian_confirmed = True
        self._go(Step.CONSENT)

    def agree(self, language: str | None = None) -> None:
        """Consent given, in LANGUAGE: the language of the text they agreed to is kept."""
        self._expect(Step.CONSENT)
        if self.age_band is None or (self.age_band == UNDER_13 and not self.guardian_confirmed):
            raise NotNow("consent before the age (and a guardian's consent under 13)")
        if language:
            self.language = language
        self._go(Step.CHOOSE)

    def decline(self) -> None:
        self._expect(Step.CONSENT, Step.GUARDIAN)
        self._go(Step.DECLINED)

    @property
    def consent(self) -> Consent:

        return Consent(
            version=CONSENT_VERSION,
            language=self.language,
            age_band=self.age_band or "",
            guardian_confirmed=self.guardian_confirmed,
        )

    # -- the name --------------------------------------------------------------------

    def choose_way(self, way: str) -> None:
        self._expect(Step.CHOOSE)
        self.notice = None
        if way == "booking":
            self._go(Step.BOOKING)
        elif way == "match":
            self._go(Step.MATCH)
        elif way == "next":
            self._offer(self.names.next_waiting(), fallback_notice=None)
        else:
            raise ValueError(f"unknown way {way!r}")

    def enter_booking(self, code: str) -> bool:
        """The participant's code, typed in any case, with or without spaces and dashes."""
        self._expect(Step.BOOKING)
        if self.wrong_codes.locked():
            self.notice = "code_locked"
            self._go(Step.BOOKING)
            return False
        assignment = self.names.by_booking(code)
        if assignment is None:
            self.wrong_codes.wrong()
            self.notice = "code_locked" if self.wrong_codes.locked() else "code_unknown"
            self._go(Step.BOOKING)
            return False
        self._offer(assignment, fallback_notice=None)
        return True

    def match(
        self, *, first_name: str | None, birthday: tuple[int, int] | None, age: int | None = None
    ) -> None:
        """A name shared with the participant: first name, birthday or age (9 to 120)."""
        self._expect(Step.MATCH)
        if age is not None and not (isinstance(age, int) and MIN_AGE <= age <= MAX_AGE):
            raise ValueError(f"age {age!r} is not a whole number from {MIN_AGE} to {MAX_AGE}")
        assignment = self.names.matching(first_name=first_name or None, birthday=birthday, age=age)
        if assignment is None:
            notice = "no_match" if age is None else "no_match_shared"
            self._offer(self.names.next_waiting(), fallback_notice=notice)
        else:
            self._offer(assignment, fallback_notice=None)

    def _offer(self, assignment: Assignment | None, fallback_notice: str | None) -> None:
        if assignment is None:
            # Not one name waiting: nothing the participant can do here will help.
            self._out_of_order("no_names")
            return
        self.assignment = assignment
        self.notice = fallback_notice
        log.info("name assigned", extra={"person_id": assignment.person_id, "how": assignment.how})
        self._go(Step.NAME)

    def back(self) -> None:
        """One step back, where that makes sense for the participant."""
        if self.step in (Step.BOOKING, Step.MATCH):
            self.notice = None
            self._go(Step.CHOOSE)
        elif self.step is Step.NAME:
            self.names.give_back(self.assignment.person_id)
            self.assignment = None
            self.notice = None
            self._go(Step.CHOOSE)
        elif self.step is Step.AGE:
            self.reset()
        elif self.step is Step.CONSENT:
            self.guardian_confirmed = False
            self._go(Step.GUARDIAN if self.age_band == UNDER_13 else Step.AGE)
        elif self.step in (Step.GUARDIAN, Step.TOO_YOUNG):
            self.age_band = None
            self.guardian_confirmed = False
            self._go(Step.AGE)

    def accept_name(self) -> None:
        self._expect(Step.NAME)
        self.advice = LevelAdvice()
        self._go(Step.SOUND_CHECK)

    # -- sound check, countdown, reading -----------------------------------------------

    def ready(self) -> None:
        """From the sound check to the countdown."""
        self._expect(Step.SOUND_CHECK)
        self._go(Step.COUNTDOWN)

    def countdown_left(self) -> int:
        if self.step is not Step.COUNTDOWN:
            return 0
        return max(0, int(np.ceil(self.timing.countdown_s - (self.clock() - self._step_started))))

    def recording_elapsed(self) -> float:
        if self.step is not Step.RECORDING or self._capture_started is None:
            return 0.0
        return self.clock() - self._capture_started

    def recording_left(self) -> int:
        """Whole seconds before the take stops by itself, for the recording screen."""
        if self.step is not Step.RECORDING or self._capture_started is None:
            return 0
        return max(0, int(np.ceil(self.timing.max_recording_s - self.recording_elapsed())))

    def stop(self) -> None:
        """The participant (a touch, or the controller's button) ends the reading."""
        self._expect(Step.RECORDING)
        self._finish_take()

    def _finish_take(self) -> None:
        capture = self.microphone.stop_capture()
        self._capture_started = None
        if capture.lost:
            self._lost()
            return
        self.takes += 1
        report = self.analyze(capture.samples, capture.sample_rate)
        self.review = Review(capture.samples, capture.sample_rate, report, self.takes)
        log.info(
            "take checked",
            extra={"take": self.takes, "verdict": report.verdict, "overflows": capture.overflows, "seconds": round(len(capture.samples) / capture.sample_rate, 2)},
        )
        self._go(Step.REVIEW)

    # -- review ----------------------------------------------------------------------

    def listen(self) -> None:
        self._expect(Step.REVIEW)
        self.speaker.play(self.review.samples, self.review.sample_rate)

    @property
    def can_try_again(self) -> bool:
        return self.step is Step.REVIEW and self.takes < self.max_takes

    @property
    def tries_left(self) -> int:
        return max(0, self.max_takes - self.takes)

    def try_again(self) -> None:
        self._expect(Step.REVIEW)
        if not self.can_try_again:
            raise NotNow("no takes left")
        self.speaker.stop()
        self.review = None
        self._go(Step.COUNTDOWN)

    def keep(self) -> None:
        """The participant accepts the take: only now is it kept, durably, and queued."""
        self._expect(Step.REVIEW)
        self.speaker.stop()
        self.kept = self.store.keep(
            self.review.samples,
            self.review.sample_rate,
            person_id=self.assignment.person_id,
            consent=self.consent,
            quality=self.review.report.to_json(),
        )
        self.names.voiced(self.assignment.person_id)
        # Recording ids only: a person id beside it would say which name this voice read.
        log.info("take kept", extra={"recording_id": self.kept.recording_id})
        self.review = None
        self._go(Step.THANKS)

    @property
    def withdrawal_code(self) -> str | None:
        return self.kept.metadata.get("withdrawal_code") if self.kept else None

    # -- time ------------------------------------------------------------------------

    def tick(self) -> None:
        now = self.clock()
        state = self.microphone.check()
        if state is MicrophoneState.LOST and "microphone" not in self._faults:
            self.device_lost("microphone")
            return
        if self.step is Step.OUT_OF_ORDER:
            if "microphone" in self._faults and state is MicrophoneState.READY:
                self.device_back("microphone")
            elif self.fault == "no_names" and now - self._step_started >= self.timing.no_names_retry_s:
                # Names may have come back (a lease, the network): the next participant tries.
                if not self._names_missing():
                    self.device_back("no_names")
                else:
                    self._step_started = now
            return
        level = self.microphone.level()
        if level is not None:
            self.level_dbfs = level
        if self.step is Step.SOUND_CHECK and level is not None:
            self.advice.add(level, now)
        elif self.step is Step.DECLINED and now - self._step_started >= self.timing.declined_s:
            self.reset()
        elif self.step is Step.TOO_YOUNG and now - self._step_started >= self.timing.too_young_s:
            self.reset()
        elif self.step is Step.COUNTDOWN:
            left = self.timing.countdown_s - (now - self._step_started)
            if self._capture_started is None and left <= self.timing.lead_in_s:
                self.microphone.start_capture()
                self._capture_started = now
                self._endpointer = Endpointer(self.timing)
                self._last_tick = now
            elif self._capture_started is not None and level is not None:
                # The quiet before "now" teaches the endpointer the room's own level.
                self._endpointer.add(level, now - self._capture_started, now - self._last_tick)
                self._last_tick = now
            if left <= 0:
                self._go(Step.RECORDING)
        elif self.step is Step.RECORDING:
            elapsed = now - self._capture_started
            dt = now - self._last_tick
            self._last_tick = now
            if elapsed >= self.timing.max_recording_s:
                self._finish_take()
            elif level is not None and self._endpointer.add(level, elapsed, dt):
                self._finish_take()

    def device_failed(self, error: DeviceError) -> None:
        """A device failed while acting on a touch: out of order, as for a lost microphone."""
        log.error("device failed", extra={"problem": str(error), "step": self.step.value})
        self._capture_started = None  # the take that failed is not stopped a second time
        if self.step is not Step.OUT_OF_ORDER:
            self._lost()

    def _lost(self) -> None:
        self.device_lost("microphone")

    # -- out of order ------------------------------------------------------------------

    def device_lost(self, cause: str) -> None:
        """CAUSE (one of FAULTS) stops the booth: a take under way is dropped, the
        participant keeps their name and goes on from the sound check once it is back."""
        if cause not in FAULTS:
            raise ValueError(f"unknown fault {cause!r}")
        if self._capture_started is not None:
            self.microphone.stop_capture()
            self._capture_started = None
        self.review = None
        if self.step is not Step.OUT_OF_ORDER:
            # Back where it makes sense once it is mended: the sound check if a participant
            # was reading, else the welcome.
            self._resume_step = Step.SOUND_CHECK if self.assignment is not None and self.kept is None else Step.WELCOME
        log.error("booth out of order", extra={"cause": cause, "step": self.step.value})
        self._out_of_order(cause)

    def device_back(self, cause: str) -> None:
        """CAUSE is mended; the booth goes on where it stopped if nothing else is wrong."""
        if cause not in self._faults:
            return
        log.info("booth back in order", extra={"cause": cause})
        self._faults.discard(cause)
        if self._faults:
            self._go(Step.OUT_OF_ORDER)  # the screen names what is still wrong
            return
        resume = self._resume_step or Step.WELCOME
        self._resume_step = None
        if resume is not Step.WELCOME and self.assignment is None:
            resume = Step.WELCOME
        self._go(resume)

    @property
    def fault(self) -> str | None:
        """What keeps the booth out of order, the most telling cause first."""
        return next((cause for cause in FAULTS if cause in self._faults), None)

    def _out_of_order(self, cause: str) -> None:
        self._faults.add(cause)
        if self._resume_step is None:
            self._resume_step = Step.WELCOME
        if cause == "no_names":
            # No name to read: whoever was here starts again once names are back.
            if self.assignment is not None and self.kept is None:
                self.names.give_back(self.assignment.person_id)
            self.assignment = None
            self._resume_step = Step.WELCOME
        self._go(Step.OUT_OF_ORDER)

    def _names_missing(self) -> bool:
        from exhibits.booth.names import NoNameSource

        return isinstance(self.names, NoNameSource)
