"""The booth controller, simulated on a pseudo-terminal: the real firmware, pretend pins.

The station cannot tell it from the board: it opens a serial port (the pty's slave,
reachable through a stable symlink as udev gives the real board one) and talks the
protocol to `firmware/main.py`'s `Firmware`, which runs here on CPython with a
`SimulatedBoard` instead of the Pico's pins. So the tests of the station's link also
test the firmware's behaviour, and `kiosk hardware simulate` lets a technician press
the button from the keyboard.

Fault triggers, each a thing that happens to a real controller: `unplug()` (the USB
cable pulled: the pty disappears, the firmware loses power), `replug()` (a new pty,
the firmware boots again, the symlink points to it), `inject(bytes)` (garbage or any
raw bytes on the line), `freeze()`/`thaw()` (the firmware hangs, cable still in).
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

from hardware.controller.protocol import NAV_KEYS
from hardware.controller.firmware.main import DEBOUNCE_MS, PRESENCE_SETTLE_MS, Firmware
from hardware.controller.link import SerialController

log = logging.getLogger(__name__)


class SimulatedBoard:
    """The Pico's pins as plain values: inputs a test sets, outputs it reads."""

    __slots__ = ("pressed", "present", "keys", "on_air", "ring", "button_led", "status_led", "changes", "_on_change")

    def __init__(self, on_change: Callable[[str, object], None] | None = None):
        self.pressed = False
        self.present = False
        self.keys: set[str] = set()  # the tactile keys held down: PREV, NEXT, SELECT
        self.on_air = False
        self.ring = 0
        self.button_led = False
        self.status_led = False
        self.changes: list[tuple[str, object]] = []  # every output change, in order
        self._on_change = on_change

    def _set(self, name: str, value: object) -> None:
        if getattr(self, name) != value:
            setattr(self, name, value)
            self.changes.append((name, value))
            if self._on_change is not None:
                self._on_change(name, value)

    def button_pressed(self) -> bool:
        return self.pressed

    def someone_present(self) -> bool:
        return self.present

    def key_pressed(self, key: str) -> bool:
        return key in self.keys

    def set_on_air(self, on: bool) -> None:
        self._set("on_air", bool(on))

    def set_ring(self, level: int) -> None:
        self._set("ring", level)

    def set_button_led(self, on: bool) -> None:
        self._set("button_led", bool(on))

    def set_status_led(self, on: bool) -> None:
        self._set("status_led", bool(on))


def _milliseconds() -> int:
    return int(time.monotonic() * 1000)


class PtyControllerSimulator:
    """Runs the firmware on a pty pair in a thread; `link` is the port the station opens."""

    def __init__(
        self, link: Path | str, *, on_change: Callable[[str, object], None] | None = None, features: str | None = None
    ):
        """FEATURES: what the board names in its HELLO ("" for a board without the
        tactile keys, as firmware 1.0 was); by default the firmware's own."""
        self.link = Path(link)
        self.on_change = on_change
        self.features = features
        self.board = SimulatedBoard(on_change)
        self.firmware: Firmware | None = None
        self.received = bytearray()  # everything the station sent, for tests
        self._master: int | None = None
        self._slave: int | None = None
        self._lock = threading.Lock()
        self._reading = threading.Lock()
        """Held while the thread reads the pty: an unplug closes its descriptors only
        outside it, so the thread never reads a number the process has given to a new
        file meanwhile (a child's output pipe, read away from its parent)."""
        self._stop = threading.Event()
        self._frozen = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life ------------------------------------------------------------------------

    def start(self) -> PtyControllerSimulator:
        self._plug()
        self._thread = threading.Thread(target=self._run, name="controller simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._unplug()

    def __enter__(self) -> PtyControllerSimulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def plugged_in(self) -> bool:
        return self._master is not None

    @property
    def port(self) -> str:
        """The pty's own name (/dev/pts/N); it changes on every replug, the link does not."""
        return os.ttyname(self._slave) if self._slave is not None else ""

    # -- fault triggers -------------------------------------------------------------------

    def unplug(self) -> None:
        """Pull the cable: the port disappears and the board loses power."""
        self._unplug()

    def replug(self) -> None:
        """Put the cable back: a new port behind the same link, the firmware boots."""
        if not self.plugged_in:
            self._plug()

    def inject(self, data: bytes) -> None:
        """Raw bytes on the line to the station: garbage, a frame in pieces, anything."""
        with self._lock:
            if self._master is None:
                raise RuntimeError("the simulated controller is unplugged: replug() it first")
            os.write(self._master, data)

    def freeze(self) -> None:
        """The firmware hangs: it neither reads nor sends, the cable stays in."""
        self._frozen.set()

    def thaw(self) -> None:
        self._frozen.clear()

    # -- what a person does --------------------------------------------------------------

    def press(self, hold_s: float = 0.15) -> None:
        """Press the button and let go, as a hand does (blocks for about `hold_s`)."""
        self.hold()
        time.sleep(max(hold_s, 2 * DEBOUNCE_MS / 1000))
        self.release()
        time.sleep(2 * DEBOUNCE_MS / 1000)

    def hold(self) -> None:
        self.board.pressed = True

    def release(self) -> None:
        self.board.pressed = False

    def press_key(self, key: str, hold_s: float = 0.1) -> None:
        """Press one of the tactile keys (PREV, NEXT, SELECT) and let go, as a finger does."""
        if key not in NAV_KEYS:
            raise ValueError(f"the controller has no key {key!r}: it has {', '.join(NAV_KEYS)}")
        self.board.keys.add(key)
        time.sleep(max(hold_s, 2 * DEBOUNCE_MS / 1000))
        self.board.keys.discard(key)
        time.sleep(2 * DEBOUNCE_MS / 1000)

    def arrive(self) -> None:
        """Someone steps into the booth (the sensor settles after PRESENCE_SETTLE_MS)."""
        self.board.present = True

    def leave(self) -> None:
        self.board.present = False

    @staticmethod
    def settle_s() -> float:
        return 2 * PRESENCE_SETTLE_MS / 1000

    # -- inside ----------------------------------------------------------------------

    def _plug(self) -> None:
        master, slave = os.openpty()
        # Raw at once: a cooked pty echoes what the firmware writes back to it as input.
        tty.setraw(slave)
        # A USB port with nobody reading drops what the board sends; it never stalls it.
        os.set_blocking(master, False)
        with self._lock:
            self._master, self._slave = master, slave
            self.board = SimulatedBoard(self.on_change)
            features = {} if self.features is None else {"features": self.features}
            self.firmware = Firmware(self.board, _milliseconds(), **features)
        self.link.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.link.with_name(self.link.name + ".new")
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(os.ttyname(slave))
        temporary.replace(self.link)
        log.info("simulated controller plugged in", extra={"port": os.ttyname(slave), "link": str(self.link)})

    def _unplug(self) -> None:
        with self._lock:
            master, slave, self._master, self._slave = self._master, self._slave, None, None
        if master is None:
            return
        if self.link.is_symlink():
            self.link.unlink()
        with self._reading:  # not while the thread reads it
            os.close(master)
            os.close(slave)
        log.info("simulated controller unplugged", extra={"link": str(self.link)})

    def _run(self) -> None:
        while not self._stop.is_set():
            master = self._master
            if master is None or self._frozen.is_set():
                time.sleep(0.005)
                continue
            with self._reading:
                if self._master != master:
                    continue  # unplugged meanwhile: the number may be another file's now
                try:
                    ready, _, _ = select.select([master], [], [], 0.005)
                    data = os.read(master, 4096) if ready else b""
                except OSError:
                    continue
            with self._lock:
                if self._master != master or self.firmware is None:
                    continue
                now = _milliseconds()
                if data:
                    self.received += data
                    self.firmware.feed(data, now)
                self.firmware.poll(now)
                output = self.firmware.take_output()
                if output:
                    try:
                        os.write(master, output)
                    except OSError:
                        pass


class SimulatedSerialController(SerialController):
    """`controller = "simulated"`: the station's real serial link, to the firmware on a pty.

    Everything from the serial port up is the production code; only the board is
    simulated. Tests and the demo press its button through `simulator`.
    """

    def __init__(self, link: Path | str, **link_options):
        super().__init__(str(link), **link_options)
        self.simulator = PtyControllerSimulator(link)

    def start(self) -> None:
        if not self.simulator.plugged_in:
            self.simulator.start()
        super().start()

    def close(self) -> None:
        super().close()
        self.simulator.stop()
