"""How long a participant waits between "stop" and the review screen, and what keeping costs.

    python bench/booth.py [--takes N]

Drives the real `BoothFlow` with the simulated microphone fed 10 s of audio (espeak-ng
reading a name, in booth quiet), the real quality check and the real take store on this
disk, and times:
- stop → review ready: `flow.stop()` (the capture handed over and checked) and the first
  frame of the review (the Kivy screen switch, measured separately by the GUI test, is a
  fade of 0.25 s the participant sees as movement, not as waiting);
- the FLAC encode of the same take alone (part of `keep()`), and `keep()` whole (encode,
  hash, fsyncs, renames), which runs when the participant touches "keep".
The target for stop → review ready with check + encode is under 150 ms.

Input overflows during a 10-minute capture with both cores loaded: bench/audio_capture.py.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exhibits.booth.flow import BoothFlow, Step, Timing  # noqa: E402
from exhibits.booth.names import LocalNameSource  # noqa: E402
from exhibits.booth.quality import analyze  # noqa: E402
from exhibits.booth.take_store import TakeStore  # noqa: E402
from hardware.audio.simulated import SimulatedMicrophone, SimulatedSpeaker  # noqa: E402
from kiosk.collection import load_collection, write_demo  # noqa: E402
from kiosk.clock import ManualClock  # noqa: E402

RATE = 48_000
BLOCK = 960


def ten_seconds_of_reading(folder: Path) -> np.ndarray:
    path = folder / "name.wav"
    subprocess.run(["espeak-ng", "-v", "nl", "-w", str(path), "Chaja Goldsztajn"], check=True)
    speech, rate = soundfile.read(path, dtype="float32")
    speech = np.interp(np.arange(int(len(speech) * RATE / rate)) / RATE, np.arange(len(speech)) / rate, speech)
    take = np.random.default_rng(0).standard_normal(10 * RATE).astype(np.float32) * 10 ** (-60 / 20)
    take[3 * RATE : 3 * RATE + len(speech)] += 0.5 * speech.astype(np.float32)
    return take


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"p50 {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms   max {ordered[-1]:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--takes", type=int, default=30, help="takes to time (default 30)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-booth-") as scratch:
        folder = Path(scratch)
        write_demo(folder / "collection", count=200, seed=1)
        collection = load_collection(folder / "collection")
        take = ten_seconds_of_reading(folder)
        # Silence after the take, so the simulated device has something to give after it.
        source = np.concatenate([np.zeros(3 * RATE, dtype=np.float32), take])

        stop_ms, encode_ms, keep_ms = [], [], []
        for index in range(args.takes):
            clock = ManualClock(0.0)
            microphone = SimulatedMicrophone(source, RATE, blocksize=BLOCK, realtime=False, clock=clock)
            store = TakeStore(folder / f"takes-{index}", "booth-1")
            flow = BoothFlow(
                clock=clock,
                names=LocalNameSource(collection, voiced=set()),
                microphone=microphone,
                speaker=SimulatedSpeaker(clock=clock),
                store=store,
                analyze=analyze,
                timing=Timing(countdown_s=3, max_recording_s=60, silence_to_stop_s=60),
            )
            flow.start()
            flow.begin("nl")
            flow.choose_age("18+")
            flow.agree()
            flow.choose_way("next")
            flow.accept_name()
            flow.ready()
            while flow.step is not Step.RECORDING:
                clock.advance(BLOCK / RATE)
                microphone.deliver(1)
                flow.tick()
            for _ in range(int(9 * RATE / BLOCK)):  # with the lead-in second: a 10 s take
                clock.advance(BLOCK / RATE)
                microphone.deliver(1)
                flow.tick()

            started = time.perf_counter()
            flow.stop()
            stop_ms.append((time.perf_counter() - started) * 1000)
            assert flow.step is Step.REVIEW

            samples = flow.review.samples
            started = time.perf_counter()
            soundfile.write(io.BytesIO(), samples, RATE, format="FLAC", subtype="PCM_24")
            encode_ms.append((time.perf_counter() - started) * 1000)

            started = time.perf_counter()
            flow.keep()
            keep_ms.append((time.perf_counter() - started) * 1000)
            microphone.close()

        seconds = len(samples) / RATE
        print(f"booth bench: {args.takes} takes of {seconds:.1f} s at 48 kHz, verdict {analyze(samples, RATE).verdict}")
        print(f"  stop -> review ready (capture handed over + check)   {percentiles(stop_ms)}")
        print(f"  FLAC encode of the take (24-bit, in memory)          {percentiles(encode_ms)}")
        combined = [a + b for a, b in zip(stop_ms, encode_ms)]
        print(f"  check + encode (the target: under 150 ms)            {percentiles(combined)}")
        print(f"  keep(): encode, hash, fsync, rename, sidecar         {percentiles(keep_ms)}")


if __name__ == "__main__":
    main()
