"""A station reads its collection once per process: `kiosk run` loads it with the
station's image index, and the wall's and the booth's screens use that same collection."""

from __future__ import annotations

import pytest

from kiosk.config import load_station_config, write_station_config

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _station_counting_readings(tmp_path, monkeypatch, exhibit: str, *, count: int, seed: int):
    """A station of EXHIBIT on a new demo collection, Kivy prepared, and the list every
    reading of a collection folder is added to."""
    from kiosk.collection import check, write_demo

    write_demo(tmp_path / "collection", count=count, seed=seed)
    write_station_config(tmp_path / exhibit, exhibit=exhibit, station_id=f"{exhibit}-1", fullscreen=False, size=(1280, 800), audio="simulated", collection="../collection")
    config = load_station_config(tmp_path / exhibit)

    readings = []
    real_read = check._Reader.read

    def counted(reader):
        readings.append(reader.root)
        return real_read(reader)

    monkeypatch.setattr(check._Reader, "read", counted)

    from kiosk.shell import prepare_kivy

    prepare_kivy(width=1280, height=800, fullscreen=False, kivy_home=tmp_path / "kivy", title=f"kiosk {exhibit} load once")
    return config, readings


def test_a_wall_reads_its_collection_once_and_its_screens_use_it(display, tmp_path, monkeypatch):
    config, readings = _station_counting_readings(tmp_path, monkeypatch, "wall", count=200, seed=9)
    from kiosk.shell.app import StationApp
    from kiosk.shell.driver import StationDriver
    from kiosk.station import image_index, load_content

    # What `kiosk run` does (kiosk/cli/station.py).
    content = load_content(config.collection_dir, images=image_index(config.data_dir))
    assert content is not None and content.collection is not None
    assert (config.data_dir / "cache" / "image-facts.json").is_file(), "the image index is kept in the station's cache"
    app = StationApp(config, content)
    driver = StationDriver(app).start()
    try:
        driver.wait_until(lambda: app.screens.current == "attract", timeout=30, what="the attract screen")
        assert app.wall is not None and app.wall.wall.collection is content.collection
        assert len(readings) == 1, f"the collection was read {len(readings)} times"
    finally:
        driver.stop()


def test_content_handed_on_without_its_collection_still_gives_a_wall(display, tmp_path):
    """An app given only the summary (as some tests and tools make it) reads the collection itself."""
    from kiosk.collection import load_collection, write_demo
    from kiosk.station import summarize

    write_demo(tmp_path / "collection", count=50, seed=2)
    write_station_config(tmp_path / "wall", exhibit="wall", station_id="wall-2", fullscreen=False, size=(1280, 800), audio="simulated", collection="../collection")
    config = load_station_config(tmp_path / "wall")
    content = summarize(load_collection(config.collection_dir))
    assert content.collection is None

    from kiosk.shell import prepare_kivy

    prepare_kivy(width=1280, height=800, fullscreen=False, kivy_home=tmp_path / "kivy", title="kiosk summary only")
    from kiosk.shell.app import StationApp
    from kiosk.shell.driver import StationDriver

    app = StationApp(config, content)
    driver = StationDriver(app).start()
    try:
        assert app.wall is not None and len(app.wall.wall.collection.persons) == 50
    finally:
        driver.stop()


def test_a_booth_reads_its_collection_once_and_its_names_come_from_it(display, tmp_path, monkeypatch):
    from kiosk.station import COLLECTION_HANDED_ON

    assert "booth" in COLLECTION_HANDED_ON
    config, readings = _station_counting_readings(tmp_path, monkeypatch, "booth", count=120, seed=4)
    from kiosk.shell.app import StationApp
    from kiosk.shell.driver import StationDriver
    from kiosk.station import image_index, load_content

    # What `kiosk run` does (kiosk/cli/station.py) for a booth.
    content = load_content(config.collection_dir, images=image_index(config.data_dir), keep="booth" in COLLECTION_HANDED_ON)
    assert content is not None and content.collection is not None
    app = StationApp(config, content)
    driver = StationDriver(app).start()
    try:
        driver.wait_until(lambda: app.screens.current == "attract", timeout=30, what="the attract screen")
        assert app.booth.flow.names.collection is content.collection
        assert len(readings) == 1, f"the collection was read {len(readings)} times"
    finally:
        driver.stop()
