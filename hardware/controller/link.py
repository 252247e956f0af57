"""The station's side of the booth controller: one small interface, the serial link.

The booth asks three things of a controller: light the lamps (`set_on_air`,
`set_ring`, `set_button_led`), tell it what happened (`events()`: the button,
someone at the door), and say how it is (`state`). `SerialController` does that over
USB serial with pyserial's threaded Protocol/ReaderThread; `NoController` is a booth
that works by touch alone; `hardware.controller.simulated` has the simulation for
tests and the demo. The booth's composition root picks one.

The link looks after itself: a pulled cable ends the reader thread, and a supervisor
thread opens the port again every `retry_s` until the controller answers a HELLO.
Lights are kept as the wanted state, sent again after every (re)connection and until
acknowledged, so a controller that rebooted mid-session shows the right lights within a
second. A controller that stops sending heartbeats counts as gone, even with the cable in.

Nothing here blocks the caller: the booth's screen thread only sets wanted states and
drains a queue of events.
"""

from __future__ import annotations

import abc
import enum
import logging
import queue
import threading
import time
from typing import NamedTuple

import serial
import serial.threaded

from hardware.controller import protocol

log = logging.getLogger(__name__)


class ControllerState(enum.Enum):
    ABSENT = "absent"  # the station has no controller (controller = "none")
    SEARCHING = "searching"  # configured, never answered yet: not plugged in, wrong port
    CONNECTED = "connected"  # answered HELLO, heartbeats arriving
    LOST = "lost"  # was connected, is not now: looking for it again


class ControllerEvent(NamedTuple):
    """Something a person did: "button_down", "button_up", "presence" (with `present`),
    or a tactile key pressed: "prev", "next", "select" (a key acts when pressed, once;
    letting go says nothing, so a held key never repeats for someone counting steps)."""

    kind: str
    present: bool | None = None


class ControllerInfo(NamedTuple):
    """What the controller said in its HELLO."""

    protocol_version: int
    firmware_version: str
    board: str
    features: frozenset[str] = frozenset()

    @property
    def has_tactile_keys(self) -> bool:
        return protocol.FEATURE_NAV in self.features


class Controller(abc.ABC):
    """What the booth needs of its controller."""

    @property
    @abc.abstractmethod
    def state(self) -> ControllerState: ...

    @property
    def info(self) -> ControllerInfo | None:
        return None

    def start(self) -> None:
        """Begin looking for the controller; returns at once."""

    def close(self) -> None:
        """Stop, lights off where possible."""

    @abc.abstractmethod
    def set_on_air(self, on: bool) -> None: ...

    @abc.abstractmethod
    def set_ring(self, level: int) -> None:
        """The ring light's brightness, 0..100."""

    @abc.abstractmethod
    def set_button_led(self, mode: str) -> None:
        """"OFF", "ON" or "BLINK"."""

    @abc.abstractmethod
    def events(self) -> list[ControllerEvent]:
        """What happened since the last call, oldest first."""


class NoController(Controller):
    """A booth without a controller: touch does everything, there are no lights to set."""

    @property
    def state(self) -> ControllerState:
        return ControllerState.ABSENT

    def set_on_air(self, on: bool) -> None:
        pass

    def set_ring(self, level: int) -> None:
        pass

    def set_button_led(self, mode: str) -> None:
        pass

    def events(self) -> list[ControllerEvent]:
        return []


def check_light(kind: str, value: object) -> str:
    """The protocol argument for a light, or ValueError: a wrong call is a bug here."""
    if kind == protocol.ON_AIR:
        return "1" if value else "0"
    if kind == protocol.RING:
        if not isinstance(value, int) or not 0 <= value <= 100:
            raise ValueError(f"ring level must be an int 0..100, not {value!r}")
        return str(value)
    if value not in protocol.LED_MODES:
        raise ValueError(f"LED mode must be one of {protocol.LED_MODES}, not {value!r}")
    return str(value)


def event_from(message: protocol.Message) -> ControllerEvent | None:
    if message.kind != protocol.EVENT or len(message.args) != 2:
        return None
    what, value = message.args
    if what == protocol.BUTTON and value in (protocol.DOWN, protocol.UP):
        return ControllerEvent("button_down" if value == protocol.DOWN else "button_up")
    if what == protocol.PRESENCE and value in ("0", "1"):
        return ControllerEvent("presence", value == "1")
    if what in protocol.NAV_KEYS and value == protocol.DOWN:
        return ControllerEvent(what.lower())
    return None


def hello_info(message: protocol.Message) -> ControllerInfo | None:
    if message.kind != protocol.HELLO or len(message.args) < 3 or not message.args[0].isdigit():
        return None
    features = frozenset(message.args[3].split("+")) if len(message.args) > 3 else frozenset()
    return ControllerInfo(int(message.args[0]), message.args[1], message.args[2], features)


class _Pending(NamedTuple):
    key: tuple[str, ...]
    value: str
    sent_at: float
    tries: int


class _Framing(serial.threaded.Protocol):
    """Runs in pyserial's reader thread: bytes in, messages out to the link."""

    def __init__(self, link: SerialController):
        self.link = link
        self.reader = protocol.FrameReader()

    def data_received(self, data: bytes) -> None:
        dropped = self.reader.dropped
        for message in self.reader.feed(data):
            self.link._received(message)
        if self.reader.dropped != dropped:
            log.warning("controller frame dropped", extra={"why": self.reader.last_problem, "dropped_total": self.reader.dropped})

    def connection_lost(self, exc: BaseException | None) -> None:
        if exc is not None:
            log.warning("controller connection lost", extra={"problem": str(exc)})


class SerialController(Controller):
    """The controller on a serial port or pyserial URL (`/dev/dossin-controller`)."""

    def __init__(
        self,
        url: str,
        *,
        station_version: str = "0",
        retry_s: float = 1.0,
        hello_every_s: float = 1.0,
        silent_after_s: float = 3.5,
        heartbeat_s: float = 1.0,
        ack_timeout_s: float = 0.5,
        ack_tries: int = 4,
    ):
        self.url = url
        self.station_version = station_version
        self.retry_s = retry_s
        self.hello_every_s = hello_every_s
        self.silent_after_s = silent_after_s
        self.heartbeat_s = heartbeat_s
        self.ack_timeout_s = ack_timeout_s
        self.ack_tries = ack_tries
        self._state = ControllerState.SEARCHING
        self._info: ControllerInfo | None = None
        self._lock = threading.Lock()
        self._events: queue.SimpleQueue[ControllerEvent] = queue.SimpleQueue()
        # The lights as the booth wants them; sent again after each connection.
        self._wanted: dict[tuple[str, ...], str] = {
            (protocol.ON_AIR,): "0", (protocol.RING,): "0", (protocol.LED, protocol.BUTTON): "OFF",
        }
        self._unsent: set[tuple[str, ...]] = set(self._wanted)
        self._pending: dict[int, _Pending] = {}
        self._sequence = protocol.Sequence()
        self._last_heard = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._reader: serial.threaded.ReaderThread | None = None
        self.connections = 0  # how many times a HELLO came back: tests and the log
        self.last_problem: str | None = None
        self.unacknowledged = 0  # commands given up on after ack_tries

    # -- the interface ---------------------------------------------------------------

    @property
    def state(self) -> ControllerState:
        return self._state

    @property
    def info(self) -> ControllerInfo | None:
        return self._info

    def start(self) -> None:
        if self._supervisor is None:
            self._supervisor = threading.Thread(target=self._supervise, name="controller link", daemon=True)
            self._supervisor.start()

    def close(self) -> None:
        # The light outside the door must not say "on air" after the booth has stopped.
        self.set_on_air(False)
        self.set_ring(0)
        self.set_button_led("OFF")
        self._flush_before_close()
        self._stop.set()
        self._wake.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
            self._supervisor = None

    def set_on_air(self, on: bool) -> None:
        self._want((protocol.ON_AIR,), check_light(protocol.ON_AIR, on))

    def set_ring(self, level: int) -> None:
        self._want((protocol.RING,), check_light(protocol.RING, level))

    def set_button_led(self, mode: str) -> None:
        self._want((protocol.LED, protocol.BUTTON), check_light(protocol.LED, mode))

    def events(self) -> list[ControllerEvent]:
        drained = []
        while True:
            try:
                drained.append(self._events.get_nowait())
            except queue.Empty:
                return drained

    def wanted(self) -> dict[str, str]:
        """The lights as last asked for, e.g. {"AIR": "1", "RING": "80", "LED BUTTON": "OFF"}."""
        with self._lock:
            return {" ".join(key): value for key, value in self._wanted.items()}

    # -- inside ----------------------------------------------------------------------

    def _want(self, key: tuple[str, ...], value: str) -> None:
        with self._lock:
            if self._wanted.get(key) == value:
                return
            self._wanted[key] = value
            self._unsent.add(key)
        self._wake.set()

    def _flush_before_close(self) -> None:
        """Lights off on the way out, when the controller is there to hear it."""
        if self._state is not ControllerState.CONNECTED:
            return
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            with self._lock:
                if not self._unsent and not self._pending:
                    return
            self._wake.set()
            time.sleep(0.02)

    def _received(self, message: protocol.Message) -> None:
        """In the reader thread: every intact frame shows the controller is alive."""
        self._last_heard = time.monotonic()
        if message.kind == protocol.HELLO:
            info = hello_info(message)
            if info is None:
                self.last_problem = f"a HELLO without versions: {message.args}"
                return
            if info.protocol_version != protocol.PROTOCOL_VERSION:
                self.last_problem = (
                    f"controller speaks protocol {info.protocol_version}, this station {protocol.PROTOCOL_VERSION}: "
                    "flash the firmware from this release (hardware/PROTOCOL.md)"
                )
                log.error("controller protocol mismatch", extra={"problem": self.last_problem})
                return
            with self._lock:
                self._info = info
                # After a reboot the controller has forgotten the lights: send them all again.
                self._unsent = set(self._wanted)
                self._pending.clear()
            if self._state is not ControllerState.CONNECTED:
                self.connections += 1
                self._state = ControllerState.CONNECTED
                log.info("controller connected", extra={"firmware": info.firmware_version, "port": self.url})
            self._wake.set()
        elif message.kind in (protocol.ACK, protocol.NAK):
            seq = int(message.args[0]) if message.args and message.args[0].isdigit() else -1
            with self._lock:
                pending = self._pending.pop(seq, None)
            if message.kind == protocol.NAK and pending is not None:
                log.error("controller refused a command", extra={"command": " ".join(pending.key), "value": pending.value, "reason": ",".join(message.args[1:])})
        else:
            event = event_from(message)
            if event is not None and self._state is ControllerState.CONNECTED:
                self._events.put(event)

    def _supervise(self) -> None:
        while not self._stop.is_set():
            try:
                port = serial.serial_for_url(self.url, baudrate=protocol.BAUD_RATE, write_timeout=1.0, exclusive=True)
            except (serial.SerialException, OSError, ValueError) as error:
                self._lose(f"cannot open {self.url}: {error}")
                self._stop.wait(self.retry_s)
                continue
            try:
                self._session(port)
            finally:
                self._lose(self.last_problem or "connection ended")
            self._stop.wait(min(self.retry_s, 0.2))

    def _lose(self, problem: str) -> None:
        self.last_problem = problem
        if self._state is ControllerState.CONNECTED:
            log.error("controller lost", extra={"problem": problem, "port": self.url})
            self._state = ControllerState.LOST
        with self._lock:
            self._pending.clear()
            self._unsent = set(self._wanted)

    def _session(self, port: serial.SerialBase) -> None:
        reader = serial.threaded.ReaderThread(port, lambda: _Framing(self))
        reader.start()
        try:
            reader.connect()
        except RuntimeError:
            reader.close()
            return
        self._reader = reader
        self._last_heard = time.monotonic()
        hello_sent = heartbeat_sent = float("-inf")
        try:
            while not self._stop.is_set() and reader.alive:
                now = time.monotonic()
                if self._state is not ControllerState.CONNECTED:
                    if now - self._last_heard > max(self.silent_after_s, 2 * self.hello_every_s) and hello_sent > float("-inf"):
                        self.last_problem = f"{self.url} does not answer HELLO: is it the controller, with its firmware?"
                    if now - hello_sent >= self.hello_every_s:
                        self._write(reader, protocol.HELLO, protocol.PROTOCOL_VERSION, self.station_version)
                        hello_sent = now
                else:
                    if now - self._last_heard > self.silent_after_s:
                        self.last_problem = f"controller on {self.url} fell silent (no heartbeat for {self.silent_after_s:g} s)"
                        return
                    if now - heartbeat_sent >= self.heartbeat_s:
                        self._write(reader, protocol.HEARTBEAT)
                        heartbeat_sent = now
                    self._send_lights(reader, now)
                self._wake.wait(0.05)
                self._wake.clear()
            if not reader.alive:
                self.last_problem = f"{self.url} went away (cable pulled?)"
        except serial.SerialException as error:
            self.last_problem = f"writing to {self.url} failed: {error}"
        finally:
            self._reader = None
            try:
                reader.close()
            except (serial.SerialException, OSError):
                pass

    def _send_lights(self, reader: serial.threaded.ReaderThread, now: float) -> None:
        with self._lock:
            # A newer wanted value replaces one still waiting for its ACK.
            for seq, pending in list(self._pending.items()):
                if pending.key in self._unsent:
                    del self._pending[seq]
            resend = [p for p in self._pending.values() if now - p.sent_at >= self.ack_timeout_s]
            fresh = [(key, self._wanted[key]) for key in sorted(self._unsent)]
            self._unsent.clear()
        for pending in resend:
            with self._lock:
                self._pending = {s: p for s, p in self._pending.items() if p is not pending}
            if pending.tries >= self.ack_tries:
                self.unacknowledged += 1
                log.error("controller did not acknowledge", extra={"command": " ".join(pending.key), "value": pending.value})
                continue
            self._command(reader, pending.key, pending.value, pending.tries + 1, now)
        for key, value in fresh:
            self._command(reader, key, value, 1, now)

    def _command(self, reader, key: tuple[str, ...], value: str, tries: int, now: float) -> None:
        seq = self._sequence.next()
        with self._lock:
            self._pending[seq] = _Pending(key, value, now, tries)
        reader.write(protocol.encode(seq, *key, value))

    def _write(self, reader, kind: str, *args: object) -> None:
        reader.write(protocol.encode(self._sequence.next(), kind, *args))


def hello_round_trip(url: str, *, timeout_s: float = 2.0, station_version: str = "0") -> tuple[ControllerInfo, float]:
    """Open URL, say HELLO, and wait for the controller's: (its info, round trip in s).

    For `kiosk doctor`: raises serial.SerialException when the port cannot be opened
    (missing, or in use by a running booth) and TimeoutError when nothing answers.
    """
    port = serial.serial_for_url(url, baudrate=protocol.BAUD_RATE, timeout=0.05, write_timeout=1.0, exclusive=True)
    try:
        reader = protocol.FrameReader()
        port.reset_input_buffer()
        started = time.monotonic()
        port.write(protocol.encode(0, protocol.HELLO, protocol.PROTOCOL_VERSION, station_version))
        while time.monotonic() - started < timeout_s:
            for message in reader.feed(port.read(256)):
                info = hello_info(message)
                if info is not None:
                    return info, time.monotonic() - started
        raise TimeoutError(f"{url} sent no HELLO within {timeout_s:g} s")
    finally:
        port.close()
