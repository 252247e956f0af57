"""How long the booth's quality check takes on a 10 s take at 48 kHz.

    python bench/booth_quality.py [--runs N]

The path "stop -> review screen ready" (check + FLAC encode) has 150 ms on the booth's
2-core machine, so `analyze` should stay well under 80 ms for 10 s of 48 kHz mono. Run
this by hand after changing `exhibits/booth/quality.py` or `vad.py`; it is not a timed
test because a shared CI machine's timings say little. Needs espeak-ng for the voice.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exhibits.booth.quality import analyze

RATE = 48_000
SECONDS = 10.0
LONG_TEXT = (
    "From the Dossin barracks in Mechelen, twenty eight trains left between the fourth of "
    "August nineteen forty two and the thirty first of July nineteen forty four."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per take (default 30)")
    arguments = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        sys.exit("bench/booth_quality.py: espeak-ng is missing (scripts/setup installs it)")

    rng = np.random.default_rng(0)
    count = int(SECONDS * RATE)
    room = rng.normal(0.0, 10 ** (-60 / 20), count)
    name = _speak("Chaja Goldsztajn", "nl")
    sentence = np.resize(_speak(LONG_TEXT, "en"), count)  # speech from end to end
    takes = {
        "a name in room tone": _place(room, name, at=RATE),
        "speech throughout": sentence + room,
        "white noise": rng.normal(0.0, 0.1, count),
        "digital silence": np.zeros(count),
    }
    print(f"analyze() on {SECONDS:.0f} s of {RATE} Hz mono, {arguments.runs} runs each:")
    for label, take in takes.items():
        for dtype in (np.float32, np.float64):
            samples = take.astype(dtype)
            analyze(samples, RATE)  # warm-up: first-call costs are not the booth's steady state
            timings = []
            for _ in range(arguments.runs):
                started = time.perf_counter()
                report = analyze(samples, RATE)
                timings.append(time.perf_counter() - started)
            milliseconds = np.array(timings) * 1000
            print(
                f"  {label:20s} {np.dtype(dtype).name:7s} median {np.median(milliseconds):5.1f} ms, "
                f"max {milliseconds.max():5.1f} ms  -> {report.verdict}"
            )


def _speak(text: str, voice: str) -> np.ndarray:
    """espeak-ng's voice for `text`, resampled to RATE with sox."""
    with tempfile.TemporaryDirectory() as folder:
        spoken = Path(folder) / "spoken.wav"
        resampled = Path(folder) / "resampled.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(spoken), text], check=True)
        subprocess.run(["sox", str(spoken), "-r", str(RATE), str(resampled)], check=True)
        samples, _ = soundfile.read(resampled, dtype="float64")
    return samples


def _place(background: np.ndarray, speech: np.ndarray, at: int) -> np.ndarray:
    take = background.copy()
    take[at : at + speech.size] += speech[: take.size - at]
    return take


if __name__ == "__main__":
    main()
