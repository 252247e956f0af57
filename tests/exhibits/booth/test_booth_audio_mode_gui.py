"""A participant who cannot see the screen, from the attract screen to "thank you", by the
booth controller's tactile keys and its big button alone, in audio mode.

Everything is real: the Kivy window under Xvfb; the controller's firmware on a
pseudo-terminal (`[booth] controller = "simulated"`), pressed key by key; espeak-ng
speaking through the booth's speaker into a PulseAudio null sink ("room"), whose monitor
is recorded around every screen change; the microphone on the monitor of another null
sink ("booth"), into which a recorded voice reads the name; the real quality check
(exhibits.booth.quality) on what the room heard; the real take store.

What it shows: speech after each screen change that speaks (the countdown and the
reading are silent by design), none while the participant reads, and the reading kept.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import soundfile

from exhibits.booth.quality import analyze
from harness.sound import read_wav

pytestmark = [pytest.mark.gui, pytest.mark.audio, pytest.mark.slow]

ROOM = "room"  # the null sink the station speaks into; the microphone hears the "booth" sink
HOLD_S = 0.3  # how long a finger holds a key


def _on_pulse(text: str) -> str:
    """station.toml's booth microphone and speaker on PulseAudio (the wall's speaker stays simulated)."""
    return text.replace('microphone = "simulated"', 'microphone = "pulse"').replace('speaker = "simulated"', 'speaker = "pulse"', 1)


@pytest.fixture
def booth_station(pulse, booth_app, monkeypatch):
    pulse.add_sink(ROOM, 1)
    # The station's sound goes to the room, its microphone hears the booth sink alone.
    monkeypatch.setenv("PULSE_SINK", ROOM)
    monkeypatch.setenv("PULSE_SOURCE", pulse.source)
    driver, app, config = booth_app("booth-3", controller="simulated", count=60, seed=11, edit=_on_pulse)
    assert (config.booth.microphone, config.booth.speaker, config.booth.controller) == ("pulse", "pulse", "simulated")
    return driver, app, config


class Participant:
    """Presses the controller's keys and button; the room's sound is recorded around each screen change."""

    def __init__(self, driver, app, pulse, folder: Path):
        self.driver, self.app, self.pulse, self.folder = driver, app, pulse, folder
        self.board = app.booth.controls.controller.simulator
        self.heard: list[tuple[str, Path]] = []  # (screen, what the room heard on arriving there)

    @property
    def guide(self):
        return self.app.guide.guide

    def wait(self, condition, what: str, timeout: float = 30) -> None:
        self.driver.wait_until(condition, timeout=timeout, what=what)

    def spoken_through(self, text: str) -> None:
        """TEXT was made, said, and is over: the room is quiet again."""
        speaker = self.app.speech.speaker
        self.wait(lambda: self.app.speech.cache.has(text, self.app.lang), f"{text!r} to be made into speech")
        self.wait(lambda: not speaker.playing(), f"{text!r} to be said")
        self.driver.settle(0.3)

    def press_key(self, key: str, done, what: str) -> None:
        """KEY (a tactile key, or "BUTTON" for the big button) until DONE, held a third of a
        second as a finger does; pressed again, as a visitor would, if the serial link
        dropped meanwhile or nothing came of it for 8 s (a loaded machine can starve the
        simulated board's thread through a whole press). Four presses without effect fail."""
        from hardware.controller.link import ControllerState

        controller = self.app.booth.controls.controller
        for _ in range(4):
            self.wait(lambda: controller.state is ControllerState.CONNECTED, "the controller's link")
            connections = controller.connections
            self.board.press(HOLD_S) if key == "BUTTON" else self.board.press_key(key, HOLD_S)
            lost = []
            pressed = time.monotonic()

            def settled() -> bool:
                if done():
                    return True
                link_dropped = controller.connections != connections or controller.state is not ControllerState.CONNECTED
                if link_dropped or time.monotonic() - pressed > 8:
                    lost.append(True)
                    return True
                return False

            self.wait(settled, what)
            if not lost:
                return
        raise AssertionError(f"{key} was lost four times: {what}")

    def focus(self, control_id: str) -> None:
        """NEXT until CONTROL_ID has audio mode's focus, its name said to the end."""
        for _ in range(60):
            if self.guide.focus == control_id:
                self.spoken_through(self.guide.words.control(control_id).spoken)
                return
            before = self.guide.focus
            self.press_key("NEXT", lambda: self.guide.focus != before, "the NEXT key to move the focus")
        raise AssertionError(f"NEXT never reached {control_id}; the screen has {[c.id for c in self.guide.words.controls]}")

    def arrive(self, screen: str, act) -> None:
        """ACT (a key) leads to SCREEN; the room is recorded from the key until its words have been heard a while."""
        path = self.folder / f"{len(self.heard):02d}-{screen}.wav"
        with self.pulse.recording(path, ROOM):
            act()
            self.wait(lambda: self.app.screens.current == screen, f"the {screen} screen")
            self.wait(self.app.speech.speaker.playing, f"the {screen} screen to speak")
            self.driver.settle(2.5)  # the sink's clock is not wall time: enough for any of them to be heard
        self.heard.append((screen, path))

    def select(self, control_id: str, screen: str) -> None:
        self.focus(control_id)
        self.arrive(screen, lambda: self.press_key("SELECT", lambda: self.app.screens.current == screen, f"SELECT to lead to {screen}"))


def test_a_participant_reaches_thank_you_by_the_tactile_keys_alone_in_audio_mode(booth_station, pulse, tmp_path):
    driver, app, _config = booth_station
    flow = app.booth.flow
    me = Participant(driver, app, pulse, tmp_path)
    driver.wait_until(lambda: app.booth.controls.state == "connected", timeout=15, what="the controller to connect")
    assert app.phase == "attract" and not app.audio_mode

    # Any key on the attract screen starts a visit in audio mode.
    me.arrive("welcome", lambda: me.press_key("SELECT", lambda: app.screens.current == "welcome", "a key to start the visit"))
    assert app.audio_mode and app.phase == "active"
    me.select("booth-begin", "age")
    me.select("age-18-plus", "consent")
    me.select("consent-agree", "choose")
    me.select("choose-next", "name")
    name = flow.assignment.display_name
    assert name in me.guide.words.spoken, "the name screen reads out the name to read"
    me.select("name-continue", "sound_check")

    # The big button keeps its meaning: it starts the countdown, and the sound check's
    # words, still being said, stop at once.
    assert app.speech.speaker.playing()
    me.press_key("BUTTON", lambda: flow.step.value == "countdown", "the big button to start the countdown")
    assert app.speech.held
    me.wait(lambda: not app.speech.speaker.playing(), "speech to stop at the countdown", timeout=5)

    during = tmp_path / "during-the-reading.wav"
    with pulse.recording(during, ROOM):
        me.wait(lambda: flow.step.value == "recording", "the recording")
        reader = threading.Thread(target=pulse.speak, args=(name, "nl"))  # the participant reads into the microphone
        reader.start()
        me.wait(lambda: not reader.is_alive(), "the participant to finish reading", timeout=60)
        assert flow.step.value in ("recording", "review")
    me.arrive("review", lambda: None)  # the take ends by itself after a short silence
    assert flow.review.report.verdict == "ok", flow.review.report
    me.select("review-keep", "thanks")
    assert flow.kept is not None and flow.withdrawal_code in me.guide.words.spoken.replace(", ", "").replace(". ", "-")

    for screen, path in me.heard:
        samples, rate = read_wav(path)
        report = analyze(samples, rate)
        assert report.speech_start_s is not None and report.verdict != "no_speech", f"nothing was said on arriving at {screen}: {report}"
    assert [screen for screen, _ in me.heard] == ["welcome", "age", "consent", "choose", "name", "sound_check", "review", "thanks"]
    samples, rate = read_wav(during)
    quiet = analyze(samples, rate)
    assert quiet.verdict == "no_speech", f"speech was heard while the participant read: {quiet}"

    # The reading is kept: the take on disk holds the participant's voice.
    [kept] = flow.store.queued()
    assert kept.recording_id == flow.kept.recording_id
    audio, kept_rate = soundfile.read(kept.audio_path, dtype="float32")
    assert analyze(audio, kept_rate).verdict == "ok"
