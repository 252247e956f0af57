"""The real booth app with its controller: a Kivy window under Xvfb, the firmware on a
pseudo-terminal (`[booth] controller = "simulated"`), the button and the presence
sensor driving the screens, the lights following them."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def booth_station(display, booth_app):
    driver, app, config = booth_app("booth-2", controller="simulated", count=60, seed=4)
    assert config.booth.controller == "simulated"
    return driver, app, config


def test_presence_wakes_the_booth_and_the_button_starts_and_stops_the_reading(booth_station):
    from kiosk.link.status import read_station_status

    driver, app, config = booth_station
    flow, controls = app.booth.flow, app.booth.controls
    board = controls.controller.simulator
    driver.wait_until(lambda: controls.state == "connected", timeout=10, what="the controller to connect")

    board.arrive()  # someone steps in: the attract screen gives way, as for a touch
    driver.wait_until(lambda: app.screens.current == "welcome", timeout=5, what="presence to wake the screen")

    def tap_to(name: str, step: str) -> None:
        # On a loaded machine a touch can take a while to arrive: wait for what it does.
        driver.tap(name)
        driver.wait_until(lambda: flow.step.value == step, timeout=10, what=f"{name} to lead to {step}")

    driver.tap("language-nl")
    driver.wait_until(lambda: app.lang == "nl", timeout=10, what="Dutch")
    tap_to("booth-begin", "age")
    tap_to("age-18-plus", "consent")
    tap_to("consent-agree", "choose")
    tap_to("choose-next", "name")
    tap_to("name-continue", "sound_check")
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
