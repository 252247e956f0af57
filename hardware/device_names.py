"""Which sound devices a station may name in station.toml, and the ones this machine shows.

A gallery station names its devices themselves ("USB Audio Device"), never a stand-in:
"pulse" and "default" play or record whatever the sound server picks, so a microphone
that is unplugged is silently replaced by another source, and "simulated" is no device
at all. Only a station that `kiosk demo` made ([station] demo = true) may use them; the
doctor fails any other that does, and `kiosk station init` writes the devices it sees.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from hardware.devices import DEFAULT, SIMULATED

STAND_INS = (SIMULATED, DEFAULT, "pulse")
# ALSA's and the sound servers' own devices: routes to some device, never a device.
_ROUTES = {
    "default", "sysdefault", "pulse", "pipewire", "jack", "dmix", "dsnoop", "null", "oss",
    "lavrate", "samplerate", "speexrate", "speex", "upmix", "vdownmix", "simulated",
    # ALSA's names for a card's outputs, listed beside the card itself
    "front", "rear", "center_lfe", "side", "surround21", "surround40", "surround41",
    "surround50", "surround51", "surround71", "iec958", "spdif", "hdmi", "modem", "phoneline",
}
_CARD_NUMBER = re.compile(r"\s*\(hw:\d+,\d+\)$")


def is_stand_in(setting: str) -> bool:
    """True for a setting that names no device of its own: "simulated", "default", "pulse"."""
    return setting.strip().lower() in STAND_INS


@dataclass(frozen=True)
class SeenDevice:
    """A device as a station.toml names it: its name without the card number, which changes
    when devices come and go."""

    name: str
    inputs: int
    outputs: int


def devices_seen() -> list[SeenDevice]:
    """The real sound devices PortAudio lists now; none when there is no PortAudio or card."""
    try:
        from hardware.audio.portaudio import _sounddevice

        listed = _sounddevice().query_devices()
    except Exception:  # no PortAudio, no sound server: nothing to choose from
        return []
    seen: dict[str, SeenDevice] = {}
    for info in listed:
        name = _CARD_NUMBER.sub("", str(info["name"])).strip()
        if not name or re.split(r"[:\s]", name.lower(), maxsplit=1)[0] in _ROUTES:
            continue
        seen.setdefault(name, SeenDevice(name, int(info["max_input_channels"]), int(info["max_output_channels"])))
    return list(seen.values())


def choose(kind: str, devices: list[SeenDevice], *, channels: int = 1) -> tuple[str, list[str]]:
    """The setting for KIND ("input" or "output") and comment lines listing what there is.

    The first device with enough channels is chosen (for an output, the one with the most
    channels: the memorial's card); with none, "default", which the doctor refuses until a
    technician names the device.
    """
    usable = [d for d in devices if (d.inputs if kind == "input" else d.outputs) >= channels]
    if kind == "output":
        usable.sort(key=lambda d: -d.outputs)
    if not usable:
        return "default", [f"# no {kind} device was seen when this file was written: plug it in, list the",
                           "# devices with `python -m sounddevice` and write part of its name here"]
    chosen = usable[0].name
    lines = [f"# {kind} devices seen by `kiosk station init` (write part of one's name):"]
    for device in usable:
        count = device.inputs if kind == "input" else device.outputs
        lines.append(f"#   {json.dumps(device.name, ensure_ascii=False)} ({count} ch){'   <- chosen' if device.name == chosen else ''}")
    return chosen, lines
