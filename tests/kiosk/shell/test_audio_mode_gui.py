"""Audio mode, keys, the focus ring and the visit's settings in a real window, with real
touches and real key presses (xdotool), speech made by espeak-ng.

The wall's and booth's screens give their own words (issues 17W, 17B); these tests use
the shell's controls, which every screen has: start over, the languages, the settings.
"""

from __future__ import annotations

import pytest

from kiosk import i18n
from kiosk.shell.palette import HIGH_CONTRAST, LARGE_TEXT_SCALE, NORMAL

pytestmark = pytest.mark.gui


def _said(app, key: str, lang: str = "nl", **values) -> bool:
    """KEY's text was made into speech (said, or being said) in LANG."""
    return app.speech.cache.has(i18n.text(lang, key, **values), lang)


def _heard(app) -> int:
    return len(app.speech.speaker.played)


def _box(widget):
    x, y = widget.to_window(widget.x, widget.y)
    return [x, y, widget.width, widget.height]


def test_the_audio_control_on_attract_starts_the_visit_in_audio_mode_and_speaks(station):
    driver, app, _clock = station("wall")
    assert app.phase == "attract" and driver.find("attract-audio").text == i18n.text("nl", "attract.audio")
    driver.tap("audio")
    assert app.phase == "active" and app.audio_mode and app.screens.current == app.first_screen
    driver.wait_until(lambda: _heard(app) >= 1, timeout=30, what="audio mode to speak")
    assert _said(app, "spoken.audio_on")
    # The languages are offered each in its own voice, one after the other.
    driver.wait_until(lambda: _said(app, "spoken.choose_language", "fr"), timeout=60, what="the offer in French")
    assert driver.find("audio").selected
    assert app.speech.cache.folder is None and not (app.station.data_dir / "speech").exists(), (
        "what is spoken (typed names, codes) is kept in memory only, never on the station's disk"
    )


def test_in_audio_mode_a_first_touch_speaks_a_control_and_a_second_presses_it(station):
    driver, app, _clock = station("wall")
    driver.tap("audio")
    heard = _heard(app)
    driver.tap("language-fr")
    assert app.lang == "nl", "the first touch only says what it is"
    assert app.guide.guide.focus == "language-fr"
    driver.wait_until(lambda: _said(app, "spoken.button", name="Français"), timeout=30, what="the button's name")
    driver.wait_until(lambda: _heard(app) > heard, timeout=30, what="the name to be heard")
    assert app.focus_box == pytest.approx(_box(driver.find("language-fr")), abs=1), "the ring is on it"
    driver.tap("language-fr")
    assert app.lang == "fr", "the second touch presses it"


def test_keys_move_the_ring_in_reading_order_and_select(station):
    driver, app, _clock = station("wall")
    driver.tap("attract")  # a visit without audio mode: keys still move a visible ring
    assert not app.audio_mode and app.focus_box == []
    order = [control.id for control in app.guide.words().controls]
    assert order[-7:] == ["start-over", "language-nl", "language-fr", "language-en", "audio", "large-text", "high-contrast"]
    driver.key("Down")
    first = app.guide.guide.focus
    assert first == order[0] and app.focus_box == pytest.approx(_box(driver.find(first)), abs=1)
    driver.key("Up")
    assert app.guide.guide.focus == order[-1] == "high-contrast", "round and round, like a list read again"
    driver.key("Up")
    driver.key("Up")
    assert app.guide.guide.focus == "audio"
    driver.key("Up")
    assert app.guide.guide.focus == "language-en"
    driver.key("Return")
    assert app.lang == "en" and not app.audio_mode, "Enter presses what has the focus"
    driver.key("KP_Multiply")
    assert app.audio_mode, "the keypad's * switches audio mode"
    driver.wait_until(lambda: _said(app, "spoken.audio_on", "en"), timeout=30, what="audio mode to say it is on")


def test_a_key_on_the_attract_screen_starts_the_visit_in_audio_mode(station):
    driver, app, _clock = station("booth")
    driver.key("KP_5")
    assert app.phase == "active" and app.audio_mode


def test_settings_switch_the_look_and_end_with_the_visit(station):
    from kivy.metrics import Metrics

    driver, app, clock = station("wall")
    normal_size = driver.find("idle-body", visible=False).font_size
    driver.tap("large-text")
    assert app.phase == "active" and app.large_text and Metrics.fontscale == LARGE_TEXT_SCALE
    driver.settle(0.2)
    assert driver.find("idle-body", visible=False).font_size == pytest.approx(normal_size * LARGE_TEXT_SCALE), "sp fonts follow"
    driver.tap("high-contrast")
    assert app.high_contrast and app.palette.current is HIGH_CONTRAST
    assert driver.find("language-fr").color == list(HIGH_CONTRAST.text)
    driver.tap("start-over")
    assert app.phase == "attract"
    assert (app.audio_mode, app.large_text, app.high_contrast) == (False, False, False)
    assert app.palette.current is NORMAL and Metrics.fontscale == 1.0
    driver.settle(0.3)
    assert driver.find("idle-body", visible=False).font_size == pytest.approx(normal_size)


def test_a_key_answers_are_you_still_there(station):
    driver, app, clock = station("wall")
    driver.key("Down")
    clock.advance(app.session.warn_after_s)
    driver.wait_until(lambda: app.phase == "warning", what="the idle warning")
    driver.key("Down")
    assert app.phase == "active" and app.audio_mode


def test_the_idle_end_of_a_visit_ends_audio_mode(station):
    driver, app, clock = station("booth")
    driver.tap("audio")
    assert app.audio_mode
    clock.advance(app.session.warn_after_s)
    driver.wait_until(lambda: app.phase == "warning", what="the idle warning")
    driver.wait_until(lambda: app.speech.cache.has(app.guide.guide.words.spoken, "nl"), timeout=30, what="the warning to be spoken")
    assert app.guide.guide.words.screen == "idle"
    clock.advance(app.session.answer_within_s)
    driver.wait_until(lambda: app.phase == "attract", what="the end of the visit")
    assert not app.audio_mode and not app.speech.speaker.playing()


@pytest.mark.audio
def test_audio_mode_is_heard_through_the_station_s_speaker(station, pulse, monkeypatch, tmp_path):
    from exhibits.booth.quality import analyze
    from hardware.audio.portaudio import SoundDeviceSpeaker
    from harness.sound import read_wav

    monkeypatch.setenv("PULSE_SINK", pulse.sink)
    speaker = SoundDeviceSpeaker("pulse")
    driver, app, _clock = station("wall", speaker=speaker)
    with pulse.recording(tmp_path / "room.wav"):
        driver.tap("audio")
        driver.wait_until(speaker.playing, timeout=30, what="audio mode to speak")
        driver.settle(2.5)
        app.speech.hold()  # as the booth does when it starts to record: silence at once
        assert not speaker.playing()
    heard, rate = read_wav(tmp_path / "room.wav")
    report = analyze(heard, rate)
    assert report.speech_start_s is not None and report.verdict != "no_speech", report


def test_the_on_screen_keyboard_names_every_key_it_shows(station):
    from kiosk.shell.keyboard import OnScreenKeyboard

    driver, app, _clock = station("booth")  # its first name and booking code are typed on it
    driver.tap("attract")
    keyboards = [w for screen in app.screens.screens for w in screen.walk(restrict=False) if isinstance(w, OnScreenKeyboard)]
    keyboard = next(k for k in keyboards if not k.code)
    keyboard.accented = True
    controls = keyboard.controls(lambda key, **values: app.t("fr", key, **values))
    driver.frames(2)
    shown = {w.test_name for w in keyboard.walk(restrict=True) if getattr(w, "test_name", "").startswith("key-") and w.opacity > 0}
    assert {control.id for control in controls} == shown
    spoken = {control.id: control.spoken for control in controls}
    assert spoken["key-É"] == "É, bouton" and spoken["key-layer"] == "Lettres sans accents, bouton"
    assert spoken["key-backspace"] == "Effacer la dernière lettre, bouton"


def test_a_screen_gives_its_words_and_may_press_and_go_back_itself(station):
    """The API the exhibits' screens use (kiosk.shell.guide): screen_words(), press(), back(),
    app.words_changed()."""
    from kiosk.accessibility import Control, ScreenWords
    from kiosk.shell.widgets import StationScreen

    class Example(StationScreen):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.pressed, self.backs, self.ready = [], 0, False

        def screen_words(self):
            controls = [Control("example-first", "Eerste, knop")]
            if self.ready:
                controls.append(Control("example-second", "Tweede, knop"))
            return ScreenWords("example", "Een voorbeeld. Twee knoppen.", tuple(controls))

        def press(self, control_id):
            self.pressed.append(control_id)
            return True

        def back(self):
            self.backs += 1
            return self.backs == 1  # the second time: nowhere to go back to

    driver, app, _clock = station("wall")
    driver.tap("audio")
    example = Example(name="example")
    app.screens.add_widget(example)
    app.screens.current = "example"
    driver.wait_until(lambda: app.guide.guide.words.screen == "example", what="the arrival")
    driver.wait_until(lambda: app.speech.cache.has("Een voorbeeld. Twee knoppen.", "nl"), timeout=30, what="the arrival words")
    driver.key("Down")
    assert app.guide.guide.focus == "example-first"
    example.ready = True
    app.words_changed()
    assert app.guide.guide.focus == "example-first" and app.guide.guide.words.control("example-second")
    driver.key("Down")
    driver.key("Return")
    assert example.pressed == ["example-second"], "the screen's own press"
    driver.key("Escape")
    assert example.backs == 1 and app.guide.guide.focus == "example-second"
    driver.key("Escape")
    assert app.guide.guide.focus == "start-over" and app.phase == "active", "one key never ends a visit by itself"
