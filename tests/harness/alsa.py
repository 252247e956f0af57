"""Sound devices with names of their own, as a gallery machine's cards have, on the test sound server.

A station must name its devices ("USB Audio Device"), never "pulse" or "default". Here
there is no card, so an ALSA configuration in a private HOME (`~/.asoundrc`) gives the
PulseAudio sinks and sources of the harness their own device names: PortAudio lists
them like a card (`python -m sounddevice`), and they record from or play into exactly
that sink or source.
"""

from __future__ import annotations

import os
from pathlib import Path


def named_devices(home: Path, devices: dict[str, str]) -> dict[str, str]:
    """Devices NAME -> PulseAudio sink or source; returns the environment that sees them.

    Pass the environment to a child process (the station, the doctor); `home` becomes its HOME.
    """
    home.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, pulse_device in devices.items():
        lines += [f"pcm.{name} {{", "    type pulse", f'    device "{pulse_device}"',
                  f'    hint {{ show on description "{name} (test device)" }}', "}"]
    (home / ".asoundrc").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {**os.environ, "HOME": str(home)}
