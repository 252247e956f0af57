"""The approved voices a station keeps: from a real central store on loopback, offline, withdrawn."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "central"))

from central_support import flac_bytes, keep_recording  # noqa: E402

from kiosk.central.moderation import approve, withdraw  # noqa: E402
from kiosk.central.recordings import AudioStore  # noqa: E402
from kiosk.link.client import CentralClient, StoreUnreachable  # noqa: E402
from kiosk.link.voices import LIST_NAME, VoiceCatalogue, VoiceUnavailable  # noqa: E402


@pytest.fixture
def approved(central) -> dict[str, bytes]:
    """Two approved voices (p-0002 of XX and p-0050 of XXI) and one still waiting (p-0003)."""
    audio = {"p-0002": flac_bytes(frequency=330), "p-0050": flac_bytes(frequency=440)}
    for person_id, take in audio.items():
        approve(central.database, keep_recording(central, person_id, audio=take, code=None, station_id="booth-7"), by="anna")
    keep_recording(central, "p-0003", audio=flac_bytes(frequency=550), station_id="booth-7")
    return audio


def test_only_approved_voices_are_listed_fetched_and_kept(station, approved, tmp_path):
    catalogue = VoiceCatalogue(tmp_path / "voices")
    with CentralClient.for_station(station.config) as client:
        voices = catalogue.refresh(client)
        assert list(voices.entries) == ["p-0002", "p-0050"]  # transport and list order
        assert voices.persons == 80 and voices.names_with_voice == 3
        assert catalogue.has_voice("p-0002") and not catalogue.has_voice("p-0003")
        assert catalogue.cached_audio("p-0002") is None
        kept = catalogue.audio(client, "p-0002")
        assert kept.read_bytes() == approved["p-0002"]
        with pytest.raises(VoiceUnavailable, match="no approved voice"):
            catalogue.audio(client, "p-0003")
    # Kept: heard again without asking the store.
    assert catalogue.audio(None, "p-0002") == kept


def test_after_a_restart_without_network_the_last_list_and_audio_are_used(station, approved, central, tmp_path):
    folder = tmp_path / "voices"
    with CentralClient.for_station(station.config) as client:
        VoiceCatalogue(folder).refresh(client)
        VoiceCatalogue(folder).audio(client, "p-0050")
    central.server.stop()
    again = VoiceCatalogue(folder)
    assert again.has_voice("p-0002") and again.has_voice("p-0050")
    assert again.audio(None, "p-0050").read_bytes() == approved["p-0050"]
    with CentralClient.for_station(station.config, timeout_s=2) as client:
        with pytest.raises(StoreUnreachable):
            again.refresh(client)
        with pytest.raises(VoiceUnavailable, match="cannot be reached"):
            again.audio(client, "p-0002")  # listed, but never fetched
    assert again.has_voice("p-0002")  # the last list stays in use


def test_a_withdrawn_voice_disappears_and_its_kept_audio_is_deleted(station, approved, central, tmp_path):
    withdrawn = flac_bytes(frequency=660)
    approve(central.database, keep_recording(central, "p-0010", audio=withdrawn, code="HJKM-4567", station_id="booth-7"), by="anna")
    catalogue = VoiceCatalogue(tmp_path / "voices")
    with CentralClient.for_station(station.config) as client:
        catalogue.refresh(client)
        kept = catalogue.audio(client, "p-0010")
        assert kept.exists()
        withdraw(central.database, AudioStore(central.config.audio_dir), "HJKM-4567", by="anna")
        catalogue.refresh(client)
    assert not catalogue.has_voice("p-0010")
    assert not kept.exists()
    assert sorted(p.name for p in catalogue.audio_dir.iterdir()) == []


def test_a_voice_withdrawn_since_the_last_list_is_refused_by_the_store(station, approved, central, tmp_path):
    approve(central.database, keep_recording(central, "p-0011", audio=flac_bytes(frequency=770), code="HJKM-4568", station_id="booth-7"), by="anna")
    catalogue = VoiceCatalogue(tmp_path / "voices")
    with CentralClient.for_station(station.config) as client:
        catalogue.refresh(client)
        withdraw(central.database, AudioStore(central.config.audio_dir), "HJKM-4568", by="anna")
        with pytest.raises(VoiceUnavailable, match="no longer"):
            catalogue.audio(client, "p-0011")
    assert not any(catalogue.audio_dir.glob("*.flac")) if catalogue.audio_dir.exists() else True


def test_a_damaged_saved_list_is_only_a_cache(tmp_path, caplog):
    folder = tmp_path / "voices"
    folder.mkdir()
    (folder / LIST_NAME).write_text('{"persons": 3, "voices": [', encoding="utf-8")
    catalogue = VoiceCatalogue(folder)
    assert catalogue.current.entries == {}
    assert "unreadable" in caplog.text


def test_audio_damaged_on_the_store_is_not_kept(station, approved, central, tmp_path):
    catalogue = VoiceCatalogue(tmp_path / "voices")
    with CentralClient.for_station(station.config) as client:
        voices = catalogue.refresh(client)
        sha = voices.entries["p-0050"].sha256
        damaged = central.config.audio_dir / sha[:2] / f"{sha}.flac"
        damaged.write_bytes(b"fLaC" + bytes(len(approved["p-0050"]) - 4))  # bit rot on the store's disk
        with pytest.raises(VoiceUnavailable, match="does not match"):
            catalogue.audio(client, "p-0050")
    assert catalogue.cached_audio("p-0050") is None
    assert not list(catalogue.audio_dir.glob("*")) if catalogue.audio_dir.exists() else True
