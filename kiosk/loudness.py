"""Loudness per ITU-R BS.1770-4 (LUFS), for the booth's quality check and the memorial.

The booth judges whether a reading is loud enough; the memorial brings every name to
the same loudness (EBU R 128). Both measure the same way, so the code lives here, below
both exhibits. Plain numpy and scipy: any sample rate from 8 kHz, any length (a name is
often shorter than one 400 ms gating block; see `gated_loudness`).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import sosfilt

# ITU-R BS.1770-4 gating: 400 ms blocks overlapping by 75%, an absolute gate at -70 LUFS,
# then a relative gate 10 LU under the loudness of the blocks that passed.
LOUDNESS_BLOCK_S = 0.4
LOUDNESS_OVERLAP = 0.75
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
# The lowest rate measured: telephone speech, the whole voice band.
MIN_SAMPLE_RATE_HZ = 8_000
# Digital silence is measured at this level, never as -inf.
FLOOR_DBFS = -120.0


def integrated_loudness(mono: np.ndarray, sample_rate: int) -> float | None:
    """Integrated loudness of a mono signal per ITU-R BS.1770-4, in LUFS.

    Audio shorter than one 400 ms gating block is measured as a single block of its own
    length (see `gated_loudness`). None when no block passes the absolute gate
    (-70 LUFS), where BS.1770 defines no loudness.
    """
    signal = np.asarray(mono, dtype=np.float64)
    if signal.ndim != 1:
        raise ValueError("integrated_loudness measures one channel: pass a 1-D array")
    if sample_rate < MIN_SAMPLE_RATE_HZ:
        raise ValueError(f"sample rate {sample_rate} Hz is below {MIN_SAMPLE_RATE_HZ} Hz")
    return gated_loudness(k_weighted(signal, sample_rate), sample_rate)


def k_weighting_sos(rate: int) -> np.ndarray:
    """The two biquads of BS.1770's K-weighting, for any sample rate.

    BS.1770 tabulates the coefficients for 48 kHz only. These are the analog prototypes
    behind that table (as derived in libebur128), mapped with the bilinear transform:
    at 48 kHz they reproduce the table to its printed precision.
    """
    # Stage 1: high shelf, +4 dB above about 1.7 kHz (the head's acoustic effect).
    gain_db, q, f0 = 3.999843853973347, 0.7071752369554196, 1681.974450955533
    k = math.tan(math.pi * f0 / rate)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf = [
        (vh + vb * k / q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / q + k * k) / a0,
    ]
    # Stage 2: the "RLB" high pass at about 38 Hz.
    q, f0 = 0.5003270373238773, 38.13547087602444
    k = math.tan(math.pi * f0 / rate)
    a0 = 1.0 + k / q + k * k
    high_pass = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([shelf, high_pass])


def k_weighted(signal: np.ndarray, rate: int) -> np.ndarray:
    return sosfilt(k_weighting_sos(rate), signal)


def gated_loudness(weighted: np.ndarray, rate: int) -> float | None:
    """BS.1770-4 gating over K-weighted samples.

    Names are often shorter than one 400 ms block. Then the whole signal is one block
    (the block length shrinks to what there is): that is what a meter would read over
    the name, where padding with silence would lower the mean square by the padding's
    share and zero blocks would leave no reading at all.
    """
    if weighted.size == 0:
        return None
    # Blocks of four steps (within 2 samples of 400 ms at any rate), 75% overlapping:
    # each step is summed once, then four neighbouring steps make a block.
    step = max(1, round(LOUDNESS_BLOCK_S * (1.0 - LOUDNESS_OVERLAP) * rate))
    blocks_of = round(1.0 / (1.0 - LOUDNESS_OVERLAP))
    if weighted.size < blocks_of * step:
        mean_squares = np.array([np.mean(np.square(weighted))])
    else:
        steps = weighted.size // step
        per_step = np.square(weighted[: steps * step]).reshape(steps, step).sum(axis=1)
        mean_squares = sliding_window_view(per_step, blocks_of).sum(axis=1) / (blocks_of * step)
    above_absolute = mean_squares[mean_squares > mean_square(ABSOLUTE_GATE_LUFS)]
    if above_absolute.size == 0:
        return None
    relative_gate = lufs(float(above_absolute.mean())) + RELATIVE_GATE_LU
    kept = above_absolute[above_absolute > mean_square(relative_gate)]
    return lufs(float(kept.mean()))


def lufs(mean_square: float) -> float:
    # -0.691 dB makes a 1 kHz sine read its RMS level in dBFS after K-weighting.
    return -0.691 + 10.0 * math.log10(max(mean_square, 10.0 ** (FLOOR_DBFS / 10.0)))


def mean_square(lufs: float) -> float:
    return 10.0 ** ((lufs + 0.691) / 10.0)
