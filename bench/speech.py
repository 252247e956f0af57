"""How long from a touch in audio mode to the first sound of the control's spoken name?

    python bench/speech.py [--names N] [--own-pulseaudio]

A visitor touches a control; the guide (kiosk.accessibility) says its name through
kiosk.speech and the station's real speaker (`SoundDeviceSpeaker` on the ALSA "pulse"
device). Measured from the touch to the moment the speaker's output stream has started
(PortAudio calls for the first block right then), for N different control names, three
ways in the same run:

- baseline: the same samples, already decoded, handed to the speaker directly at the touch;
- warm: the name was said before (or prepared with the screen): from the cache;
- cold: the name was never said: espeak-ng makes it first.

Prints one line per way (median and 95th percentile, ms), then one JSON object with the
figures. --own-pulseaudio starts a private PulseAudio with a null sink (tests/harness).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from hardware.audio.portaudio import SoundDeviceSpeaker  # noqa: E402
from kiosk.accessibility import AudioGuide, Control, ScreenWords  # noqa: E402
from kiosk.speech import Speech, SpeechCache  # noqa: E402

NAMES = [
    "Zoeken, knop", "Terug, knop", "Volgende, knop", "Vorige, knop", "Luister naar de naam, knop",
    "Transporten, knop", "Letter A", "Letter B", "Jaren 1920", "Nederlands", "Français", "English",
    "Opnieuw beginnen, knop", "Ik ben er nog, knop", "Opnemen, knop", "Nog eens opnemen, knop",
]


class TimedSpeaker(SoundDeviceSpeaker):
    """The real speaker, noting when each play() has its stream running."""

    def __init__(self, device: str):
        super().__init__(device)
        self.started = threading.Event()
        self.started_at = 0.0

    def play(self, samples, sample_rate) -> None:
        super().play(samples, sample_rate)
        self.started_at = time.perf_counter()
        self.started.set()


def timed(speaker: TimedSpeaker, action) -> float:
    speaker.started.clear()
    touched = time.perf_counter()
    action()
    if not speaker.started.wait(30):
        raise SystemExit("the speaker never started: is PulseAudio running? (--own-pulseaudio)")
    elapsed = speaker.started_at - touched
    time.sleep(0.05)
    speaker.stop()
    return elapsed * 1000


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median_ms": round(statistics.median(ordered), 2), "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2)}


def run(count: int) -> dict:
    names = (NAMES * (count // len(NAMES) + 1))[:count]
    names = [f"{name} {index}" if index >= len(NAMES) else name for index, name in enumerate(names)]
    speaker = TimedSpeaker("pulse")
    with tempfile.TemporaryDirectory() as folder:
        cache = SpeechCache(Path(folder))
        speech = Speech(speaker, cache)
        guide = AudioGuide(lambda text: speech.say(text, "nl"), speech.stop)
        words = ScreenWords("bench", "Een scherm om te meten.", tuple(Control(f"c{i}", name) for i, name in enumerate(names)))
        try:
            cold, warm, baseline = [], [], []
            for index, name in enumerate(names):
                guide.arrive(words)
                cold.append(timed(speaker, lambda: guide.touch(f"c{index}")))
            for index, name in enumerate(names):
                guide.arrive(words)
                warm.append(timed(speaker, lambda: guide.touch(f"c{index}")))
            for name in names:
                spoken = cache.get(name, "nl")
                baseline.append(timed(speaker, lambda: speaker.play(spoken.samples, spoken.sample_rate)))
        finally:
            speech.close()
    return {"names": count, "baseline": summary(baseline), "warm": summary(warm), "cold": summary(cold)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--names", type=int, default=32)
    parser.add_argument("--own-pulseaudio", action="store_true")
    args = parser.parse_args()
    daemon = None
    if args.own_pulseaudio:
        from harness.pulse import PulseAudio

        daemon = PulseAudio().start()
        os.environ.update(daemon.env)
        os.environ["PULSE_SINK"] = daemon.sink
    try:
        figures = run(args.names)
    finally:
        if daemon is not None:
            daemon.stop()
    for way in ("baseline", "warm", "cold"):
        print(f"{way:>9}: median {figures[way]['median_ms']:7.2f} ms   p95 {figures[way]['p95_ms']:7.2f} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
