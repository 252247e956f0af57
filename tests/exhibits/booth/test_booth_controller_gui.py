"""The real booth app with its controller: a Kivy window under Xvfb, the firmware on a
pseudo-terminal (`[booth] controller = "simulated"`), the button and the presence
sensor driving the screens, the lights following them."""

from __future__ import annotations

import pytest

from kiosk.config import load_station_config, write_station_config

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def booth_station(display, tmp_path):
    from kiosk.collection import write_demo

    write_demo(tmp_path / "collection", count=60, seed=4)
    folder = tmp_path / "booth"
    write_station_config(
        folder, exhibit="booth", station_id="booth-2", fullscreen=False, size=(1280, 800),
        collection="../collection", audio="simulated",
    )
    config = load_station_config(folder / "station.toml")
    assert config.booth.controller == "simulated"

    from kiosk.shell import prepare_kivy

    prepare_kivy(width=1280, height=800, fullscreen=False, kivy_home=tmp_path / "kivy", title="kiosk controller test")
    from kiosk.shell.app import StationApp
    from kiosk.shell.driver import StationDriver
    from kiosk.station import load_content

    app = StationApp(config, load_content(config.collection_dir))
    driver = StationDriver(app).start()
    yield driver, app, config
    driver.stop()


def test_presence_wakes_the_booth_and_the_button_starts_and_stops_the_reading(booth_station):
    from kiosk.link.status import read_station_status

    driver, app, config = booth_station
    flow, controls = app.booth.flow, app.booth.controls
    board = controls.controller.simulator
    driver.wait_until(lambda: controls.state == "connected", timeout=10, what="the controller to connect")

    board.arrive()  # someone steps in: the attract screen gives way, as for a touch
    driver.wait_until(lambda: app.screens.current == "welcome", timeout=5, what="presence to wake the screen")

    driver.tap("language-nl")
    driver.tap("booth-begin")
    driver.tap("consent-agree")
    driver.tap("age-18-plus")
    driver.tap("choose-next")
    driver.tap("name-continue")
    assert flow.step.value == "sound_check"
    driver.wait_until(lambda: board.board.button_led and board.board.ring == 100, timeout=5, what="the button lit")

    def press() -> None:
        board.hold()
        driver.settle(0.15)
        board.release()

    press()
    driver.wait_until(lambda: flow.step.value == "countdown", timeout=5, what="the button to start the countdown")
    assert app.screens.current == "countdown"
    driver.wait_until(lambda: flow.step.value == "recording", timeout=10, what="the recording")
    driver.wait_until(lambda: board.board.on_air, timeout=5, what="on air while recording")

    press()
    driver.wait_until(lambda: flow.step.value == "review", timeout=5, what="the button to end the reading")
    driver.wait_until(lambda: not board.board.on_air, timeout=5, what="on air off")
    assert app.screens.current == "review"

    # The heartbeat's view of the booth (written every few seconds) names the controller's real state.
    driver.wait_until(lambda: read_station_status(config.data_dir).controller_state == "connected", timeout=12, what="the status file")
