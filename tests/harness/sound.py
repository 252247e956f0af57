"""Measuring recordings by their content, the only thing a null sink's clock lets us trust."""

from __future__ import annotations

import os
import wave

import numpy as np

SILENCE_DBFS = -120.0


def read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Samples of a PCM WAV as floats in [-1, 1], shape (frames, channels), and the rate."""
    with wave.open(str(path), "rb") as wav:
        width = wav.getsampwidth()
        channels = wav.getnchannels()
        rate = wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    if width == 1:
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128) / 128
    elif width == 2:
        samples = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768
    elif width == 4:
        samples = np.frombuffer(raw, dtype="<i4").astype(np.float64) / 2147483648
    else:
        raise ValueError(f"{path}: {8 * width}-bit samples are not supported")
    return samples.reshape(-1, channels), rate


def dbfs(samples: np.ndarray) -> float:
    """RMS level of `samples` in dB relative to full scale; SILENCE_DBFS for digital zero."""
    if samples.size == 0:
        return SILENCE_DBFS
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return max(SILENCE_DBFS, 20 * np.log10(rms)) if rms > 0 else SILENCE_DBFS


def loudest_window_dbfs(samples: np.ndarray, rate: int, window_seconds: float = 0.05) -> float:
    """The RMS level of the loudest window: speech shows here even amid long silences."""
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    size = max(1, int(rate * window_seconds))
    usable = (len(mono) // size) * size
    if usable == 0:
        return dbfs(mono)
    windows = mono[:usable].reshape(-1, size)
    return max(dbfs(window) for window in windows)
