"""Devices by their station.toml setting: the one reading of "simulated", "default" or a name.

Each station's composition root asks here (the booth's `exhibits.booth.compose`, the
wall's `exhibits.wall.voices`, the memorial's `exhibits.memorial.app`), so a setting means
the same on every station and the choice between real and simulated is made in one
place. Nothing is imported before it is chosen: a station with real devices never loads
a simulation, and one with simulations never loads PortAudio.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hardware.audio.api import Microphone, Speaker
    from hardware.controller.link import Controller
    from hardware.multichannel.api import MultichannelOutput

SIMULATED = "simulated"
DEFAULT = "default"
NO_CONTROLLER = "none"


def microphone_named(setting: str, *, reading: Callable[[], tuple[str, str] | None] | None = None,
                     synthesize: Callable | None = None) -> Microphone:
    """The microphone a setting names: "simulated", or part of a device's name.

    READING and SYNTHESIZE (a demo's booth only): the simulated microphone hears a
    participant read aloud what READING returns, (text, language), at every take, in
    the voice SYNTHESIZE makes (`hardware.audio.reader`).
    """
    if setting == SIMULATED:
        if reading is not None and synthesize is not None:
            from hardware.audio.reader import ReadingMicrophone

            return ReadingMicrophone(reading, synthesize)
        from hardware.audio.simulated import SimulatedMicrophone

        return SimulatedMicrophone(None)
    from hardware.audio.portaudio import SoundDeviceMicrophone

    return SoundDeviceMicrophone(setting)


def speaker_named(setting: str) -> Speaker:
    """The speaker a setting names: "simulated", "default", or part of a device's name."""
    if setting == SIMULATED:
        from hardware.audio.simulated import SimulatedSpeaker

        return SimulatedSpeaker()
    from hardware.audio.portaudio import SoundDeviceSpeaker

    return SoundDeviceSpeaker(None if setting == DEFAULT else setting)


def multichannel_named(setting: str, channels: int) -> MultichannelOutput:
    """The memorial's sound card a setting names: "simulated" (in real time), or part of a name."""
    if setting == SIMULATED:
        from hardware.multichannel.simulated import SimulatedMultichannel

        return SimulatedMultichannel(channels, realtime=True, keep=False)
    from hardware.multichannel.portaudio import SoundDeviceMultichannel

    return SoundDeviceMultichannel(setting, channels)


def controller_named(setting: str, *, pty_path: Path, station_version: str) -> Controller:
    """The booth's controller: "none" (touch only), "simulated" (firmware on a pty), or its port."""
    from hardware.controller.link import NoController, SerialController

    if setting == NO_CONTROLLER:
        return NoController()
    if setting == SIMULATED:
        from hardware.controller.simulator import SimulatedSerialController

        return SimulatedSerialController(pty_path, station_version=station_version)
    return SerialController(setting, station_version=station_version)
