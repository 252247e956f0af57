"""The button and the lights in the booth flow, through a real pty to the simulated firmware.

The flow is the real one on a stepped clock (as in tests/exhibits/booth/test_flow.py);
the controller is the composition root's "simulated" one: the station's serial link,
pyserial on a pseudo-terminal, and the firmware behind it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from exhibits.booth.controls import BoothControls, lights_for
from exhibits.booth.flow import BoothFlow, Step, Timing
from exhibits.booth.names import LocalNameSource
from exhibits.booth.quality import analyze
from exhibits.booth.take_store import TakeStore
from hardware.audio.simulated import SimulatedMicrophone, SimulatedSpeaker
from hardware.controller.link import ControllerState, NoController
from hardware.controller.simulator import SimulatedSerialController
from kiosk.collection import load_collection, write_demo
from kiosk.clock import ManualClock

RATE = 48_000
BLOCK = 960


def wait_for(condition, what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    folder = tmp_path_factory.mktemp("controller-collection")
    write_demo(folder, count=50, seed=3)
    return load_collection(folder)


class Booth:
    def __init__(self, tmp_path, collection, controller, on_key=None):
        self.clock = ManualClock(10.0)
        self.microphone = SimulatedMicrophone(None, RATE, blocksize=BLOCK, realtime=False, clock=self.clock)
        store = TakeStore(tmp_path / "takes", "booth-1")
        self.flow = BoothFlow(
            clock=self.clock,
            names=LocalNameSource(collection, voiced=store.voiced_person_ids()),
            microphone=self.microphone,
            speaker=SimulatedSpeaker(clock=self.clock),
            store=store,
            analyze=analyze,
            timing=Timing(countdown_s=3, max_recording_s=12),
        )
        self.visits = 0
        self.controls = BoothControls(self.flow, controller, on_presence=self._visit, on_key=on_key)
        self.flow.start()
        self.controls.start()

    def _visit(self) -> None:
        self.visits += 1

    def run(self, seconds: float) -> None:
        for _ in range(int(seconds * RATE / BLOCK)):
            self.clock.advance(BLOCK / RATE)
            self.microphone.deliver(1)
            self.controls.pump()
            self.flow.tick()

    def to_sound_check(self) -> None:
        flow = self.flow
        flow.begin("nl")
        flow.choose_age("18+")
        flow.agree()
        flow.choose_way("next")
        flow.accept_name()

    def pump_until(self, step: Step) -> None:
        wait_for(lambda: self.controls.pump() is not None and self.flow.step is step, f"the flow to reach {step.value} (at {self.flow.step.value})")


@pytest.fixture
def controller(tmp_path) -> Iterator[SimulatedSerialController]:
    controller = SimulatedSerialController(tmp_path / "controller.pty", retry_s=0.1, hello_every_s=0.2, silent_after_s=1.5)
    yield controller
    controller.close()


def board_shows(controller, step: Step) -> bool:
    board, wanted = controller.simulator.board, lights_for(step)
    return board.on_air == wanted.on_air and board.ring == wanted.ring


def test_the_button_starts_and_stops_a_reading_and_on_air_follows(tmp_path, collection, controller):
    booth = Booth(tmp_path, collection, controller)
    wait_for(lambda: controller.state is ControllerState.CONNECTED, "the controller")
    wait_for(lambda: board_shows(controller, Step.WELCOME), "the welcome's lights")

    booth.to_sound_check()
    wait_for(lambda: controller.simulator.board.button_led and controller.simulator.board.ring == 100, "the button lit at the sound check")
    controller.simulator.press()
    booth.pump_until(Step.COUNTDOWN)
    assert not controller.simulator.board.on_air  # not yet: nothing is being recorded

    booth.run(3.1)
    assert booth.flow.step is Step.RECORDING
    wait_for(lambda: controller.simulator.board.on_air, "on air while recording")

    controller.simulator.press()
    booth.pump_until(Step.REVIEW)
    wait_for(lambda: not controller.simulator.board.on_air, "on air off after the reading")
    assert booth.flow.review is not None


def test_a_press_where_the_screen_leads_changes_nothing(tmp_path, collection, controller):
    booth = Booth(tmp_path, collection, controller)
    wait_for(lambda: controller.state is ControllerState.CONNECTED, "the controller")
    booth.flow.begin("fr")
    controller.simulator.press()
    wait_for(lambda: any(e.kind == "button_up" for e in booth.controls.pump()), "the press to arrive")
    assert booth.flow.step is Step.AGE


def test_someone_arriving_wakes_the_station(tmp_path, collection, controller):
    booth = Booth(tmp_path, collection, controller)
    wait_for(lambda: controller.state is ControllerState.CONNECTED, "the controller")
    controller.simulator.arrive()
    wait_for(lambda: booth.controls.pump() is not None and booth.visits == 1, "presence to wake the station")


def test_cable_pulled_during_a_reading(tmp_path, collection, controller):
    booth = Booth(tmp_path, collection, controller)
    wait_for(lambda: controller.state is ControllerState.CONNECTED, "the controller")
    booth.to_sound_check()
    booth.flow.ready()  # by touch: the booth does not need the button
    booth.run(3.1)
    wait_for(lambda: controller.simulator.board.on_air, "on air")

    controller.simulator.unplug()
    wait_for(lambda: booth.controls.state == "lost", "the booth to see the controller lost")
    booth.run(0.5)
    assert booth.flow.step is Step.RECORDING  # the reading goes on without it

    controller.simulator.replug()
    wait_for(lambda: booth.controls.state == "connected", "the controller back")
    wait_for(lambda: controller.simulator.board.on_air, "on air again on the rebooted board")
    controller.simulator.press()
    booth.pump_until(Step.REVIEW)
    wait_for(lambda: not controller.simulator.board.on_air, "on air off")


def test_a_controller_lost_between_participants_puts_the_booth_out_of_order_until_it_returns(tmp_path, collection, controller):
    booth = Booth(tmp_path, collection, controller)
    wait_for(lambda: controller.state is ControllerState.CONNECTED, "the controller")
    controller.simulator.unplug()
    wait_for(lambda: booth.controls.pump() is not None and booth.flow.step is Step.OUT_OF_ORDER, "the booth to close")
    assert booth.flow.fault == "controller"
    controller.simulator.replug()
    booth.pump_until(Step.WELCOME)
    assert booth.flow.fault is None


def test_without_a_controller_the_booth_works_by_touch(tmp_path, collection):
    booth = Booth(tmp_path, collection, NoController())
    assert booth.controls.state == "absent"
    booth.to_sound_check()
    booth.flow.ready()
    booth.run(3.1)
    booth.flow.stop()
    assert booth.flow.step is Step.REVIEW


def press_until(controller, key: str, arrived, hold_s: float = 0.3) -> None:
    """Press KEY until ARRIVED: a press is pressed again only if the serial link dropped
    meanwhile (a loaded machine can starve its heartbeats), as a visitor would press again."""
    for _ in range(4):
        connections = controller.connections
        wait_for(lambda: controller.state is ControllerState.CONNECTED, "the controller", timeout=15)
        controller.simulator.press_key(key, hold_s=hold_s)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if arrived():
                return
            if controller.connections != connections or controller.state is not ControllerState.CONNECTED:
                break  # the link dropped: this press is lost, press again
            time.sleep(0.01)
        else:
            raise AssertionError(f"the {key} key never arrived, though the link stayed up")
    raise AssertionError(f"the {key} key was lost four times")


def test_the_tactile_keys_go_to_audio_mode_and_the_button_keeps_its_meaning(tmp_path, collection, controller):
    keys: list[str] = []
    booth = Booth(tmp_path, collection, controller, on_key=keys.append)
    wait_for(lambda: controller.state is ControllerState.CONNECTED, "the controller")
    assert controller.info.has_tactile_keys
    for count, key in enumerate(("NEXT", "NEXT", "PREV", "SELECT"), start=1):
        press_until(controller, key, lambda: booth.controls.pump() is not None and len(keys) >= count)
    assert keys == ["next", "next", "prev", "select"]
    assert booth.flow.step is Step.WELCOME, "a key moves audio mode's focus; the flow itself did not move"

    press_until(controller, "SELECT", lambda: booth.controls.pump() is not None and len(keys) >= 5, hold_s=0.8)  # held: acts once
    time.sleep(0.3)
    booth.controls.pump()
    assert keys[4:] == ["select"]

    booth.to_sound_check()
    controller.simulator.press()  # the big button still starts the reading, whatever has the focus
    booth.pump_until(Step.COUNTDOWN)
    assert keys[4:] == ["select"]


def test_without_audio_mode_a_tactile_key_changes_nothing(tmp_path, collection, controller):
    booth = Booth(tmp_path, collection, controller)
    wait_for(lambda: controller.state is ControllerState.CONNECTED, "the controller")
    booth.to_sound_check()
    seen: list[str] = []
    press_until(controller, "SELECT", lambda: seen.extend(event.kind for event in booth.controls.pump()) or "select" in seen)
    assert booth.flow.step is Step.SOUND_CHECK
