"""The booth's takes: a participant's accepted recording, encoded and handed to the outbox.

`TakeStore` is the station's outbox (`kiosk.link.outbox.Outbox`: the files on disk, the
sync queue, withdrawal) plus the one thing only the booth does: turning the microphone's
frames into the archive's FLAC. Audio is resampled with soxr (libsoxr, the resampler of
SoX) at its very-high-quality setting when the microphone did not deliver 48 kHz, since
24-bit archive audio deserves a resampler whose error is below 24 bits.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import soundfile
import soxr

from kiosk.contract import SCHEMA_VERSION
from kiosk.link.outbox import Consent, KeptTake, Outbox, _iso, _utc

SAMPLE_RATE = 48_000
SUBTYPES = ("PCM_16", "PCM_24")


class TakeStore(Outbox):
    """The booth's outbox: it keeps takes from the microphone's frames."""

    def keep(
        self,
        samples: np.ndarray,
        sample_rate: int,
        *,
        person_id: str,
        consent: Consent,
        quality: Mapping[str, Any],
        recorded_at: datetime | None = None,
        subtype: str | None = None,
    ) -> KeptTake:
        """Keep an accepted take durably; return only when it is on disk for good.

        `samples` are frames in rows (mono 1-D, or frames x channels, as soundfile and
        sounddevice give them), float in [-1, 1], int16 or int32. They are mixed down to
        mono, resampled to 48 kHz and stored as FLAC: 24-bit, or 16-bit for int16 input
        (nothing is gained by padding 16-bit audio), unless `subtype` says otherwise.

        Everything that can be wrong with the arguments is found before the disk is
        touched. A disk that is full or failing raises `KioskError` and leaves nothing
        behind: not a partial file, not a half-accepted take.
        """
        if not isinstance(consent, Consent):
            raise TypeError("consent must be a Consent")
        if not isinstance(person_id, str) or not person_id.strip():
            raise ValueError("a take needs the id of the person whose name was read")
        moment = _utc(recorded_at)
        mono, chosen_subtype = _prepare(samples, sample_rate, subtype)
        flac = _encode_flac(mono, chosen_subtype)

        recording_id = str(uuid.uuid4())
        metadata: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "recording_id": recording_id,
            "person_id": person_id,
            "station_id": self.station_id,
            "recorded_at": _iso(moment),
            "duration_s": round(len(mono) / SAMPLE_RATE, 6),
            "sample_rate": SAMPLE_RATE,
            "channels": 1,
            "format": "flac",
            "subtype": chosen_subtype,
            "sha256": hashlib.sha256(flac).hexdigest(),
            "size_bytes": len(flac),
            "consent": consent.to_json(),
            "quality": dict(quality),
            "withdrawal_code": None,
        }
        return self.add(flac, metadata)


def _prepare(samples: np.ndarray, sample_rate: int, subtype: str | None) -> tuple[np.ndarray, str]:
    """Mono float64 at 48 kHz in [-1, 1], and the FLAC subtype to store it in."""
    samples = np.asarray(samples)
    if samples.ndim not in (1, 2) or samples.shape[0] == 0 or (samples.ndim == 2 and samples.shape[1] == 0):
        raise ValueError(f"a take needs audio frames, got an array of shape {samples.shape}")
    is_integer = isinstance(sample_rate, (int, np.integer)) and not isinstance(sample_rate, bool)
    if not is_integer or not 1000 <= sample_rate <= 768_000:
        raise ValueError(f"not a sample rate: {sample_rate!r}")
    if samples.dtype == np.int16:
        audio = samples.astype(np.float64) / 32768.0
        default_subtype = "PCM_16"
    elif samples.dtype == np.int32:
        audio = samples.astype(np.float64) / 2147483648.0
        default_subtype = "PCM_24"
    elif np.issubdtype(samples.dtype, np.floating):
        audio = samples.astype(np.float64)
        if not np.isfinite(audio).all():
            raise ValueError("the take holds NaN or infinite samples")
        default_subtype = "PCM_24"
    else:
        raise ValueError(f"samples must be float, int16 or int32, not {samples.dtype}")
    if subtype is not None and subtype not in SUBTYPES:
        raise ValueError(f"subtype must be one of {SUBTYPES}, not {subtype!r}")
    if audio.ndim == 2:
        from exhibits.booth.quality import mixdown  # scipy: only when a stereo take needs it

        audio = mixdown(audio)
    if sample_rate != SAMPLE_RATE:
        audio = soxr.resample(audio, int(sample_rate), SAMPLE_RATE, quality="VHQ")
        if len(audio) == 0:
            raise ValueError("the take is too short to resample")
    return audio, subtype or default_subtype


def _encode_flac(mono: np.ndarray, subtype: str) -> bytes:
    """FLAC bytes, quantised here with rounding and clipping.

    libsndfile converts float to integer without clipping (an over wraps around to a
    loud click) and scales 16-bit asymmetrically; integers it stores exactly.
    """
    if subtype == "PCM_16":
        pcm = np.clip(np.rint(mono * 32768.0), -32768, 32767).astype(np.int16)
    else:
        # soundfile hands int32 to libsndfile, which keeps the top 24 bits.
        pcm = np.clip(np.rint(mono * 8388608.0), -8388608, 8388607).astype(np.int32) << 8
    buffer = io.BytesIO()
    soundfile.write(buffer, pcm, SAMPLE_RATE, format="FLAC", subtype=subtype)
    return buffer.getvalue()
