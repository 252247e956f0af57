"""The one on-screen keyboard of the gallery: the wall's search and the booth's first name
and booking code type on it, so a visitor meets the same keys everywhere.

Letters in alphabetical order (many visitors do not type every day), with space, hyphen
and apostrophe, the letters names need; accented letters wait on a second layer. For a
code the keyboard shows only the symbols codes use, and says which it leaves out, so
nobody looks for the O of a code that has none.

The keyboard keeps its own `text` (typing rules below) and also reports every key by
`on_key`, for a screen that keeps the text elsewhere (the wall's search).
"""

from __future__ import annotations

from pathlib import Path

from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.accessibility import Control
from kiosk.shell.keys import ACCENTED, CODE_COLUMNS, COLUMNS, LETTERS, typed
from kiosk.shell.widgets import Named

Builder.load_file(str(Path(__file__).with_name("keyboard.kv")))


class OnScreenKeyboard(Named, BoxLayout):
    """Names (`code` empty) or codes (`code` = the code's alphabet)."""

    text = StringProperty("")
    max_length = NumericProperty(40)
    code = StringProperty("")  # the symbols of a code; empty for names
    accented = BooleanProperty(False)  # the second layer is showing
    note = StringProperty("")  # set by the kv rule: what a code leaves out

    __events__ = ("on_key",)

    def on_kv_post(self, _base_widget) -> None:
        self.bind(code=lambda *_: self._lay_out(), accented=lambda *_: self._lay_out())
        self._lay_out()

    @property
    def keys(self) -> str:
        if self.code:
            return self.code
        return ACCENTED if self.accented else LETTERS

    def _lay_out(self) -> None:
        grid = self.ids.key_grid
        grid.clear_widgets()
        grid.cols = CODE_COLUMNS if self.code else COLUMNS
        for key in self.keys:
            grid.add_widget(Factory.KeyboardKey(key=key, text=key, test_name=f"key-{key}"))

    def press(self, key: str) -> None:
        self.text = typed(self.text, key, int(self.max_length))
        self.dispatch("on_key", key)

    def controls(self, t) -> tuple[Control, ...]:
        """The keys as audio mode names them, in reading order, for a screen's
        screen_words(); T(key, **values) gives a text in the visitor's language
        (e.g. `lambda key, **v: app.t(app.lang, key, **v)`)."""
        button = lambda name: t("spoken.button", name=name)  # noqa: E731
        controls = [Control(f"key-{key}", button(key)) for key in self.keys]
        if not self.code:
            controls.append(Control("key-layer", button(t("spoken.key.plain" if self.accented else "spoken.key.accented"))))
            controls += [Control("key--", button(t("spoken.key.hyphen"))), Control("key-'", button(t("spoken.key.apostrophe")))]
            controls.append(Control("key-space", button(t("search.space"))))
        controls += [Control("key-clear", button(t("search.clear"))), Control("key-backspace", button(t("spoken.key.backspace")))]
        return tuple(controls)

    def toggle_layer(self) -> None:
        self.accented = not self.accented

    def reset(self) -> None:
        self.text = ""
        self.accented = False

    def on_key(self, key: str) -> None:
        pass
