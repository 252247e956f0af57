"""The idle cycle in a real window with real touches: warned, forgotten, or kept."""

import pytest

pytestmark = pytest.mark.gui


def _warn(driver, app, clock):
    clock.advance(app.session.warn_after_s)
    driver.wait_until(lambda: app.phase == "warning", what="the idle warning")
    driver.settle(0.3)


def test_an_idle_visitor_is_warned_then_returned_to_attract(station):
    driver, app, clock = station("wall")
    assert app.screens.current == "attract"

    driver.tap("attract")
    assert app.phase == "active" and app.screens.current == app.first_screen
    driver.tap("language-fr")
    assert app.lang == "fr"

    _warn(driver, app, clock)
    title = driver.find("idle-title")
    assert title.text == "Êtes-vous toujours là ?"
    assert "30" in driver.find("idle-body").text

    clock.advance(app.session.answer_within_s)
    driver.wait_until(lambda: app.phase == "attract", what="the return to attract")
    driver.settle(0.4)
    assert app.screens.current == "attract"
    assert app.session.visit is None
    assert app.lang == "nl", "the next visitor starts in the station's language"
    with pytest.raises(LookupError):
        driver.find("idle-title")


def test_touching_continue_keeps_the_session(station):
    driver, app, clock = station("wall")
    driver.tap("attract")
    driver.tap("language-en")
    visit = app.session.visit
    visit.data["search"] = "Goldsztajn"

    _warn(driver, app, clock)
    clock.advance(20)
    driver.tap("idle-continue")
    assert app.phase == "active"
    assert app.session.visit is visit and visit.data == {"search": "Goldsztajn"}
    assert app.lang == "en" and app.screens.current == app.first_screen

    # The answer restarts the quiet spell: nothing happens for another warn_after_s.
    clock.advance(app.session.warn_after_s - 1)
    driver.settle(0.6)
    assert app.phase == "active"


def test_finish_on_the_warning_ends_the_session_at_once(station):
    driver, app, clock = station("booth")
    driver.tap("attract")
    _warn(driver, app, clock)
    driver.tap("idle-finish")
    assert app.phase == "attract" and app.session.visit is None


def test_a_touch_anywhere_on_the_warning_counts_as_still_here(station):
    driver, app, clock = station("wall")
    driver.tap("attract")
    _warn(driver, app, clock)
    driver.tap_at(40, 40)
    assert app.phase == "active"


def test_the_waking_touch_presses_nothing_underneath(station):
    driver, app, clock = station("wall")
    # "Start over" sits in the top bar; on the attract screen a touch there only wakes the station.
    button = driver.app.root_widget.ids.top_bar.children[1]
    assert button.test_name == "start-over"
    driver.tap_at(*button.to_window(*button.center))
    assert app.phase == "active" and app.screens.current == app.first_screen


def test_a_language_chosen_on_the_attract_screen_starts_the_visit_in_it(station):
    driver, app, clock = station("booth")
    driver.tap("language-fr")
    assert app.phase == "active" and app.lang == "fr" and app.screens.current == app.first_screen
    assert app.session.visit.language == "fr"


def test_every_text_switches_with_the_language(station):
    driver, app, clock = station("booth")
    driver.tap("attract")
    texts = {}
    for language in ("nl", "fr", "en"):
        driver.tap(f"language-{language}")
        driver.wait_until(lambda: app.lang == language, timeout=10, what=f"the language {language}")  # noqa: B023
        driver.frames(2)
        texts[language] = driver.find("booth-steps").text
    assert len(set(texts.values())) == 3
    assert texts["fr"].startswith("1. Vous indiquez votre âge")


def test_a_stopped_station_no_longer_ticks(station):
    # Tests and `kiosk screenshot` run one app after another in a process: a stopped
    # one must not go on warning and forgetting, acting on the app that came after it.
    driver, app, clock = station("wall")
    driver.tap("attract")
    driver.stop()
    clock.advance(app.session.warn_after_s + 1)
    import time

    from kivy.base import EventLoop

    deadline = time.monotonic() + 1.0  # the tick is every 0.25 s of real time
    while time.monotonic() < deadline:
        EventLoop.idle()
    assert app.phase == "active"
