"""What does the memorial cost while it plays, and does the pause between names hold?

    python bench/memorial.py [--duration S] [--pause S] [--channels N] [--names N] [--own-pulseaudio]

Plays a playlist of tone "names" (0.6 to 1.4 s, levels 30 dB apart, each transport on
its own channel) through the memorial's player and the real output
(`SoundDeviceMultichannel` on the ALSA "pulse" device) into a multichannel null sink,
for --duration seconds (30 by default), the loop stepping 10 times a second as the
station's does. Prints:

- CPU: user+system seconds of this process (the loop, decoding, loudness, the PortAudio
  callback thread) per second of wall time, from resource.getrusage.
- The gap between names against the configured pause, measured twice: from the output's
  own frame counter (when each clip ended and the next began), and from the sink's
  monitor recorded with parecord (silence between two tones, less the 0.2 s of silence
  each file carries). The null sink's clock is not wall time; the monitor measures
  what a listener would hear.

--own-pulseaudio starts a private PulseAudio (tests/harness) on machines without a sound server.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "exhibits" / "memorial"))

import soundfile  # noqa: E402

from memorial_support import entry_for, name_audio, put_in_library, sounding_stretches  # noqa: E402

from exhibits.memorial.library import Library  # noqa: E402
from exhibits.memorial.player import Player  # noqa: E402
from exhibits.memorial.playlist import ChannelMap, Playlist  # noqa: E402

ALSA_MAPS = {
    2: "front-left,front-right",
    4: "front-left,front-right,rear-left,rear-right",
    6: "front-left,front-right,rear-left,rear-right,front-center,lfe",
    8: "front-left,front-right,rear-left,rear-right,front-center,lfe,side-left,side-right",
}
PADDING_S = 0.2


class CountingPlayer(Player):
    """The player, keeping the output's events (frame counters) for the gap measurement."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.log: list[Any] = []
        drain = self.output.events

        def events() -> list[Any]:
            found = drain()
            self.log.extend(found)
            return found

        self.output.events = events  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--pause", type=float, default=1.0)
    parser.add_argument("--channels", type=int, default=4, choices=sorted(ALSA_MAPS))
    parser.add_argument("--names", type=int, default=12)
    parser.add_argument("--own-pulseaudio", action="store_true")
    args = parser.parse_args()

    from harness.pulse import PulseAudio

    daemon = None
    if args.own_pulseaudio:
        daemon = PulseAudio().start()
        os.environ.update(daemon.env)
    try:
        run(args, daemon)
    finally:
        if daemon is not None:
            daemon.stop()


def run(args: argparse.Namespace, daemon: Any) -> None:
    from hardware.multichannel.portaudio import SoundDeviceMultichannel

    sink = f"memorial{args.channels}"
    channel_map = ALSA_MAPS[args.channels]
    if daemon is None:
        raise SystemExit("give --own-pulseaudio (this bench records a private null sink's monitor)")
    daemon.add_sink(sink, args.channels, channel_map=channel_map)
    os.environ["PULSE_SINK"] = sink
    work = Path(tempfile.mkdtemp(prefix="bench-memorial-"))
    library = Library(work / "memorial")
    entries = []
    for number in range(args.names):
        audio = name_audio(200.0 + 60 * number, seconds=0.6 + (number % 5) * 0.2, level=0.5 / (1 + number % 4) ** 2)
        put_in_library(library.folder, audio)
        entries.append(entry_for(audio, f"p-{number}", f"T{number % args.channels}", number % args.channels, number))
    output = SoundDeviceMultichannel("pulse", args.channels)
    player = CountingPlayer(output, library, ChannelMap(args.channels), pause_s=args.pause, target_lufs=-23, peak_dbfs=-1)
    player.update(Playlist(entries))
    recording = work / "monitor.wav"
    with daemon.recording(recording, sink=sink, channels=args.channels, channel_map=channel_map):
        output.open()
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        while time.monotonic() - started < args.duration:
            player.step(True)
            time.sleep(0.1)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        output.close()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rate = output.sample_rate
    ends = {id(e.tag): e.frame for e in player.log if e.kind == "end"}
    counted = []
    previous_end = None
    for event in player.log:
        if event.kind == "start" and previous_end is not None:
            counted.append((event.frame - previous_end) / rate)
        if event.kind == "end":
            previous_end = event.frame
    del ends
    recorded, monitor_rate = soundfile.read(recording, dtype="float32", always_2d=True)
    stretches = sounding_stretches(recorded, monitor_rate)[:-1]  # the last one was cut by the end
    heard = [(b - a_end) / monitor_rate - PADDING_S for (_, a_end, _), (b, _, _) in zip(stretches, stretches[1:])]
    if os.environ.get("BENCH_VERBOSE"):
        for first, end, channel in stretches:
            print(f"  sound {first / monitor_rate:8.3f} s to {end / monitor_rate:8.3f} s on channel {channel + 1}")
    print(f"played {player.played} names in {wall:.1f} s wall time on {args.channels} channels; "
          f"skips {len(player.skips)}; late frames {output.mixer.late_frames}")
    print(f"CPU: {cpu:.2f} s user+system in {wall:.1f} s = {100 * cpu / wall:.1f} % of one core")
    for label, gaps in (("output frame counter", counted), ("recorded monitor", heard)):
        if gaps:
            print(f"gap between names ({label}): configured {args.pause:.3f} s, "
                  f"mean {statistics.mean(gaps):.4f} s, min {min(gaps):.4f} s, max {max(gaps):.4f} s, n={len(gaps)}")
        else:
            print(f"gap between names ({label}): no two names heard")


if __name__ == "__main__":
    main()
