"""Every name at the same loudness: one gain per recording, to a target, without clipping.

Readers stood closer or further from the microphone, spoke softly or firmly; in the
memorial each name must come as loud as the one before it. The loudness is the booth's
own BS.1770-4 measurement (`kiosk.loudness.integrated_loudness`), which also
measures a name shorter than one 400 ms gating block. The gain brings it to the target
(EBU R 128: -23 LUFS) unless that would push a sample over `peak_dbfs`: then the name
plays as loud as it can without clipping, a little under the target, and says so.

The peak is the sample peak of the signal as it will be played (after resampling), 4x
oversampled so that an inter-sample peak a DAC would reconstruct is counted too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import soxr

from kiosk.loudness import integrated_loudness

PEAK_OVERSAMPLING = 4


class Silent(ValueError):
    """A recording with nothing loud enough to measure (below BS.1770's -70 LUFS gate)."""


@dataclass(frozen=True)
class Gain:
    measured_lufs: float
    gain_db: float
    limited: bool  # the peak limit held the name under the target

    @property
    def factor(self) -> float:
        return 10 ** (self.gain_db / 20)

    @property
    def played_lufs(self) -> float:
        return self.measured_lufs + self.gain_db


def true_peak(mono: np.ndarray, sample_rate: int) -> float:
    """The largest absolute value of `mono`, counting inter-sample peaks (4x oversampled)."""
    if mono.size == 0:
        return 0.0
    upsampled = soxr.resample(np.asarray(mono, dtype=np.float32), sample_rate, sample_rate * PEAK_OVERSAMPLING)
    return float(max(np.max(np.abs(mono)), np.max(np.abs(upsampled)) if upsampled.size else 0.0))


def gain_for(mono: np.ndarray, sample_rate: int, *, target_lufs: float, peak_dbfs: float) -> Gain:
    """The gain that plays `mono` at `target_lufs`, lowered if its peak would pass `peak_dbfs`."""
    measured = integrated_loudness(mono, sample_rate)
    if measured is None or not math.isfinite(measured):
        raise Silent("the recording is silent (under -70 LUFS): nothing to play")
    wanted = target_lufs - measured
    peak = true_peak(mono, sample_rate)
    allowed = peak_dbfs - 20 * math.log10(peak) if peak > 0 else wanted
    if wanted > allowed:
        return Gain(measured, allowed, True)
    return Gain(measured, wanted, False)
