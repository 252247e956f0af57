"""A real station window under Xvfb, driven frame by frame with real (xdotool) touches."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.clock import ManualClock
from kiosk.config import load_station_config, write_station_config
from kiosk.station import StationContent, TransportSummary


def fictional_content(persons_per_transport: int = 10) -> StationContent:
    codes = ("I", "II", "XXIIA", "XXIIB", "Z", "XXVI")
    return StationContent(
        persons=persons_per_transport * len(codes),
        fictional=True,
        transports=tuple(TransportSummary(code, date(1942, 8, 4) if code == "I" else None, persons_per_transport) for code in codes),
    )


@pytest.fixture
def station(display, tmp_path):
    """make(exhibit, content, speaker) -> (driver, app, clock): a running station, stopped
    afterwards. SPEAKER: where audio mode speaks (default: the station's, simulated)."""
    from kiosk.shell import prepare_kivy

    drivers = []

    def make(exhibit: str = "wall", content: StationContent | None = None, speaker=None):
        folder = tmp_path / exhibit
        write_station_config(
            folder, exhibit=exhibit, station_id=f"{exhibit}-1", fullscreen=False, size=(1280, 800), audio="simulated"
        )
        config = load_station_config(folder)
        prepare_kivy(width=1280, height=800, fullscreen=False, kivy_home=tmp_path / "kivy", title="kiosk test")
        from kiosk.shell.app import StationApp
        from kiosk.shell.driver import StationDriver

        clock = ManualClock()
        app = StationApp(config, content if content is not None else fictional_content(), clock=clock, speaker=speaker)
        driver = StationDriver(app).start()
        drivers.append(driver)
        driver.settle(0.3)
        return driver, app, clock

    yield make
    for driver in drivers:
        driver.stop()
