"""What audio mode says on the booth's screens, without a screen: every screen and every
button has words in Dutch, French and English, from the catalogues; the name screen
reads out the person in their grammar; a button that cannot be pressed says why."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from exhibits.booth import spoken
from exhibits.booth.flow import BoothFlow, Step, Timing
from exhibits.booth.names import LocalNameSource
from exhibits.booth.quality import analyze
from exhibits.booth.take_store import TakeStore
from hardware.audio.simulated import SimulatedMicrophone, SimulatedSpeaker
from kiosk import i18n
from kiosk.accessibility import Control
from kiosk.clock import ManualClock
from kiosk.collection import load_collection, write_demo
from kiosk.contract import CODE_ALPHABET
from kiosk.shell.keys import LETTERS

LANGUAGES = ("nl", "fr", "en")
CONTACT = "privacy@kazernedossin.eu"
KV = Path(spoken.__file__).with_name("screens.kv")


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spoken-collection")
    write_demo(folder, count=80, seed=7)
    return load_collection(folder)


def make_flow(tmp_path, collection, *, bookings=None, max_takes=3) -> BoothFlow:
    clock = ManualClock(10.0)
    quiet = np.zeros(48_000 * 30, dtype=np.float32)
    flow = BoothFlow(
        clock=clock,
        names=LocalNameSource(collection, voiced=set(), bookings=bookings or {}),
        microphone=SimulatedMicrophone(quiet, 48_000, blocksize=960, realtime=False, clock=clock),
        speaker=SimulatedSpeaker(clock=clock),
        store=TakeStore(tmp_path / "takes", "booth-1"),
        analyze=analyze,
        timing=Timing(countdown_s=3, max_recording_s=12),
        max_takes=max_takes,
    )
    flow.start()
    return flow


def keyboard(lang: str, keys: str) -> tuple[Control, ...]:
    """Keys as the on-screen keyboard names them (its widget, kiosk.shell.keyboard, needs Kivy)."""
    return tuple(Control(f"key-{key}", i18n.text(lang, "spoken.button", name=key)) for key in keys) + (
        Control("key-clear", i18n.text(lang, "spoken.button", name=i18n.text(lang, "search.clear"))),
    )


def words(flow: BoothFlow, lang: str, screen: str | None = None, **typing):
    return spoken.words(screen or flow.step.value, lang, flow, contact=CONTACT, typing=spoken.Typing(**typing))


def _reading(flow: BoothFlow, samples: int) -> None:
    """Time passes through the countdown and the reading, the microphone delivering."""
    for _ in range(samples):
        flow.clock.advance(0.02)
        flow.microphone.deliver(1)
        flow.tick()
        if flow.step is Step.REVIEW:
            return


def _every_screen(flow: BoothFlow, lang: str):
    """The flow walked through every screen, yielding each screen's words."""
    yield words(flow, lang, "welcome")
    flow.begin(lang)
    yield words(flow, lang)  # age
    flow.choose_age("under-9")
    yield words(flow, lang)  # too young
    flow.back()
    flow.choose_age("9-12")
    yield words(flow, lang)  # guardian
    flow.decline()
    yield words(flow, lang)  # declined
    flow.reset()
    flow.begin(lang)
    flow.choose_age("9-12")
    flow.guardian_confirms()
    yield words(flow, lang)  # consent
    flow.agree(lang)
    yield words(flow, lang)  # choose
    flow.choose_way("booking")
    yield words(flow, lang, keyboard=keyboard(lang, CODE_ALPHABET), typed="AB")
    flow.back()
    flow.choose_way("match")
    yield words(flow, lang, keyboard=keyboard(lang, LETTERS), typed="Ida", day=12, month=5, age=0)
    flow.back()
    flow.choose_way("next")
    yield words(flow, lang)  # name
    flow.accept_name()
    yield words(flow, lang)  # sound check
    flow.ready()
    yield words(flow, lang)  # countdown
    _reading(flow, 160)
    yield words(flow, lang)  # recording
    _reading(flow, 800)
    yield words(flow, lang)  # review
    flow.keep()
    yield words(flow, lang)  # thanks
    flow.reset()
    flow.device_lost("microphone")
    yield words(flow, lang)  # out of order


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_screen_says_what_it_is_and_names_every_button(tmp_path, collection, lang):
    flow = make_flow(tmp_path, collection)
    said = list(_every_screen(flow, lang))
    assert {screen.screen for screen in said} == set(spoken.SCREENS)
    for screen in said:
        texts = [screen.spoken] + [control.spoken for control in screen.controls]
        for text in texts:
            assert text.strip() and "{" not in text and "booth.say" not in text, (screen.screen, text)
    by_screen = {screen.screen: screen for screen in said}
    assert by_screen["welcome"].control("booth-begin") is not None
    assert len(by_screen["age"].controls) == 5 and by_screen["countdown"].controls == ()


def _kv_buttons() -> dict[str, set[str]]:
    """The test names of the buttons each screen rule of screens.kv declares."""
    found: dict[str, set[str]] = {}
    screen = None
    lines = KV.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        rule = re.match(r"<(\w+?)Screen(?:@BoothScreen)?>:", line)
        if rule:
            screen = re.sub(r"(?<!^)(?=[A-Z])", "_", rule.group(1)).lower().replace("booth_", "")
            found[screen] = set()
        elif line.startswith("<"):
            screen = None
        elif screen and line.strip() == "TouchButton:":
            indent = len(line) - len(line.lstrip())
            for inner in lines[number + 1 :]:
                if len(inner) - len(inner.lstrip()) <= indent:
                    break
                named = re.match(r'\s*test_name: "([^"]+)"', inner)
                if named:
                    found[screen].add(named.group(1))
    found["out_of_order"] = found.pop("out_of_order", set())
    return found


def test_the_words_name_exactly_the_buttons_the_screens_show(tmp_path, collection):
    flow = make_flow(tmp_path, collection)
    said = {screen.screen: {control.id for control in screen.controls} for screen in _every_screen(flow, "en")}
    kv = _kv_buttons()
    assert kv["sound_check"] == {"soundcheck-ready"}, "screens.kv was not read as this test expects"
    for screen, buttons in kv.items():
        assert buttons <= said[screen], f"{screen}: buttons without words: {sorted(buttons - said[screen])}"
    # The keyboard's keys come first, as the keyboard names them; the steppers are named too.
    assert {"key-A", "key-Z", "key-clear", "day-down", "month-up", "age-up-10"} <= said["match"]
    assert {f"key-{key}" for key in CODE_ALPHABET} <= said["booking"]


def _person(collection, sex: str):
    return next(p for p in collection.persons if p.sex == sex and p.birth_place and p.birth_date and p.birth_date.day)


@pytest.mark.parametrize(("lang", "sex", "born"), [("fr", "f", "Née :"), ("fr", "m", "Né :"), ("nl", "f", "Geboren:"), ("en", "m", "Born:")])
def test_the_name_screen_reads_out_the_person_in_their_grammar(tmp_path, collection, lang, sex, born):
    person = _person(collection, sex)
    flow = make_flow(tmp_path, collection, bookings={"ABCD2345": person.person_id})
    flow.begin(lang)
    flow.choose_age("18+")
    flow.agree(lang)
    flow.choose_way("booking")
    assert flow.enter_booking("ABCD-2345")
    said = words(flow, lang).spoken
    name = flow.assignment.display_name
    assert name in said and f" {born} " in said
    assert said.index(name) < said.index(f" {born} "), "the name comes first: it is what the participant reads"
    assert spoken.transport_said(flow.assignment.transport) in said
    flow.accept_name()
    assert name in words(flow, lang).spoken, "the sound check says the name once more before the countdown"


def test_a_button_that_cannot_be_pressed_says_why(tmp_path, collection):
    flow = make_flow(tmp_path, collection, max_takes=1)
    flow.begin("nl")
    flow.choose_age("18+")
    flow.agree("nl")
    flow.choose_way("booking")
    confirm = words(flow, "nl", keyboard=keyboard("nl", CODE_ALPHABET), typed="AB").control("booking-confirm")
    assert not confirm.enabled and confirm.why_not == i18n.text("nl", "why.booking")
    assert words(flow, "nl", keyboard=keyboard("nl", CODE_ALPHABET), typed="ABCD").control("booking-confirm").enabled
    flow.back()
    flow.choose_way("match")
    find = words(flow, "nl", keyboard=keyboard("nl", LETTERS)).control("match-find")
    assert not find.enabled and find.why_not
    assert words(flow, "nl", keyboard=keyboard("nl", LETTERS), age=30).control("match-find").enabled
    flow.back()
    flow.choose_way("next")
    flow.accept_name()
    flow.ready()
    _reading(flow, 1000)  # only quiet: no voice heard, and it was the only try
    review = words(flow, "nl")
    again, keep = review.control("review-again"), review.control("review-keep")
    assert not again.enabled and again.why_not and not keep.enabled and keep.why_not
    assert review.control("review-listen").enabled


def test_the_thanks_screen_spells_the_withdrawal_code(tmp_path, collection):
    assert spoken.spelled("ABCD-2345") == "A, B, C, D. 2, 3, 4, 5"
    flow = make_flow(tmp_path, collection)
    flow.begin("en")
    flow.choose_age("18+")
    flow.agree("en")
    flow.choose_way("next")
    flow.accept_name()
    flow.ready()
    _reading(flow, 1000)
    flow.keep()
    said = words(flow, "en").spoken
    assert spoken.spelled(flow.withdrawal_code) in said and CONTACT in said


def test_an_unknown_screen_says_what_to_do(tmp_path, collection):
    with pytest.raises(KeyError, match="add it to exhibits.booth.spoken"):
        spoken.words("lobby", "en", make_flow(tmp_path, collection), contact=CONTACT)


@pytest.mark.parametrize(("code", "said"), [("I", "1"), ("IV", "4"), ("IX", "9"), ("XXIIA", "22 A"), ("XXIIB", "22 B"), ("XXVI", "26"), ("Z", "Z")])
def test_a_transport_is_said_as_a_number_not_as_letters(code, said):
    assert spoken.transport_said(code) == said
