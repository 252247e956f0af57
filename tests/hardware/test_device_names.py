"""Which devices a station may name, and how `kiosk station init` offers a gallery machine's cards.

A gallery machine's list (as PortAudio gives it on ALSA, card numbers and the sound
server's own devices included) cannot be had here without the cards: it is fed in as
recorded from `python -m sounddevice` on such a machine.
"""

from __future__ import annotations

import pytest

from hardware.audio import portaudio
from hardware.device_names import choose, devices_seen, is_stand_in

GALLERY_MACHINE = [
    {"name": "HDA Intel PCH: ALC892 Analog (hw:0,0)", "max_input_channels": 2, "max_output_channels": 2},
    {"name": "USB Audio Device: - (hw:1,0)", "max_input_channels": 1, "max_output_channels": 0},
    {"name": "Behringer UMC1820: USB Audio (hw:2,0)", "max_input_channels": 10, "max_output_channels": 28},
    {"name": "sysdefault", "max_input_channels": 128, "max_output_channels": 128},
    {"name": "front", "max_input_channels": 0, "max_output_channels": 2},
    {"name": "surround51", "max_input_channels": 0, "max_output_channels": 6},
    {"name": "pulse", "max_input_channels": 32, "max_output_channels": 32},
    {"name": "default", "max_input_channels": 32, "max_output_channels": 32},
]


class RecordedDeviceList:
    """Only what devices_seen asks of sounddevice; anything else fails loudly."""

    def query_devices(self, *args):
        assert not args, f"unexpected query_devices{args}"
        return GALLERY_MACHINE


@pytest.fixture
def gallery_machine(monkeypatch):
    monkeypatch.setattr(portaudio, "_sounddevice", RecordedDeviceList)


@pytest.mark.parametrize(("setting", "stand_in"), [("simulated", True), ("default", True), ("pulse", True), (" Pulse ", True),
                                                    ("USB Audio Device", False), ("pulse monitor card", False)])
def test_stand_ins(setting, stand_in):
    assert is_stand_in(setting) is stand_in


def test_the_cards_are_offered_without_their_numbers_and_without_the_routes(gallery_machine):
    names = [device.name for device in devices_seen()]
    assert names == ["HDA Intel PCH: ALC892 Analog", "USB Audio Device: -", "Behringer UMC1820: USB Audio"]


def test_the_first_microphone_and_the_widest_card_are_chosen(gallery_machine):
    seen = devices_seen()
    microphone, lines = choose("input", seen)
    assert microphone == "HDA Intel PCH: ALC892 Analog"
    assert lines[1:] == ['#   "HDA Intel PCH: ALC892 Analog" (2 ch)   <- chosen', '#   "USB Audio Device: -" (1 ch)',
                         '#   "Behringer UMC1820: USB Audio" (10 ch)']
    output, lines = choose("output", seen)
    assert output == "Behringer UMC1820: USB Audio" and len(lines) == 3  # the microphone-only device is not offered


def test_nothing_seen_writes_default_with_what_to_do():
    setting, lines = choose("input", [])
    assert setting == "default" and "python -m sounddevice" in " ".join(lines)
