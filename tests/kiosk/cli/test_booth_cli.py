"""`kiosk booth analyze` and `kiosk booth ingest` as a technician runs them."""

from __future__ import annotations

import json
import subprocess

import pytest

CONTRACT_KEYS = [
    "verdict", "problems", "duration_s", "speech_start_s", "speech_end_s",
    "peak_dbfs", "loudness_lufs", "noise_floor_dbfs", "clipped_fraction",
]


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spoken")
    raw = folder / "raw.wav"
    subprocess.run(["espeak-ng", "-v", "fr", "-w", str(raw), "Sara van Praag"], check=True)
    padded = folder / "name.flac"
    subprocess.run(["sox", str(raw), str(padded), "pad", "0.6", "0.8"], check=True)
    return raw, padded


def test_analyze_prints_the_contract_shape(kiosk, spoken):
    raw, padded = spoken
    result = kiosk("booth", "analyze", str(padded), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert list(report) == CONTRACT_KEYS
    assert report["verdict"] == "ok" and report["problems"] == []
    assert 0.4 < report["speech_start_s"] < 0.8

    cut = json.loads(kiosk("booth", "analyze", str(raw), "--json").stdout)
    assert cut["verdict"] == "cut_off", "espeak starts speaking at the first sample"


def test_analyze_refuses_a_corrupt_file_with_what_to_do(kiosk, tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")
    result = kiosk("booth", "analyze", str(broken))
    assert result.returncode == 2 and "broken.wav" in result.stderr and "what to do:" in result.stderr


@pytest.fixture
def station(kiosk, tmp_path, tmp_path_factory):
    from kiosk.collection import write_demo

    collection = tmp_path_factory.mktemp("ingest-collection")
    write_demo(collection, count=50, seed=2)
    result = kiosk("station", "init", str(tmp_path / "booth"), "--exhibit", "booth", "--station-id", "booth-2", "--collection", str(collection))
    assert result.returncode == 0, result.stderr
    return tmp_path / "booth" / "station.toml"


def test_ingest_keeps_a_good_take_and_queues_it(kiosk, station, spoken):
    _, padded = spoken
    result = kiosk("booth", "ingest", str(station), str(padded), "--person", "demo-00003", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["kept"] and report["quality"]["verdict"] == "ok" and report["withdrawal_code"]
    sidecars = list((station.parent / "data" / "takes" / "takes").glob("*.json"))
    assert len(sidecars) == 1
    sidecar = json.loads(sidecars[0].read_text())
    assert sidecar["person_id"] == "demo-00003" and sidecar["sample_rate"] == 48_000


def test_ingest_refuses_a_bad_take_unless_forced(kiosk, station, spoken):
    raw, _ = spoken
    refused = kiosk("booth", "ingest", str(station), str(raw), "--person", "demo-00004")
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert not list((station.parent / "data" / "takes" / "takes").glob("*.json")), "nothing kept"
    forced = kiosk("booth", "ingest", str(station), str(raw), "--person", "demo-00004", "--force")
    assert forced.returncode == 0, forced.stderr
    assert len(list((station.parent / "data" / "takes" / "takes").glob("*.json"))) == 1


def test_ingest_refuses_an_unknown_person(kiosk, station, spoken):
    _, padded = spoken
    result = kiosk("booth", "ingest", str(station), str(padded), "--person", "nobody")
    assert result.returncode == 2 and "no person 'nobody'" in result.stderr


def test_ingest_refuses_a_take_longer_than_the_booth_records_even_forced(kiosk, station, tmp_path):
    import numpy as np
    import soundfile

    long_take = tmp_path / "an-hour.flac"
    soundfile.write(long_take, np.zeros(3600 * 8000, dtype=np.int16), 8000, subtype="PCM_16")
    result = kiosk("booth", "ingest", str(station), str(long_take), "--person", "demo-00005", "--force", "--json")
    assert result.returncode == 2 and "3600.0 s" in result.stderr and "what to do:" in result.stderr
    refused = json.loads(result.stdout)
    assert refused["kept"] is False and list(refused["quality"]) == CONTRACT_KEYS
    assert refused["quality"]["verdict"] == "too_long" and refused["quality"]["duration_s"] == 3600.0
    assert not list((station.parent / "data" / "takes" / "takes").glob("*.json")), "nothing kept"
    analyzed = kiosk("booth", "analyze", str(long_take))
    assert analyzed.returncode == 0 and "verdict: too_long" in analyzed.stdout and "not decoded" in analyzed.stdout
