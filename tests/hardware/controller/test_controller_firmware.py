"""The firmware on CPython: its behaviour with time stepped by hand, and its pins through
a fake `machine` module that fails on any call the real Pico wiring does not make."""

from __future__ import annotations

import sys
import types

import pytest

from hardware.controller import protocol
from hardware.controller.firmware import main as firmware_main
from hardware.controller.firmware.main import DEBOUNCE_MS, HEARTBEAT_MS, STATION_SILENT_MS, Firmware
from hardware.controller.protocol import FrameReader, encode
from hardware.controller.simulator import SimulatedBoard


class Station:
    """The station's end of the line, for the firmware under test."""

    def __init__(self, firmware: Firmware):
        self.firmware = firmware
        self.reader = FrameReader()
        self.seq = protocol.Sequence(100)

    def send(self, kind: str, *args, now: int) -> list[protocol.Message]:
        self.firmware.feed(encode(self.seq.next(), kind, *args), now)
        return self.heard()

    def heard(self) -> list[protocol.Message]:
        return self.reader.feed(self.firmware.take_output())


@pytest.fixture
def board() -> SimulatedBoard:
    return SimulatedBoard()


def test_it_says_hello_at_boot_and_when_asked(board):
    station = Station(Firmware(board, 0))
    (hello,) = station.heard()
    assert (hello.kind, hello.args) == ("HELLO", ("1", firmware_main.FIRMWARE_VERSION, "rp2040", "NAV"))
    assert [m.kind for m in station.send("HELLO", 1, "0.1.0", now=5)] == ["HELLO"]


def test_the_button_is_debounced(board):
    firmware = Firmware(board, 0)
    station = Station(firmware)
    station.heard()
    firmware.poll(0)  # the first heartbeat
    station.heard()
    # A contact that bounces: on, off, on within a few ms, then held.
    for now, pressed in [(10, True), (12, False), (14, True), (20, True), (14 + DEBOUNCE_MS - 1, True)]:
        board.pressed = pressed
        firmware.poll(now)
    assert station.heard() == []
    firmware.poll(14 + DEBOUNCE_MS)
    assert [m.args for m in station.heard()] == [("BUTTON", "DOWN")]
    board.pressed = False
    firmware.poll(200)
    firmware.poll(200 + DEBOUNCE_MS)
    assert [m.args for m in station.heard()] == [("BUTTON", "UP")]


def test_the_tactile_keys_are_debounced_and_keep_their_order(board):
    firmware = Firmware(board, 0)
    station = Station(firmware)
    firmware.poll(0)
    station.heard()
    board.keys = {"NEXT"}
    firmware.poll(10)
    board.keys = set()  # a bounce shorter than the debounce time says nothing
    firmware.poll(12)
    firmware.poll(12 + DEBOUNCE_MS)
    assert station.heard() == []
    board.keys = {"SELECT", "PREV"}  # two keys at once arrive in the fixed order
    firmware.poll(100)
    firmware.poll(100 + DEBOUNCE_MS)
    assert [m.args for m in station.heard()] == [("PREV", "DOWN"), ("SELECT", "DOWN")]
    board.keys = set()
    firmware.poll(200)
    firmware.poll(200 + DEBOUNCE_MS)
    assert [m.args for m in station.heard()] == [("PREV", "UP"), ("SELECT", "UP")]


def test_commands_set_the_lights_and_are_acknowledged(board):
    firmware = Firmware(board, 0)
    station = Station(firmware)
    station.heard()
    (ack,) = station.send("AIR", 1, now=10)
    assert (ack.kind, ack.args) == ("ACK", ("100",)) and board.on_air
    station.send("RING", 55, now=11)
    assert board.ring == 55
    station.send("LED", "BUTTON", "BLINK", now=12)
    firmware.poll(12)
    lit = board.button_led
    firmware.poll(12 + firmware_main.BLINK_MS)
    assert board.button_led is not lit


@pytest.mark.parametrize(
    "command, reason",
    [(("AIR", 2), "BAD_ARGS"), (("RING", 101), "BAD_ARGS"), (("LED", "DOOR", "ON"), "UNKNOWN_LED"), (("DANCE",), "UNKNOWN_KIND")],
)
def test_a_command_it_cannot_do_is_refused_with_a_reason(board, command, reason):
    station = Station(Firmware(board, 0))
    station.heard()
    (nak,) = station.send(*command, now=1)
    assert nak.kind == "NAK" and nak.args[1] == reason
    assert not board.on_air and board.ring == 0


def test_heartbeats_carry_uptime_button_and_presence(board):
    firmware = Firmware(board, 1000)
    station = Station(firmware)
    station.heard()
    board.present = True
    firmware.poll(1000)
    firmware.poll(1000 + firmware_main.PRESENCE_SETTLE_MS)
    firmware.poll(1000 + HEARTBEAT_MS)
    messages = station.heard()
    assert [m.args for m in messages if m.kind == "EV"] == [("PRESENCE", "1")]
    assert [m.args for m in messages if m.kind == "HB"] == [("0", "0", "0"), (str(HEARTBEAT_MS), "0", "1")]


def test_on_air_goes_out_when_the_station_falls_silent(board):
    firmware = Firmware(board, 0)
    station = Station(firmware)
    station.send("AIR", 1, now=0)
    station.send("RING", 100, now=0)
    firmware.poll(STATION_SILENT_MS - 1)
    assert board.on_air
    firmware.poll(STATION_SILENT_MS)
    assert not board.on_air and board.ring == 0
    station.send("AIR", 1, now=STATION_SILENT_MS + 10)  # the station is back
    assert board.on_air


class FakeMachine(types.ModuleType):
    """MicroPython's `machine`, as much as the Pico wiring uses; anything else fails."""

    def __init__(self):
        super().__init__("machine")
        self.pins: dict[int, FakePin] = {}
        outer = self

        class Pin:
            IN, OUT, PULL_UP, PULL_DOWN = "IN", "OUT", "PULL_UP", "PULL_DOWN"

            def __new__(cls, number, mode=None, pull=None, *, value=None):
                pin = FakePin(number, mode, pull, value)
                outer.pins[number] = pin
                return pin

        class PWM:
            def __init__(self, pin):
                assert isinstance(pin, FakePin), "PWM takes a Pin"
                self.pin, self.frequency, self.duty = pin, None, None
                outer.pwm = self

            def freq(self, hz):
                self.frequency = hz

            def duty_u16(self, duty):
                assert 0 <= duty <= 65535, duty
                self.duty = duty

        self.Pin, self.PWM = Pin, PWM

    def __getattr__(self, name):
        raise AttributeError(f"the fake machine module has no {name!r}: the firmware started using it, add it here deliberately")


class FakePin:
    def __init__(self, number, mode, pull, value):
        self.number, self.mode, self.pull, self.level = number, mode, pull, value
        if mode == "IN" and self.level is None:
            self.level = 1 if pull == "PULL_UP" else 0

    def value(self, level=None):
        if level is None:
            return self.level
        assert self.mode == "OUT", f"pin {self.number} is an input"
        self.level = level


def test_the_pico_wiring_through_a_fake_machine_module(monkeypatch):
    machine = FakeMachine()
    monkeypatch.setitem(sys.modules, "machine", machine)
    board = firmware_main.PicoBoard()
    pins = machine.pins
    assert pins[firmware_main.PIN_BUTTON].pull == "PULL_UP" and not board.button_pressed()
    pins[firmware_main.PIN_BUTTON].level = 0
    assert board.button_pressed()
    for key, pin in firmware_main.PIN_KEYS.items():
        assert pins[pin].pull == "PULL_UP" and not board.key_pressed(key)
    pins[firmware_main.PIN_KEYS["NEXT"]].level = 0
    assert board.key_pressed("NEXT") and not board.key_pressed("PREV")

    sent = bytearray()
    clock = iter(range(0, 10_000, 5))
    incoming = [encode(1, "AIR", 1) + encode(2, "RING", 100)]
    firmware_main.serve(
        Firmware(board, 0),
        read_available=lambda: incoming.pop() if incoming else b"",
        write=sent.extend,
        now_ms=lambda: next(clock),
        sleep_ms=lambda ms: None,
        rounds=20,
    )
    kinds = [(m.kind, m.args) for m in FrameReader().feed(bytes(sent))]
    assert ("ACK", ("1",)) in kinds and ("EV", ("BUTTON", "DOWN")) in kinds and ("EV", ("NEXT", "DOWN")) in kinds
    assert pins[firmware_main.PIN_ON_AIR].level == 1
    assert machine.pwm.duty == 65535 and machine.pwm.frequency == firmware_main.PWM_FREQUENCY


def test_the_fake_machine_refuses_what_it_does_not_know():
    with pytest.raises(AttributeError, match="add it here deliberately"):
        FakeMachine().ADC
