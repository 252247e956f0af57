"""A visitor who cannot see the wall finds a person with the USB keypad alone and hears
their page: a real window under Xvfb, real key presses through the X server (xdotool,
as a keypad's keys arrive), audio mode's speech through a real PulseAudio null sink whose
monitor is recorded and checked with the booth's quality check, and matched against the
words of the person's page."""

from __future__ import annotations

import time

import numpy as np
import pytest

from exhibits.booth.quality import analyze
from harness.sound import read_wav
from wall_support import running_wall

pytestmark = [pytest.mark.gui, pytest.mark.audio, pytest.mark.slow]

MOST_KEYS = 80  # more presses than any control of a wall screen is away


@pytest.fixture
def wall(display, pulse, monkeypatch, tmp_path):
    from hardware.audio.portaudio import SoundDeviceSpeaker

    monkeypatch.setenv("PULSE_SINK", pulse.sink)
    with running_wall(tmp_path, title="kiosk wall keypad test", speaker=SoundDeviceSpeaker("pulse")) as (driver, app):
        said: list[str] = []
        speech = app.speech
        say, say_parts = speech.say, speech.say_parts
        speech.say = lambda text, language: (said.append(text), say(text, language))[1]
        speech.say_parts = lambda parts: (said.extend(text for text, _language in parts), say_parts(parts))[1]
        yield driver, app, said


def focus(app) -> str | None:
    return app.guide.guide.focus


def move_to(driver, app, control_id: str, key: str = "Down") -> int:
    """Arrow keys until CONTROL_ID has the focus; how many presses it took."""
    for presses in range(1, MOST_KEYS + 1):
        driver.key(key, settle=0.05)
        if focus(app) == control_id:
            return presses
    raise AssertionError(f"{control_id} never had the focus after {MOST_KEYS} presses of {key} (focus: {focus(app)})")


def envelope(samples: np.ndarray, rate: int, frame_s: float = 0.02) -> np.ndarray:
    frame = max(1, int(rate * frame_s))
    usable = len(samples) // frame * frame
    return np.sqrt(np.mean(np.square(samples[:usable].reshape(-1, frame)), axis=1))


def found_at(heard: np.ndarray, piece: np.ndarray) -> tuple[float, int]:
    """Where PIECE's loudness envelope best matches a stretch of HEARD's: (correlation, frame)."""
    piece = (piece - piece.mean()) / (piece.std() or 1)
    best = (0.0, -1)
    for start in range(0, len(heard) - len(piece) + 1):
        window = heard[start : start + len(piece)]
        spread = window.std()
        if spread > 0:
            best = max(best, (float(np.mean((window - window.mean()) / spread * piece)), start))
    return best


def heard_in_order(heard: np.ndarray, rate: int, expected: np.ndarray, expected_rate: int, pieces_s=((4, 9), (9, 14), (14, 19))) -> list:
    """Each PIECE (seconds) of the expected speech, found in what was heard: correlation and
    where, for pieces in the middle (the recording may start a moment into the first word)."""
    frame_s = 0.02
    heard_envelope, expected_envelope = envelope(heard, rate, frame_s), envelope(expected, expected_rate, frame_s)
    return [found_at(heard_envelope, expected_envelope[int(a / frame_s) : int(b / frame_s)]) for a, b in pieces_s]


def test_a_person_found_with_the_keypad_alone_is_heard(wall, pulse, tmp_path):
    driver, app, said = wall

    # The keypad's audio key on the attract screen starts the visit in audio mode.
    driver.key("KP_Multiply")
    driver.wait_until(lambda: app.audio_mode and app.screens.current == "grid", 20, "audio mode on the grid")
    assert any(app.t("nl", "wall.say.grid", status="").split(":")[0] in text for text in said), "the grid said what it is"

    # French, by the keys: the languages come after the wall's own controls.
    move_to(driver, app, "language-fr", key="Up")
    driver.key("Return")
    driver.wait_until(lambda: app.lang == "fr", 10, "French")

    # Search, the first of the grid's controls.
    move_to(driver, app, "open-search")
    driver.key("KP_Enter")
    driver.wait_until(lambda: app.screens.current == "search", 20, "search")
    driver.wait_until(lambda: any(text.startswith("Recherche.") for text in said), 10, "search to say what it is")

    # K, A, C on the on-screen keyboard, in reading order; each key is answered aloud.
    for letter, key in (("K", "Down"), ("A", "Up"), ("C", "Down")):
        move_to(driver, app, f"key-{letter}", key=key)
        driver.key("Return")
    driver.wait_until(lambda: app.wall.view.query == "kac", 10, "the query typed by keys")
    assert said[-1] == f"Saisi : kac. Personnes trouvées : {len(app.wall.flow.results)}.", "what was typed, said back"

    # The result comes before the keyboard: up from the letters, Enter opens the page.
    move_to(driver, app, "result-hard-06", key="Up")
    assert said[-1] == "Ester Kac, née en 1932, bouton"
    recording = tmp_path / "room.wav"
    with pulse.recording(recording):
        driver.key("Return")
        driver.wait_until(lambda: app.screens.current == "person", 20, "Ester Kac's page")
        driver.wait_until(lambda: any(text.startswith("Ester Kac. Née") for text in said), 10, "the page to be read")
        page = next(text for text in said if text.startswith("Ester Kac. Née"))
        expected = app.speech.cache.get(page, "fr")
        # Wait on what was heard, not on a clock: until the page has been spoken to its end.
        driver.wait_until(lambda: app.speech.speaker.playing(), 30, "the page to start sounding")
        driver.wait_until(lambda: not app.speech.speaker.playing(), 120, "the page to be read to its end")
        time.sleep(0.3)

    assert app.wall.view.person.person_id == "hard-06"
    assert "Née : 29 février 1932 à Liège." in page and "Transport XXIIA, numéro 2." in page and "Assassinée." in page
    heard, rate = read_wav(recording)
    heard = heard if heard.ndim == 1 else heard.mean(axis=1)
    report = analyze(heard, rate)
    assert np.abs(heard).max() < 0.99, "speech is heard at its own loudness, not clipped"
    assert report.speech_start_s is not None and report.verdict != "no_speech", report
    # What was heard is the page's words, in their order: pieces of the page's own speech
    # are found in the room's recording, one after the other.
    spoken = expected.samples.astype(np.float32) / 32768
    assert expected.seconds > 19, "the page is read whole, not only a name"
    found = heard_in_order(heard, rate, spoken, expected.sample_rate)
    assert all(match > 0.8 for match, _where in found), f"the page's speech was not heard in the room: {found}"
    assert [where for _match, where in found] == sorted(where for _match, where in found), f"heard out of order: {found}"
