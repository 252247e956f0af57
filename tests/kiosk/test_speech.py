"""Audio mode's speech: real espeak-ng, the newest text wins, silence while the booth
records, every text made once, and the words heard in a real PulseAudio sink."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from exhibits.booth.quality import analyze
from hardware.audio.portaudio import SoundDeviceSpeaker
from hardware.audio.simulated import SimulatedSpeaker
from harness.sound import read_wav
from kiosk.speech import Speech, SpeechCache, SpeechUnavailable, espeak_wav, voice_for


def wait_for(condition, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)


class Gate:
    """espeak-ng behind a gate a test opens: synthesis that takes as long as the test says."""

    def __init__(self):
        self.open = threading.Event()
        self.asked: list[str] = []

    def __call__(self, text: str, voice: str, words_per_minute: int) -> bytes:
        self.asked.append(text)
        assert self.open.wait(20), "the test never opened the gate"
        return espeak_wav(text, voice, words_per_minute)


@pytest.fixture
def speech_of(tmp_path):
    made: list[Speech] = []

    def make(speaker, **cache_options) -> Speech:
        speech = Speech(speaker, SpeechCache(tmp_path / "speech", **cache_options))
        made.append(speech)
        return speech

    yield make
    for speech in made:
        speech.close()


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_each_language_has_a_voice_that_speaks(language, tmp_path):
    spoken = SpeechCache(tmp_path).get("Chaja Goldsztajn, 1921", language)
    assert spoken.sample_rate > 8000 and 0.8 < spoken.seconds < 6
    report = analyze(spoken.samples.astype(np.float32) / 32768, spoken.sample_rate)
    assert report.speech_start_s is not None, report


def test_a_text_is_made_once_and_kept_across_a_restart(tmp_path):
    first = SpeechCache(tmp_path / "speech")
    one = first.get("Zoek een naam", "nl")
    again = first.get("  Zoek   een naam ", "nl")  # the same words, other spacing
    assert first.synthesized == 1 and np.array_equal(one.samples, again.samples)
    first.get("Zoek een naam", "fr")  # another language is another text
    assert first.synthesized == 2
    restarted = SpeechCache(tmp_path / "speech")
    assert restarted.has("Zoek een naam", "nl")
    assert np.array_equal(restarted.get("Zoek een naam", "nl").samples, one.samples) and restarted.synthesized == 0


def test_a_cache_file_cut_short_is_made_again(tmp_path):
    cache = SpeechCache(tmp_path)
    cache.get("Volgende", "nl")
    (tmp_path / f"{cache.key('Volgende', 'nl')}.wav").write_bytes(b"RIFF\x00\x00")
    fresh = SpeechCache(tmp_path)
    assert fresh.get("Volgende", "nl").seconds > 0.2 and fresh.synthesized == 1


def test_memory_stays_within_its_bound(tmp_path):
    cache = SpeechCache(None, memory_bytes=200_000)
    for number in range(12):
        cache.get(f"Transport {number}", "en")
    assert cache._bytes <= 200_000 + max(s.samples.nbytes for s in cache._memory.values())
    assert len(cache._memory) < 12


def test_the_newest_text_wins(speech_of):
    gate = Gate()
    speaker = SimulatedSpeaker()
    speech = speech_of(speaker, synthesize=gate)
    speech.say("Eerste scherm", "nl")
    wait_for(lambda: gate.asked, "the first text to be asked for")
    speech.say("Tweede scherm", "nl")  # the visitor moved on while the first was made
    gate.open.set()
    wait_for(lambda: speaker.played, "something to be said")
    time.sleep(0.5)
    assert len(speaker.played) == 1
    assert speech.cache.get("Tweede scherm", "nl").seconds == pytest.approx(len(speaker.played[0].samples) / speaker.played[0].sample_rate)


def test_nothing_is_said_while_held_and_a_hold_stops_what_is_said(speech_of):
    speaker = SimulatedSpeaker()
    speech = speech_of(speaker)
    speech.say("Het opnemen begint zo meteen", "nl")
    wait_for(lambda: speaker.playing(), "speech to start")
    speech.hold()  # the countdown starts: the microphone must hear only the participant
    assert not speaker.playing()
    speech.say("Dit mag niet klinken", "nl")
    time.sleep(0.5)
    assert len(speaker.played) == 1
    speech.release()
    speech.say("Opname klaar", "nl")
    wait_for(lambda: len(speaker.played) == 2, "speech after the release")


def test_parts_are_said_one_after_the_other_each_in_its_voice(speech_of):
    from kiosk.clock import ManualClock

    clock = ManualClock()
    speaker = SimulatedSpeaker(clock=clock)  # plays until the test moves its clock
    speech = speech_of(speaker)
    parts = [("Kies uw taal.", "nl"), ("Choisissez votre langue.", "fr"), ("Choose your language.", "en")]
    speech.say_parts(parts)
    wait_for(lambda: len(speaker.played) == 1, "the first part")
    time.sleep(0.3)
    assert len(speaker.played) == 1, "the second waits until the first is said"
    clock.advance(60)
    wait_for(lambda: len(speaker.played) == 2, "the second part")
    assert len(speaker.played[1].samples) == len(speech.cache.get(*parts[1]).samples), "in French, by the French voice"
    speech.say("Volgende", "nl")  # the visitor moved on: the rest is not said
    wait_for(lambda: len(speaker.played) == 3, "the new text")
    clock.advance(60)
    time.sleep(0.3)
    assert len(speaker.played) == 3 and len(speaker.played[2].samples) == len(speech.cache.get("Volgende", "nl").samples)


def test_a_hold_during_synthesis_wins(speech_of):
    gate = Gate()
    speaker = SimulatedSpeaker()
    speech = speech_of(speaker, synthesize=gate)
    speech.say("Een lange uitleg", "nl")
    wait_for(lambda: gate.asked, "synthesis to start")
    speech.hold()
    gate.open.set()
    time.sleep(0.5)
    assert speaker.played == []


def test_problems_are_reported_once_not_raised(speech_of):
    problems: list[Exception] = []
    speaker = SimulatedSpeaker()
    speaker.lose()
    speech = speech_of(speaker)
    speech.on_problem = problems.append
    speech.say("Zoek", "nl")
    speech.say("Zoek opnieuw", "nl")
    wait_for(lambda: speech.last_problem is not None, "the lost speaker to be noticed")
    time.sleep(0.3)
    assert len(problems) == 1
    speaker.restore()
    speech.say("Terug", "nl")
    wait_for(lambda: speaker.played, "speech once the speaker is back")


def test_an_unknown_language_or_a_missing_espeak_says_what_to_do(monkeypatch, tmp_path):
    with pytest.raises(SpeechUnavailable, match="use one of nl, fr, en"):
        voice_for("de")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SpeechUnavailable, match="apt-get install espeak-ng"):
        espeak_wav("Zoek", "nl", 150)


def test_text_that_looks_like_an_option_is_spoken_not_obeyed(tmp_path):
    spoken = SpeechCache(tmp_path).get("--version", "en")
    assert spoken.seconds > 0.3


@pytest.mark.audio
def test_speech_is_heard_in_the_room(speech_of, pulse, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PULSE_SINK", pulse.sink)
    speaker = SoundDeviceSpeaker("pulse")
    speech = speech_of(speaker)
    with pulse.recording(tmp_path / "room.wav"):
        speech.say("Welkom in Kazerne Dossin. Raak het scherm aan om te beginnen.", "nl")
        wait_for(speaker.playing, "speech to start")
        wait_for(lambda: not speaker.playing(), "speech to end")
    heard, rate = read_wav(tmp_path / "room.wav")
    report = analyze(heard, rate)
    assert report.speech_start_s is not None and report.verdict != "no_speech", report
