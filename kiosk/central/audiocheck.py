"""The store listens to every upload before it keeps it: decodable FLAC of a plausible length.

A header that says "fLaC" proves nothing: 5,000 random bytes after it, or a FLAC with no
samples declared as 3 s, would otherwise be kept, approved, exported and played on the
walls. So the audio is decoded here, block by block (memory stays at one block whatever
the file claims), its frames counted, and it is refused (422, with a code the booth
reads) when:

- it cannot be decoded as FLAC, or it breaks off or is damaged somewhere along the way;
- it holds fewer than `MIN_SECONDS` or more than `MAX_SECONDS` of audio (decoding stops
  as soon as it is too long);
- its duration or sample rate is not what the metadata declares.

The booth's takes are well inside these bounds: a name read aloud lasts a few seconds,
the booth stops recording at 60 s, and its sidecar states frames / rate exactly.

The decoding is done by libFLAC, the reference decoder (the system's libFLAC.so, which
Debian's libsndfile depends on), called with ctypes: it verifies every frame's CRC and
reports a damaged frame, a lost sync or a missing stream header to `_LibFLAC`, and the
samples it decodes are counted, never copied (issue 18: through libsndfile, which
converts every sample into the caller's format, the check cost 2.6 ms of the store's
CPU per take of 4 s; through libFLAC 1.7 ms). Where libFLAC cannot be loaded, libsndfile
(soundfile) decodes the same way, block by block, as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kiosk.central.errors import Unprocessable

log = logging.getLogger(__name__)

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
    libflac = _libflac()
    decoded = libflac.decode(audio) if libflac is not None else _decode_with_libsndfile(audio)
    rate = decoded.sample_rate
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


def _too_long() -> Unprocessable:
    return _refuse("audio_too_long", f"the audio lasts more than {MAX_SECONDS:g} s, longer than any take")


def _not_flac(why: str) -> Unprocessable:
    return _refuse("audio_not_flac", f"the audio part is not decodable FLAC ({why})")


def _decode_with_libsndfile(audio: Path | int) -> DecodedAudio:
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
                    raise _too_long()
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as error:
        raise _not_flac(str(error)) from None
    return DecodedAudio(frames, rate, channels)


# libFLAC's C interface (FLAC/stream_decoder.h, FLAC/format.h), as far as this check uses it.
_WRITE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
_METADATA = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
_ERROR = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)
_CONTINUE, _ABORT = 0, 1  # FLAC__StreamDecoderWriteStatus
_INIT_OK = 0  # FLAC__StreamDecoderInitStatus
_END_OF_STREAM = 4  # FLAC__StreamDecoderState
_STREAMINFO = 0  # FLAC__MetadataType, the first field of FLAC__StreamMetadata
_ERRORS = {  # FLAC__StreamDecoderErrorStatus
    0: "it breaks off, or holds something that is not FLAC: the decoder lost its way",
    1: "a frame's header is damaged",
    2: "a frame does not match its checksum",
    3: "the stream uses a feature no FLAC decoder knows",
    4: "a metadata block is damaged",
}


class _FrameHeader(ctypes.Structure):
    """The first fields of FLAC__FrameHeader, the first member of the FLAC__Frame a write callback gets."""

    _fields_ = [("blocksize", ctypes.c_uint), ("sample_rate", ctypes.c_uint), ("channels", ctypes.c_uint)]


class _StreamInfo(ctypes.Structure):
    _fields_ = [
        ("min_blocksize", ctypes.c_uint),
        ("max_blocksize", ctypes.c_uint),
        ("min_framesize", ctypes.c_uint),
        ("max_framesize", ctypes.c_uint),
        ("sample_rate", ctypes.c_uint),
        ("channels", ctypes.c_uint),
        ("bits_per_sample", ctypes.c_uint),
        ("total_samples", ctypes.c_uint64),
        ("md5sum", ctypes.c_ubyte * 16),
    ]


class _Metadata(ctypes.Structure):
    """FLAC__StreamMetadata as far as a STREAMINFO block goes (its union is aligned as its first member)."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("is_last", ctypes.c_int),
        ("length", ctypes.c_uint),
        ("stream_info", _StreamInfo),
    ]


class _Tally:
    """What one decoding has seen so far (its callbacks run on the thread that decodes)."""

    def __init__(self) -> None:
        self.frames = 0
        self.most = 0
        self.rate = self.channels = 0
        self.streaminfo = False
        self.problem: str | None = None
        self.too_long = False


class _LibFLAC:
    """libFLAC's stream decoder, counting frames; one decoder per call, so threads never share one."""

    def __init__(self, library: ctypes.CDLL):
        self._lib = library
        decoder = ctypes.c_void_p
        for name, result, arguments in (
            ("FLAC__stream_decoder_new", ctypes.c_void_p, []),
            (
                "FLAC__stream_decoder_init_file",
                ctypes.c_int,
                [decoder, ctypes.c_char_p, _WRITE, _METADATA, _ERROR, ctypes.c_void_p],
            ),
            ("FLAC__stream_decoder_process_until_end_of_stream", ctypes.c_int, [decoder]),
            ("FLAC__stream_decoder_get_state", ctypes.c_int, [decoder]),
            ("FLAC__stream_decoder_delete", None, [decoder]),
        ):
            function = getattr(library, name)
            function.restype, function.argtypes = result, arguments
        self._local = threading.local()
        # Kept on the instance: ctypes callbacks must live as long as libFLAC may call them.
        self._on_write = _WRITE(self._write)
        self._on_metadata = _METADATA(self._metadata)
        self._on_error = _ERROR(self._error)

    def decode(self, audio: Path | int) -> DecodedAudio:
        """Decode the whole stream, counting its frames; Unprocessable when it is not decodable FLAC or too long."""
        lib = self._lib
        # A descriptor is read through /proc, so a rename of its file meanwhile changes nothing.
        path = f"/proc/self/fd/{audio}" if isinstance(audio, int) else os.fspath(audio)
        decoder = lib.FLAC__stream_decoder_new()
        if not decoder:
            raise MemoryError("libFLAC could not make a decoder")
        tally = self._local.tally = _Tally()
        try:
            status = lib.FLAC__stream_decoder_init_file(
                decoder, os.fsencode(path), self._on_write, self._on_metadata, self._on_error, None
            )
            if status != _INIT_OK:
                raise _not_flac(f"libFLAC could not open it, status {status}")
            lib.FLAC__stream_decoder_process_until_end_of_stream(decoder)
            state = lib.FLAC__stream_decoder_get_state(decoder)
        finally:
            lib.FLAC__stream_decoder_delete(decoder)  # finishes it first, closing the file
            self._local.tally = None
        if tally.too_long:
            raise _too_long()
        if tally.problem is not None:
            raise _not_flac(tally.problem)
        if not tally.streaminfo:
            raise _not_flac("it has no stream header")
        if state != _END_OF_STREAM:
            raise _not_flac(f"decoding stopped in state {state}")
        if tally.rate <= 0 or tally.channels <= 0:
            raise _not_flac("it declares no sample rate or no channels")
        return DecodedAudio(tally.frames, tally.rate, tally.channels)

    def _write(self, decoder: int, frame: int, buffers: int, client: int) -> int:
        tally: _Tally = self._local.tally
        header = _FrameHeader.from_address(frame)
        if not tally.most:  # the first frame
            tally.most = int(MAX_SECONDS * header.sample_rate) + 1
            if not tally.streaminfo:
                tally.rate, tally.channels = header.sample_rate, header.channels
        if (header.sample_rate, header.channels) != (tally.rate, tally.channels):
            tally.problem = "its frames differ from its stream header in sample rate or channels"
            return _ABORT
        tally.frames += header.blocksize
        if tally.frames > tally.most:
            tally.too_long = True  # decoding stops here, not where the header says the stream ends
            return _ABORT
        return _CONTINUE

    def _metadata(self, decoder: int, metadata: int, client: int) -> None:
        block = _Metadata.from_address(metadata)
        if block.type == _STREAMINFO:
            tally: _Tally = self._local.tally
            tally.streaminfo = True
            # A stream without frames has only these to say (and is too short for a take).
            tally.rate, tally.channels = block.stream_info.sample_rate, block.stream_info.channels

    def _error(self, decoder: int, status: int, client: int) -> None:
        tally: _Tally = self._local.tally
        if tally.problem is None:
            tally.problem = _ERRORS.get(status, f"libFLAC error {status}")


@cache
def _libflac() -> _LibFLAC | None:
    """libFLAC, or None where it cannot be loaded (libsndfile decodes then)."""
    name = ctypes.util.find_library("FLAC")
    try:
        if name is None:
            raise OSError("libFLAC is not installed")
        return _LibFLAC(ctypes.CDLL(name))
    except (OSError, AttributeError) as error:
        log.warning(
            "libFLAC cannot be used; uploads are decoded with libsndfile, which costs more CPU "
            "(on Debian: apt-get install libflac12)",
            extra={"problem": str(error)},
        )
        return None


def _refuse(code: str, why: str) -> Unprocessable:
    return Unprocessable(f"{why}; nothing was kept", code=code)
