"""The booth's quality check on generated audio: espeak-ng voices in room tone, and the
things a booth hears that are not a person (silence, hum, noise, clicks, a beep).

Every take is made here, from numbers or from espeak-ng and sox, so each test says
exactly what it played to the check. Speech is placed at known times: the check must
find it there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile

from exhibits.booth import quality
from exhibits.booth.quality import (
    MAX_TAKE_S,
    MIN_LOUDNESS_LUFS,
    SEVERITY,
    QualityReport,
    TakeTooLong,
    analyze,
    analyze_file,
    read_take,
)
from kiosk.errors import KioskError
from kiosk.loudness import integrated_loudness

RATE = 48_000  # the booth's recording rate
ROOM_TONE_DBFS = -60.0  # a quiet booth: ventilation and the preamp's hiss
NAMES = [
    ("Chaja Goldsztajn", "nl"),
    ("Icek Wajsbrot", "fr"),
    ("Sara van Praag", "en"),
    ("Ida Kahn", "nl"),
]
LONG_TEXT = (
    "From the Dossin barracks in Mechelen, twenty eight trains left between the fourth "
    "of August nineteen forty two and the thirty first of July nineteen forty four, and "
    "every one of the people on those lists had a name, a family, a place of birth and "
    "a life that was taken from them."
)
CONTRACT_KEYS = [
    "verdict",
    "problems",
    "duration_s",
    "speech_start_s",
    "speech_end_s",
    "peak_dbfs",
    "loudness_lufs",
    "noise_floor_dbfs",
    "clipped_fraction",
]

Speak = Callable[..., np.ndarray]


# --- making takes ------------------------------------------------------------------


@pytest.fixture(scope="module")
def speak(tmp_path_factory: pytest.TempPathFactory) -> Speak:
    """speak(text, voice, words_per_minute=175) -> espeak-ng's speech at 48 kHz, trimmed
    to where the voice is (its own leading and trailing silence removed)."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: run scripts/setup", pytrace=False)
    folder = tmp_path_factory.mktemp("voices")
    made: dict[tuple[str, str, int], np.ndarray] = {}

    def say(text: str, voice: str, words_per_minute: int = 175) -> np.ndarray:
        key = (text, voice, words_per_minute)
        if key not in made:
            spoken = folder / f"{len(made)}-spoken.wav"
            resampled = folder / f"{len(made)}-48k.wav"
            subprocess.run(
                ["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-w", str(spoken), text],
                check=True,
                capture_output=True,
            )
            subprocess.run(
                ["sox", str(spoken), "-r", str(RATE), str(resampled)], check=True, capture_output=True
            )
            samples, _ = soundfile.read(resampled, dtype="float64")
            voiced = np.flatnonzero(np.abs(samples) > 10 ** (-50 / 20))
            made[key] = samples[voiced[0] : voiced[-1] + 1]
        return made[key].copy()

    return say


def room_tone(seconds: float, seed: int = 0, dbfs: float = ROOM_TONE_DBFS) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 10 ** (dbfs / 20), round(seconds * RATE))


def in_room(speech: np.ndarray, before: float = 1.0, after: float = 1.0, seed: int = 0) -> np.ndarray:
    """`speech` with `before` and `after` seconds of room tone around it (and under it)."""
    lead, tail = round(before * RATE), round(after * RATE)
    take = room_tone((lead + speech.size + tail) / RATE, seed)
    take[lead : lead + speech.size] += speech
    return take


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples))))


def sine(frequency: float, seconds: float, amplitude: float, rate: int = RATE) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * frequency * np.arange(round(seconds * rate)) / rate)


def hum(fundamental: float, seconds: float = 3.0, peak_harmonic: float = 0.3) -> np.ndarray:
    """Mains hum: the fundamental and its first ten harmonics, falling as 1/k."""
    t = np.arange(round(seconds * RATE)) / RATE
    harmonics = np.arange(1, 11)[:, np.newaxis]
    return np.sum(peak_harmonic / harmonics * np.sin(2 * np.pi * fundamental * harmonics * t + harmonics), axis=0)


def pink_noise(seconds: float, level: float, seed: int = 0) -> np.ndarray:
    """Noise whose power falls by 3 dB per octave (1/f), at RMS `level`."""
    count = round(seconds * RATE)
    spectrum = np.fft.rfft(np.random.default_rng(seed).normal(size=count))
    spectrum[1:] /= np.sqrt(np.arange(1, spectrum.size))
    spectrum[0] = 0.0
    noise = np.fft.irfft(spectrum, count)
    return noise * level / rms(noise)


def clicks(times: list[float], seconds: float = 3.0) -> np.ndarray:
    """A click (two samples, a sharp tap on the microphone) at each time, in room tone."""
    take = room_tone(seconds)
    for at in times:
        index = round(at * RATE)
        take[index : index + 2] += (0.9, -0.7)
    return take


def speech_span(report: QualityReport) -> float:
    """Seconds from the first speech to the last (the report must have found speech)."""
    assert report.speech_start_s is not None and report.speech_end_s is not None, report
    return report.speech_end_s - report.speech_start_s


def short_utterance(speak: Speak, seconds: float = 0.15) -> np.ndarray:
    """The middle `seconds` of a spoken "ja", with 10 ms fades: one clipped syllable."""
    word = speak("ja", "nl")
    middle = word.size // 2
    piece = word[middle - round(seconds * RATE / 2) : middle + round(seconds * RATE / 2)].copy()
    fade = round(0.01 * RATE)
    piece[:fade] *= np.linspace(0.0, 1.0, fade)
    piece[-fade:] *= np.linspace(1.0, 0.0, fade)
    return piece


# --- real names ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "voice"), NAMES)
def test_a_name_read_in_a_quiet_booth_is_ok(speak: Speak, text: str, voice: str) -> None:
    speech = speak(text, voice)
    report = analyze(in_room(speech, before=1.0, after=1.0), RATE)

    assert report.verdict == "ok", report
    assert report.problems == ()
    assert report.speech_start_s == pytest.approx(1.0, abs=0.1)
    assert report.speech_end_s == pytest.approx(1.0 + speech.size / RATE, abs=0.1)
    assert report.duration_s == pytest.approx(2.0 + speech.size / RATE, abs=0.001)
    assert report.noise_floor_dbfs == pytest.approx(ROOM_TONE_DBFS, abs=1.0)
    assert report.loudness_lufs is not None and -30 < report.loudness_lufs < -10
    assert report.clipped_fraction == 0.0


def test_speech_is_found_where_it_was_placed(speak: Speak) -> None:
    speech = speak("Sara van Praag", "en")
    for before in (0.3, 2.5):
        report = analyze(in_room(speech, before=before, after=0.7), RATE)
        assert report.speech_start_s == pytest.approx(before, abs=0.1)
        assert report.speech_end_s == pytest.approx(before + speech.size / RATE, abs=0.1)


def test_a_short_real_name_is_ok_but_a_clipped_syllable_is_too_short(speak: Speak) -> None:
    name = speak("Ida Kahn", "nl")
    assert name.size / RATE < 0.8  # a short name: this is what the check must still accept
    assert analyze(in_room(name), RATE).verdict == "ok"

    report = analyze(in_room(short_utterance(speak)), RATE)
    assert report.verdict == "too_short", report
    assert speech_span(report) < 0.3


def test_twenty_seconds_of_speech_is_too_long(speak: Speak) -> None:
    speech = speak(LONG_TEXT, "en", words_per_minute=120)
    assert speech.size / RATE > 18.0
    report = analyze(in_room(speech, before=0.5, after=0.5), RATE)
    assert report.verdict == "too_long", report
    assert speech_span(report) > 15.0


# --- nothing a person said -----------------------------------------------------------

NOT_SPEECH: dict[str, Callable[[], np.ndarray]] = {
    "digital silence": lambda: np.zeros(3 * RATE),
    "room tone": lambda: room_tone(3.0),
    "50 Hz hum with harmonics, loud": lambda: hum(50.0),
    "60 Hz hum with harmonics, loud": lambda: hum(60.0),
    "50 Hz hum switching on mid-take": lambda: np.concatenate(
        [room_tone(1.0), hum(50.0, 2.0) + room_tone(2.0, 1)]
    ),
    "60 Hz hum switching on mid-take": lambda: np.concatenate(
        [room_tone(1.0), hum(60.0, 2.0) + room_tone(2.0, 1)]
    ),
    "white noise": lambda: np.random.default_rng(3).normal(0.0, 0.1, 3 * RATE),
    "pink noise": lambda: pink_noise(3.0, 0.1),
    "a burst of white noise": lambda: np.concatenate(
        [room_tone(1.0), np.random.default_rng(4).normal(0.0, 0.1, RATE // 2), room_tone(1.0, 1)]
    ),
    "a burst of pink noise": lambda: np.concatenate(
        [room_tone(1.0), pink_noise(0.5, 0.1), room_tone(1.0, 1)]
    ),
    "a single click": lambda: clicks([1.5]),
    "a few clicks": lambda: clicks([1.0, 1.1, 1.25, 1.4, 1.9]),
    "a steady 1 kHz beep": lambda: np.concatenate(
        [room_tone(1.0), sine(1000.0, 1.0, 0.3), room_tone(1.0, 1)]
    ),
}


@pytest.mark.parametrize("kind", list(NOT_SPEECH))
def test_what_is_not_a_person_speaking_is_no_speech(kind: str) -> None:
    report = analyze(NOT_SPEECH[kind](), RATE)

    assert report.verdict == "no_speech", report
    assert report.problems == ("no_speech",)
    assert report.speech_start_s is None and report.speech_end_s is None
    assert report.loudness_lufs is None


def test_the_background_of_a_take_without_speech_is_measured() -> None:
    report = analyze(hum(50.0), RATE)
    assert report.noise_floor_dbfs == pytest.approx(20 * np.log10(rms(hum(50.0))), abs=0.1)
    assert analyze(np.zeros(3 * RATE), RATE).noise_floor_dbfs == -120.0
    assert analyze(np.zeros(RATE // 10), RATE).noise_floor_dbfs is None  # too little to measure


# --- problems with the speech --------------------------------------------------------


def test_speech_40_db_down_is_too_quiet(speak: Speak) -> None:
    # The microphone's gain turned 40 dB down: voice and room tone alike.
    report = analyze(in_room(speak("Chaja Goldsztajn", "nl")) * 0.01, RATE)
    assert report.verdict == "too_quiet", report
    assert report.problems == ("too_quiet",)
    assert report.loudness_lufs is not None and report.loudness_lufs < MIN_LOUDNESS_LUFS
    assert report.speech_start_s == pytest.approx(1.0, abs=0.1)


def test_speech_driven_into_clipping_is_clipped(speak: Speak) -> None:
    take = np.clip(in_room(speak("Icek Wajsbrot", "fr")) * 8.0, -1.0, 1.0)
    report = analyze(take, RATE)
    assert report.verdict == "clipped", report
    assert report.clipped_fraction > 0.01
    assert report.peak_dbfs == 0.0


def test_a_loud_clean_take_touching_full_scale_is_not_clipped(speak: Speak) -> None:
    take = in_room(speak("Icek Wajsbrot", "fr"))
    take /= np.max(np.abs(take))  # one sample at exactly full scale
    report = analyze(take, RATE)
    assert report.verdict == "ok", report
    assert report.peak_dbfs == 0.0
    assert report.clipped_fraction < 1e-4

    pcm = np.round(take * 32767).astype(np.int16)
    assert analyze(pcm, RATE).verdict == "ok"


@pytest.mark.parametrize("snr_db", [5.0, 10.0])
def test_speech_in_loud_noise_is_noisy(speak: Speak, snr_db: float) -> None:
    speech = speak("Sara van Praag", "en")
    take = in_room(speech)
    take += np.random.default_rng(7).normal(0.0, rms(speech) * 10 ** (-snr_db / 20), take.size)
    report = analyze(take, RATE)
    assert report.verdict == "noisy", report
    assert report.speech_start_s == pytest.approx(1.0, abs=0.15)


def test_speech_over_loud_hum_is_noisy_not_no_speech(speak: Speak) -> None:
    speech = speak("Chaja Goldsztajn", "nl")
    take = in_room(speech)
    take += hum(50.0, take.size / RATE, peak_harmonic=0.05)
    report = analyze(take, RATE)
    assert report.verdict == "noisy", report
    assert report.speech_start_s == pytest.approx(1.0, abs=0.1)


def test_speech_already_going_at_the_start_is_cut_off(speak: Speak) -> None:
    speech = speak("Chaja Goldsztajn", "nl")
    report = analyze(in_room(speech, before=0.0, after=1.0), RATE)
    assert report.verdict == "cut_off", report
    assert report.speech_start_s == pytest.approx(0.0, abs=0.05)


def test_speech_still_going_at_the_end_is_cut_off(speak: Speak) -> None:
    speech = speak("Chaja Goldsztajn", "nl")
    cut = speech[: round(speech.size * 0.7)]  # stopped in the middle of the surname
    report = analyze(in_room(cut, before=1.0, after=0.0), RATE)
    assert report.verdict == "cut_off", report
    assert report.speech_end_s == pytest.approx(report.duration_s, abs=0.05)


def test_problems_are_ordered_by_severity_and_the_first_is_the_verdict(speak: Speak) -> None:
    take = np.clip(in_room(speak("Icek Wajsbrot", "fr"), before=0.0) * 8.0, -1.0, 1.0)
    report = analyze(take, RATE)
    assert report.problems == ("clipped", "cut_off")
    assert report.verdict == "clipped"

    assert SEVERITY[0] == "no_speech"
    assert set(SEVERITY) == {"no_speech", "too_quiet", "clipped", "noisy", "cut_off", "too_short", "too_long"}


# --- channels, rates and formats -----------------------------------------------------


def test_stereo_with_a_dead_or_inverted_channel_reads_like_mono(speak: Speak) -> None:
    take = in_room(speak("Sara van Praag", "en"))
    mono = analyze(take, RATE)
    dead_right = analyze(np.column_stack([take, np.zeros_like(take)]), RATE)
    inverted_right = analyze(np.column_stack([take, -take]), RATE)
    both = analyze(np.column_stack([take, take]), RATE)
    for stereo in (dead_right, inverted_right, both):
        assert stereo.verdict == "ok", stereo
        assert stereo.loudness_lufs == pytest.approx(mono.loudness_lufs, abs=0.1)
        assert stereo.speech_start_s == pytest.approx(mono.speech_start_s, abs=0.011)


def test_one_clipped_channel_is_clipped(speak: Speak) -> None:
    take = in_room(speak("Sara van Praag", "en"))
    report = analyze(np.column_stack([np.clip(take * 8.0, -1.0, 1.0), take]), RATE)
    assert report.verdict == "clipped"


def _convert(source: Path, target: Path, rate: int, channels: int) -> Path:
    subprocess.run(
        ["sox", str(source), "-r", str(rate), "-c", str(channels), str(target)],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture(scope="module")
def takes_on_disk(speak: Speak, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two takes as 48 kHz float WAV: a good one and one with loud background noise."""
    folder = tmp_path_factory.mktemp("takes")
    speech = speak("Chaja Goldsztajn", "nl")
    good = in_room(speech)
    noisy = good + np.random.default_rng(11).normal(0.0, rms(speech) * 10 ** (-8 / 20), good.size)
    paths = {"ok": folder / "ok.wav", "noisy": folder / "noisy.wav"}
    soundfile.write(paths["ok"], good, RATE, subtype="FLOAT")
    soundfile.write(paths["noisy"], noisy, RATE, subtype="FLOAT")
    return paths


@pytest.mark.parametrize("verdict", ["ok", "noisy"])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("extension", ["wav", "flac", "ogg"])
@pytest.mark.parametrize("rate", [16_000, 44_100, 48_000])
def test_the_same_take_in_any_rate_format_and_layout_gets_the_same_verdict(
    takes_on_disk: dict[str, Path], tmp_path: Path, verdict: str, channels: int, extension: str, rate: int
) -> None:
    original = analyze_file(takes_on_disk[verdict])
    assert original.verdict == verdict

    converted = _convert(takes_on_disk[verdict], tmp_path / f"take.{extension}", rate, channels)
    report = analyze_file(converted)

    assert report.verdict == verdict, report
    assert report.speech_start_s == pytest.approx(original.speech_start_s, abs=0.05)
    assert report.speech_end_s == pytest.approx(original.speech_end_s, abs=0.05)
    assert report.loudness_lufs == pytest.approx(original.loudness_lufs, abs=1.0)


@pytest.mark.parametrize("rate", [8_000, 11_025, 22_050, 32_000, 96_000])
def test_unusual_rates_get_the_same_verdict(takes_on_disk: dict[str, Path], tmp_path: Path, rate: int) -> None:
    original = analyze_file(takes_on_disk["ok"])
    report = analyze_file(_convert(takes_on_disk["ok"], tmp_path / "take.wav", rate, 1))
    assert report.verdict == "ok", report
    assert report.speech_start_s == pytest.approx(original.speech_start_s, abs=0.05)
    assert report.loudness_lufs == pytest.approx(original.loudness_lufs, abs=0.5)


def test_integer_and_float_samples_give_the_same_report(speak: Speak) -> None:
    take = in_room(speak("Icek Wajsbrot", "fr"))
    as_float64 = analyze(take, RATE)
    assert analyze(take, RATE) == as_float64  # deterministic
    assert analyze(take.astype(np.float32), RATE).verdict == as_float64.verdict
    for pcm in (np.round(take * 32767).astype(np.int16), np.round(take * 2**31 * 0.999).astype(np.int32)):
        report = analyze(pcm, RATE)
        assert report.verdict == as_float64.verdict
        assert report.speech_start_s == as_float64.speech_start_s
        assert report.loudness_lufs == pytest.approx(as_float64.loudness_lufs, abs=0.05)


# --- loudness ------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [16_000, 44_100, 48_000])
def test_a_1_khz_sine_reads_as_bs_1770_says(rate: int) -> None:
    # BS.1770: a 0 dBFS 1 kHz sine (peak at full scale) reads -3.01 LUFS, so one peaking
    # at -20 dBFS reads -23.01.
    assert integrated_loudness(sine(1000.0, 3.0, 1.0, rate), rate) == pytest.approx(-3.01, abs=0.1)
    assert integrated_loudness(sine(1000.0, 3.0, 0.1, rate), rate) == pytest.approx(-23.01, abs=0.5)


def test_audio_shorter_than_one_gating_block_is_still_measured() -> None:
    whole = integrated_loudness(sine(1000.0, 3.0, 0.1), RATE)
    short = integrated_loudness(sine(1000.0, 0.2, 0.1), RATE)
    assert short == pytest.approx(whole, abs=0.1)


def test_gating_leaves_out_silence_and_quiet_stretches() -> None:
    loud = sine(1000.0, 2.0, 0.1)
    with_silence = np.concatenate([loud, np.zeros(2 * RATE)])
    with_quiet_tail = np.concatenate([loud, sine(1000.0, 2.0, 0.1 * 10 ** (-30 / 20))])
    # Of the 400 ms blocks every 100 ms, 17 lie inside the tone and three straddle its end
    # with 3/4, 1/2 and 1/4 of it: those pass the relative gate (-10 LU), the blocks after
    # them do not (the silence fails the absolute gate, the -30 dB tail the relative one).
    expected = -23.01 + 10 * np.log10((17 + 0.75 + 0.5 + 0.25) / 20)
    assert integrated_loudness(with_silence, RATE) == pytest.approx(expected, abs=0.02)
    assert integrated_loudness(with_quiet_tail, RATE) == pytest.approx(expected, abs=0.02)
    assert integrated_loudness(np.zeros(RATE), RATE) is None


# --- the report and its contract -----------------------------------------------------


def test_to_json_is_the_shape_of_kiosk_booth_analyze(speak: Speak) -> None:
    report = analyze(in_room(speak("Ida Kahn", "nl")), RATE)
    document = json.loads(json.dumps(report.to_json()))
    assert list(document) == CONTRACT_KEYS
    assert document["verdict"] == "ok" and document["problems"] == []
    for key in CONTRACT_KEYS[2:]:
        assert isinstance(document[key], float), key

    silent = json.loads(json.dumps(analyze(np.zeros(RATE), RATE).to_json()))
    assert silent["verdict"] == "no_speech" and silent["problems"] == ["no_speech"]
    assert silent["speech_start_s"] is None and silent["speech_end_s"] is None
    assert silent["loudness_lufs"] is None
    assert silent["peak_dbfs"] == -120.0


def test_an_empty_take_has_no_speech() -> None:
    report = analyze(np.zeros(0), RATE)
    assert isinstance(report, QualityReport)
    assert report.verdict == "no_speech" and report.duration_s == 0.0


@pytest.mark.parametrize(
    ("samples", "rate"),
    [
        (np.zeros(RATE), 4_000),
        (np.full(RATE, np.nan), RATE),
        (np.zeros((RATE, 2, 2)), RATE),
        (np.zeros(RATE, dtype=complex), RATE),
    ],
    ids=["rate too low", "NaN", "three dimensions", "complex"],
)
def test_what_is_not_audio_is_refused(samples: np.ndarray, rate: int) -> None:
    with pytest.raises(ValueError):
        analyze(samples, rate)


# --- files that cannot be checked ----------------------------------------------------


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "take.flac"
    with pytest.raises(KioskError) as raised:
        analyze_file(missing)
    assert str(missing) in raised.value.message and "no such" in raised.value.message
    assert raised.value.hint


def test_an_empty_file_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "take.wav"
    empty.write_bytes(b"")
    with pytest.raises(KioskError) as raised:
        analyze_file(empty)
    assert str(empty) in raised.value.message and "empty" in raised.value.message
    assert "record the take again" in (raised.value.hint or "")


@pytest.mark.parametrize("damage", ["random bytes", "text", "truncated header", "FLAC cut in half"])
def test_a_corrupt_file_says_so(tmp_path: Path, speak: Speak, damage: str) -> None:
    corrupt = tmp_path / ("take.flac" if damage == "FLAC cut in half" else "take.wav")
    if damage == "random bytes":
        corrupt.write_bytes(np.random.default_rng(0).bytes(4096))
    elif damage == "text":
        corrupt.write_text("Chaja Goldsztajn\n")
    else:
        soundfile.write(corrupt, in_room(speak("Ida Kahn", "nl")), RATE)
        whole = corrupt.read_bytes()
        corrupt.write_bytes(whole[:30] if damage == "truncated header" else whole[: len(whole) // 2])
    with pytest.raises(KioskError) as raised:
        analyze_file(corrupt)
    assert str(corrupt) in raised.value.message
    assert "copy it again" in (raised.value.hint or "")


def test_a_file_with_no_samples_or_a_folder_says_so(tmp_path: Path) -> None:
    no_samples = tmp_path / "take.wav"
    soundfile.write(no_samples, np.zeros(0), RATE)
    with pytest.raises(KioskError, match="no audio"):
        analyze_file(no_samples)
    with pytest.raises(KioskError, match="folder"):
        analyze_file(tmp_path)


# --- bounded work on any file ---------------------------------------------------------


def declare_length(flac: Path, frames: int) -> Path:
    """Rewrite the frame count in a FLAC's STREAMINFO header (0: unknown, as a FLAC
    piped out of an encoder has it), leaving the audio as it is."""
    data = bytearray(flac.read_bytes())
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0, "STREAMINFO comes first"
    # STREAMINFO's bytes 10-17: rate (20 bits), channels (3), bits (5), frames (36).
    packed = int.from_bytes(data[18:26], "big")
    packed = (packed >> 36 << 36) | frames
    data[18:26] = packed.to_bytes(8, "big")
    flac.write_bytes(bytes(data))
    return flac


def test_a_file_declaring_half_an_hour_is_too_long_from_its_header(tmp_path: Path) -> None:
    # 8 channels at 384 kHz: half an hour of it is 5.5 billion samples, 44 GB as floats.
    # The file holds 50 ms; its header says 30 minutes: the verdict comes from the header.
    path = tmp_path / "gallery-mic-array.flac"
    soundfile.write(path, np.zeros((19_200, 8), dtype=np.int16), 384_000, subtype="PCM_16")
    declare_length(path, 30 * 60 * 384_000)
    report = analyze_file(path)
    assert report.verdict == "too_long" and report.problems == ("too_long",)
    assert report.duration_s == 1800.0
    assert report.to_json() == {
        "verdict": "too_long",
        "problems": ["too_long"],
        "duration_s": 1800.0,
        "speech_start_s": None,
        "speech_end_s": None,
        "peak_dbfs": None,
        "loudness_lufs": None,
        "noise_floor_dbfs": None,
        "clipped_fraction": None,
    }
    with pytest.raises(TakeTooLong) as raised:
        read_take(path)
    assert str(path) in raised.value.message and "1800.0 s" in raised.value.message
    assert "sox" in (raised.value.hint or "")


def test_a_file_of_unknown_length_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    rate = 8_000
    path = tmp_path / "streamed.flac"
    soundfile.write(path, sine(440.0, 12.0, 0.3, rate), rate, subtype="PCM_16")
    declare_length(path, 0)
    assert soundfile.info(str(path)).frames > 2**62, "libsndfile reads an unknown length as 'endless'"
    with pytest.raises(TakeTooLong) as raised:
        read_take(path, max_duration_s=5.0)
    assert "more than 5 s" in raised.value.message
    assert 5.0 < raised.value.report.duration_s <= 6.0, "stopped within a block (a second) of the limit"
    # One that ends before the limit cannot be read to its end by libsndfile (it seeks
    # past the last frame): it is refused as unreadable, with what to do.
    with pytest.raises(KioskError) as unreadable:
        read_take(path, max_duration_s=MAX_TAKE_S)
    assert "cannot be read as audio" in unreadable.value.message and "convert it" in (unreadable.value.hint or "")


def test_a_take_just_within_the_limit_is_read_and_judged(tmp_path: Path) -> None:
    path = tmp_path / "long.flac"
    soundfile.write(path, room_tone(MAX_TAKE_S), RATE, subtype="PCM_24")
    report = analyze_file(path)
    assert report.duration_s == MAX_TAKE_S and report.verdict == "no_speech"
    assert analyze_file(path, max_duration_s=MAX_TAKE_S - 1).verdict == "too_long"


@pytest.mark.parametrize("layout", ["speech, a copy with clipped runs, a dead channel", "speech and its inverse"])
def test_reading_in_blocks_judges_as_the_samples_in_memory(
    tmp_path: Path, speak: Speak, layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    voice = in_room(speak("Chaja Goldsztajn", "nl"), seed=3)
    if layout == "speech and its inverse":
        frames = np.stack([voice, -voice], axis=1)
    else:
        louder = voice * 0.5  # never near full scale but where the runs are put
        # Runs at full scale across the block edges (1024 frames a block below): a run of
        # three split 2 + 1, one of five split 2 + 3, one still going at the end.
        for start, length in ((3070, 3), (20_478, 5), (voice.size - 4, 4)):
            louder[start : start + length] = 1.0
        frames = np.stack([voice, louder, np.zeros_like(voice)], axis=1)
    path = tmp_path / "take.wav"
    soundfile.write(path, frames, RATE, subtype="DOUBLE")
    in_memory = analyze(soundfile.read(path, dtype="float64")[0], RATE)
    monkeypatch.setattr(quality, "READ_BLOCK_SAMPLES", 3000)  # 1024 frames a block
    from_file = analyze_file(path)
    assert from_file == in_memory
    if layout != "speech and its inverse":
        assert from_file.clipped_fraction == round((3 + 5 + 4) / voice.size, 6)


def test_an_hour_of_silence_is_refused_in_little_memory(tmp_path: Path) -> None:
    """The issue's case: an hour of silence, a few hundred kB of FLAC, took 7 GB to check."""
    path = tmp_path / "hour.flac"
    with soundfile.SoundFile(path, "w", RATE, 1, subtype="PCM_16", format="FLAC") as hour:
        second = np.zeros(RATE, dtype=np.int16)
        for _ in range(3600):
            hour.write(second)
    assert path.stat().st_size < 2_000_000
    # A child process reports its own peak memory: VmHWM, the high-water mark of its own
    # address space (getrusage's ru_maxrss would carry this test process's over exec).
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys; from exhibits.booth.quality import analyze_file; "
            "report = analyze_file(sys.argv[1]).to_json(); "
            "peak = next(line for line in open('/proc/self/status') if line.startswith('VmHWM:')); "
            "print(json.dumps({'report': report, 'max_rss_kb': int(peak.split()[1])}))",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    measured = json.loads(child.stdout)
    assert measured["report"]["verdict"] == "too_long" and measured["report"]["duration_s"] == 3600.0
    assert list(measured["report"]) == CONTRACT_KEYS
    # Decoding it would take 1.4 GB for the samples alone; the interpreter, numpy and
    # scipy take about 120 MB.
    assert measured["max_rss_kb"] < 500_000
