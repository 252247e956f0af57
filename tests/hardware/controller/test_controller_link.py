"""The station's serial link to the controller, through a real pseudo-terminal with pyserial.

The other end is the firmware itself (`PtyControllerSimulator`), so these are the two
halves of the protocol talking; faults are made on the line: garbage, frames in pieces,
a bad checksum, the cable pulled and put back, a controller that hangs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import serial

from hardware.controller.link import ControllerEvent, ControllerState, SerialController, hello_round_trip
from hardware.controller.protocol import encode
from hardware.controller.simulator import PtyControllerSimulator


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[PtyControllerSimulator]:
    with PtyControllerSimulator(tmp_path / "dossin-controller") as simulator:
        yield simulator


@pytest.fixture
def link(simulator: PtyControllerSimulator) -> Iterator[SerialController]:
    controller = SerialController(str(simulator.link), retry_s=0.1, hello_every_s=0.2, silent_after_s=1.5, ack_timeout_s=0.2)
    controller.start()
    try:
        yield controller
    finally:
        controller.close()


def connected(link: SerialController) -> None:
    wait_for(lambda: link.state is ControllerState.CONNECTED, f"the controller to connect ({link.last_problem})")


def collect(link: SerialController, count: int, timeout: float = 3.0) -> list[ControllerEvent]:
    events: list[ControllerEvent] = []
    wait_for(lambda: events.extend(link.events()) or len(events) >= count, f"{count} events (got {events})", timeout)
    return events


def test_hello_then_lights_follow_commands(simulator, link):
    connected(link)
    assert link.info.firmware_version == "1.1.0" and link.info.protocol_version == 1
    assert link.info.has_tactile_keys
    link.set_on_air(True)
    link.set_ring(80)
    link.set_button_led("ON")
    wait_for(lambda: simulator.board.on_air and simulator.board.ring == 80 and simulator.board.button_led, "the lights")
    link.set_on_air(False)
    wait_for(lambda: not simulator.board.on_air, "on air to go out")


def test_a_press_arrives_as_down_then_up(simulator, link):
    connected(link)
    simulator.press()
    assert collect(link, 2) == [ControllerEvent("button_down"), ControllerEvent("button_up")]
    simulator.arrive()
    assert collect(link, 1) == [ControllerEvent("presence", True)]


def test_the_tactile_keys_arrive_once_per_press(simulator, link):
    connected(link)
    for key in ("NEXT", "NEXT", "PREV", "SELECT"):
        simulator.press_key(key)
    assert collect(link, 4) == [ControllerEvent("next"), ControllerEvent("next"), ControllerEvent("prev"), ControllerEvent("select")]
    time.sleep(0.2)
    assert link.events() == []  # letting go says nothing
    with pytest.raises(ValueError, match="has no key"):
        simulator.press_key("UP")


def test_a_board_without_tactile_keys_still_connects(simulator, link):
    connected(link)
    simulator.inject(encode(7, "HELLO", 1, "1.0.0", "rp2040"))  # firmware 1.0 names no features
    wait_for(lambda: link.info is not None and not link.info.has_tactile_keys, "the older board's HELLO")
    assert link.state is ControllerState.CONNECTED


def test_garbage_split_frames_and_a_bad_checksum_on_a_live_line(simulator, link):
    connected(link)
    simulator.inject(b"\x00\xff\xfe line noise \x03\x1b[2J")
    frame = encode(201, "EV", "BUTTON", "DOWN")
    simulator.inject(frame[:7])
    time.sleep(0.1)  # the reader thread sees the first piece on its own
    simulator.inject(frame[7:])
    bad = bytearray(encode(202, "EV", "BUTTON", "UP"))
    bad[-3] = ord("0") if bad[-3] != ord("0") else ord("1")  # a checksum digit changed on the line
    simulator.inject(bytes(bad))
    simulator.inject(encode(203, "EV", "PRESENCE", "1"))
    assert collect(link, 2) == [ControllerEvent("button_down"), ControllerEvent("presence", True)]
    time.sleep(0.2)
    assert link.events() == []  # the frame with the bad checksum never became an event
    assert link.state is ControllerState.CONNECTED
    link.set_ring(42)  # and commands still get through
    wait_for(lambda: simulator.board.ring == 42, "the ring light after the noise")


def test_unplug_and_replug_mid_session(simulator, link):
    connected(link)
    link.set_on_air(True)
    link.set_ring(100)
    wait_for(lambda: simulator.board.on_air, "on air")
    first_port = simulator.port

    simulator.unplug()
    wait_for(lambda: link.state is ControllerState.LOST, "the link to notice the pulled cable")
    link.set_ring(60)  # the booth goes on while the cable is out
    simulator.replug()
    assert simulator.port != first_port or simulator.link.exists()
    connected(link)
    assert link.connections == 2
    # The board rebooted with every light off; the link puts back what the booth wants.
    wait_for(lambda: simulator.board.on_air and simulator.board.ring == 60, "the lights back after replug")
    simulator.press()
    assert collect(link, 2)[0] == ControllerEvent("button_down")


def test_a_controller_that_hangs_counts_as_lost_until_it_talks_again(simulator, link):
    connected(link)
    simulator.freeze()
    wait_for(lambda: link.state is ControllerState.LOST, "the silent controller to count as lost", timeout=5)
    simulator.thaw()
    connected(link)


def test_a_controller_plugged_in_after_the_station_started(tmp_path):
    port = tmp_path / "later"
    link = SerialController(str(port), retry_s=0.1, hello_every_s=0.2)
    link.start()
    try:
        time.sleep(0.3)
        assert link.state is ControllerState.SEARCHING and "cannot open" in link.last_problem
        with PtyControllerSimulator(port):
            connected(link)
    finally:
        link.close()


def test_close_puts_the_lights_out(simulator, link):
    connected(link)
    link.set_on_air(True)
    wait_for(lambda: simulator.board.on_air, "on air")
    link.close()
    assert not simulator.board.on_air and simulator.board.ring == 0


def test_hello_round_trip_for_the_doctor(simulator, tmp_path):
    info, seconds = hello_round_trip(str(simulator.link))
    assert info.board == "rp2040" and 0 < seconds < 2
    with pytest.raises(serial.SerialException):
        hello_round_trip(str(tmp_path / "nothing-here"))


def test_a_port_in_use_by_the_booth_is_refused_to_others(simulator, link):
    connected(link)
    with pytest.raises(serial.SerialException):
        hello_round_trip(str(simulator.link))


def test_a_port_that_does_not_speak_the_protocol(tmp_path):
    import os
    import tty

    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        with pytest.raises(TimeoutError, match="no HELLO"):
            hello_round_trip(os.ttyname(slave), timeout_s=0.5)
    finally:
        os.close(master)
        os.close(slave)
