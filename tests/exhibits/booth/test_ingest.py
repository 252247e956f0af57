"""exhibits.booth.ingest: a take made elsewhere gets the booth's check and the booth's keep."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import soundfile

from exhibits.booth.ingest import TakeRefused, ingest
from exhibits.booth.take_store import Consent, TakeStore
from kiosk.errors import KioskError

CONSENT = Consent(version="2026-11", language="nl", age_band="13-17", guardian_confirmed=False)
KNOWN = frozenset({"P-00001", "P-00002"})


@pytest.fixture
def store(tmp_path: Path) -> TakeStore:
    return TakeStore(tmp_path / "station" / "takes", "booth-2")


@pytest.fixture(scope="module")
def spoken_name(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A name read by espeak-ng, with quiet before and after as a careful reader leaves it."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is missing: scripts/setup installs it", pytrace=False)
    folder = tmp_path_factory.mktemp("spoken")
    raw = folder / "raw.wav"
    subprocess.run(["espeak-ng", "-v", "nl", "-s", "130", "-w", str(raw), "Sara Goldberg"], check=True)
    voice, rate = soundfile.read(str(raw), dtype="float64")
    quiet = np.random.default_rng(7).normal(0.0, 10 ** (-70 / 20), int(0.6 * rate))
    take = np.concatenate([quiet, voice, quiet])
    path = folder / "name.wav"
    soundfile.write(str(path), take, rate, subtype="PCM_16")
    return path


def silence(path: Path, seconds: float = 3.0, rate: int = 44_100) -> Path:
    soundfile.write(str(path), np.zeros(int(seconds * rate)), rate, subtype="PCM_24")
    return path


def test_a_good_take_is_kept_and_queued(store, spoken_name):
    kept, report = ingest(store, spoken_name, person_id="P-00001", known_person_ids=KNOWN, consent=CONSENT, force=False)

    assert report.verdict == "ok", report.problems
    assert [take.recording_id for take in store.queued()] == [kept.recording_id]
    assert store.voiced_person_ids() == {"P-00001"}
    metadata = json.loads(kept.sidecar_path.read_text())
    assert metadata["quality"]["verdict"] == "ok"
    assert metadata["consent"] == {
        "version": "2026-11", "language": "nl", "age_band": "13-17", "guardian_confirmed": False
    }
    assert (metadata["sample_rate"], metadata["subtype"], metadata["station_id"]) == (48_000, "PCM_16", "booth-2")
    source = soundfile.info(str(spoken_name))
    assert metadata["duration_s"] == pytest.approx(source.duration, abs=0.001)
    modified = datetime.fromtimestamp(os.stat(spoken_name).st_mtime, tz=timezone.utc)
    assert metadata["recorded_at"] == modified.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_a_take_with_problems_is_refused_without_force(store, tmp_path):
    quiet = silence(tmp_path / "silence.wav")
    with pytest.raises(TakeRefused) as refused:
        ingest(store, quiet, person_id="P-00001", known_person_ids=KNOWN, consent=CONSENT, force=False)

    message = str(refused.value)
    assert "no one can be heard" in message and "--force" in message and str(quiet) in message
    assert refused.value.report.verdict == "no_speech"
    assert store.counts() == {"queued": 0, "sent": 0, "failed": 0}
    assert not list((store.root / "audio").iterdir()) and not list((store.root / "tmp").iterdir())


def test_force_keeps_a_take_with_problems_and_records_them(store, tmp_path):
    quiet = silence(tmp_path / "silence.wav")
    kept, report = ingest(store, quiet, person_id="P-00002", known_person_ids=KNOWN, consent=CONSENT, force=True)
    assert report.verdict == "no_speech"
    assert kept.metadata["quality"]["verdict"] == "no_speech"
    assert kept.metadata["subtype"] == "PCM_24"
    assert store.counts() == {"queued": 1, "sent": 0, "failed": 0}


def test_an_unknown_person_is_refused(store, spoken_name):
    with pytest.raises(KioskError, match="no person 'P-99999'"):
        ingest(store, spoken_name, person_id="P-99999", known_person_ids=KNOWN, consent=CONSENT, force=True)
    assert store.counts()["queued"] == 0
    kept, _ = ingest(store, spoken_name, person_id="P-99999", known_person_ids=None, consent=CONSENT, force=False)
    assert kept.metadata["person_id"] == "P-99999"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "cannot be read as audio"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt garbage that is not a header", "cannot be read as audio"),
        (b"this is a text file, not a recording\n" * 20, "cannot be read as audio"),
    ],
    ids=["empty-file", "broken-header", "not-audio"],
)
def test_a_corrupt_file_says_what_to_do(store, tmp_path, content, message):
    path = tmp_path / "take.wav"
    path.write_bytes(content)
    with pytest.raises(KioskError, match=message) as refused:
        ingest(store, path, person_id="P-00001", known_person_ids=KNOWN, consent=CONSENT, force=True)
    assert str(path) in str(refused.value) and "what to do" in str(refused.value)
    assert store.counts()["queued"] == 0


def test_a_file_without_audio_or_without_a_file(store, tmp_path):
    empty = tmp_path / "empty.wav"
    soundfile.write(str(empty), np.zeros(0), 48_000)
    with pytest.raises(KioskError, match="holds no audio"):
        ingest(store, empty, person_id="P-00001", known_person_ids=KNOWN, consent=CONSENT, force=True)
    with pytest.raises(KioskError, match="no such file"):
        missing = tmp_path / "missing.wav"
        ingest(store, missing, person_id="P-00001", known_person_ids=KNOWN, consent=CONSENT, force=True)


def test_a_take_longer_than_the_booth_allows_is_refused_unread_even_with_force(store, tmp_path):
    long_take = silence(tmp_path / "commemoration.flac", seconds=25.0, rate=16_000)
    with pytest.raises(TakeRefused) as refused:
        ingest(store, long_take, person_id="P-00001", known_person_ids=KNOWN, consent=CONSENT, force=True, max_duration_s=20)
    assert refused.value.report.verdict == "too_long" and refused.value.report.duration_s == 25.0
    assert refused.value.report.peak_dbfs is None, "refused from the header: nothing was decoded"
    assert str(long_take) in refused.value.message and "20 s" in refused.value.message
    assert store.counts() == {"queued": 0, "sent": 0, "failed": 0}
    # Within the booth's limit it is read, judged and (forced) kept; never over 60 s.
    kept, report = ingest(store, long_take, person_id="P-00001", known_person_ids=KNOWN, consent=CONSENT, force=True, max_duration_s=30)
    assert report.duration_s == 25.0 and kept.metadata["duration_s"] == pytest.approx(25.0)
    hour = silence(tmp_path / "hour.flac", seconds=61.0, rate=8_000)
    with pytest.raises(TakeRefused, match="60 s"):
        ingest(store, hour, person_id="P-00002", known_person_ids=KNOWN, consent=CONSENT, force=True, max_duration_s=600)
