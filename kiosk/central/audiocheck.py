"""The store listens to every upload before it keeps it: decodable FLAC of a plausible length.

A header that says "fLaC" proves nothing: 5,000 random bytes after it, or a FLAC with no
samples declared as 3 s, would otherwise be kept, approved, exported and played on the
walls. So the audio is decoded here, block by block (memory stays at one block whatever
the file claims), its frames counted, and it is refused (422, with a code the booth
reads) when:

- libsndfile cannot read it as FLAC, or it breaks off while being decoded;
- it holds fewer than `MIN_SECONDS` or more than `MAX_SECONDS` of audio (decoding stops
  as soon as it is too long);
- its duration or sample rate is not what the metadata declares.

The booth's takes are well inside these bounds: a name read aloud lasts a few seconds,
the booth stops recording at 60 s, and its sidecar states frames / rate exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kiosk.central.errors import Unprocessable

MIN_SECONDS = 0.3
MAX_SECONDS = 60.0
DURATION_TOLERANCE_S = 0.05
"""How far the declared duration may be from the decoded one (rounding in the sidecar)."""
BLOCK_FRAMES = 16_384


@dataclass(frozen=True)
class DecodedAudio:
    frames: int
    sample_rate: int
    channels: int

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


def check_take_audio(audio: Path | int, declared_seconds: float, declared_rate: int) -> DecodedAudio:
    """Decode the FLAC at `audio` (a path, or an open file descriptor, left open) and
    compare it with what was declared; Unprocessable if it is not a take."""
    import soundfile

    try:
        with soundfile.SoundFile(audio, closefd=False) as sound:
            if sound.format != "FLAC":
                raise _refuse("audio_not_flac", f"the audio part is {sound.format}, not FLAC")
            rate, channels = sound.samplerate, sound.channels
            if rate <= 0 or channels <= 0:
                raise _refuse("audio_not_flac", "the audio part declares no sample rate or no channels")
            most = int(MAX_SECONDS * rate) + 1
            frames = 0
            # One block, filled again and again; decoding stops where the stream does, not
            # where its header says it does.
            block = bytearray(BLOCK_FRAMES * channels * 2)
            while True:
                read = sound.buffer_read_into(block, "int16")
                if read <= 0:
                    break
                frames += read
                if frames > most:
                    raise _refuse(
                        "audio_too_long", f"the audio lasts more than {MAX_SECONDS:g} s, longer than any take"
                    )
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as error:
        raise _refuse("audio_not_flac", f"the audio part is not decodable FLAC ({error})") from None
    decoded = DecodedAudio(frames, rate, channels)
    if decoded.seconds < MIN_SECONDS:
        raise _refuse(
            "audio_too_short",
            f"the audio holds {decoded.seconds:.3f} s of sound, less than the {MIN_SECONDS:g} s a name needs",
        )
    if rate != declared_rate:
        raise _refuse(
            "audio_rate_differs", f"the audio's sample rate is {rate} Hz, the metadata says {declared_rate} Hz"
        )
    if abs(decoded.seconds - declared_seconds) > DURATION_TOLERANCE_S:
        raise _refuse(
            "audio_duration_differs",
            f"the audio lasts {decoded.seconds:.3f} s, the metadata says {declared_seconds:.3f} s",
        )
    return decoded


def _refuse(code: str, why: str) -> Unprocessable:
    return Unprocessable(f"{why}; nothing was kept", code=code)
