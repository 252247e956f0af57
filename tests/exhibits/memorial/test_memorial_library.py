"""The memorial's local copy against a real central store on loopback, and its screen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from memorial_support import approve_voice, enroll_memorial, name_audio, start_central  # noqa: E402

from exhibits.memorial.library import Library  # noqa: E402
from kiosk.config import load_station_config  # noqa: E402
from kiosk.link.client import CentralClient, StoreUnreachable  # noqa: E402


@pytest.fixture
def central(tmp_path):
    started = start_central(tmp_path / "store")
    try:
        yield started
    finally:
        started.server.stop()
        started.database.dispose()


def test_the_copy_follows_the_store_and_plays_on_from_disk_when_the_store_is_gone(central, tmp_path):
    from kiosk.central.moderation import reject

    first = approve_voice(central, "t-xx-002", name_audio(300))
    approve_voice(central, "t-z-001", name_audio(400))
    approve_voice(central, "t-xx-001", name_audio(500))
    config = load_station_config(enroll_memorial(tmp_path / "memorial", central))
    library = Library(config.data_dir / "memorial")
    with CentralClient.for_station(config) as client:
        snapshot = library.refresh(client)
    assert [e.person_id for e in snapshot.entries] == ["t-xx-001", "t-xx-002", "t-z-001"]
    assert snapshot.persons == 40 and snapshot.names_with_voice == 3
    for entry in snapshot.entries:
        assert library.read(entry)  # verified against its sha256
    withdrawn = snapshot.entries[1]
    reject(central.database, first, reason="another name was read", by="test")
    approve_voice(central, "t-xx-010", name_audio(600))
    with CentralClient.for_station(config) as client:
        snapshot = library.refresh(client)
    assert [e.person_id for e in snapshot.entries] == ["t-xx-001", "t-xx-010", "t-z-001"]
    assert not library.path_of(withdrawn.sha256).exists()  # its audio is deleted here too
    central.server.stop()
    with CentralClient.for_station(config, timeout_s=2) as client, pytest.raises(StoreUnreachable):
        library.refresh(client)
    after_restart = Library(config.data_dir / "memorial").saved()
    assert after_restart == snapshot


def test_the_screen_is_rendered_headless_to_png(central, tmp_path):
    for person, frequency in (("t-xx-003", 300), ("t-xx-007", 400)):
        approve_voice(central, person, name_audio(frequency))
    station_toml = enroll_memorial(tmp_path / "memorial", central)
    config = load_station_config(station_toml)
    with CentralClient.for_station(config) as client:
        Library(config.data_dir / "memorial").refresh(client)
    out = tmp_path / "memorial.png"
    kiosk = Path(sys.executable).parent / "kiosk"
    done = subprocess.run(
        [str(kiosk), "screenshot", str(station_toml), "--screen", "memorial", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    from PIL import Image

    image = Image.open(out).convert("L")
    assert image.size == (1280, 720)
    # Dark ground; light letters of the name in the upper middle band.
    band = image.crop((0, int(720 * 0.3), 1280, int(720 * 0.5)))
    assert max(band.get_flattened_data()) > 200
    assert sum(1 for v in image.get_flattened_data() if v < 30) > 0.9 * 1280 * 720
    all_screens = tmp_path / "all"
    done = subprocess.run(
        [str(kiosk), "screenshot", str(station_toml), "--screen", "all", "--lang", "fr", "--out", str(all_screens)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in all_screens.iterdir()) == ["closed-fr.png", "memorial-fr.png"]
