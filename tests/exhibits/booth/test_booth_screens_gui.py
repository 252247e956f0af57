"""The booth's screens under real touches (Kivy under Xvfb, xdotool clicks): the age comes
first, a guardian before a child of 9 to 12, a kind way back for a child under 9, the
shared keyboard, a disabled button that says why, and no "start over" while reading."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def booth(display, booth_app):
    def contact(text: str) -> str:
        return text.replace('contact = "info@kazernedossin.eu"', 'contact = "withdraw@example.org"')

    driver, app, config = booth_app("booth-3", controller="none", count=60, seed=6, edit=contact)
    assert config.booth.contact == "withdraw@example.org"
    return driver, app


def tap_to(driver, app, name: str, screen: str) -> None:
    """Tap NAME and wait for SCREEN: on a loaded machine a touch can take a while to arrive."""
    driver.tap(name)
    driver.wait_until(lambda: app.screens.current == screen, timeout=10, what=f"{name} to lead to {screen}")


def start(driver, app, lang: str) -> None:
    driver.tap("attract")
    driver.wait_until(lambda: app.phase == "active", timeout=10, what="the visit to start")
    driver.tap(f"language-{lang}")
    driver.wait_until(lambda: app.lang == lang, timeout=10, what=f"the language {lang}")
    tap_to(driver, app, "booth-begin", "age")


def test_age_then_guardian_then_consent_by_touch(booth):
    driver, app = booth
    flow = app.booth.flow
    start(driver, app, "en")
    tap_to(driver, app, "age-9-12", "guardian")
    # The guardian reads what the child will agree to, with the museum's contact.
    assert "withdraw@example.org" in driver.find("consent-text").text
    tap_to(driver, app, "guardian-confirm", "consent")
    assert flow.guardian_confirmed
    assert "the portrait wall" in driver.find("consent-text").text and "staff" in driver.find("consent-text").text
    tap_to(driver, app, "back", "guardian")
    assert not flow.guardian_confirmed
    tap_to(driver, app, "guardian-confirm", "consent")
    tap_to(driver, app, "consent-agree", "choose")
    assert flow.consent.age_band == "9-12" and flow.consent.guardian_confirmed and flow.consent.version == "2026-12"


def test_from_13_the_consent_follows_the_age_and_under_9_is_invited_back(booth):
    driver, app = booth
    flow = app.booth.flow
    start(driver, app, "nl")
    tap_to(driver, app, "age-13-17", "consent")
    assert not flow.guardian_confirmed
    tap_to(driver, app, "back", "age")
    tap_to(driver, app, "age-under-9", "too_young")
    assert "volwassene" in driver.find("too-young-text").text
    with pytest.raises(LookupError):
        driver.find("consent-agree")  # nothing to agree to
    tap_to(driver, app, "back", "age")
    assert flow.age_band is None


def test_one_keyboard_and_a_disabled_button_says_why(booth):
    driver, app = booth
    start(driver, app, "fr")
    tap_to(driver, app, "age-18-plus", "consent")
    tap_to(driver, app, "consent-agree", "choose")
    tap_to(driver, app, "choose-match", "match")

    find = driver.find("match-find", visible=False)
    assert find.disabled
    driver.tap(find)  # touched while it cannot be used: it says why
    driver.wait_until(lambda: driver.find("explanation", visible=False).shown, timeout=5, what="the explanation")
    explanation = driver.find("explanation")
    assert explanation.text == app.t("fr", "why.match")
    assert explanation.y >= find.to_window(find.x, find.top)[1], "shown above the button, not under the finger"

    keyboard = driver.find("keyboard")
    for key, then in (("L", "L"), ("layer", None), ("É", "LÉ"), ("layer", None), ("A", "LÉA"), ("space", "LÉA "),
                      ("space", "LÉA "), ("-", "LÉA -"), ("'", "LÉA -'"), ("backspace", "LÉA -"), ("backspace", "LÉA "),
                      ("backspace", "LÉA")):
        accented = keyboard.accented
        driver.tap(f"key-{key}")
        if then is None:
            driver.wait_until(lambda: keyboard.accented is not accented, timeout=5, what="the other layer")
        else:
            driver.wait_until(lambda: keyboard.text == then, timeout=5, what=f"{then!r} typed (one space at most)")
    assert driver.find("match-first-name").text == "Léa"
    driver.wait_until(lambda: not find.disabled, timeout=5, what="the button enabled by a first name")
    # Labelled steppers: the day and the month say which is which.
    assert driver.find("day-label").text == "Jour" and driver.find("month-label").text == "Mois"
    driver.tap("month-down")
    driver.wait_until(lambda: driver.find("month-value").text.lower() == "décembre", timeout=5, what="December")

    tap_to(driver, app, "back", "choose")
    tap_to(driver, app, "choose-booking", "booking")
    note = driver.find("keyboard-note").text
    assert "I, L, O, U" in note and "0, 1" in note, "the code keyboard says which letters codes leave out"
    with pytest.raises(LookupError):
        driver.find("key-O")
    code = driver.find("keyboard")
    for typed, key in enumerate("ABCD2345", start=1):
        driver.tap(f"key-{key}")
        driver.wait_until(lambda: len(code.text) == typed, timeout=5, what=f"key {key}")
    assert driver.find("booking-code").text == "ABCD2345"


def test_no_start_over_during_the_countdown_and_the_reading(booth):
    driver, app = booth
    flow = app.booth.flow
    start(driver, app, "en")
    driver.find("start-over")
    tap_to(driver, app, "age-18-plus", "consent")
    tap_to(driver, app, "consent-agree", "choose")
    tap_to(driver, app, "choose-next", "name")
    tap_to(driver, app, "name-continue", "sound_check")
    driver.find("start-over")
    tap_to(driver, app, "soundcheck-ready", "countdown")
    with pytest.raises(LookupError):
        driver.find("start-over")
    driver.wait_until(lambda: flow.step.value == "recording", timeout=15, what="the reading")
    driver.settle(0.3)
    with pytest.raises(LookupError):
        driver.find("start-over")
    assert driver.find("recording-indicator").text == "Recording"
    assert driver.find("recording-left").text.endswith("s left")
    tap_to(driver, app, "recording-stop", "review")
    driver.find("start-over")
    assert driver.find("tries-left").text == "You can try 2 more times."
    # The idle rules still apply: a session left alone ends as always.
    app.session.finish()
    driver.wait_until(lambda: app.phase == "attract" and flow.step.value == "welcome", timeout=10, what="the end of the visit")


def test_out_of_order_names_the_real_cause_and_offers_nothing_that_cannot_help(booth):
    driver, app = booth
    flow = app.booth.flow
    start(driver, app, "fr")
    tap_to(driver, app, "age-18-plus", "consent")
    flow.device_lost("controller")  # as BoothControls reports a controller gone between participants
    driver.wait_until(lambda: app.screens.current == "out_of_order", timeout=10, what="out of order")
    assert driver.find("out-of-order-cause").text == app.t("fr", "outoforder.controller")
    assert "micro" not in driver.find("out-of-order-cause").text
    for control in ("start-over", "back", "consent-agree"):
        with pytest.raises(LookupError):
            driver.find(control)
    flow.microphone.lose()
    driver.wait_until(lambda: driver.find("out-of-order-cause").text == app.t("fr", "outoforder.microphone"), timeout=10, what="the microphone named")
    flow.microphone.restore()
    driver.wait_until(lambda: driver.find("out-of-order-cause").text == app.t("fr", "outoforder.controller"), timeout=10, what="the controller named again")
    flow.device_back("controller")
    driver.wait_until(lambda: app.screens.current == "welcome", timeout=10, what="the booth back for the next participant")
    driver.find("start-over")
