"""A wall station in a real window for the tests of this folder (under Xvfb)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kiosk.config import load_station_config, write_station_config

HARDCASES = Path(__file__).resolve().parents[1] / "hardcases"


@contextmanager
def running_wall(tmp_path: Path, collection: Path = HARDCASES, title: str = "kiosk wall test", **app_options) -> Iterator[tuple]:
    """(driver, app) of a wall on COLLECTION, at the smallest screen it is made for."""
    folder = tmp_path / "wall"
    write_station_config(folder, exhibit="wall", station_id="wall-1", fullscreen=False, size=(1280, 800), audio="simulated", collection=str(collection))
    config = load_station_config(folder)

    from kiosk.shell import prepare_kivy

    prepare_kivy(width=1280, height=800, fullscreen=False, kivy_home=tmp_path / "kivy", title=title)
    from kiosk.shell.app import StationApp
    from kiosk.shell.driver import StationDriver
    from kiosk.station import load_content

    app = StationApp(config, load_content(config.collection_dir), **app_options)
    driver = StationDriver(app).start()
    try:
        yield driver, app
    finally:
        driver.stop()
