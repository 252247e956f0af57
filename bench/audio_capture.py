"""Does the booth's microphone keep every block while the machine is busy?

    python bench/audio_capture.py [--duration S] [--device NAME] [--busy N] [--own-pulseaudio]

Captures one long take (10 minutes by default) from the microphone named like --device
while N processes spin on the CPU (by default one per core), polling check() every second
and level() 30 times a second as the booth does. Prints the input overflows, the samples
captured against the wall time, and the longest gap between two audio callbacks, which is
what `stall_timeout` must stay above. Run it after changing hardware/audio/, and on a new
station model with its own microphone.

On a null sink (--own-pulseaudio starts a private PulseAudio for machines without a sound
server) the sink's clock is not wall time, so "captured vs expected" measures that clock
as much as any loss; overflows are what count.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hardware.audio.api import MicrophoneState  # noqa: E402
from hardware.audio.portaudio import SoundDeviceMicrophone  # noqa: E402


class TimedMicrophone(SoundDeviceMicrophone):
    """The real microphone, noting the longest wait between two of its callbacks."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.callbacks = 0
        self.longest_gap = 0.0
        self._previous_callback: float | None = None

    def _audio_callback(self, token: int, indata: np.ndarray, frames: int, when: Any,
                        status: Any) -> None:
        now = time.perf_counter()
        if self._previous_callback is not None:
            self.longest_gap = max(self.longest_gap, now - self._previous_callback)
        self._previous_callback = now
        self.callbacks += 1
        super()._audio_callback(token, indata, frames, when, status)


def _spin() -> None:
    while True:
        pass


def _private_pulseaudio() -> Any:
    """Start the test harness's private PulseAudio and point this process at it."""
    sys.path.insert(0, str(ROOT / "tests"))
    from harness.pulse import PulseAudio

    daemon = PulseAudio().start()
    os.environ.update(daemon.env)
    return daemon


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds to capture")
    parser.add_argument("--device", default="pulse", help="part of the input device's name")
    parser.add_argument("--busy", type=int, default=os.cpu_count() or 2,
                        help="busy-loop processes to start (default: one per core)")
    parser.add_argument("--blocksize", type=int, default=1024)
    parser.add_argument("--latency", default="high", help='"high", "low" or seconds')
    parser.add_argument("--own-pulseaudio", action="store_true",
                        help="start a private PulseAudio with a null sink (needs pulseaudio)")
    args = parser.parse_args()
    latency = args.latency if args.latency in ("high", "low") else float(args.latency)

    daemon = _private_pulseaudio() if args.own_pulseaudio else None
    # sounddevice lists devices when first imported: after the sound server is there.
    mic = TimedMicrophone(args.device, blocksize=args.blocksize, latency=latency)
    spinners: list[Any] = []
    try:
        mic.open()
        deadline = time.monotonic() + 10
        while mic.level() is None:
            if time.monotonic() > deadline:
                raise SystemExit(f"no sound from {mic.name} within 10 s")
            time.sleep(0.01)
        print(f"cores: {os.cpu_count()}, busy processes: {args.busy}, "
              f"device: {args.device!r}, blocksize: {args.blocksize}, "
              f"latency: {args.latency}, duration: {args.duration:g} s")

        # Spawned, not forked: a fork would copy PortAudio's running threads' state.
        spawn = multiprocessing.get_context("spawn")
        spinners = [spawn.Process(target=_spin, daemon=True) for _ in range(args.busy)]
        for spinner in spinners:
            spinner.start()
        callbacks_before = mic.callbacks
        mic.longest_gap = 0.0

        states: dict[str, int] = {}
        mic.start_capture()
        started = time.monotonic()
        next_check = started + 1.0
        next_report = started + 60.0
        while (now := time.monotonic()) - started < args.duration:
            mic.level()
            if now >= next_check:
                state = mic.check()
                states[state.name] = states.get(state.name, 0) + 1
                if state is MicrophoneState.LOST:
                    print(f"  {now - started:6.0f} s: LOST ({mic.last_problem})", flush=True)
                next_check += 1.0
            if now >= next_report:
                print(f"  {now - started:6.0f} s: overflows so far {mic.overflows_total}, "
                      f"longest callback gap {mic.longest_gap * 1000:.0f} ms", flush=True)
                next_report += 60.0
            time.sleep(1 / 30)
        take = mic.stop_capture()
        elapsed = time.monotonic() - started
    finally:
        for spinner in spinners:
            spinner.terminate()
        for spinner in spinners:
            spinner.join()
        mic.close()
        if daemon is not None:
            daemon.stop()

    expected = elapsed * take.sample_rate
    captured = len(take.samples)
    print(f"wall time:           {elapsed:10.1f} s")
    print(f"samples captured:    {captured:10d}  ({captured / take.sample_rate:.1f} s)")
    print(f"samples expected:    {expected:10.0f}  (wall time x {take.sample_rate} Hz)")
    print(f"captured / expected: {captured / expected:10.4f}")
    print(f"input overflows:     {take.overflows:10d}  in the take, {mic.overflows_total} in total")
    print(f"callbacks:           {mic.callbacks - callbacks_before:10d}  "
          f"longest gap {mic.longest_gap * 1000:.0f} ms (stall_timeout {mic.stall_timeout:g} s)")
    print(f"take lost:           {take.lost!s:>10}  checks: {states}")


if __name__ == "__main__":
    main()
