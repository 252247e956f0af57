"""The station's Kivy application: top bar, screens, the fictional-data band, idle warning.

Thin on purpose: the idle cycle lives in `kiosk.session`, texts in the catalogues, figures
in `StationContent`. This module wires them to widgets and touches.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import time
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import LabelBase
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.metrics import Metrics
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty

from kiosk import i18n
from kiosk.config import StationConfig
from kiosk.paths import FONTS
from kiosk.clock import Clock as SessionClock
from kiosk.session import Phase, Settings, VisitorSession
from kiosk.shell import navigation
from kiosk.shell import widgets  # noqa: F401  (registers the shell's widget classes)
from kiosk.shell.palette import LARGE_TEXT_SCALE, palette_for
from kiosk.shell.guide import StationGuide
from kiosk.station import StationContent
from kiosk.watchdog import ServiceNotifier

log = logging.getLogger(__name__)

LabelBase.register("Sans", str(FONTS / "NotoSans-Regular.ttf"), fn_bold=str(FONTS / "NotoSans-Bold.ttf"))
LabelBase.register("Serif", str(FONTS / "NotoSerif-Regular.ttf"))
Builder.load_file(str(Path(__file__).with_name("shell.kv")))

# Each exhibit's module gives the screens after the attract screen with
# `build_screens(app) -> list[Screen]`, and names the first of them in FIRST_SCREEN.
# The top bar's control for each visit setting (kiosk.session.Settings), by test_name.
SETTING_CONTROLS = {"audio": "audio", "large_text": "large-text", "high_contrast": "high-contrast"}

EXHIBIT_MODULES = {"booth": "exhibits.booth.screens", "wall": "exhibits.wall.screens"}


class StationApp(App):
    """One station: the attract screen, then the exhibit's screens for one visitor at a time."""

    lang = StringProperty("nl")
    languages = ListProperty(["nl", "fr", "en"])
    exhibit = StringProperty("wall")
    station_id = StringProperty("")
    persons = NumericProperty(0)
    fictional = BooleanProperty(False)
    content_ok = BooleanProperty(True)
    phase = StringProperty(Phase.ATTRACT.value)
    seconds_left = NumericProperty(0)
    start_over_offered = BooleanProperty(True)  # an exhibit hides "start over" where it would harm or not help
    content = ObjectProperty(None, allownone=True)
    # The visit's settings (kiosk.session.Settings), read by kv rules and the exhibits.
    audio_mode = BooleanProperty(False)
    large_text = BooleanProperty(False)
    high_contrast = BooleanProperty(False)
    text_scale = NumericProperty(1.0)  # what sp fonts are multiplied by now (large text)
    palette = ObjectProperty(None)  # widgets.Colours: kv colours read app.palette.<name> (kiosk.shell.palette)
    focus_box = ListProperty([])  # x, y, w, h (window coordinates) of the focused control; [] = no ring
    service_manager = ServiceNotifier(None)  # silent until on_start reads $NOTIFY_SOCKET

    def __init__(
        self, config: StationConfig, content: StationContent | None, clock: SessionClock = time.monotonic, *, speaker=None, **kwargs
    ):
        """SPEAKER: where audio mode speaks (a hardware.audio.api.Speaker); by default
        the exhibit's own speaker setting names it (`speech_speaker_setting`)."""
        super().__init__(**kwargs)
        self.station = config
        self._speaker = speaker
        self.palette = widgets.Colours()
        self.clock = clock
        self.title = os.environ.get("KIOSK_WINDOW_TITLE", f"kiosk {config.station.id}")
        self.exhibit = config.station.exhibit
        self.station_id = config.station.id
        self.languages = list(config.station.languages)
        self.lang = config.station.default_language
        self.content = content
        self.content_ok = content is not None
        self.persons = content.persons if content else 0
        self.fictional = bool(content and content.fictional)
        self.session = VisitorSession(
            clock,
            warn_after_s=config.idle.warn_after_s,
            answer_within_s=config.idle.answer_within_s,
            default_language=config.station.default_language,
        )
        self.session.subscribe(self._on_phase)

    # -- texts -----------------------------------------------------------------------

    def t(self, lang: str, key: str, **values) -> str:
        """A text in LANG. kv rules pass `app.lang` so every text follows a language change."""
        return i18n.text(lang, key, **values)

    def n(self, lang: str, value: int | float) -> str:
        return i18n.number(lang, value)

    def date(self, lang: str, value) -> str:
        return i18n.long_date(lang, value)

    def language_name(self, lang: str) -> str:
        return i18n.LANGUAGE_NAMES[lang]

    # -- building --------------------------------------------------------------------

    def build(self):
        self.root_widget = Factory.StationRoot()
        # Before the exhibit's screens, which may hold on to app.speech (the booth holds it while it records).
        self.speech = self._make_speech()
        self.guide = StationGuide(self, self.speech)
        self._arrival = Clock.create_trigger(lambda _dt: self.guide.arrive())
        screens = self.root_widget.ids.screens
        attract = Factory.AttractScreen(name="attract")
        screens.add_widget(attract)
        module = importlib.import_module(EXHIBIT_MODULES[self.exhibit])
        self.first_screen = getattr(module, "FIRST_SCREEN", "welcome")
        for screen in module.build_screens(self):
            screens.add_widget(screen)
        if hasattr(module, "attract_backdrop"):
            attract.ids.backdrop.add_widget(module.attract_backdrop(self))
        screens.current = "attract"
        screens.bind(current=lambda *_: self._arrival())
        self.guide.bind_keys()
        # Cancelled when the app stops: a stopped app (a test, a screenshot) must not
        # tick on in the process and act on the app that runs after it.
        self._clock_events = [Clock.schedule_interval(self._tick, 0.25)]
        if self.station.display.snapshot_every_s > 0:
            self._clock_events.append(Clock.schedule_interval(self._snapshot, self.station.display.snapshot_every_s))
        log.info("station started", extra={"exhibit": self.exhibit, "persons": self.persons, "fictional": self.fictional})
        return self.root_widget

    @property
    def screens(self):
        return self.root_widget.ids.screens

    def screen_names(self) -> list[str]:
        return [*self.screens.screen_names, "idle"]

    # -- what the visitor does ---------------------------------------------------------

    def choose_language(self, lang: str) -> None:
        self.session.choose_language(lang)
        self.lang = lang
        if self.audio_mode:
            self.words_changed()
            self.speech.say(self.guide.guide.words.spoken, lang)

    # -- the visit's settings: audio mode, large text, high contrast ------------------------

    def toggle_audio(self) -> None:
        self.switch("audio", not self.audio_mode)

    def toggle_large_text(self) -> None:
        self.switch("large_text", not self.large_text)

    def toggle_high_contrast(self) -> None:
        self.switch("high_contrast", not self.high_contrast)

    def switch(self, setting: str, on: bool) -> None:
        """Turn a setting of kiosk.session.Settings on or off for this visit (on the
        attract screen this starts the visit, as a language button does)."""
        was_audio = self.audio_mode
        self.session.change(**{setting: on})
        self._apply(self.session.settings)
        if self.audio_mode and not was_audio:
            self._arrival.cancel()  # the announcement says the screen itself
            self.guide.audio_started()
        elif was_audio and not self.audio_mode:
            self.speech.say(self.t(self.lang, "spoken.audio_off"), self.lang)
        else:
            self.words_changed()
            control = self.guide.guide.words.control(SETTING_CONTROLS[setting]) if self.guide.guide.words else None
            if self.audio_mode and control is not None:
                self.speech.say(control.spoken, self.lang)  # says it is on or off now

    def _apply(self, settings: Settings) -> None:
        self.audio_mode = settings.audio
        self.large_text = settings.large_text
        self.high_contrast = settings.high_contrast
        self.text_scale = LARGE_TEXT_SCALE if settings.large_text else 1.0
        Metrics.fontscale = self.text_scale  # every font in sp follows
        self.palette.use(palette_for(settings.high_contrast))
        if not settings.audio:
            self.speech.stop()

    def show_settings(self, settings: Settings) -> None:
        """Show SETTINGS now, silently (`kiosk screenshot --large-text` and the like). They
        become the visit's; the attract screen, outside any visit, has none (a setting
        switched there starts the visit). With audio mode the focus ring is on the
        screen's first control."""
        if self.session.visit is None:
            return
        self.session.visit.settings = settings
        self._apply(settings)
        self._arrival.cancel()  # a screen changed just now would otherwise arrive, focus reset
        self.guide.keys_used = settings.audio
        words = self.guide.words()
        self.guide.guide.update(words)
        self.guide.guide.focus = words.controls[0].id if settings.audio and words.controls else None
        self.focus_moved()

    # -- audio mode and keys (kiosk.shell.guide) ------------------------------------------

    def navigate(self, action: str) -> None:
        """One step of tactile navigation: "previous" ("prev"), "next", "select", "back",
        "audio" (switch audio mode), "repeat" (say the screen again). The wall's keypad
        (kiosk.shell.navigation) and the booth's controller both end here. On the attract
        screen any of them starts the visit in audio mode: a visitor who reaches for keys
        may not see the screen."""
        action = navigation.action_named(action)
        self.guide.keys_used = True
        if self.phase == Phase.ATTRACT.value:
            self.switch("audio", True)
            return
        if self.phase == Phase.WARNING.value:
            self.still_here()  # any key answers "Are you still there?"
            return
        self.session.touched()
        if action == navigation.AUDIO:
            self.toggle_audio()
            return
        self.guide.navigate(action)

    def words_changed(self) -> None:
        """A screen's words changed (results came, a button became available): the
        focus stays on its control, nothing is said. Screens call this."""
        if getattr(self, "guide", None) is not None:
            self.guide.words_changed()

    def focus_moved(self) -> None:
        box = self.guide.focused_box()
        self.focus_box = list(box) if box is not None else []

    def speech_speaker_setting(self) -> str:
        """The station.toml setting of the speaker audio mode speaks through: the booth's
        own ([booth] speaker), the wall's ([wall] speaker, where voices are heard)."""
        if self.exhibit == "booth":
            return self.station.booth.speaker
        return self.station.wall.speaker

    def _make_speech(self):
        from kiosk.speech import Speech, SpeechCache

        speaker = self._speaker
        if speaker is None:
            from hardware.devices import speaker_named

            speaker = speaker_named(self.speech_speaker_setting())
        # Memory only: what audio mode says includes what a visitor typed (a first name,
        # a booking code, a search) and the booth's withdrawal code, which must not stay on
        # the station's disk after the visit. A screen's words are made ahead on arrival
        # (`prepare`), so a restart costs one synthesis per text, not a wait.
        return Speech(speaker, SpeechCache(None), on_problem=self._speech_problem)

    @staticmethod
    def _speech_problem(error: Exception) -> None:
        log.error("audio mode cannot speak", extra={"problem": str(error)})

    def still_here(self) -> None:
        self.session.still_here()

    def finish(self) -> None:
        self.session.finish()

    def _tick(self, _dt) -> None:
        self.session.tick()
        self.seconds_left = math.ceil(self.session.seconds_left())
        self.follow_focus()

    def follow_focus(self) -> None:
        """Put the ring where the focused control is now: it may have moved (a transition,
        a scroll, a layout that grew with large text)."""
        if self.focus_box or self.guide.guide.focus is not None:
            self.focus_moved()

    def _on_phase(self, phase: Phase) -> None:
        self.phase = phase.value
        overlay = self.root_widget.ids.idle_overlay
        if phase is Phase.WARNING:
            self.seconds_left = math.ceil(self.session.seconds_left())
            overlay.show()
            self._arrival()
            return
        if overlay.shown:
            self._arrival()  # back from the warning: the screen again
        overlay.hide()
        if phase is Phase.ATTRACT:
            self.lang = self.session.default_language
            self._apply(self.session.settings)  # the settings end with the visit
            self.guide.keys_used = False
            for screen in self.screens.screens:
                if hasattr(screen, "forget"):
                    screen.forget()
            self.screens.transition.direction = "right"
            self.screens.current = "attract"
            log.info("session ended")
        elif self.screens.current == "attract":
            self.screens.transition.direction = "left"
            self.screens.current = self.first_screen
            log.info("session started")

    def on_start(self) -> None:
        # systemd (Type=notify, WatchdogSec in deploy/systemd/) hears from this UI loop
        # itself: when the UI thread hangs, the pings stop and systemd restarts the station.
        self.service_manager = ServiceNotifier.from_environment()
        if self.service_manager.ping_interval_s:
            self._clock_events.append(
                Clock.schedule_interval(lambda _dt: self.service_manager.ping(), self.service_manager.ping_interval_s)
            )
        self.service_manager.ready(f"{self.exhibit} {self.station_id}")

    def on_stop(self) -> None:
        for event in getattr(self, "_clock_events", ()):
            event.cancel()
        if getattr(self, "guide", None) is not None:
            self.guide.unbind_keys()
            self.speech.close()
        Metrics.fontscale = 1.0  # the process may run another app (a test, a screenshot)
        self.service_manager.stopping()

    def _snapshot(self, _dt) -> None:
        target = self.station.resolve(self.station.display.snapshot_path)
        save_window_png(target)


def save_window_png(target: Path) -> Path:
    """What the window shows now, saved atomically (a remote viewer never sees half a file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # Kivy numbers its screenshots (name0001.png) and returns the name it wrote.
    written = Window.screenshot(name=str(target.with_name(f".{target.stem}.writing.png")))
    if not written:
        raise OSError(f"the window could not be saved to {target}")
    os.replace(written, target)
    return target
