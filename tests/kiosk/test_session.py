"""The idle cycle with a stepped clock: warned, then forgotten; "continue" keeps the visit."""

import pytest

from kiosk.clock import ManualClock
from kiosk.session import Phase, VisitorSession


@pytest.fixture
def clock():
    return ManualClock(1000.0)


@pytest.fixture
def session(clock):
    return VisitorSession(clock, warn_after_s=60, answer_within_s=30, default_language="nl")


def test_first_touch_starts_a_visit(session):
    assert session.phase is Phase.ATTRACT and session.visit is None
    session.touched()
    assert session.phase is Phase.ACTIVE
    assert session.visit is not None and session.visit.language == "nl"


def test_an_idle_visitor_is_warned_then_returned_to_attract_and_forgotten(session, clock):
    phases = []
    session.subscribe(phases.append)
    session.touched()
    session.choose_language("fr")
    session.visit.data["search"] = "Goldsztajn"

    clock.advance(59.9)
    session.tick()
    assert session.phase is Phase.ACTIVE

    clock.advance(0.1)
    session.tick()
    assert session.phase is Phase.WARNING
    assert session.seconds_left() == pytest.approx(30)

    clock.advance(29.9)
    session.tick()
    assert session.phase is Phase.WARNING
    assert session.seconds_left() == pytest.approx(0.1)

    clock.advance(0.1)
    session.tick()
    assert session.phase is Phase.ATTRACT
    assert session.visit is None, "the visitor's choices must be forgotten"
    assert session.language == "nl", "the next visitor starts in the default language"
    assert phases == [Phase.ACTIVE, Phase.WARNING, Phase.ATTRACT]


def test_continue_keeps_the_session(session, clock):
    session.touched()
    session.choose_language("en")
    session.visit.data["search"] = "Lévy"
    visit = session.visit

    clock.advance(60)
    session.tick()
    assert session.phase is Phase.WARNING
    clock.advance(25)
    session.still_here()
    assert session.phase is Phase.ACTIVE
    assert session.visit is visit and visit.data == {"search": "Lévy"} and session.language == "en"

    # The full quiet spell starts again from the answer, not from the first warning.
    clock.advance(59)
    session.tick()
    assert session.phase is Phase.ACTIVE
    clock.advance(1)
    session.tick()
    assert session.phase is Phase.WARNING


def test_any_touch_during_the_warning_counts_as_an_answer(session, clock):
    session.touched()
    clock.advance(60)
    session.tick()
    session.touched()
    assert session.phase is Phase.ACTIVE and session.visit is not None


def test_touches_keep_an_active_visit_alive(session, clock):
    session.touched()
    for _ in range(10):
        clock.advance(50)
        session.touched()
        session.tick()
        assert session.phase is Phase.ACTIVE


def test_finish_forgets_the_visit_at_once(session):
    session.touched()
    session.finish()
    assert session.phase is Phase.ATTRACT and session.visit is None


def test_ticks_on_the_attract_screen_change_nothing(session, clock):
    clock.advance(10_000)
    session.tick()
    assert session.phase is Phase.ATTRACT and session.seconds_left() == 0


def test_a_long_pause_between_ticks_still_warns_before_ending(session, clock):
    # A stalled UI thread must not skip the warning: the visitor always gets the full answer time.
    session.touched()
    clock.advance(500)
    session.tick()
    assert session.phase is Phase.WARNING
    assert session.seconds_left() == pytest.approx(30)


def test_settings_belong_to_the_visit_and_end_with_it(session, clock):
    from kiosk.session import Settings

    assert session.settings == Settings() and session.phase is Phase.ATTRACT
    phases = []
    session.subscribe(phases.append)
    assert session.change(audio=True) == Settings(audio=True), "the audio control on attract starts the visit"
    assert phases == [Phase.ACTIVE] and session.visit.settings.audio
    session.change(large_text=True)
    session.change(high_contrast=True)
    session.choose_language("fr")
    assert session.settings == Settings(audio=True, large_text=True, high_contrast=True)
    session.change(audio=False)
    assert session.settings == Settings(large_text=True, high_contrast=True)

    clock.advance(session.warn_after_s)
    session.tick()
    clock.advance(session.answer_within_s)
    session.tick()
    assert session.phase is Phase.ATTRACT
    assert session.settings == Settings(), "the next visitor starts without them, like the language"
    session.touched()
    assert session.visit.settings == Settings()


def test_a_setting_switched_during_the_warning_answers_it(session, clock):
    session.touched()
    clock.advance(session.warn_after_s)
    session.tick()
    assert session.phase is Phase.WARNING
    session.change(large_text=True)
    assert session.phase is Phase.ACTIVE and session.settings.large_text


def test_an_unknown_setting_says_which_there_are(session):
    with pytest.raises(ValueError, match="audio, large_text, high_contrast"):
        session.change(loud=True)
    assert session.visit is None
