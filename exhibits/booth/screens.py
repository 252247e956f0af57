"""The booth's screens: thin views over `BoothFlow`, one screen per step."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.gridlayout import GridLayout

from exhibits.booth.flow import BoothFlow, NotNow, Step
from hardware.audio.api import DeviceError
from kiosk.shell.widgets import Named, StationScreen
from kiosk.link.status import write_station_status

log = logging.getLogger(__name__)

Builder.load_file(str(Path(__file__).with_name("screens.kv")))

FIRST_SCREEN = "welcome"
METER_FLOOR_DBFS = -60.0
STATUS_EVERY_S = 5.0  # the meter's empty end; speech at a good distance reads -30 to -10


class BoothView(EventDispatcher):
    """What the screens show of the flow, as Kivy properties the kv rules bind to."""

    step = StringProperty(Step.WELCOME.value)
    notice = StringProperty("")
    display_name = StringProperty("")
    reading_aid = StringProperty("")
    transport = StringProperty("")
    list_number = NumericProperty(0)
    birth_date = StringProperty("")
    birth_place = StringProperty("")
    image_path = StringProperty("")
    level = NumericProperty(0.0)  # 0..1 for the meter
    advice = StringProperty("speak")
    countdown = NumericProperty(0)
    problem = StringProperty("")
    can_try_again = BooleanProperty(False)
    can_keep = BooleanProperty(False)
    last_take = BooleanProperty(False)
    withdrawal_code = StringProperty("")

    def __init__(self, flow: BoothFlow, **kwargs):
        super().__init__(**kwargs)
        self.flow = flow

    def refresh(self) -> None:
        flow = self.flow
        self.step = flow.step.value
        self.notice = flow.notice or ""
        person = flow.assignment
        self.display_name = person.display_name if person else ""
        self.reading_aid = (person.reading_aid or "") if person else ""
        self.transport = person.transport if person else ""
        self.list_number = person.list_number if person else 0
        self.birth_date = (person.birth_date or "") if person else ""
        self.birth_place = person.birth_place if person else ""
        self.image_path = str(person.image_path) if person else ""
        review = flow.review
        self.problem = (review.problem or "") if review else ""
        self.can_try_again = flow.can_try_again
        self.can_keep = bool(review) and review.problem != "no_speech"
        self.last_take = bool(review) and not flow.can_try_again
        self.withdrawal_code = flow.withdrawal_code or ""
        self.tick()

    def tick(self) -> None:
        flow = self.flow
        level = flow.level_dbfs
        self.level = 0.0 if level is None else min(1.0, max(0.0, (level - METER_FLOOR_DBFS) / -METER_FLOOR_DBFS))
        self.advice = flow.advice.advice()
        self.countdown = flow.countdown_left()


class Keypad(Named, GridLayout):
    """Large keys for a booking code or a first name; no system keyboard on a kiosk."""

    text = StringProperty("")
    keys = StringProperty("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    max_length = NumericProperty(24)

    def on_kv_post(self, _base_widget) -> None:
        from kivy.factory import Factory

        for key in self.keys:
            self.add_widget(Factory.KeypadKey(text=key, test_name=f"key-{key}", on_release=lambda button: self.press(button.text)))

    def press(self, key: str) -> None:
        if key == "⌫":
            self.text = self.text[:-1]
        elif len(self.text) < self.max_length:
            self.text += key


class BoothScreen(StationScreen):
    pass


class BoothWelcomeScreen(BoothScreen):
    def forget(self) -> None:
        # The station's idle timeout or "start over": drop what was not accepted.
        App.get_running_app().booth.do("reset")


SCREENS = {
    Step.CONSENT: "ConsentScreen",
    Step.AGE: "AgeScreen",
    Step.GUARDIAN: "GuardianScreen",
    Step.DECLINED: "DeclinedScreen",
    Step.CHOOSE: "ChooseScreen",
    Step.BOOKING: "BookingScreen",
    Step.MATCH: "MatchScreen",
    Step.NAME: "NameScreen",
    Step.SOUND_CHECK: "SoundCheckScreen",
    Step.COUNTDOWN: "CountdownScreen",
    Step.RECORDING: "RecordingScreen",
    Step.REVIEW: "ReviewScreen",
    Step.THANKS: "ThanksScreen",
    Step.OUT_OF_ORDER: "OutOfOrderScreen",
}


class Booth:
    """Ties the flow to the app: screens follow the steps, time ticks, touches act."""

    def __init__(self, app, flow: BoothFlow, controls=None):
        self.app = app
        self.flow = flow
        self.controls = controls  # exhibits.booth.controls.BoothControls: button and lights
        self.view = BoothView(flow)
        flow.subscribe(self._on_step)
        self._status_written = float("-inf")
        self._ticking = Clock.schedule_interval(self._tick, 1 / 20)
        app.bind(on_stop=lambda *_: self.close())

    def close(self) -> None:
        """The station stops: no more ticks, the microphone released."""
        self._ticking.cancel()
        if self.controls is not None:
            self.controls.close()
        self.flow.speaker.stop()
        self.flow.microphone.close()

    def do(self, action: str, *args, **kwargs) -> None:
        """A touch asks the flow to act; a double tap that comes too late changes nothing.

        A device that fails meanwhile is not a double tap: the booth goes out of order.
        """
        try:
            getattr(self.flow, action)(*args, **kwargs)
        except NotNow as error:
            log.warning("touch ignored", extra={"action": action, "why": str(error)})
        except DeviceError as error:
            self.flow.device_failed(error)
        self.view.refresh()

    def _on_step(self, step: Step) -> None:
        self.view.refresh()
        screens = self.app.screens
        if step is Step.WELCOME:
            if screens.current != "attract":
                screens.current = "welcome"
        else:
            screens.current = step.value

    def _tick(self, _dt) -> None:
        if self.controls is not None:
            self.controls.pump()  # the controller's button, on this thread like a touch
        try:
            self.flow.tick()
        except DeviceError as error:
            self.flow.device_failed(error)
        now = self.app.clock()
        if now - self._status_written >= STATUS_EVERY_S:
            # For `kiosk sync run`'s heartbeats, which run in another process.
            self._status_written = now
            microphone = self.flow.microphone
            write_station_status(
                self.app.station.data_dir,
                audio_state=microphone.state.name.lower(),
                controller_state=self.controls.state if self.controls is not None else "absent",
                input_overflows=microphone.overflows_total,
            )
        if self.flow.hands_free and self.app.phase == "active":
            self.app.session.touched()  # reading aloud is taking part, though nothing is touched
        self.view.tick()


def build_screens(app) -> list:
    from kivy.factory import Factory

    from exhibits.booth.compose import make_flow

    flow = make_flow(app.station, app.clock)
    from exhibits.booth.compose import make_controls

    app.booth = Booth(app, flow, make_controls(app.station, flow, on_presence=app.session.touched))
    welcome = BoothWelcomeScreen(name="welcome")
    screens = [welcome] + [getattr(Factory, cls)(name=step.value) for step, cls in SCREENS.items()]
    flow.start()
    app.booth.controls.start()
    app.booth.view.refresh()
    return screens


def stage(app, screen: str, clock) -> None:
    """Walk the flow to SCREEN as a participant would, for `kiosk screenshot`.

    Runs on the screenshot's own station copy (simulated devices, a temporary data
    folder), so nothing it records or keeps touches the real station.
    """
    flow = app.booth.flow
    step = Step(screen)
    walk = [
        (Step.CONSENT, lambda: flow.begin(app.lang)),
        (Step.AGE, lambda: flow.agree(app.lang)),
        (Step.GUARDIAN, lambda: flow.choose_age("9-12")),
        (Step.CHOOSE, flow.guardian_confirms),
        (Step.NAME, lambda: flow.choose_way("next")),
        (Step.SOUND_CHECK, flow.accept_name),
        (Step.COUNTDOWN, flow.ready),
    ]
    if step is Step.DECLINED:
        walk = walk[:1] + [(Step.DECLINED, flow.decline)]
    elif step in (Step.BOOKING, Step.MATCH):
        walk = walk[:4] + [(step, lambda: flow.choose_way("booking" if step is Step.BOOKING else "match"))]
    elif step is Step.OUT_OF_ORDER:
        walk = [(Step.OUT_OF_ORDER, lambda: (flow.microphone.lose(), flow.tick()))]  # an unplugged microphone
    for reached, action in walk:
        action()
        if reached is step:
            break
    if step in (Step.RECORDING, Step.REVIEW, Step.THANKS):
        clock.advance(flow.timing.countdown_s - flow.timing.lead_in_s)
        flow.tick()
        clock.advance(flow.timing.lead_in_s)
        flow.tick()
    if step in (Step.REVIEW, Step.THANKS):
        time.sleep(1.0)  # the simulated microphone delivers in real time: let it hear a second
        clock.advance(1.0)
        flow.stop()
    if step is Step.THANKS:
        flow.keep()
    app.booth.view.refresh()
    app.screens.current = step.value
