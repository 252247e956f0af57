"""Where in a take a person speaks: the voice-activity decision behind the booth's check.

A level threshold is not enough in a booth: the background can be loud and steady (mains
hum, a fan, hiss) and a transient (a click, a chair) can be louder than a soft voice. A
plain WebRTC VAD is not enough either: on these machines it called a 50 Hz hum and white
noise "speech" all of the time (ENVIRONMENT.md). So a frame counts as speech only when
several independent cues agree:

1. contrast: its energy in the voice band stands well above the take's own background
   (a low percentile of all frames), so whatever is steady through the take (hum, hiss,
   pink noise, a fan) is background, however loud;
2. shape: around it, the voice band is mostly not flat (spectral flatness): noise bursts
   and clicks are flat, vowels are not;
3. voicing: around it, some frames have a pitch in the range of a voice (a peak of the
   normalised autocorrelation at 60-400 Hz): every name has vowels, noise and clicks
   have no pitch;
4. modulation: around it, the level rises and falls at syllable rate: a beep, a tone or a
   hum that switches on in the middle of a take stays level;
5. duration: the cues hold for at least 0.1 s without a break: a click never does.

Cues 2-4 are judged over a neighbourhood of half a second of active frames, not frame by
frame, because a single fricative ("s", "sz") is as flat as noise and a single vowel frame
is as level as a tone; a word as a whole is neither.

Around that heart, the active frames joined to it (an initial "H", a final "ts") count
as speech too, so the edges of the name are where a listener would put them.

What it cannot tell apart: a tone that pulses at syllable rate (a beeping alarm, a
whistled tune) can pass as speech, because a child's high "oe" is as pure a tone as a
beep; a whisper has no pitch and is not speech; in a take that is speech almost from end
to end, the quietest tenth of it is taken for background, so only its louder parts are
found (enough for every verdict, which depends on the first and last of them).

numpy and scipy (FFT, resampler) only, no per-sample Python loop. The audio is first
decimated by a whole factor to between 16 and 32 kHz (nothing above 4 kHz is used), so a
10 s take costs about as much at 48 kHz as at 16 kHz.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import firwin, kaiserord, resample_poly

# Analysis rate: decimate by a whole factor while the result stays at or above this; the
# voice band used below ends at 4 kHz, so 16 kHz leaves room for the decimation filter.
MIN_ANALYSIS_RATE_HZ = 16_000
# How far the decimation filter pushes down what would fold into the voice band: a 0 dBFS
# whistle above it lands under the quietest voice we accept (-70 dBFS).
ALIAS_REJECTION_DB = 70.0
# The lowest input rate with the whole voice band (telephone speech stops at 3.4 kHz).
MIN_SAMPLE_RATE_HZ = 8_000

# 64 ms frames resolve the harmonics of 50 Hz and 60 Hz hum (their spacing is wider than
# the window's main lobe), so a steady hum gives a steady level instead of a level that
# beats at the hop rate; 10 ms hops give the speech edges a 10 ms grid.
FRAME_S = 0.064
HOP_S = 0.010

# The band where a voice carries its energy and intelligibility: above the hum's
# strongest harmonics and the booth's rumble, below where fricative hiss takes over.
VOICE_BAND_HZ = (250.0, 4000.0)
# Spectral flatness is judged on the telephone band, where voiced speech is harmonic.
FLATNESS_BAND_HZ = (300.0, 3400.0)
# Voicing looks at the spectrum without sub-bass (pink and brown noise correlate there).
VOICING_BAND_HZ = (80.0, 4000.0)
# A voice's pitch lies between 60 Hz (a low voice falling at the end of a name, as in
# "Kahn") and 400 Hz (a child's raised voice).
PITCH_RANGE_HZ = (60.0, 400.0)

# Digital silence and anything below this is reported at this level, never as -inf.
FLOOR_DBFS = -120.0
# The take's background is this percentile of frame levels: a name occupies well under
# 90% of a take, and pauses between words lower it further for longer readings.
BACKGROUND_PERCENTILE = 10.0
# A frame is active when its voice-band level is this far above the background: a steady
# noise's 64 ms frames vary by about 1 dB, so 6 dB is never reached by the background
# itself, while a voice 5 dB under loud noise still shows on its syllable peaks.
ACTIVE_ABOVE_BACKGROUND_DB = 6.0
# Below this voice-band level nothing counts as speech however quiet the background: it is
# the range of a converter's own noise and of dither, and 30 dB under the level the check
# calls too quiet, so a soft voice is still found (and reported as too quiet).
MIN_ACTIVE_LEVEL_DBFS = -70.0

# Cues 2-4 are judged over active frames within this distance (about two syllables).
NEIGHBOURHOOD_S = 0.25
# Spectral flatness 0 is a pure tone, 1 white noise; measured here, voiced speech reads
# 0.01-0.05 (0.15 at 5 dB SNR), pink noise 0.47, white noise 0.57, a click 0.9 and more.
MAX_SPEECH_FLATNESS = 0.3
# Half of the neighbourhood must be not flat: fricatives and plosives may be flat.
MIN_SHAPED_FRACTION = 0.5
# Normalised autocorrelation at the pitch period: a steady vowel reads 0.7-0.95, one whose
# pitch glides within the 64 ms frame 0.5-0.6; white and pink noise read under 0.3.
VOICED_CORRELATION = 0.5
# Names have vowels, but consonants, onsets and breath are unvoiced: a fifth is enough
# (the espeak voices used in the tests read 0.4-0.9; noise and clicks read 0).
MIN_VOICED_FRACTION = 0.2
# Syllable rate is 4-8 per second, so over 50 ms the level of speech moves by several dB
# (measured 5-10 dB as a median, even at 5 dB SNR); a steady tone, hum or noise by under 1.
MODULATION_LAG_S = 0.05
MODULATION_STEP_DB = 3.0
MIN_MODULATED_FRACTION = 0.5

# Speech must hold for this long without a break: a click lights up at most one 64 ms
# window plus a hop (about 70 ms); the shortest syllable is longer.
MIN_SPEECH_RUN_S = 0.1
# Pauses up to this long join two bursts into one stretch of speech, so that the pause
# between given name and surname does not turn the second word into a separate event.
MAX_PAUSE_S = 0.3
# The cues find the heart of the words; the edges of a name are often a steady, unvoiced
# sound that fails them (an initial "H", a final "ts" or "n" fading out). Active frames
# joined to speech count as speech for up to this long, so that the check sees where the
# name really begins and ends, and sees a name cut off in its last consonant.
MAX_EDGE_S = 0.3
# Within such an edge, a silent gap this short is the closure before a plosive ("t" in
# "Katz"), not the end of the word.
MAX_CLOSURE_S = 0.1


@dataclass(frozen=True)
class VoiceActivity:
    """The decision per 10 ms frame; frame i is centred at i * hop_s seconds into the take."""

    hop_s: float
    speech: np.ndarray  # bool per frame: a person speaks here
    level_dbfs: np.ndarray  # voice-band level per frame, dBFS (a full-scale sine: -3 dB)
    background_dbfs: float  # the take's steady background in the voice band

    @property
    def has_speech(self) -> bool:
        return bool(self.speech.any())

    @property
    def speech_start_s(self) -> float | None:
        frames = np.flatnonzero(self.speech)
        return float(frames[0] * self.hop_s) if frames.size else None

    @property
    def speech_end_s(self) -> float | None:
        frames = np.flatnonzero(self.speech)
        return float(frames[-1] * self.hop_s) if frames.size else None


def detect_voice(mono: np.ndarray, sample_rate: int) -> VoiceActivity:
    """Decide, per 10 ms, whether a person speaks in `mono` (floats, full scale 1.0).

    `sample_rate` must be at least 8 kHz. Deterministic: the same samples give the same
    decision, at any rate that carries the voice band.
    """
    if sample_rate < MIN_SAMPLE_RATE_HZ:
        raise ValueError(f"sample rate {sample_rate} Hz is below {MIN_SAMPLE_RATE_HZ} Hz")
    signal, rate = _decimate(np.asarray(mono, dtype=np.float64), sample_rate)
    analysis = _analysis_for(rate)
    power = analysis.power_spectra(signal)
    level = analysis.voice_level_dbfs(power)
    background = float(np.percentile(level, BACKGROUND_PERCENTILE))
    active = (level > background + ACTIVE_ABOVE_BACKGROUND_DB) & (level > MIN_ACTIVE_LEVEL_DBFS)

    shaped = np.zeros_like(active)
    voiced = np.zeros_like(active)
    shaped[active] = analysis.flatness(power[active]) <= MAX_SPEECH_FLATNESS
    voiced[active] = analysis.voicing(power[active]) >= VOICED_CORRELATION
    lag = max(1, round(MODULATION_LAG_S / analysis.hop_s))
    modulated = np.zeros_like(active)
    modulated[lag:] = np.abs(level[lag:] - level[:-lag]) >= MODULATION_STEP_DB
    modulated &= active

    reach = max(1, round(NEIGHBOURHOOD_S / analysis.hop_s))
    around = np.maximum(_moving_sum(active, reach), 1)
    candidate = (
        active
        & (_moving_sum(shaped, reach) >= MIN_SHAPED_FRACTION * around)
        & (_moving_sum(voiced, reach) >= MIN_VOICED_FRACTION * around)
        & (_moving_sum(modulated, reach) >= MIN_MODULATED_FRACTION * around)
    )
    cores = _sustained(
        candidate,
        min_run=round(MIN_SPEECH_RUN_S / analysis.hop_s),
        max_pause=round(MAX_PAUSE_S / analysis.hop_s),
    )
    speech = _with_edges(
        cores,
        active,
        max_closure=round(MAX_CLOSURE_S / analysis.hop_s),
        reach=round(MAX_EDGE_S / analysis.hop_s),
    )
    return VoiceActivity(
        hop_s=analysis.hop_s, speech=speech, level_dbfs=level, background_dbfs=background
    )


def _decimate(signal: np.ndarray, sample_rate: int) -> tuple[np.ndarray, float]:
    """Lower the rate by a whole factor to 16-32 kHz; a whole factor keeps the filter short
    for any input rate, where a rational ratio like 16000/44101 would not."""
    factor = max(1, sample_rate // MIN_ANALYSIS_RATE_HZ)
    if factor == 1:
        return signal.astype(np.float32), float(sample_rate)
    taps = _anti_alias_filter(sample_rate, factor).copy()  # resample_poly scales it in place
    return resample_poly(signal, 1, factor, window=taps).astype(np.float32), sample_rate / factor


@functools.lru_cache(maxsize=16)
def _anti_alias_filter(sample_rate: int, factor: int) -> np.ndarray:
    """A short low pass for decimating by `factor`.

    Only the voice band (up to 4 kHz) is used after decimation, so aliases that land
    between 4.5 kHz and the new Nyquist frequency do no harm: the filter keeps 0-4.5 kHz
    and stops only what would fold below 4.5 kHz. That wide transition needs 31 taps at
    48 kHz, where a general-purpose resampler uses 61 (and costs 3 ms more per 10 s).
    """
    target = sample_rate / factor
    passband, stopband = VOICE_BAND_HZ[1] + 500.0, target - VOICE_BAND_HZ[1] - 500.0
    nyquist = sample_rate / 2.0
    taps, beta = kaiserord(ALIAS_REJECTION_DB, (stopband - passband) / nyquist)
    taps |= 1  # odd: a whole-sample delay keeps frame times on the input's grid
    return firwin(taps, (passband + stopband) / 2.0, window=("kaiser", beta), fs=sample_rate)


@functools.lru_cache(maxsize=16)
def _analysis_for(rate: float) -> _Analysis:
    """The booth records at one rate all day: window, bins and lags are made once."""
    return _Analysis(rate)


class _Analysis:
    """Framing and spectral measures for one analysis rate (window, bins, lags)."""

    def __init__(self, rate: float):
        self.rate = rate
        self.frame = max(2, round(FRAME_S * rate))
        self.hop = max(1, round(HOP_S * rate))
        self.hop_s = self.hop / rate
        self.min_lag = max(1, round(rate / PITCH_RANGE_HZ[1]))
        self.max_lag = min(self.frame - 1, round(rate / PITCH_RANGE_HZ[0]))
        # Zero padding to frame + max_lag keeps the autocorrelation linear, not circular.
        self.nfft = scipy.fft.next_fast_len(self.frame + self.max_lag, real=True)
        self.window = np.hanning(self.frame).astype(np.float32)
        frequencies = np.fft.rfftfreq(self.nfft, 1.0 / rate)
        self.voice_bins = _between(frequencies, VOICE_BAND_HZ)
        self.flatness_bins = _between(frequencies, FLATNESS_BAND_HZ)
        self.voicing_bins = _between(frequencies, VOICING_BAND_HZ)
        # Parseval: a one-sided band sum times this is the band's mean square in the frame.
        self.mean_square_scale = 2.0 / (self.nfft * float(np.sum(self.window.astype(np.float64) ** 2)))
        # The window's own autocorrelation tapers every lag; dividing it out (Boersma 1993)
        # lets a perfectly periodic frame read 1 at its period.
        window_spectrum = np.abs(scipy.fft.rfft(self.window.astype(np.float64), self.nfft)) ** 2
        window_autocorrelation = scipy.fft.irfft(window_spectrum, self.nfft)[: self.max_lag + 1]
        self.window_taper = (window_autocorrelation / window_autocorrelation[0]).astype(np.float32)

    def power_spectra(self, signal: np.ndarray) -> np.ndarray:
        """Power spectra of frames centred every hop from the first sample to the last.

        The ends are mirrored, not zero-padded, so that speech running into the first or
        last sample is still seen at full level there (the check must see a cut-off).
        """
        count = max(1, -(-signal.size // self.hop))
        needed = (count - 1) * self.hop + self.frame
        before = self.frame // 2
        after = needed - before - signal.size
        if signal.size > max(before, after):
            padded = np.pad(signal, (before, after), mode="reflect")
        else:  # shorter than half a frame: nothing to mirror
            padded = np.pad(signal, (before, after))
        frames = sliding_window_view(padded, self.frame)[:: self.hop][:count] * self.window
        spectra = scipy.fft.rfft(frames, self.nfft, axis=1)
        return spectra.real**2 + spectra.imag**2

    def voice_level_dbfs(self, power: np.ndarray) -> np.ndarray:
        mean_square = power[:, self.voice_bins].sum(axis=1, dtype=np.float64) * self.mean_square_scale
        return 10.0 * np.log10(np.maximum(mean_square, 10.0 ** (FLOOR_DBFS / 10.0)))

    def flatness(self, power: np.ndarray) -> np.ndarray:
        """Geometric over arithmetic mean of the power in the flatness band, per frame."""
        band = power[:, self.flatness_bins].astype(np.float64) + 1e-20
        return np.exp(np.mean(np.log(band), axis=1)) / np.mean(band, axis=1)

    def voicing(self, power: np.ndarray) -> np.ndarray:
        """Highest normalised autocorrelation at a lag in the pitch range, per frame."""
        band = np.where(self.voicing_bins, power, 0.0).astype(np.float32)
        autocorrelation = scipy.fft.irfft(band, self.nfft, axis=1)[:, : self.max_lag + 1]
        energy = np.maximum(autocorrelation[:, :1], 1e-20)
        normalised = autocorrelation / energy / self.window_taper
        return normalised[:, self.min_lag :].max(axis=1)


def _between(frequencies: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    return (frequencies >= band[0]) & (frequencies <= band[1])


def _moving_sum(flags: np.ndarray, reach: int) -> np.ndarray:
    """For each frame, how many of the frames within `reach` either side are set."""
    totals = np.concatenate(([0], np.cumsum(flags, dtype=np.int64)))
    index = np.arange(flags.size)
    upper = np.minimum(index + reach + 1, flags.size)
    lower = np.maximum(index - reach, 0)
    return totals[upper] - totals[lower]


def _sustained(candidate: np.ndarray, min_run: int, max_pause: int) -> np.ndarray:
    """Keep the stretches of `candidate` (runs joined across pauses up to `max_pause`)
    that contain at least one unbroken run of `min_run` frames."""
    edges = np.diff(np.concatenate(([0], candidate.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    if starts.size == 0:
        return np.zeros_like(candidate)
    new_stretch = np.concatenate(([True], starts[1:] - ends[:-1] > max_pause))
    stretch = np.cumsum(new_stretch) - 1
    longest = np.maximum.reduceat(ends - starts, np.flatnonzero(new_stretch))
    kept = longest[stretch] >= min_run
    # Mark kept runs with +1 at their start and -1 at their end, then integrate.
    marks = np.zeros(candidate.size + 1, dtype=np.int64)
    np.add.at(marks, starts[kept], 1)
    np.add.at(marks, ends[kept], -1)
    return np.cumsum(marks[:-1]) > 0


def _with_edges(cores: np.ndarray, active: np.ndarray, max_closure: int, reach: int) -> np.ndarray:
    """`cores` grown into the active frames joined to them (across gaps up to
    `max_closure`), at most `reach` frames beyond the nearest core frame."""
    if not cores.any():
        return cores
    joined = active | cores
    edges = np.diff(np.concatenate(([0], joined.astype(np.int8), [0])))
    gap_starts = np.flatnonzero(edges == -1)[:-1]  # gaps between two active stretches
    gap_ends = np.flatnonzero(edges == 1)[1:]
    short = gap_ends - gap_starts <= max_closure
    marks = np.zeros(joined.size + 1, dtype=np.int64)
    np.add.at(marks, gap_starts[short], 1)
    np.add.at(marks, gap_ends[short], -1)
    bridged = joined | (np.cumsum(marks[:-1]) > 0)
    # Number the stretches of `bridged` (and the gaps between them); keep those with a core.
    stretch = np.cumsum(np.concatenate(([1], np.diff(bridged.astype(np.int8)) != 0)))
    holds_core = np.bincount(stretch, weights=cores) > 0
    near_core = _moving_sum(cores, reach) > 0
    return cores | (bridged & holds_core[stretch] & near_core)
