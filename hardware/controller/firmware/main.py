"""Firmware of the booth controller: MicroPython on an RP2040 board (Raspberry Pi Pico).

The board reads the big button and the presence sensor, drives the "on air" light
outside the door, the ring light and the LED in the button, and talks to the station
over USB serial with the shared protocol (hardware/PROTOCOL.md). Install it with

    mpremote cp hardware/controller/protocol.py :protocol.py
    mpremote cp hardware/controller/firmware/main.py :main.py

`Firmware` is the whole behaviour, with time passed in and the pins behind a small
board object, so the same code runs on CPython: in the tests, and as the station's
simulator (`kiosk hardware simulate`). `PicoBoard` and `serve()` are the only parts
that touch MicroPython's `machine` and the USB port.

The light outside the door must never say "on air" when nobody is recording: if the
station falls silent (crashed, cable pulled), the firmware switches it off by itself.
"""

try:
    from hardware.controller import protocol  # CPython: tests and the simulator
except ImportError:
    import protocol  # on the board, copied next to this file

FIRMWARE_VERSION = "1.1.0"  # 1.1: the three tactile keys (PREV, NEXT, SELECT)
BOARD = "rp2040"
FEATURES = protocol.FEATURE_NAV  # named in HELLO after the board

DEBOUNCE_MS = 30  # a button contact bounces for a few ms; a deliberate press lasts 100+
PRESENCE_SETTLE_MS = 200  # a presence sensor's output flickers at the edge of its range
HEARTBEAT_MS = 1000
STATION_SILENT_MS = 5000  # no frame from the station for this long: lights to safe
BLINK_MS = 500
RING_SAFE_LEVEL = 0  # the ring light's level while the station is silent

# Pins on the Pico (see hardware/PROTOCOL.md, "Wiring")
PIN_BUTTON = 15  # to ground, internal pull-up: pressed reads 0
PIN_PRESENCE = 14  # sensor output, high when someone is there
PIN_ON_AIR = 16  # relay or MOSFET for the light outside the door
PIN_RING = 17  # PWM to the ring light's dimmer
PIN_BUTTON_LED = 18
PIN_STATUS_LED = 25  # the Pico's own LED: steady when the station talks, blinking when not
# The tactile keys, each to ground with the internal pull-up: pressed reads 0
PIN_KEYS = {protocol.PREV: 10, protocol.NEXT: 11, protocol.SELECT: 12}
PWM_FREQUENCY = 1000


class Debounced:
    """An input that changes only after it has read the same for `settle_ms`."""

    def __init__(self, settle_ms, value=False):
        self.settle_ms = settle_ms
        self.value = value
        self._candidate = value
        self._since = None

    def sample(self, raw, now_ms):
        """True when the debounced value changed with this sample."""
        if raw == self.value:
            self._since = None
            return False
        if self._since is None or raw != self._candidate:
            self._candidate = raw
            self._since = now_ms
            return False
        if now_ms - self._since >= self.settle_ms:
            self.value = raw
            self._since = None
            return True
        return False


class Firmware:
    """The controller's behaviour. Call `feed()` with bytes from the station and `poll()`
    every few milliseconds; send what `take_output()` returns."""

    def __init__(self, board, now_ms, features=FEATURES):
        self.board = board
        self.features = features  # what HELLO names; a test's older board names none
        self.reader = protocol.FrameReader()
        self.sequence = protocol.Sequence()
        self.button = Debounced(DEBOUNCE_MS)
        self.presence = Debounced(PRESENCE_SETTLE_MS)
        self.keys = {key: Debounced(DEBOUNCE_MS) for key in protocol.NAV_KEYS}
        self.started_ms = now_ms
        self.last_heartbeat_ms = None
        self.last_heard_ms = None  # None: the station has not spoken since start
        self.on_air = False
        self.ring = 0
        self.button_led = "OFF"
        self._output = bytearray()
        self._apply_lights(now_ms)
        self._hello()

    # -- output ----------------------------------------------------------------------

    def _send(self, kind, *args):
        self._output += protocol.encode(self.sequence.next(), kind, *args)

    def _hello(self):
        if self.features:
            self._send(protocol.HELLO, protocol.PROTOCOL_VERSION, FIRMWARE_VERSION, BOARD, self.features)
        else:
            self._send(protocol.HELLO, protocol.PROTOCOL_VERSION, FIRMWARE_VERSION, BOARD)

    def take_output(self):
        data = bytes(self._output)
        self._output = bytearray()
        return data

    # -- from the station --------------------------------------------------------------

    def feed(self, data, now_ms):
        for message in self.reader.feed(data):
            self.last_heard_ms = now_ms
            self._handle(message, now_ms)

    def _handle(self, message, now_ms):
        kind, args = message.kind, message.args
        if kind == protocol.HELLO:
            self._hello()
        elif kind == protocol.HEARTBEAT:
            pass  # being heard is all it says
        elif kind in protocol.COMMANDS:
            problem = self._command(kind, args)
            if problem is None:
                self._apply_lights(now_ms)
                self._send(protocol.ACK, message.seq)
            else:
                self._send(protocol.NAK, message.seq, problem)
        else:
            self._send(protocol.NAK, message.seq, "UNKNOWN_KIND")

    def _command(self, kind, args):
        """Change the wanted state; None if done, else the reason for a NAK."""
        if kind == protocol.ON_AIR:
            if args not in (("0",), ("1",)):
                return "BAD_ARGS"
            self.on_air = args[0] == "1"
        elif kind == protocol.RING:
            if len(args) != 1 or not args[0].isdigit() or int(args[0]) > 100:
                return "BAD_ARGS"
            self.ring = int(args[0])
        elif kind == protocol.LED:
            if len(args) != 2 or args[1] not in protocol.LED_MODES:
                return "BAD_ARGS"
            if args[0] != protocol.BUTTON:
                return "UNKNOWN_LED"
            self.button_led = args[1]
        return None

    # -- time ------------------------------------------------------------------------

    def station_silent(self, now_ms):
        return self.last_heard_ms is None or now_ms - self.last_heard_ms >= STATION_SILENT_MS

    def poll(self, now_ms):
        if self.button.sample(self.board.button_pressed(), now_ms):
            self._send(protocol.EVENT, protocol.BUTTON, protocol.DOWN if self.button.value else protocol.UP)
        if self.presence.sample(self.board.someone_present(), now_ms):
            self._send(protocol.EVENT, protocol.PRESENCE, 1 if self.presence.value else 0)
        for key in protocol.NAV_KEYS:  # a fixed order, so two keys pressed together stay in order
            debounced = self.keys[key]
            if debounced.sample(self.board.key_pressed(key), now_ms):
                self._send(protocol.EVENT, key, protocol.DOWN if debounced.value else protocol.UP)
        if self.last_heartbeat_ms is None or now_ms - self.last_heartbeat_ms >= HEARTBEAT_MS:
            self.last_heartbeat_ms = now_ms
            self._send(
                protocol.HEARTBEAT,
                now_ms - self.started_ms,
                1 if self.button.value else 0,
                1 if self.presence.value else 0,
            )
        if self.last_heard_ms is not None and self.station_silent(now_ms) and (self.on_air or self.ring != RING_SAFE_LEVEL):
            # The station is gone: nobody can be recording. Its HELLO brings the lights back.
            self.on_air = False
            self.ring = RING_SAFE_LEVEL
            self.button_led = "OFF"
        self._apply_lights(now_ms)

    def _apply_lights(self, now_ms):
        blink_on = (now_ms // BLINK_MS) % 2 == 0
        self.board.set_on_air(self.on_air)
        self.board.set_ring(self.ring)
        self.board.set_button_led(self.button_led == "ON" or (self.button_led == "BLINK" and blink_on))
        self.board.set_status_led(blink_on if self.station_silent(now_ms) else True)


class PicoBoard:
    """The pins of a Raspberry Pi Pico wired as in hardware/PROTOCOL.md."""

    def __init__(self):
        import machine

        self._button = machine.Pin(PIN_BUTTON, machine.Pin.IN, machine.Pin.PULL_UP)
        self._presence = machine.Pin(PIN_PRESENCE, machine.Pin.IN, machine.Pin.PULL_DOWN)
        self._on_air = machine.Pin(PIN_ON_AIR, machine.Pin.OUT, value=0)
        self._button_led = machine.Pin(PIN_BUTTON_LED, machine.Pin.OUT, value=0)
        self._status_led = machine.Pin(PIN_STATUS_LED, machine.Pin.OUT, value=0)
        self._keys = {key: machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_UP) for key, pin in PIN_KEYS.items()}
        self._ring = machine.PWM(machine.Pin(PIN_RING))
        self._ring.freq(PWM_FREQUENCY)
        self._ring.duty_u16(0)

    def button_pressed(self):
        return self._button.value() == 0

    def someone_present(self):
        return self._presence.value() == 1

    def key_pressed(self, key):
        return self._keys[key].value() == 0

    def set_on_air(self, on):
        self._on_air.value(1 if on else 0)

    def set_ring(self, level):
        self._ring.duty_u16(level * 65535 // 100)

    def set_button_led(self, on):
        self._button_led.value(1 if on else 0)

    def set_status_led(self, on):
        self._status_led.value(1 if on else 0)


def serve(firmware, read_available, write, now_ms, sleep_ms, rounds=None):
    """The main loop: read what arrived, poll, send. `rounds` bounds it for tests."""
    done = 0
    while rounds is None or done < rounds:
        data = read_available()
        if data:
            firmware.feed(data, now_ms())
        firmware.poll(now_ms())
        output = firmware.take_output()
        if output:
            write(output)
        sleep_ms(5)
        done += 1


def main(rounds=None):
    """On the board: USB serial through sys.stdin/sys.stdout, time from time.ticks_ms."""
    import select
    import sys
    import time

    import micropython

    micropython.kbd_intr(-1)  # a 0x03 in the byte stream must not stop the firmware
    poller = select.poll()
    poller.register(sys.stdin, select.POLLIN)
    started = time.ticks_ms()

    def now_ms():
        # ticks wrap after some days; the difference from the start does not
        return time.ticks_diff(time.ticks_ms(), started)

    def read_available():
        data = bytearray()
        while poller.poll(0) and len(data) < protocol.MAX_FRAME:
            data += sys.stdin.buffer.read(1)
        return bytes(data)

    def write(data):
        sys.stdout.buffer.write(data)

    board = PicoBoard()
    serve(Firmware(board, now_ms()), read_available, write, now_ms, time.sleep_ms, rounds)


if __name__ == "__main__":
    main()
