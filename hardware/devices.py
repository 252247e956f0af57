"""Devices by their station.toml setting: the one reading of "simulated", "default" or a name.

Each station's composition root asks here (the booth's `exhibits.booth.compose`, the
wall's `exhibits.wall.voices`), so a setting means the same on every station.
"""

from __future__ import annotations

SIMULATED = "simulated"


def speaker_named(setting: str):
    """The speaker a setting names: "simulated", "default", or part of a device's name."""
    from hardware import audio, audio_sim

    if setting == SIMULATED:
        return audio_sim.SimulatedSpeaker()
    return audio.SoundDeviceSpeaker(None if setting == "default" else setting)
