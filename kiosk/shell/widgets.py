"""The shell's widgets: buttons sized for every hand, the root that routes touches to the
visitor's session, and the "Are you still there?" overlay.

Every widget a test or a technician may need to find carries a `test_name`.
"""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.properties import BooleanProperty, ColorProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.accessibility import ScreenWords
from kiosk.shell.palette import NORMAL, Palette


class Colours(EventDispatcher):
    """The palette kv rules draw with (`app.palette.text`): one object whose colours
    change in place, so every rule bound to one of them is drawn again when the visitor
    switches high contrast (a kv rule does not follow a plain object swapped under it)."""

    background = ColorProperty(NORMAL.background)
    panel = ColorProperty(NORMAL.panel)
    text = ColorProperty(NORMAL.text)
    muted = ColorProperty(NORMAL.muted)
    line = ColorProperty(NORMAL.line)
    chosen = ColorProperty(NORMAL.chosen)
    chosen_text = ColorProperty(NORMAL.chosen_text)
    pressed = ColorProperty(NORMAL.pressed)
    disabled_text = ColorProperty(NORMAL.disabled_text)
    fiction = ColorProperty(NORMAL.fiction)
    veil = ColorProperty(NORMAL.veil)
    focus = ColorProperty(NORMAL.focus)
    focus_edge = ColorProperty(NORMAL.focus_edge)

    def use(self, palette: Palette) -> None:
        for name, value in vars(palette).items():
            setattr(self, name, value)
        self.current = palette

    current: Palette = NORMAL


class Named:
    """Mixin: a stable name to find a widget by, independent of its text or language."""

    test_name = StringProperty("")


class TouchButton(Named, ButtonBehavior, Label):
    """A large, plain button: at least 72 dp high (about 2 cm on a gallery screen).

    Acts on release, and only if the finger is still on it, so a hand that slides off
    by mistake changes nothing (WCAG 2.5.2, pointer cancellation).
    """

    primary = BooleanProperty(False)
    selected = BooleanProperty(False)
    # What a visitor who touches this button while it is disabled reads, in their language.
    why_disabled = StringProperty("")

    def on_touch_down(self, touch):
        if self.disabled and self.why_disabled and self.opacity > 0 and self.collide_point(*touch.pos):
            explanation = getattr(App.get_running_app().root_widget, "ids", {}).get("explanation")
            if explanation is not None:
                explanation.show(self.why_disabled, self)
            return True
        return super().on_touch_down(touch)


class TopBarButton(TouchButton):
    """A button of the top bar: its size does not follow large text (see shell.kv)."""


class LanguageButton(TopBarButton):
    lang = StringProperty("nl")


class TextLabel(Named, Label):
    """A label that wraps inside its width and grows to its text's height."""


class NamedLabel(Named, Label):
    """A plain label a test can find (a `test_name` on a bare Label would add the
    property to every Label of the app)."""


class StationScreen(Named, Screen):
    """A screen of a station. `forget()` drops whatever one visitor left on it."""

    def forget(self) -> None:
        pass


class AttractScreen(StationScreen):
    def screen_words(self) -> ScreenWords:
        """What audio mode would say here: the invitation and where audio mode is.

        Audio mode ends with the visit, so this is never said on arrival: it is what the
        layout audit checks, and what `repeat` says. A visitor who cannot see the screen
        finds audio mode in the top left corner (the Audio button) or with any key."""
        app = App.get_running_app()
        lang = app.lang
        subtitle = (
            app.t(lang, f"attract.subtitle.{app.exhibit}", count=app.n(lang, app.persons)) if app.content_ok else app.t(lang, "collection.missing")
        )
        title = app.t(lang, f"station.title.{app.exhibit}")
        return ScreenWords("attract", app.t(lang, "spoken.attract", title=title, subtitle=subtitle))


class StationRoot(FloatLayout):
    """Routes every touch through the visitor's session before any widget sees it.

    On the attract screen a touch only wakes the station (it must not also press whatever
    button the next screen has under that finger), except on the language buttons, which
    start the visit in that language, and the settings in the top left corner (audio
    mode, large text, high contrast), which start it with that setting on. While the
    idle warning shows, it gets every touch. In audio mode a touch on a control goes to
    the guide first: the first touch says it, the second presses it.
    """

    def on_touch_down(self, touch):
        app = App.get_running_app()
        self.ids.explanation.hide()  # the next touch puts an explanation away (or shows another)
        if app.phase == "warning":
            return self.ids.idle_overlay.on_touch_down(touch)
        if app.phase == "attract":
            if self.ids.language_bar.collide_point(*touch.pos) or self.ids.view_bar.collide_point(*touch.pos):
                return super().on_touch_down(touch)
            app.session.touched()
            return True
        app.session.touched()
        if app.audio_mode and app.guide.touch_at(*touch.pos):
            return True
        return super().on_touch_down(touch)

    def on_touch_move(self, touch):
        app = App.get_running_app()
        if app.phase == "active":
            app.session.touched()
        return super().on_touch_move(touch)


class FocusRing(Widget):
    """The focus ring: drawn above everything around the focused control (app.focus_box),
    yellow between two black lines, so it is seen on the dark and the high-contrast theme
    alike. It takes no touch."""


class Explanation(Named, Label):
    """Why a button cannot be used yet, shown just above it for a few seconds."""

    SHOWN_S = 5.0
    shown = BooleanProperty(False)

    def show(self, text: str, button) -> None:
        self.text = text
        self.texture_update()
        x, y = button.to_window(button.x, button.top)
        width = self.texture_size[0]
        self.pos = (min(max(x + (button.width - width) / 2, 8), self.parent.width - width - 8), y + 8)
        self.shown = True
        Clock.unschedule(self.hide)
        Clock.schedule_once(self.hide, self.SHOWN_S)

    def hide(self, _dt=None) -> None:
        self.shown = False


class IdleOverlay(FloatLayout):
    """ "Are you still there?": any touch answers yes, except on "No, finish"."""

    shown = BooleanProperty(False)

    def show(self) -> None:
        self.shown = True

    def hide(self) -> None:
        self.shown = False

    def on_touch_down(self, touch):
        if not self.shown:
            return False
        if self.ids.finish.collide_point(*touch.pos) or self.ids.keep_going.collide_point(*touch.pos):
            return super().on_touch_down(touch)
        App.get_running_app().still_here()
        return True

    def on_touch_move(self, touch):
        return self.shown and super().on_touch_move(touch)

    def on_touch_up(self, touch):
        return self.shown and super().on_touch_up(touch)
