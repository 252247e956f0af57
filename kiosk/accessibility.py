"""Audio mode's guide: what a visitor who cannot see the screen hears, and what they press.

The convention is the one of the screen readers people already know (VoiceOver's and
TalkBack's "explore by touch"): arriving on a screen says what it is and what can be
done there; a first touch on a control says its name; a second touch on the same
control presses it. Three tactile keys (previous, next, select: the booth controller's,
or a USB keypad's arrows and Enter at the wall) move a focus through the controls in
reading order and press the one that has it, so the whole station can be used without
seeing it. A control that cannot be pressed says why.

Kivy-free: a screen describes itself as `ScreenWords` (its words come from the same
gettext catalogues as its visible text), and the guide answers with what to say and
whether a touch presses. Speech goes through `say`/`silence` (kiosk.speech.Speech).
The guide belongs to one visit: it ends with it, like the language.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Control:
    """Something a visitor can press, as audio mode names it."""

    id: str
    spoken: str  # its name and role, e.g. "Search, button"
    enabled: bool = True
    why_not: str | None = None  # said after the name when it cannot be pressed

    def __post_init__(self) -> None:
        if not self.spoken.strip():
            raise ValueError(f"control {self.id!r} has no spoken name: add it to the screen's words")


@dataclass(frozen=True)
class ScreenWords:
    """A screen as audio mode says it: on arrival, then its controls in reading order."""

    screen: str
    spoken: str  # what it is and what can be done on it
    controls: tuple[Control, ...] = ()

    def __post_init__(self) -> None:
        if not self.spoken.strip():
            raise ValueError(f"screen {self.screen!r} has nothing to say on arrival: add it to the screen's words")
        ids = [control.id for control in self.controls]
        if len(set(ids)) != len(ids):
            raise ValueError(f"screen {self.screen!r} names a control twice: {ids}")

    def control(self, control_id: str) -> Control | None:
        return next((control for control in self.controls if control.id == control_id), None)


class Touch(enum.Enum):
    SPOKEN = "spoken"  # the first touch: its name was said, nothing pressed
    PRESS = "press"  # the second touch on the control that has the focus: press it
    REFUSED = "refused"  # pressed, but it cannot be: why was said


class AudioGuide:
    """Focus, speech and presses for one screen at a time."""

    def __init__(self, say: Callable[[str], None], silence: Callable[[], None]):
        self._say = say
        self._silence = silence
        self.words: ScreenWords | None = None
        self.focus: str | None = None  # the id of the control with the focus ring

    # -- screens -----------------------------------------------------------------------

    def arrive(self, words: ScreenWords) -> None:
        """A new screen: say what it is; the focus starts before its first control."""
        self.words = words
        self.focus = None
        self._say(words.spoken)

    def update(self, words: ScreenWords) -> None:
        """The same screen changed (results came, a button became available): the focus
        stays on its control if that is still there, and nothing is said."""
        self.words = words
        if self.focus is not None and words.control(self.focus) is None:
            self.focus = None

    def repeat(self) -> None:
        """Say the screen again, and where the focus is."""
        if self.words is None:
            return
        focused = self._focused()
        self._say(self.words.spoken if focused is None else f"{self.words.spoken} {self._name(focused)}")

    # -- touch -------------------------------------------------------------------------

    def touch(self, control_id: str) -> Touch:
        control = self._known(control_id)
        if self.focus != control_id:
            self.focus = control_id
            self._say(self._name(control))
            return Touch.SPOKEN
        return self._press(control)

    # -- keys --------------------------------------------------------------------------

    def next(self) -> None:
        self._move(+1)

    def previous(self) -> None:
        self._move(-1)

    def select(self) -> Touch:
        """Press what has the focus; with no focus yet, say the screen again."""
        focused = self._focused()
        if focused is None:
            self.repeat()
            return Touch.SPOKEN
        return self._press(focused)

    # -- inside ------------------------------------------------------------------------

    def _press(self, control: Control) -> Touch:
        if not control.enabled:
            self._say(self._name(control))
            return Touch.REFUSED
        self._silence()  # pressing moves on: what was being said is done
        return Touch.PRESS

    def _move(self, step: int) -> None:
        controls = self.words.controls if self.words is not None else ()
        if not controls:
            self.repeat()
            return
        ids = [control.id for control in controls]
        if self.focus not in ids:
            index = 0 if step > 0 else len(ids) - 1
        else:
            index = (ids.index(self.focus) + step) % len(ids)  # round and round, like a list read aloud again
        self.focus = ids[index]
        self._say(self._name(controls[index]))

    def _focused(self) -> Control | None:
        if self.words is None or self.focus is None:
            return None
        return self.words.control(self.focus)

    def _known(self, control_id: str) -> Control:
        control = self.words.control(control_id) if self.words is not None else None
        if control is None:
            shown = self.words.screen if self.words is not None else "no screen"
            raise KeyError(f"control {control_id!r} is not on {shown}: give it words in the screen's ScreenWords")
        return control

    @staticmethod
    def _name(control: Control) -> str:
        if control.enabled or not control.why_not:
            return control.spoken
        return f"{control.spoken}. {control.why_not}"
