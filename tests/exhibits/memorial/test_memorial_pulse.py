"""The memorial through a real audio path: PortAudio -> ALSA "pulse" -> a 4-channel null sink.

What the sink's monitor recorded is checked for the order of the names, the loudspeaker
of each transport, the loudness of each name and the pause between them.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent))

from memorial_support import dominant_frequency, entry_for, name_audio, put_in_library, sounding_stretches  # noqa: E402

from kiosk.loudness import integrated_loudness  # noqa: E402
from exhibits.memorial.library import Library  # noqa: E402
from exhibits.memorial.player import Player  # noqa: E402
from exhibits.memorial.playlist import ChannelMap, Playlist  # noqa: E402

SINK = "memorial4"
ALSA_4_CHANNELS = "front-left,front-right,rear-left,rear-right"
PAUSE_S = 0.6

pytestmark = [pytest.mark.audio, pytest.mark.slow]


def test_a_short_playlist_sounds_in_order_each_transport_from_its_channel_at_one_loudness(pulse, tmp_path, monkeypatch):
    from hardware.multichannel.portaudio import SoundDeviceMultichannel

    pulse.add_sink(SINK, 4, channel_map=ALSA_4_CHANNELS)
    monkeypatch.setenv("PULSE_SINK", SINK)  # the ALSA "pulse" device plays into this sink
    # (transport, position, list number, frequency, level): four transports, one twice.
    specs = [
        ("I", 0, 1, 250.0, 0.4),
        ("I", 0, 2, 350.0, 0.03),
        ("II", 1, 1, 450.0, 0.2),
        ("III", 2, 4, 650.0, 0.05),
        ("IV", 3, 1, 850.0, 0.6),
    ]
    library = Library(tmp_path / "memorial")
    entries = []
    for transport, position, number, frequency, level in specs:
        audio = name_audio(frequency, level=level)
        put_in_library(library.folder, audio)
        entries.append(entry_for(audio, f"p-{transport}-{number}", transport, position, number))
    output = SoundDeviceMultichannel("pulse", 4, retry_interval=1.0)
    player = Player(output, library, ChannelMap(4), pause_s=PAUSE_S, target_lufs=-23, peak_dbfs=-1)
    player.update(Playlist(reversed(entries)))
    recording = tmp_path / "monitor.wav"
    with pulse.recording(recording, sink=SINK, channels=4, channel_map=ALSA_4_CHANNELS):
        output.open()
        try:
            deadline = time.monotonic() + 60
            while player.played < len(specs) + 1 and time.monotonic() < deadline:
                player.step(True)
                time.sleep(0.05)
            time.sleep(0.3)
        finally:
            output.close()
    assert player.played >= len(specs) + 1, f"only {player.played} names started in 60 s; problem: {output.last_problem}"
    recorded, rate = soundfile.read(recording, dtype="float32", always_2d=True)
    assert recorded.shape[1] == 4
    stretches = sounding_stretches(recorded, rate)[: len(specs)]
    heard = [round(dominant_frequency(recorded[a:b, c], rate) / 50) * 50 for a, b, c in stretches]
    assert heard == [250, 350, 450, 650, 850]
    assert [channel for _, _, channel in stretches] == [0, 0, 1, 2, 3]
    for first, end, channel in stretches:
        edge = int(0.1 * rate)
        name = recorded[max(0, first - edge) : end + edge]
        assert integrated_loudness(name[:, channel].astype(np.float64), rate) == pytest.approx(-23, abs=0.5)
        others = np.delete(name, channel, axis=1)
        assert np.max(np.abs(others)) < 1e-3  # no other loudspeaker sounds
    gaps = [(b_first - a_end) / rate for (_, a_end, _), (b_first, _, _) in zip(stretches, stretches[1:])]
    assert gaps == pytest.approx([PAUSE_S + 0.2] * 4, abs=0.05)
