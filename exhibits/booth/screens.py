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
from kivy.uix.screenmanager import NoTransition

from exhibits.booth.flow import BoothFlow, NotNow, Step, step_age
from hardware.audio.api import DeviceError
from kiosk.contract import CODE_ALPHABET
from kiosk.link.status import write_station_status
from kiosk.shell.keyboard import OnScreenKeyboard  # noqa: F401  (the kv rules use it)
from kiosk.shell.widgets import StationScreen

log = logging.getLogger(__name__)

Builder.load_file(str(Path(__file__).with_name("screens.kv")))

FIRST_SCREEN = "welcome"
# Booking codes are made like withdrawal codes: the keyboard offers only these symbols
# and says which it leaves out.
CODE_KEYS = CODE_ALPHABET
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
    sex = StringProperty("")  # f, m or empty: the lines agree with the person
    image_path = StringProperty("")
    level = NumericProperty(0.0)  # 0..1 for the meter
    advice = StringProperty("speak")
    countdown = NumericProperty(0)
    problem = StringProperty("")
    can_try_again = BooleanProperty(False)
    can_keep = BooleanProperty(False)
    last_take = BooleanProperty(False)
    withdrawal_code = StringProperty("")
    tries_left = NumericProperty(0)
    recording_left = NumericProperty(0)
    fault = StringProperty("")

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
        self.sex = person.sex if person else ""
        self.image_path = str(person.image_path) if person else ""
        review = flow.review
        self.problem = (review.problem or "") if review else ""
        self.can_try_again = flow.can_try_again
        self.can_keep = bool(review) and review.problem != "no_speech"
        self.last_take = bool(review) and not flow.can_try_again
        self.withdrawal_code = flow.withdrawal_code or ""
        self.tries_left = flow.tries_left
        self.fault = flow.fault or ""
        self.tick()

    def tick(self) -> None:
        flow = self.flow
        level = flow.level_dbfs
        self.level = 0.0 if level is None else min(1.0, max(0.0, (level - METER_FLOOR_DBFS) / -METER_FLOOR_DBFS))
        self.advice = flow.advice.advice()
        self.countdown = flow.countdown_left()
        self.recording_left = flow.recording_left()


def grouped(code: str) -> str:
    """ABCD-2345 as the thank-you screen shows it: two groups of four, easy to copy."""
    return code.replace("-", " – ")


class BoothScreen(StationScreen):
    def screen_words(self):
        """What audio mode says here (exhibits.booth.spoken), for the flow as it is now."""
        from exhibits.booth.spoken import Typing, words

        app = App.get_running_app()
        keyboard = self.ids.get("code") or self.ids.get("first")
        typing = Typing(
            typed=getattr(self, "typed", "") or getattr(self, "first_name", ""),
            keyboard=keyboard.controls(lambda key, **values: app.t(app.lang, key, **values)) if keyboard is not None else (),
            day=int(getattr(self, "day", 0)),
            month=int(getattr(self, "month", 0)),
            age=int(getattr(self, "age", 0)),
        )
        return words(self.name, app.lang, app.booth.flow, contact=app.station.booth.contact, typing=typing)


class BoothWelcomeScreen(BoothScreen):
    def forget(self) -> None:
        # The station's idle timeout or "start over": drop what was not accepted.
        App.get_running_app().booth.do("reset")


class MatchScreen(BoothScreen):
    """A first name, a birthday or an age; day and month go round (31 → 1, December → January),
    the age goes from nothing to 9 ... 120 (by one or by ten)."""

    day = NumericProperty(0)
    month = NumericProperty(0)
    age = NumericProperty(0)  # "my age"; 0: not given (exhibits.booth.flow.step_age)
    first_name = StringProperty("")  # as typed, without spaces around it

    def on_first_name(self, *_args) -> None:
        App.get_running_app().words_changed()  # "find a name" may have become available

    on_day = on_month = on_age = on_first_name

    def step(self, which: str, by: int) -> None:
        if which == "age":
            self.age = step_age(self.age, by)
            return
        top = 31 if which == "day" else 12
        value = getattr(self, which)
        if value == 0:
            value = 1 if by > 0 else top
        else:
            value = (value - 1 + by) % top + 1
        setattr(self, which, value)


SCREENS = {
    Step.AGE: "AgeScreen",
    Step.TOO_YOUNG: "TooYoungScreen",
    Step.GUARDIAN: "GuardianScreen",
    Step.CONSENT: "ConsentScreen",
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
        self.controls = controls  # exhibits.booth.controls.BoothControls: button, keys and lights
        if controls is not None:
            controls.on_key = self.key
        self.view = BoothView(flow)
        flow.subscribe(self._on_step)
        self._status_written = float("-inf")
        self._ticking = Clock.schedule_interval(self._tick, 1 / 20)
        app.bind(on_stop=lambda *_: self.close())

    def start(self) -> None:
        # Audio mode's voice (made by the app after the screens) is silent from the
        # countdown to the end of the reading.
        self.flow.hush(self.app.speech)
        self.flow.start()
        if self.controls is not None:
            self.controls.start()
        self.view.refresh()
        self.app.start_over_offered = self.flow.can_start_over

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

    def key(self, key: str) -> None:
        """A tactile key of the controller ("prev", "next", "select"): audio mode's guide
        moves the focus or presses what has it, as the wall's keypad does."""
        self.app.navigate(key)

    def _on_step(self, step: Step) -> None:
        self.view.refresh()
        self.app.start_over_offered = self.flow.can_start_over
        screens = self.app.screens
        if screens.current == step.value:
            # The same screen again (a wrong booking code): its words changed, and what
            # it now says (the notice) is said, since no new screen will say it.
            self.app.words_changed()
            if self.app.audio_mode and self.flow.notice:
                self.app.speech.say(self.app.t(self.app.lang, f"notice.{self.flow.notice}"), self.app.lang)
            return
        if step is Step.WELCOME:
            if screens.current != "attract":
                screens.current = "welcome"
        elif screens.current == "attract":
            # Nobody is here (out of order, often at the very start, before anything was
            # laid out): show it at once; a fade would draw screens that have no size yet.
            fade, screens.transition = screens.transition, NoTransition()
            screens.current = step.value
            screens.transition = fade
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
            devices = {"microphone": microphone.state.name.lower()}
            if self.controls is not None and self.controls.state != "absent":
                devices["controller"] = self.controls.state
            write_station_status(
                self.app.station.data_dir, program="booth", devices=devices, input_overflows=microphone.overflows_total
            )
        if self.flow.hands_free and self.app.phase == "active":
            self.app.session.touched()  # reading aloud is taking part, though nothing is touched
        self.view.tick()


def build_screens(app) -> list:
    from kivy.factory import Factory

    from exhibits.booth.compose import make_flow

    # Read once per process, at start (kiosk.station.load_content): here only when the app was given none.
    flow = make_flow(app.station, app.clock, collection=getattr(app.content, "collection", None))
    from exhibits.booth.compose import make_controls

    app.booth = Booth(app, flow, make_controls(app.station, flow, on_presence=app.session.touched))
    welcome = BoothWelcomeScreen(name="welcome")
    screens = [welcome] + [getattr(Factory, cls)(name=step.value) for step, cls in SCREENS.items()]
    # On the first frame, once the screens are in place: a booth that starts without its
    # microphone or its names shows at once that it is out of order.
    Clock.schedule_once(lambda _dt: app.booth.start(), 0)
    return screens


def stage(app, screen: str, clock, person: str | None = None) -> None:
    """Walk the flow to SCREEN as a participant would, for `kiosk screenshot`; PERSON (an id
    of the collection) is the name given, else the next name waiting.

    Runs on the screenshot's own station copy (simulated devices, a temporary data
    folder), so nothing it records or keeps touches the real station.
    """
    flow = app.booth.flow
    step = Step(screen)
    if person is not None:
        _hand_out(app, person)
    walk = [
        (Step.AGE, lambda: flow.begin(app.lang)),
        (Step.GUARDIAN, lambda: flow.choose_age("9-12")),
        (Step.CONSENT, flow.guardian_confirms),
        (Step.CHOOSE, lambda: flow.agree(app.lang)),
        (Step.NAME, (lambda: (flow.choose_way("booking"), flow.enter_booking(SHOT_CODE))) if person else (lambda: flow.choose_way("next"))),
        (Step.SOUND_CHECK, flow.accept_name),
        (Step.COUNTDOWN, flow.ready),
    ]
    if step is Step.DECLINED:
        walk = walk[:3] + [(Step.DECLINED, flow.decline)]
    elif step is Step.TOO_YOUNG:
        walk = walk[:1] + [(Step.TOO_YOUNG, lambda: flow.choose_age("under-9"))]
    elif step is Step.CONSENT:
        walk = walk[:1] + [(Step.CONSENT, lambda: flow.choose_age("18+"))]  # the participant's own consent
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
    app.start_over_offered = flow.can_start_over
    app.screens.current = step.value


SHOT_CODE = "SHOT"


def _hand_out(app, person_id: str) -> None:
    """The screenshot's flow gives PERSON_ID, as a booking would, from the station's collection."""
    from exhibits.booth.names import LocalNameSource
    from kiosk.collection import load_collection
    from kiosk.errors import KioskError

    collection = getattr(app.content, "collection", None) or load_collection(app.station.collection_dir)
    if person_id not in collection.by_id:
        raise KioskError(f"no person '{person_id}' in {app.station.collection_dir}", "give a person_id of persons.csv")
    app.booth.flow.names = LocalNameSource(collection, voiced=set(), bookings={SHOT_CODE: person_id})
