"""A booth station app under Xvfb for the GUI tests of this folder."""

from __future__ import annotations

import pytest

from kiosk.config import load_station_config, write_station_config


@pytest.fixture
def booth_app(tmp_path):
    """start(station_id, *, controller, count, seed, edit=None) -> (driver, app, config);
    EDIT changes station.toml's text first. The app is stopped afterwards."""
    drivers = []

    def start(station_id: str, *, controller: str, count: int, seed: int, edit=None):
        from kiosk.collection import write_demo

        write_demo(tmp_path / "collection", count=count, seed=seed)
        folder = tmp_path / "booth"
        write_station_config(
            folder, exhibit="booth", station_id=station_id, fullscreen=False, size=(1280, 800),
            collection="../collection", audio="simulated",
        )
        toml = folder / "station.toml"
        text = toml.read_text(encoding="utf-8").replace('controller = "simulated"', f'controller = "{controller}"')
        toml.write_text(edit(text) if edit else text, encoding="utf-8")
        config = load_station_config(toml)

        from kiosk.shell import prepare_kivy

        prepare_kivy(width=1280, height=800, fullscreen=False, kivy_home=tmp_path / "kivy", title=f"kiosk {station_id} test")
        from kiosk.shell.app import StationApp
        from kiosk.shell.driver import StationDriver
        from kiosk.station import load_content

        app = StationApp(config, load_content(config.collection_dir))
        drivers.append(StationDriver(app).start())
        return drivers[-1], app, config

    yield start
    for driver in drivers:
        driver.stop()
