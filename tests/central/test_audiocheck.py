"""The store's audio check (kiosk.central.audiocheck) on files, with libFLAC and with the
libsndfile fallback: both refuse what is not a take, each with a code the upload tests
accept, and both measure a real take alike. The uploads over HTTP are in
test_central_upload_binding.py, whose cases these are."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile
from central_support import flac_bytes
from test_central_upload_binding import CASES

from kiosk.central import audiocheck
from kiosk.central.audiocheck import DecodedAudio, check_take_audio
from kiosk.central.errors import Unprocessable

DECLARED = {"duration_s": 0.5, "sample_rate": 48_000}  # what the upload tests' sidecar declares unless told


@pytest.fixture(params=["libflac", "libsndfile"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "libflac":
        assert audiocheck._libflac() is not None, "libFLAC is not loadable here: apt-get install libflac12"
    else:
        monkeypatch.setattr(audiocheck, "_libflac", lambda: None)
    return request.param


def _file(tmp_path: Path, audio: bytes) -> Path:
    path = tmp_path / "take.flac"
    path.write_bytes(audio)
    return path


@pytest.mark.parametrize("case", list(CASES))
def test_what_is_not_a_take_is_refused_with_a_code_the_booth_reads(tmp_path, decoder, case):
    audio, changes, codes = CASES[case]
    declared = DECLARED | changes
    with pytest.raises(Unprocessable) as refused:
        check_take_audio(_file(tmp_path, audio), declared["duration_s"], declared["sample_rate"])
    assert refused.value.code in codes, f"{decoder}: {refused.value}"
    assert "nothing was kept" in str(refused.value)


def _stereo_take(seconds: float, rate: int, bits: str) -> bytes:
    rng = np.random.default_rng(5)
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) + rng.normal(0, 0.02, t.size)
    buffer = io.BytesIO()
    soundfile.write(buffer, np.stack([tone, -tone], axis=1), rate, format="FLAC", subtype=bits)
    return buffer.getvalue()


@pytest.mark.parametrize(("seconds", "rate", "bits"), [(4.2, 44_100, "PCM_16"), (59.9, 48_000, "PCM_24")])
def test_a_real_take_is_measured_to_the_frame_from_a_path_or_a_descriptor(tmp_path, decoder, seconds, rate, bits):
    path = _file(tmp_path, _stereo_take(seconds, rate, bits))
    expected = DecodedAudio(int(seconds * rate), rate, 2)
    assert check_take_audio(path, seconds, rate) == expected
    descriptor = os.open(path, os.O_RDONLY)
    try:
        path.rename(tmp_path / "moved.flac")  # the store renames it into place while the check reads
        assert check_take_audio(descriptor, seconds, rate) == expected
        os.fstat(descriptor)  # left open for the caller
    finally:
        os.close(descriptor)


def test_a_damaged_frame_in_the_middle_is_refused(tmp_path, decoder):
    audio = bytearray(_stereo_take(3.0, 48_000, "PCM_24"))
    middle = len(audio) // 2
    audio[middle : middle + 64] = bytes(64)  # zeros over part of a frame: its checksum no longer holds
    with pytest.raises(Unprocessable) as refused:
        check_take_audio(_file(tmp_path, bytes(audio)), 3.0, 48_000)
    # libFLAC names the damage; libsndfile may only decode fewer samples than declared.
    expected = {"audio_not_flac"} if decoder == "libflac" else {"audio_not_flac", "audio_duration_differs"}
    assert refused.value.code in expected, str(refused.value)


def test_decoding_stops_at_the_longest_take_whatever_the_stream_holds(tmp_path, decoder):
    with pytest.raises(Unprocessable) as refused:
        check_take_audio(_file(tmp_path, flac_bytes(seconds=600.0)), 600.0, 48_000)
    assert refused.value.code == "audio_too_long"


def test_frames_that_contradict_the_stream_header_are_refused(tmp_path, decoder):
    audio = bytearray(flac_bytes(seconds=1.0))  # 48 kHz in its frames and in its STREAMINFO
    fields = slice(4 + 4 + 10, 4 + 4 + 18)  # after "fLaC" and the block header: rate (20 bits) first
    packed = int.from_bytes(audio[fields], "big")
    audio[fields] = ((packed & ((1 << 44) - 1)) | (44_100 << 44)).to_bytes(8, "big")
    with pytest.raises(Unprocessable) as refused:
        check_take_audio(_file(tmp_path, bytes(audio)), 1.0, 48_000)
    # libFLAC sees the contradiction; libsndfile believes the header.
    expected = {"audio_not_flac"} if decoder == "libflac" else {"audio_rate_differs", "audio_duration_differs"}
    assert refused.value.code in expected, str(refused.value)


def test_without_libflac_the_store_says_what_to_install_and_checks_with_libsndfile(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(audiocheck.ctypes.util, "find_library", lambda name: None)
    caplog.set_level("WARNING", logger="kiosk.central.audiocheck")
    assert audiocheck._libflac.__wrapped__() is None
    assert "apt-get install libflac12" in caplog.text
    monkeypatch.setattr(audiocheck, "_libflac", audiocheck._libflac.__wrapped__)
    path = _file(tmp_path, flac_bytes(seconds=1.0))
    assert check_take_audio(path, 1.0, 48_000) == DecodedAudio(48_000, 48_000, 1)
