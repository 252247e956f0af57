"""The shell's widgets: buttons sized for every hand, the root that routes touches to the
visitor's session, and the "Are you still there?" overlay.

Every widget a test or a technician may need to find carries a `test_name`.
"""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen


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


class LanguageButton(TouchButton):
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
    pass


class StationRoot(FloatLayout):
    """Routes every touch through the visitor's session before any widget sees it.

    On the attract screen a touch only wakes the station (it must not also press whatever
    button the next screen has under that finger), except on the language buttons, which
    start the visit in that language. While the idle warning shows, it gets every touch.
    """

    def on_touch_down(self, touch):
        app = App.get_running_app()
        self.ids.explanation.hide()  # the next touch puts an explanation away (or shows another)
        if app.phase == "warning":
            return self.ids.idle_overlay.on_touch_down(touch)
        if app.phase == "attract":
            if self.ids.language_bar.collide_point(*touch.pos):
                return super().on_touch_down(touch)
            app.session.touched()
            return True
        app.session.touched()
        return super().on_touch_down(touch)

    def on_touch_move(self, touch):
        app = App.get_running_app()
        if app.phase == "active":
            app.session.touched()
        return super().on_touch_move(touch)


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
