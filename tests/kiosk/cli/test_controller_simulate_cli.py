"""`kiosk hardware simulate` as a technician uses it: keys on a terminal, a station on the link."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time

from hardware.controller.link import ControllerEvent, ControllerState, SerialController


def wait_for(condition, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


def test_keys_press_the_button_and_pull_the_cable(tmp_path):
    link = tmp_path / "dossin-controller"
    keyboard, terminal = os.openpty()  # the technician's terminal: keys go in through it
    child = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "hardware", "simulate", "--link", str(link), "--for", "60"],
        stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    os.close(terminal)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.rstrip("\n")) for line in child.stdout], daemon=True).start()
    seen: list[str] = []

    def printed(text: str, times: int = 1) -> bool:
        while not lines.empty():
            seen.append(lines.get())
        return sum(text in line for line in seen) >= times

    station = SerialController(str(link), retry_s=0.1, hello_every_s=0.2)
    try:
        wait_for(lambda: printed(f'controller = "{link}"'), "the simulator to say where it is")
        station.start()
        wait_for(lambda: station.state is ControllerState.CONNECTED, "the station to connect")
        station.set_on_air(True)
        wait_for(lambda: printed("on air: on"), "the simulator to show the light")

        os.write(keyboard, b"b")
        events: list[ControllerEvent] = []
        wait_for(lambda: events.extend(station.events()) or len(events) >= 2, "the key to press the button")
        assert events[:2] == [ControllerEvent("button_down"), ControllerEvent("button_up")]

        os.write(keyboard, b"u")
        wait_for(lambda: station.state is ControllerState.LOST, "the station to see the cable pulled")
        os.write(keyboard, b"u")
        wait_for(lambda: station.state is ControllerState.CONNECTED and station.connections == 2, "the cable back")
        wait_for(lambda: printed("on air: on", times=2), "the light back on the rebooted board")
        assert printed("button: pressed") and printed("cable: pulled") and printed("cable: back in")

        os.write(keyboard, b"q")
        assert child.wait(timeout=10) == 0
        assert printed("controller: stopped") and not link.exists()
    finally:
        station.close()
        if child.poll() is None:
            child.kill()
        os.close(keyboard)
