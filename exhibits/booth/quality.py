"""The booth's quality check: is this take a name, said clearly, that the memorial can play?

After a participant stops recording, the review screen must say within moments, in plain
words, whether something is wrong. This module gives that verdict from the samples alone,
Kivy-free, in well under 80 ms for a 10 s take at 48 kHz (the whole "stop -> review
screen" path has 150 ms, and the FLAC encode needs the rest):

- `analyze(samples, sample_rate) -> QualityReport` for samples in memory (the booth);
- `analyze_file(path) -> QualityReport` for any file libsndfile reads (`kiosk booth
  analyze`); it raises `KioskError` saying what to do;
- `read_take(path) -> DecodedTake`: a file read in bounded memory (`analyze_file`,
  `kiosk booth ingest`). Its header is read first: a file longer than `MAX_TAKE_S` (or
  the caller's limit) raises `TakeTooLong`, whose report has the verdict `too_long`,
  without a sample being decoded; an hour of silence is a few hundred kB of FLAC but
  gigabytes as samples. What is read is read in blocks and mixed down on the way;
- the speech's loudness measured with `kiosk.loudness` (ITU-R BS.1770-4, shared with the memorial);
- `SEVERITY`: the problem codes, most serious first.

Where the person speaks is decided by `exhibits.booth.vad` (several cues, not a level);
everything else (level, loudness, background, clipping) is measured here at the file's
own sample rate.

Stereo (or more channels) is analysed as a mono mixdown, because the memorial plays
each voice as one source: a dead channel (an unplugged side of a stereo cable) is left
out of the mix instead of halving the level, and two channels that cancel each other (a
wiring fault with one polarity inverted) are replaced by the louder one. Clipping is measured per
channel, since a clipped channel is damaged whatever the other one does.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import soundfile

from exhibits.booth.vad import FLOOR_DBFS, MIN_SAMPLE_RATE_HZ, detect_voice
from kiosk.errors import KioskError
from kiosk.loudness import gated_loudness, k_weighted, lufs

# The verdict is the first problem in this order: what the participant must change first.
# - no_speech: there is nothing to keep at all;
# - clipped: distortion is baked into the samples, no later processing removes it;
# - cut_off: part of the name is missing, nothing brings it back;
# - too_quiet: the name is there, but lifting it to the memorial's level lifts the
#   booth's noise with it: saying it again closer to the microphone is better;
# - noisy: the voice is fine but the background competes with it;
# - too_short: probably only part of the name was said; staff can judge by listening;
# - too_long: more than the name was said; the name is usually still in it.
SEVERITY: tuple[str, ...] = (
    "no_speech",
    "clipped",
    "cut_off",
    "too_quiet",
    "noisy",
    "too_short",
    "too_long",
)
OK = "ok"

# A sample within 0.001 of full scale (-0.009 dBFS) is at the converter's limit: every
# PCM format's largest code (32767/32768 for 16 bit) lies above this.
CLIP_LEVEL = 0.999
# A run of samples at the limit is a flattened peak; a single sample there is a peak that
# just touches it (a take normalised to 0 dBFS, a click), so only runs this long count.
MIN_CLIP_RUN = 3
# The share of samples in such runs above which the take is "clipped". Measured on a 3 s
# take holding a 1 s name: the voice pushed 0.8 dB past full scale gives 2e-4 (a few
# flattened peaks, hard to hear), 1.6 dB past gives 7e-4 (every loud vowel flattened,
# a crackle in a quiet hall); a 10 s take dilutes the share, so the line sits low.
MAX_CLIPPED_FRACTION = 5e-4

# Speech this close to either end of the take is taken to run past it. The analysis
# window smears a clean edge by about 25 ms, and nobody can stop a recording within
# 50 ms of finishing a name, so a take whose speech reaches this far was cut.
CUT_OFF_MARGIN_S = 0.05

# Speech quieter than this (integrated loudness of the speech) needs more than 17 dB of
# gain to reach -23 LUFS (EBU R 128, the level the memorial plays names at), and that gain
# lifts the booth's background and the microphone's own hiss with it. With the booth's
# gain set so that a normal voice reads near -23 LUFS, -40 is a voice 17 dB softer than
# that: turned away, far from the microphone, or barely spoken.
MIN_LOUDNESS_LUFS = -40.0

# Speech must stand this far above the background (RMS over speech frames against RMS
# outside the speech). At 20 dB the hiss or hum is audible in the pauses around every
# name the memorial plays, and once takes are normalised to one loudness a noisy take
# stands out among quiet ones; below it words start to be masked.
MIN_SPEECH_TO_BACKGROUND_DB = 20.0
# The background is measured outside the speech with this much room on either side: the
# analysis smears speech by about 25 ms and breath and room reverb follow a name for up
# to a tenth of a second.
BACKGROUND_GUARD_S = 0.15
# Less than this much background is too little to measure a level that means something
# (a few pitch periods of hum, or one burst of hiss).
MIN_BACKGROUND_S = 0.25

# Shorter than this from first to last speech, it cannot be a given name and a surname:
# even "Ida Kahn" takes over half a second, and one syllable lasts 0.1-0.3 s.
MIN_SPEECH_S = 0.3
# Longer than this, more than a name was said: the longest names on the lists, read
# slowly, take a few seconds.
MAX_SPEECH_S = 15.0

# A channel this far below the loudest one carries nothing (unplugged or muted): averaging
# it in would only lower the level by 6 dB.
DEAD_CHANNEL_DB = 30.0
# Two live channels in phase mix at about their mean power, uncorrelated ones 3 dB under;
# losing more than this means they cancel, and the louder channel alone is the voice.
CANCELLATION_DB = 6.0

# The longest take anything accepts: the central store refuses audio over 60 s (422),
# and the booth stops a take after [booth] max_recording_s (at most 60). A file that
# declares more is refused from its header, unread.
MAX_TAKE_S = 60.0
# The highest rate a file is read at: the take store resamples from at most this.
MAX_SAMPLE_RATE_HZ = 768_000
# Samples decoded at a time over all channels (4 MB as float64): a file is never held
# whole with all its channels, whatever its rate and channel count.
READ_BLOCK_SAMPLES = 1 << 19
_UNKNOWN_LENGTH = 2**62

# K-weighting starts from rest; this much audio before the speech settles it (the 38 Hz
# high pass forgets its start within a few tens of milliseconds).
K_WEIGHTING_LEAD_IN_S = 0.1


@dataclass(frozen=True)
class QualityReport:
    """What the check found in one take; `to_json` is the contract of `kiosk booth analyze`."""

    verdict: str  # "ok" or the most serious problem
    problems: tuple[str, ...]  # codes, most serious first
    duration_s: float
    speech_start_s: float | None  # where the first speech is, None without speech
    speech_end_s: float | None  # where the last speech is, None without speech
    # The highest sample of any channel (-120 for digital silence); None for a file
    # refused from its header (too_long) and so never decoded.
    peak_dbfs: float | None
    loudness_lufs: float | None  # BS.1770-4 loudness of the speech, None without speech
    noise_floor_dbfs: float | None  # RMS of the background outside the speech
    clipped_fraction: float | None  # share of samples in clipped runs, in the worst channel; None as peak_dbfs

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "problems": list(self.problems),
            "duration_s": self.duration_s,
            "speech_start_s": self.speech_start_s,
            "speech_end_s": self.speech_end_s,
            "peak_dbfs": self.peak_dbfs,
            "loudness_lufs": self.loudness_lufs,
            "noise_floor_dbfs": self.noise_floor_dbfs,
            "clipped_fraction": self.clipped_fraction,
        }


def analyze(samples: np.ndarray, sample_rate: int) -> QualityReport:
    """Check one take: floats in [-1, 1] or integer PCM, shape (frames,) or (frames, channels).

    Any sample rate from 8 kHz up. Raises ValueError for samples that are not audio
    (wrong shape or type, NaN or infinity) or a rate that cannot carry a voice.
    """
    rate = int(sample_rate)
    if rate != sample_rate or rate < MIN_SAMPLE_RATE_HZ:
        raise ValueError(
            f"sample rate {sample_rate!r}: need a whole number of at least {MIN_SAMPLE_RATE_HZ} Hz"
        )
    frames = _as_float_frames(samples)
    peak = float(np.max(np.abs(frames))) if frames.shape[0] else 0.0
    return _judge(mixdown(frames), rate, peak, _clipped_fraction(frames))


def _judge(mono: np.ndarray, rate: int, peak: float, clipped: float) -> QualityReport:
    """The report on a take's mono mixdown, given the peak and clipping of its channels."""
    count = mono.size
    duration = count / rate
    activity = detect_voice(mono, rate) if count else None

    start = activity.speech_start_s if activity else None
    end = activity.speech_end_s if activity else None
    problems: set[str] = set()
    if clipped > MAX_CLIPPED_FRACTION:
        problems.add("clipped")

    loudness: float | None = None
    noise_floor: float | None = None
    if activity is None or start is None or end is None:
        problems.add("no_speech")
        if duration >= MIN_BACKGROUND_S:
            noise_floor = _dbfs(float(np.var(mono)))
    else:
        end = min(end, duration)
        hop = activity.hop_s
        loudness = _speech_loudness(mono, rate, start, end + hop)
        blocks = _FrameBlocks(mono, rate, hop, activity.speech.size)
        frame_times = np.arange(activity.speech.size) * hop
        outside = (frame_times < start - BACKGROUND_GUARD_S) | (frame_times > end + BACKGROUND_GUARD_S)
        if blocks.length(outside) >= MIN_BACKGROUND_S * rate:
            background_power = blocks.power(outside)
            noise_floor = _dbfs(background_power)
            speech_power = blocks.power(activity.speech)
            if _db_ratio(speech_power, background_power) < MIN_SPEECH_TO_BACKGROUND_DB:
                problems.add("noisy")
        # The last frame is centred up to one hop before the end of the take.
        if start <= CUT_OFF_MARGIN_S or duration - end <= CUT_OFF_MARGIN_S + hop:
            problems.add("cut_off")
        if loudness < MIN_LOUDNESS_LUFS:
            problems.add("too_quiet")
        if end - start < MIN_SPEECH_S:
            problems.add("too_short")
        if end - start > MAX_SPEECH_S:
            problems.add("too_long")

    ordered = tuple(code for code in SEVERITY if code in problems)
    return QualityReport(
        verdict=ordered[0] if ordered else OK,
        problems=ordered,
        duration_s=_rounded(duration, 3),
        speech_start_s=None if start is None else _rounded(start, 3),
        speech_end_s=None if end is None else _rounded(end, 3),
        peak_dbfs=_rounded(_dbfs(peak * peak), 2),
        loudness_lufs=None if loudness is None else _rounded(loudness, 2),
        noise_floor_dbfs=None if noise_floor is None else _rounded(noise_floor, 2),
        clipped_fraction=_rounded(clipped, 6),
    )


def analyze_file(path: str | os.PathLike[str], *, max_duration_s: float = MAX_TAKE_S) -> QualityReport:
    """Check a take stored in any format libsndfile reads (WAV, FLAC, OGG, AIFF, ...).

    A file longer than `max_duration_s` gets the verdict `too_long` from its header
    alone (see `read_take`). Raises KioskError naming the file and what to do when it
    is missing, empty, corrupt or unreadable; a readable file always gives a report.
    """
    try:
        take = read_take(path, max_duration_s=max_duration_s)
    except TakeTooLong as too_long:
        return too_long.report
    return take.analyze()


@dataclass(frozen=True)
class DecodedTake:
    """A take read from a file in bounded memory (`read_take`): its mono mixdown, and the
    peak and clipping of its channels, measured on the way since only the mix is kept."""

    mono: np.ndarray  # float64, full scale at 1.0
    sample_rate: int
    peak: float
    clipped_fraction: float
    subtype: str  # libsndfile's name of the file's sample format, e.g. PCM_16

    def analyze(self) -> QualityReport:
        return _judge(self.mono, self.sample_rate, self.peak, self.clipped_fraction)


class TakeTooLong(KioskError):
    """A file longer than a take may be; `report` is its `too_long` report (nothing decoded
    but, at most, the frames up to the limit)."""

    def __init__(self, where: str, duration_s: float, limit_s: float, *, declared: bool):
        how_long = f"{duration_s:.1f} s" if declared else f"more than {limit_s:g} s"
        super().__init__(
            f"{where}: {how_long} of audio, longer than the {limit_s:g} s a take may last; not read",
            "a take holds one name, read in a few seconds: cut the file down to the name "
            "(e.g. `sox IN.wav OUT.flac trim START LENGTH`) and give that file",
        )
        self.report = too_long_report(duration_s)


def too_long_report(duration_s: float) -> QualityReport:
    """The report on a file refused for its length before it was decoded: what was not
    measured is None (CONTRACT.md's nulls), the duration is the header's."""
    return QualityReport(
        verdict="too_long",
        problems=("too_long",),
        duration_s=_rounded(duration_s, 3),
        speech_start_s=None,
        speech_end_s=None,
        peak_dbfs=None,
        loudness_lufs=None,
        noise_floor_dbfs=None,
        clipped_fraction=None,
    )


def read_take(path: str | os.PathLike[str], *, max_duration_s: float = MAX_TAKE_S) -> DecodedTake:
    """Read a take from a file in bounded memory: the header first, then blocks.

    The header's length is checked before anything is decoded: over `max_duration_s`
    raises `TakeTooLong`. A header that understates the length (a stream without a
    frame count) is caught while reading, at the limit. Files of more than one channel
    are read twice, block by block: once to measure each channel (power, peak,
    clipping), once to mix the channels `mixdown` would keep; so memory holds one
    mono channel of at most `max_duration_s`, never the file's channels.

    Raises KioskError naming the file and what to do when it is missing, empty,
    corrupt, unreadable or not at a rate that carries a voice.
    """
    where = os.fspath(path)
    if not os.path.exists(where):
        raise KioskError(f"{where}: no such file", "check the path (and the spelling of the name)")
    if os.path.isdir(where):
        raise KioskError(f"{where}: is a folder, not an audio file", "give the path of one audio file")
    if os.path.getsize(where) == 0:
        raise KioskError(
            f"{where}: cannot be read as audio: the file is empty (0 bytes)",
            "the recording was not saved; record the take again or copy it again from its source",
        )
    with _reading(where):
        with soundfile.SoundFile(where) as sound:
            rate, channels = int(sound.samplerate), int(sound.channels)
            if not MIN_SAMPLE_RATE_HZ <= rate <= MAX_SAMPLE_RATE_HZ:
                raise KioskError(
                    f"{where}: sample rate {rate} Hz cannot be checked as a voice",
                    f"record or convert it at {MIN_SAMPLE_RATE_HZ} to {MAX_SAMPLE_RATE_HZ} Hz "
                    "(the booth records at 48000 Hz)",
                )
            limit = math.floor(max_duration_s * rate)
            # A stream written without seeking back (a FLAC piped out of an encoder)
            # leaves its length unknown: libsndfile then says 2**63 - 1 frames.
            if _UNKNOWN_LENGTH > sound.frames > limit:
                raise TakeTooLong(where, sound.frames / rate, max_duration_s, declared=True)
            # At most a second a block, so a file of unknown length stops near the limit.
            block_frames = max(1024, min(READ_BLOCK_SAMPLES // channels, rate))
            stats = _ChannelStats(channels)
            mono_blocks: list[np.ndarray] = []
            for block in sound.blocks(blocksize=block_frames, dtype="float64", always_2d=True):
                if not np.isfinite(block).all():
                    raise KioskError(
                        f"{where}: contains invalid samples (NaN or infinity)",
                        "the file is damaged; copy it again from its source or record the take again",
                    )
                stats.add(block)
                if stats.frames > limit:
                    raise TakeTooLong(where, stats.frames / rate, max_duration_s, declared=False)
                if channels == 1:
                    mono_blocks.append(block[:, 0].copy())
            if stats.frames == 0:
                raise KioskError(
                    f"{where}: holds no audio (a valid header with 0 samples)",
                    "the recording stopped before any sound was saved; record the take again",
                )
            if channels > 1:
                weights = _mix_weights(stats.gram)
                sound.seek(0)
                mono_blocks = [block @ weights for block in sound.blocks(blocksize=block_frames, dtype="float64", always_2d=True)]
            subtype = sound.subtype
    mono = np.concatenate(mono_blocks)
    # A file that changed between the two readings is not the file that was measured.
    if mono.size != stats.frames:
        raise KioskError(f"{where}: changed while it was read", "wait until it is copied whole, then try again")
    return DecodedTake(mono, rate, stats.peak, stats.clipped_fraction(), subtype)


@contextlib.contextmanager
def _reading(where: str) -> Iterator[None]:
    """libsndfile's and the disk's errors as a KioskError saying what to do."""
    try:
        yield
    except (soundfile.SoundFileError, RuntimeError) as error:
        reason = getattr(error, "error_string", None) or str(error)
        raise KioskError(
            f"{where}: cannot be read as audio ({reason})",
            "the file is damaged or not audio; copy it again from its source, or convert it "
            "to WAV or FLAC (e.g. with sox) and check that copy",
        ) from None
    except OSError as error:
        raise KioskError(
            f"{where}: cannot be read ({error.strerror or error})",
            "check the file's permissions and the disk it is on",
        ) from None


def _speech_loudness(mono: np.ndarray, rate: int, start_s: float, end_s: float) -> float:
    """BS.1770-4 loudness of the speech region; for speech that no block lets through the
    absolute gate (-70 LUFS, just under the quietest voice the detector accepts), its
    ungated loudness, so that it still reads as a number and as too quiet."""
    first = min(max(0, round(start_s * rate)), mono.size - 1)
    last = min(mono.size, max(first + 1, round(end_s * rate)))
    lead_in = min(first, round(K_WEIGHTING_LEAD_IN_S * rate))
    weighted = k_weighted(mono[first - lead_in : last], rate)[lead_in:]
    gated = gated_loudness(weighted, rate)
    if gated is not None:
        return gated
    return lufs(float(np.mean(np.square(weighted))))


def _block_sums(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Sums of `values` between consecutive `edges` (empty stretches sum to 0)."""
    # A trailing zero keeps every start a valid index, even for empty stretches at the end.
    sums = np.add.reduceat(np.append(values, 0.0), edges[:-1])
    return np.where(edges[1:] > edges[:-1], sums, 0.0)


def _as_float_frames(samples: np.ndarray) -> np.ndarray:
    """Samples as float64 of shape (frames, channels), full scale at 1.0."""
    data = np.asarray(samples)
    if data.ndim == 1:
        data = data.reshape(-1, 1)
    if data.ndim != 2 or data.shape[1] == 0:
        raise ValueError(f"samples of shape {data.shape}: expected (frames,) or (frames, channels)")
    kind = data.dtype.kind
    if kind == "f":
        frames = data.astype(np.float64, copy=False)
        if not np.isfinite(frames).all():
            raise ValueError("samples contain NaN or infinity")
        return frames
    if kind in "iu":
        bits = 8 * data.dtype.itemsize
        offset = 2.0 ** (bits - 1) if kind == "u" else 0.0
        return (data.astype(np.float64) - offset) / 2.0 ** (bits - 1)
    raise ValueError(f"samples of type {data.dtype}: expected floats or integer PCM")


def mixdown(frames: np.ndarray) -> np.ndarray:
    """One channel: the mean of the live channels, or the louder one if they cancel.

    Also what the take store keeps, so the audio kept is the audio that was judged
    (see the module docstring).
    """
    if frames.shape[1] == 1:
        return frames[:, 0]
    return frames @ _mix_weights(frames.T @ frames)


def _mix_weights(gram: np.ndarray) -> np.ndarray:
    """Each channel's weight in the mixdown, from the sums of the channels' products
    (`frames.T @ frames`), which a file read block by block can add up as it goes."""
    power = np.diag(gram)  # sums of squares: their ratios are those of the mean squares
    weights = np.zeros(power.size)
    loudest = float(power.max())
    if loudest == 0.0:
        weights[0] = 1.0
        return weights
    live = power >= loudest * 10.0 ** (-DEAD_CHANNEL_DB / 10.0)
    weights[live] = 1.0 / np.count_nonzero(live)
    if float(weights @ gram @ weights) < float(power[live].mean()) * 10.0 ** (-CANCELLATION_DB / 10.0):
        weights[:] = 0.0
        weights[int(np.argmax(power))] = 1.0
    return weights


def _clipped_fraction(frames: np.ndarray) -> float:
    """Share of samples in runs of at least MIN_CLIP_RUN at full scale, worst channel."""
    if frames.shape[0] == 0:
        return 0.0
    stats = _ChannelStats(frames.shape[1], gram=False)
    stats.add(frames)
    return stats.clipped_fraction()


class _ChannelStats:
    """What is measured on every channel of a take read block after block: frames, peak,
    sums of products (`gram`, for `_mix_weights`) and runs of clipped samples, a run
    carried over from one block into the next."""

    def __init__(self, channels: int, *, gram: bool = True):
        self.frames = 0
        self.peak = 0.0
        self.gram = np.zeros((channels, channels))
        self._with_gram = gram
        self._open_run = np.zeros(channels, dtype=np.int64)  # at the limit up to the end of the last block
        self._clipped = np.zeros(channels, dtype=np.int64)  # samples in finished runs of MIN_CLIP_RUN or more

    def add(self, block: np.ndarray) -> None:
        if block.shape[0] == 0:
            return
        self.frames += block.shape[0]
        self.peak = max(self.peak, float(np.max(np.abs(block))))
        if self._with_gram:
            self.gram += block.T @ block
        at_limit = np.abs(block) >= CLIP_LEVEL
        if not at_limit.any():
            self._end_runs(np.arange(block.shape[1]))
            return
        for channel, column in enumerate(at_limit.T):  # one pass per channel, vectorised along the samples
            if not column.any():
                self._end_runs([channel])
                continue
            edges = np.diff(np.concatenate(([0], column.astype(np.int8), [0])))
            starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
            runs = ends - starts
            if starts[0] == 0:
                runs[0] += self._open_run[channel]
            else:
                self._end_runs([channel])
            if ends[-1] == column.size:
                self._open_run[channel] = runs[-1]
                runs = runs[:-1]
            else:
                self._open_run[channel] = 0
            self._clipped[channel] += int(runs[runs >= MIN_CLIP_RUN].sum())

    def _end_runs(self, channels: Any) -> None:
        ending = self._open_run[channels]
        self._clipped[channels] += np.where(ending >= MIN_CLIP_RUN, ending, 0)
        self._open_run[channels] = 0

    def clipped_fraction(self) -> float:
        if self.frames == 0:
            return 0.0
        still_open = np.where(self._open_run >= MIN_CLIP_RUN, self._open_run, 0)
        return int((self._clipped + still_open).max()) / self.frames


class _FrameBlocks:
    """The stretch of samples each analysis frame stands for (hop_s wide, centred on the
    frame), at the file's own rate and over its full band, to measure power over any set
    of frames."""

    def __init__(self, mono: np.ndarray, rate: int, hop_s: float, count: int):
        edges = np.round((np.arange(count + 1) - 0.5) * hop_s * rate).astype(np.int64)
        edges = np.clip(edges, 0, mono.size)
        edges[-1] = mono.size
        self._length = np.diff(edges)
        self._sum = _block_sums(mono, edges)
        self._square = _block_sums(np.square(mono), edges)

    def length(self, frames: np.ndarray) -> int:
        return int(self._length[frames].sum())

    def power(self, frames: np.ndarray) -> float:
        """Mean square about the mean over the frames: a converter's DC offset is
        inaudible, so it is not background."""
        length = max(1, self.length(frames))
        mean = float(self._sum[frames].sum()) / length
        return max(0.0, float(self._square[frames].sum()) / length - mean * mean)


def _dbfs(mean_square: float) -> float:
    """A mean square (or a squared peak) in dB relative to full scale, floored."""
    return 10.0 * math.log10(max(mean_square, 10.0 ** (FLOOR_DBFS / 10.0)))


def _rounded(value: float, digits: int) -> float:
    """Rounded for the report (ms, 0.01 dB); + 0.0 turns -0.0 into 0.0 for JSON readers."""
    return round(value, digits) + 0.0


def _db_ratio(power: float, reference: float) -> float:
    return 10.0 * math.log10(max(power, 1e-30) / max(reference, 1e-30))
