"""Audio mode, keys and the focus ring for a whole station (issue 17): the shell's half.

The Kivy-free `AudioGuide` (kiosk.accessibility) decides what is said and when a touch
presses; this module gives it the station's words and carries out what it decides.

How an exhibit's screen takes part (the API 17W and 17B build on):
- `screen_words() -> ScreenWords`: what audio mode says on arrival and the screen's
  controls in reading order, each `Control.id` the `test_name` of its widget. Its words
  come from the catalogues in the visitor's language (`app.t(app.lang, ...)`). The
  shell adds its own controls after the screen's (start over, languages, audio, large
  text, high contrast), so a screen names only its own.
- `app.words_changed()` when its words change (results came, a button became
  available): the focus stays where it was and nothing is said.
- Pressing: the guide presses a control by `press(control_id) -> bool` of the screen if
  it has one and it returns True; otherwise the visible widget with that `test_name` is
  pressed as a finger would (a button's `on_press` then `on_release`, a text field gets
  the focus).
- `back() -> bool` (optional): what Escape / the keypad's "-" does on that screen;
  without it, or when it returns False, the focus goes to "start over" and says it, so
  one key never forgets a visit by itself.
- Speech: `app.speech` (kiosk.speech.Speech); the booth calls `app.speech.hold()` when
  its countdown starts and `app.speech.release()` when the recording is over.
"""

from __future__ import annotations

import logging

from kivy.core.window import Window
from kivy.uix.behaviors import ButtonBehavior, FocusBehavior

from kiosk.accessibility import AudioGuide, Control, ScreenWords, Touch
from kiosk.shell import navigation

log = logging.getLogger(__name__)


def is_shown(widget, current_screen) -> bool:
    """WIDGET is drawn and can be used: no hidden or disabled parent, on the current screen."""
    node = widget
    while node is not None:
        if getattr(node, "opacity", 1) == 0 or getattr(node, "disabled", False):
            return False
        if node.__class__.__name__.endswith("Screen") and node is not current_screen and hasattr(node, "manager"):
            return False
        if node.parent is node:  # the Window is its own parent
            break
        node = node.parent
    return True


def window_box(widget) -> tuple[float, float, float, float]:
    """x, y, w, h of WIDGET in window coordinates (Kivy's: origin bottom left)."""
    x0, y0 = widget.to_window(widget.x, widget.y)
    x1, y1 = widget.to_window(widget.right, widget.top)
    return min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0)


class StationGuide:
    """The app's audio guide: words of the screen shown, touches and keys, the ring."""

    def __init__(self, app, speech):
        self.app = app
        self.speech = speech
        self.guide = AudioGuide(self._say, self._silence)
        self.keys_used = False  # the ring shows once keys are used, or in audio mode

    # -- speech --------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        if self.app.audio_mode:
            self.speech.say(text, self.app.lang)

    def _silence(self) -> None:
        self.speech.stop()

    # -- words ---------------------------------------------------------------------------

    def t(self, key: str, **values) -> str:
        return self.app.t(self.app.lang, key, **values)

    def screen_own_words(self) -> ScreenWords | None:
        """What the screen shown (or the idle warning) says of itself; None when it says nothing."""
        if self.app.phase == "warning":
            return ScreenWords(
                "idle",
                f"{self.t('idle.title')} {self.t('idle.body', seconds=self.app.n(self.app.lang, self.app.seconds_left))}",
                (
                    Control("idle-continue", self.t("spoken.button", name=self.t("idle.continue"))),
                    Control("idle-finish", self.t("spoken.button", name=self.t("idle.finish"))),
                ),
            )
        words = getattr(self.app.screens.current_screen, "screen_words", None)
        return words() if callable(words) else None

    def shell_controls(self) -> tuple[Control, ...]:
        """The top bar's controls a visitor can use now, in reading order."""
        app, controls = self.app, []
        if app.phase == "active" and app.start_over_offered:
            controls.append(Control("start-over", self.t("spoken.button", name=self.t("shell.start_over"))))
        for lang in app.languages:
            name = app.language_name(lang)
            controls.append(Control(f"language-{lang}", self.t("spoken.chosen" if lang == app.lang else "spoken.button", name=name)))
        for control_id, setting, name in (
            ("audio", app.audio_mode, "spoken.name.audio"),
            ("large-text", app.large_text, "spoken.name.large_text"),
            ("high-contrast", app.high_contrast, "spoken.name.contrast"),
        ):
            controls.append(Control(control_id, self.t("spoken.switch_on" if setting else "spoken.switch_off", name=self.t(name))))
        return tuple(controls)

    def words(self) -> ScreenWords:
        """The screen's words and the shell's controls: what the guide works on."""
        own = self.screen_own_words()
        if own is None:
            own = ScreenWords(self.app.screens.current or "screen", self.t("spoken.no_words"))
        if self.app.phase == "warning":
            return own
        taken = {control.id for control in own.controls}
        shell = tuple(control for control in self.shell_controls() if control.id not in taken)
        return ScreenWords(own.screen, own.spoken, own.controls + shell)

    # -- what happens ----------------------------------------------------------------------

    def in_use(self) -> bool:
        """Audio mode is on, or keys steer the focus: someone needs the screen's words."""
        return bool(self.app.audio_mode or self.keys_used)

    def _forget_words(self) -> None:
        # Nobody listens or steers: the words are not made on every screen change and
        # every typed letter for a visitor who only looks; a key, a touch in audio mode or
        # audio mode switched on reads them fresh (navigate, touch_at, audio_started).
        self.guide.words = None
        self.guide.focus = None

    def arrive(self) -> None:
        """A new screen (or the idle warning): say it, and make its words ahead of time."""
        if not self.in_use():
            self._forget_words()
            self.app.focus_moved()
            return
        words = self.words()
        self.guide.arrive(words)
        if self.app.audio_mode:
            self.speech.prepare((control.spoken, self.app.lang) for control in words.controls)
        self.app.focus_moved()

    def words_changed(self) -> None:
        if not self.in_use():
            self._forget_words()
            return
        self.guide.update(self.words())
        self.app.focus_moved()

    def audio_started(self) -> None:
        """Audio mode was switched on: how it works, the languages offered (each in its
        own voice), then the screen; the focus starts before its first control."""
        words = self.words()
        self.guide.words = words
        parts = [(self.app.t(self.app.lang, "spoken.audio_on"), self.app.lang)]
        parts += [(self.app.t(lang, "spoken.choose_language"), lang) for lang in self.app.languages]
        parts.append((words.spoken, self.app.lang))
        self.speech.say_parts(parts)
        self.guide.focus = None
        self.speech.prepare((control.spoken, self.app.lang) for control in words.controls)
        self.app.focus_moved()

    def touch_at(self, x: float, y: float) -> bool:
        """In audio mode, a touch on a control goes through the guide: True when taken."""
        control_id = self.control_at(x, y)
        if control_id is None:
            return False
        self.guide.update(self.words())
        outcome = self.guide.touch(control_id)
        self.app.focus_moved()
        if outcome is Touch.PRESS:
            self.press(control_id)
        return True

    def control_at(self, x: float, y: float) -> str | None:
        """The control under (x, y) in window coordinates; of a row and its own button,
        the button (the smaller box)."""
        shown = self.shown_widgets()
        found, smallest = None, float("inf")
        for control in self.words().controls:
            box = self.box(control.id, shown)
            if box is None:
                continue
            wx, wy, ww, wh = box
            if wx <= x <= wx + ww and wy <= y <= wy + wh and ww * wh < smallest:
                found, smallest = control.id, ww * wh
        return found

    def navigate(self, action: str) -> None:
        action = navigation.action_named(action)
        self.guide.update(self.words())
        if action == navigation.PREVIOUS:
            self.guide.previous()
        elif action == navigation.NEXT:
            self.guide.next()
        elif action == navigation.SELECT:
            if self.guide.select() is Touch.PRESS and self.guide.focus is not None:
                self.press(self.guide.focus)
        elif action == navigation.REPEAT:
            self.guide.repeat()
        elif action == navigation.BACK:
            back = getattr(self.app.screens.current_screen, "back", None)
            if not (callable(back) and back()) and self.guide.words.control("start-over") is not None:
                self.guide.focus = None
                self.guide.touch("start-over")
        if action in (navigation.PREVIOUS, navigation.NEXT):
            self._reveal()
        self.app.focus_moved()

    # -- widgets -------------------------------------------------------------------------

    def shown_widgets(self) -> dict:
        """test_name -> the visible widget of that name (the first in the tree), in one walk."""
        current = self.app.screens.current_screen
        root = self.app.root_widget.ids.idle_overlay if self.app.phase == "warning" else self.app.root_widget
        shown: dict = {}
        for widget in root.walk(restrict=False):
            name = getattr(widget, "test_name", None)
            if name and name not in shown and is_shown(widget, current):
                shown[name] = widget
        return shown

    def widget(self, control_id: str):
        """The visible widget with test_name CONTROL_ID, or None."""
        return self.shown_widgets().get(control_id)

    def press(self, control_id: str) -> None:
        press = getattr(self.app.screens.current_screen, "press", None)
        if self.app.phase != "warning" and callable(press) and press(control_id):
            return
        widget = self.widget(control_id)
        if widget is None:
            log.warning("audio mode could not press a control it named", extra={"control": control_id})
            return
        if isinstance(widget, ButtonBehavior):
            widget.trigger_action(duration=0)
        elif isinstance(widget, FocusBehavior):  # a text field: typing goes there
            widget.focus = True
        else:
            log.warning("audio mode does not know how to press this control", extra={"control": control_id, "kind": type(widget).__name__})

    def focused_box(self) -> tuple[float, float, float, float] | None:
        """Where the ring goes: the focused control's box in window coordinates, or None."""
        if not self.in_use() or self.guide.focus is None:
            return None
        return self.box(self.guide.focus)

    # A screen may name controls that are not widgets of their own (the wall's faces, drawn
    # by its grid) or not in view (a result scrolled out of its list): it then gives
    # `control_box(control_id)` (window coordinates, or None) and `reveal(control_id)`
    # (scroll it into view), both optional.

    def box(self, control_id: str, shown: dict | None = None) -> tuple[float, float, float, float] | None:
        """The control's box in window coordinates: its widget's (among SHOWN, if given), or
        the screen's word for it."""
        widget = (shown if shown is not None else self.shown_widgets()).get(control_id)
        if widget is not None:
            return window_box(widget)
        control_box = getattr(self.app.screens.current_screen, "control_box", None)
        return control_box(control_id) if self.app.phase != "warning" and callable(control_box) else None

    def _reveal(self) -> None:
        reveal = getattr(self.app.screens.current_screen, "reveal", None)
        if self.app.phase != "warning" and callable(reveal) and self.guide.focus is not None:
            reveal(self.guide.focus)

    # -- keys ----------------------------------------------------------------------------

    def bind_keys(self) -> None:
        Window.bind(on_key_down=self._on_key_down)

    def unbind_keys(self) -> None:
        Window.unbind(on_key_down=self._on_key_down)

    def _on_key_down(self, _window, keycode, _scancode, _codepoint, modifiers) -> bool:
        action = navigation.action_for_key(keycode, modifiers)
        if action is None:
            return False
        self.keys_used = True
        self.app.navigate(action)
        return True
