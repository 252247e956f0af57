"""The booth flow end to end without a screen: simulated microphone and speaker, the real
quality check, the real take store, names from a demo collection, and a stepped clock."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import soundfile

from exhibits.booth.flow import BoothFlow, NotNow, Step, Timing, step_age
from exhibits.booth.names import LocalNameSource
from exhibits.booth.quality import analyze
from exhibits.booth.take_store import TakeStore
from hardware.audio.api import DeviceError
from hardware.audio.simulated import SimulatedMicrophone, SimulatedSpeaker
from kiosk.collection import load_collection, write_demo
from kiosk.clock import ManualClock

RATE = 48_000
BLOCK = 960  # 20 ms


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flow-collection")
    write_demo(folder, count=200, seed=5)
    return load_collection(folder)


@pytest.fixture(scope="module")
def spoken_name(tmp_path_factory) -> np.ndarray:
    """espeak-ng reading a name, with the quiet of a booth before and after."""
    path = tmp_path_factory.mktemp("speech") / "name.wav"
    subprocess.run(["espeak-ng", "-v", "nl", "-w", str(path), "Chaja Goldsztajn"], check=True)
    speech, rate = soundfile.read(path, dtype="float32")
    speech = np.interp(np.arange(int(len(speech) * RATE / rate)) / RATE, np.arange(len(speech)) / rate, speech)
    quiet = np.zeros(int(2.0 * RATE), dtype=np.float32)
    # The countdown hears the first seconds; the take starts one second before "now".
    return np.concatenate([quiet, quiet, speech.astype(np.float32) * 0.5, quiet, quiet])


class Booth:
    def __init__(self, tmp_path, collection, source, *, max_takes=3, loop=False):
        self.clock = ManualClock(100.0)
        self.microphone = SimulatedMicrophone(source, RATE, blocksize=BLOCK, realtime=False, clock=self.clock, loop=loop)
        self.speaker = SimulatedSpeaker(clock=self.clock)
        self.store = TakeStore(tmp_path / "takes", "booth-1")
        self.names = LocalNameSource(collection, voiced=self.store.voiced_person_ids())
        self.flow = BoothFlow(
            clock=self.clock,
            names=self.names,
            microphone=self.microphone,
            speaker=self.speaker,
            store=self.store,
            analyze=analyze,
            timing=Timing(countdown_s=3, max_recording_s=12),
            max_takes=max_takes,
        )
        self.steps: list[Step] = []
        self.flow.subscribe(self.steps.append)
        self.flow.start()

    def run(self, seconds: float, *, until: Step | None = None) -> None:
        """Let time pass, the microphone delivering a block every 20 ms as a sound card would."""
        for _ in range(int(seconds * RATE / BLOCK)):
            self.clock.advance(BLOCK / RATE)
            self.microphone.deliver(1)
            self.flow.tick()
            if until is not None and self.flow.step is until:
                return

    def to_name(self, age="18+"):
        flow = self.flow
        flow.begin("fr")
        flow.choose_age(age)
        if age == "9-12":
            flow.guardian_confirms()
        flow.agree()
        flow.choose_way("next")
        assert flow.step is Step.NAME

    def to_review(self):
        self.to_name()
        self.flow.accept_name()
        self.flow.ready()
        self.run(5, until=Step.RECORDING)
        assert self.flow.step is Step.RECORDING
        self.run(12, until=Step.REVIEW)


def test_a_reading_is_checked_listened_to_kept_and_queued(tmp_path, collection, spoken_name):
    booth = Booth(tmp_path, collection, spoken_name)
    booth.to_review()
    flow = booth.flow
    assert flow.step is Step.REVIEW, "the take ends by itself once the name is said and quiet follows"
    assert flow.review.report.verdict == "ok", flow.review.report
    flow.listen()
    assert booth.speaker.played and booth.speaker.played[-1].seconds > 1

    person = flow.assignment.person_id
    flow.keep()
    assert flow.step is Step.THANKS
    code = flow.withdrawal_code
    assert code and len(code.replace("-", "")) == 8

    [kept] = booth.store.queued()
    sidecar = json.loads(kept.sidecar_path.read_text())
    assert sidecar["person_id"] == person and sidecar["station_id"] == "booth-1"
    assert sidecar["consent"] == {"version": "2026-12", "language": "fr", "age_band": "18+", "guardian_confirmed": False}
    assert sidecar["quality"]["verdict"] == "ok"
    audio, rate = soundfile.read(kept.audio_path)
    assert rate == 48_000 and np.abs(audio).max() > 0.1, "the kept audio holds the voice"
    assert booth.names.next_waiting().person_id != person, "a name with a voice is not handed out again"


def test_the_age_comes_first_then_a_guardian_for_9_to_12_then_the_participants_consent(tmp_path, collection, spoken_name):
    booth = Booth(tmp_path, collection, spoken_name)
    flow = booth.flow
    flow.begin("nl")
    assert flow.step is Step.AGE
    with pytest.raises(RuntimeError):
        flow.agree()  # nobody consents before the age is known
    flow.choose_age("9-12")
    assert flow.step is Step.GUARDIAN
    with pytest.raises(RuntimeError):
        flow.agree()  # nor a child before their guardian
    booth.run(5)
    assert flow.step is Step.GUARDIAN, "the guardian reads at their own pace"
    flow.guardian_confirms()
    assert flow.step is Step.CONSENT and flow.consent.guardian_confirmed
    flow.back()
    assert flow.step is Step.GUARDIAN and not flow.guardian_confirmed, "back undoes the guardian's yes"
    flow.guardian_confirms()
    flow.agree("nl")
    assert flow.step is Step.CHOOSE
    assert booth.steps == [Step.AGE, Step.GUARDIAN, Step.CONSENT, Step.GUARDIAN, Step.CONSENT, Step.CHOOSE]
    assert flow.consent.age_band == "9-12" and flow.consent.guardian_confirmed and flow.consent.version == "2026-12"


def test_from_13_the_participant_consents_alone(tmp_path, collection, spoken_name):
    booth = Booth(tmp_path, collection, spoken_name)
    flow = booth.flow
    flow.begin("en")
    flow.choose_age("13-17")
    assert flow.step is Step.CONSENT
    flow.back()
    assert flow.step is Step.AGE
    flow.choose_age("18+")
    flow.agree("en")
    assert booth.steps == [Step.AGE, Step.CONSENT, Step.AGE, Step.CONSENT, Step.CHOOSE]
    assert not flow.consent.guardian_confirmed and flow.consent.age_band == "18+"


def test_under_9_is_invited_back_with_an_adult_and_nothing_is_asked_or_kept(tmp_path, collection, spoken_name):
    booth = Booth(tmp_path, collection, spoken_name)
    flow = booth.flow
    flow.begin("fr")
    flow.choose_age("under-9")
    assert flow.step is Step.TOO_YOUNG and flow.age_band is None and flow.assignment is None
    with pytest.raises(RuntimeError):
        flow.agree()
    flow.back()  # a wrong touch on the age can be mended
    assert flow.step is Step.AGE
    flow.choose_age("under-9")
    booth.run(flow.timing.too_young_s - 1)
    assert flow.step is Step.TOO_YOUNG, "the screen stays long enough to be read to a child"
    booth.run(2)
    assert flow.step is Step.WELCOME and flow.language == "nl"
    assert booth.store.counts() == {"queued": 0, "sent": 0, "failed": 0}


def test_declining_ends_kindly_and_returns_to_welcome(tmp_path, collection, spoken_name):
    booth = Booth(tmp_path, collection, spoken_name)
    booth.flow.begin("en")
    booth.flow.choose_age("18+")
    booth.flow.decline()
    assert booth.flow.step is Step.DECLINED
    booth.run(11)
    assert booth.flow.step is Step.WELCOME and booth.store.counts()["queued"] == 0


def test_a_reset_drops_the_unaccepted_take_and_gives_the_name_back(tmp_path, collection, spoken_name):
    booth = Booth(tmp_path, collection, spoken_name)
    booth.to_review()
    person = booth.flow.assignment.person_id
    booth.flow.reset()
    assert booth.flow.step is Step.WELCOME and booth.flow.review is None
    assert booth.store.counts() == {"queued": 0, "sent": 0, "failed": 0}
    assert not list((tmp_path / "takes").rglob("*.flac"))
    assert booth.names.next_waiting().person_id == person


def test_a_few_takes_then_no_more(tmp_path, collection, spoken_name):
    booth = Booth(tmp_path, collection, spoken_name, max_takes=2, loop=True)
    booth.to_review()
    assert booth.flow.can_try_again
    booth.flow.try_again()
    booth.run(5, until=Step.RECORDING)
    booth.run(15, until=Step.REVIEW)
    assert booth.flow.step is Step.REVIEW and booth.flow.review.number == 2
    assert not booth.flow.can_try_again
    with pytest.raises(RuntimeError):
        booth.flow.try_again()


def test_a_take_never_runs_past_the_maximum(tmp_path, collection):
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(60 * RATE) / RATE).astype(np.float32)
    booth = Booth(tmp_path, collection, tone)
    booth.to_name()
    booth.flow.accept_name()
    booth.flow.ready()
    booth.run(5, until=Step.RECORDING)
    started = booth.clock()
    booth.run(20, until=Step.REVIEW)
    assert booth.flow.step is Step.REVIEW
    # max_recording_s counts from the start of the capture, one lead-in second before "now".
    assert 10.9 <= booth.clock() - started <= 11.1


def test_a_microphone_lost_mid_take_puts_the_booth_out_of_order_until_it_returns(tmp_path, collection, spoken_name):
    booth = Booth(tmp_path, collection, spoken_name)
    booth.to_name()
    booth.flow.accept_name()
    booth.flow.ready()
    booth.run(5, until=Step.RECORDING)
    booth.microphone.lose()
    booth.run(0.5)
    assert booth.flow.step is Step.OUT_OF_ORDER and booth.flow.review is None
    assert booth.flow.assignment is not None, "the participant keeps their name"
    booth.microphone.restore()
    booth.run(5, until=Step.SOUND_CHECK)
    assert booth.flow.step is Step.SOUND_CHECK
    assert booth.store.counts()["queued"] == 0


def test_the_sound_check_gives_plain_advice(tmp_path, collection, spoken_name):
    quiet_voice = spoken_name * 0.01
    booth = Booth(tmp_path, collection, quiet_voice)
    booth.to_name()
    booth.flow.accept_name()
    booth.run(6)
    assert booth.flow.advice.advice() in ("closer", "speak")
    loud = Booth(tmp_path / "loud", collection, spoken_name)
    loud.to_name()
    loud.flow.accept_name()
    loud.run(6)
    assert loud.flow.advice.advice() == "good"


def test_booking_code_and_match_with_fallback(tmp_path, collection, spoken_name):
    person = collection.persons[7]
    booth = Booth(tmp_path, collection, spoken_name)
    booth.names._bookings = {"ABCD2345": person.person_id}
    flow = booth.flow
    flow.begin("nl")
    flow.choose_age("13-17")
    flow.agree()
    flow.choose_way("booking")
    assert not flow.enter_booking("ZZZZ-9999") and flow.notice == "code_unknown"
    assert flow.enter_booking("abcd-2345") and flow.assignment.person_id == person.person_id
    flow.back()
    flow.choose_way("match")
    flow.match(first_name="Zzyzx", birthday=None)
    assert flow.step is Step.NAME and flow.notice == "no_match" and flow.assignment.how == "next"


def test_double_taps_that_come_too_late_are_refused(tmp_path, collection, spoken_name):
    booth = Booth(tmp_path, collection, spoken_name)
    booth.flow.begin("nl")
    with pytest.raises(RuntimeError):
        booth.flow.begin("nl")


def test_a_match_on_age_gives_someone_of_that_age_when_their_transport_left(tmp_path, collection, spoken_name):
    booth = Booth(tmp_path, collection, spoken_name)
    flow = booth.flow
    ages = [collection.age_at_departure(p) for p in collection.persons]
    age = max((a for a in set(ages) if a is not None and a >= 9), key=ages.count)
    flow.begin("en")
    flow.choose_age("18+")
    flow.agree()
    flow.choose_way("match")
    flow.match(first_name=None, birthday=None, age=age)
    assert flow.step is Step.NAME and flow.notice is None and flow.assignment.how == "match"
    assert collection.age_at_departure(collection.by_id[flow.assignment.person_id]) == age
    flow.back()
    flow.choose_way("match")
    with pytest.raises(ValueError, match="9 to 120"):
        flow.match(first_name=None, birthday=None, age=8)
    flow.match(first_name=None, birthday=None, age=120)  # nobody was 120: the next name, and says so
    assert flow.step is Step.NAME and flow.notice == "no_match_shared" and flow.assignment.how == "next"


def test_the_age_stepper_starts_at_nothing_and_stays_within_9_to_120():
    assert [step_age(0, 10), step_age(10, 10), step_age(20, 10)] == [10, 20, 30]
    assert step_age(0, 1) == 9 and step_age(9, -1) == 0 and step_age(15, -10) == 0 and step_age(0, -1) == 0
    assert step_age(115, 10) == 120 and step_age(120, 1) == 120


def test_wrong_codes_are_limited_at_the_booth_across_participants(tmp_path, collection, spoken_name):
    person = collection.persons[7]
    booth = Booth(tmp_path, collection, spoken_name)
    booth.names._bookings = {"ABCD2345": person.person_id}
    flow = booth.flow
    asked: list[str] = []
    by_booking = booth.names.by_booking
    booth.names.by_booking = lambda code: asked.append(code) or by_booking(code)

    def to_booking():
        flow.begin("nl")
        flow.choose_age("18+")
        flow.agree()
        flow.choose_way("booking")

    to_booking()
    for attempt in range(4):
        assert not flow.enter_booking(f"WXYZ-{2345 + attempt}") and flow.notice == "code_unknown"
    flow.reset()  # another participant: the count stays
    to_booking()
    assert not flow.enter_booking("WXYZ-9999") and flow.notice == "code_locked"
    assert not flow.enter_booking("ab cd-2345") and flow.notice == "code_locked"
    assert len(asked) == 5, "a locked booth does not even ask"
    booth.clock.advance(600)
    assert flow.enter_booking("ab cd 2345") and flow.assignment.person_id == person.person_id


def test_the_recording_screen_knows_the_time_left_and_the_review_the_tries_left(tmp_path, collection, spoken_name):
    booth = Booth(tmp_path, collection, spoken_name, loop=True)
    flow = booth.flow
    booth.to_name()
    flow.accept_name()
    assert flow.can_start_over
    flow.ready()
    assert not flow.can_start_over, "no start over during the countdown"
    booth.run(5, until=Step.RECORDING)
    assert not flow.can_start_over, "nor during the reading"
    # The capture began one lead-in second before "now": 12 s at most, 11 of them left.
    left = flow.recording_left()
    assert left in (11, 12)
    booth.run(2)
    assert flow.recording_left() == left - 2
    flow.stop()
    assert flow.step is Step.REVIEW and flow.tries_left == 2 and flow.can_start_over


def test_out_of_order_names_its_cause_and_goes_on_when_it_is_mended(tmp_path, collection, spoken_name):
    booth = Booth(tmp_path, collection, spoken_name)
    flow = booth.flow
    booth.to_name()
    flow.device_lost("controller")
    assert flow.step is Step.OUT_OF_ORDER and flow.fault == "controller" and not flow.can_start_over
    booth.microphone.lose()
    booth.run(0.2)
    assert flow.fault == "microphone", "the microphone is named first"
    booth.microphone.restore()
    booth.run(5)
    assert flow.step is Step.OUT_OF_ORDER and flow.fault == "controller", "the controller is still missing"
    flow.device_back("controller")
    assert flow.step is Step.SOUND_CHECK and flow.fault is None and flow.assignment is not None


def test_no_names_waiting_is_out_of_order_and_says_so(tmp_path, collection, spoken_name):
    from exhibits.booth.names import NoNameSource

    booth = Booth(tmp_path, collection, spoken_name)
    flow = booth.flow
    flow.begin("nl")
    flow.choose_age("18+")
    flow.agree()
    booth.names._order = []  # every name has a voice now
    flow.choose_way("next")
    assert flow.step is Step.OUT_OF_ORDER and flow.fault == "no_names" and flow.assignment is None
    booth.run(flow.timing.no_names_retry_s + 1)
    assert flow.step is Step.WELCOME and flow.fault is None, "the next participant tries again"

    empty = Booth(tmp_path / "empty", collection, spoken_name)
    empty.flow.names = NoNameSource()  # the collection could not be read
    empty.flow.begin("en")
    empty.flow.choose_age("18+")
    empty.flow.agree()
    empty.flow.choose_way("match")
    empty.flow.match(first_name="Léa", birthday=None)
    assert empty.flow.step is Step.OUT_OF_ORDER and empty.flow.fault == "no_names"
    empty.flow.reset()  # the idle timeout changes nothing
    empty.run(empty.flow.timing.no_names_retry_s + 1)
    assert empty.flow.step is Step.OUT_OF_ORDER and empty.flow.fault == "no_names", "no names will come back by themselves"


def test_a_device_fault_is_not_a_double_tap(tmp_path, collection, spoken_name, monkeypatch):
    booth = Booth(tmp_path, collection, spoken_name)
    booth.flow.begin("nl")
    with pytest.raises(NotNow):
        booth.flow.begin("nl")  # a double tap: the screen ignores it
    booth.flow.choose_age("18+")
    booth.flow.agree()
    booth.flow.choose_way("next")
    booth.flow.accept_name()
    booth.flow.ready()
    booth.run(5, until=Step.RECORDING)

    def writer_gone():
        raise DeviceError("the writer thread of the simulated microphone does not answer")

    monkeypatch.setattr(booth.microphone, "stop_capture", writer_gone)
    with pytest.raises(DeviceError) as raised:
        booth.flow.reset()
    assert not isinstance(raised.value, NotNow), "a device fault must not read as a double tap"
    booth.flow.device_failed(raised.value)
    assert booth.flow.step is Step.OUT_OF_ORDER
    assert booth.flow.assignment is not None, "the participant keeps their name"
    monkeypatch.undo()


def test_speech_stops_when_the_countdown_starts_and_comes_back_after_the_reading(tmp_path, collection, spoken_name):
    import time

    from kiosk.speech import Speech, SpeechCache

    booth = Booth(tmp_path, collection, spoken_name)
    voice = SimulatedSpeaker()  # the station's speech (real espeak-ng), apart from "listen back"
    speech = Speech(voice, SpeechCache(tmp_path / "speech"))
    try:
        booth.flow.hush(speech)
        booth.to_name()
        booth.flow.accept_name()
        speech.say("Als je klaar bent, druk dan op de grote knop. Dan volgt een kort aftellen.", "nl")
        deadline = time.monotonic() + 20
        while not voice.playing():
            assert time.monotonic() < deadline, "speech never started"
            time.sleep(0.01)
        booth.flow.ready()  # the countdown starts: what is being said stops at once
        assert not voice.playing() and speech.held
        speech.say("Dit mag de microfoon niet horen", "nl")
        booth.run(5, until=Step.RECORDING)
        assert booth.flow.step is Step.RECORDING and speech.held
        booth.run(12, until=Step.REVIEW)
        assert booth.flow.step is Step.REVIEW and not speech.held, "speech comes back once the reading is over"
        assert len(voice.played) == 1, "nothing was said between the countdown and the review"
        speech.say("Beluister je opname", "nl")
        deadline = time.monotonic() + 20
        while len(voice.played) < 2:
            assert time.monotonic() < deadline, "speech did not come back"
            time.sleep(0.01)
        booth.flow.try_again()
        assert speech.held
        booth.flow.device_lost("microphone")  # out of order mid-countdown: the booth may speak again
        assert not speech.held
    finally:
        speech.close()
