"""Peak memory of `kiosk booth analyze` on long files, beside a whole-file decode.

    python bench/booth_analyze_memory.py [--no-baseline]

Writes three files into a temporary folder: an hour of silence (48 kHz mono FLAC, the
issue's "588 KB that took 7 GB"), 59 s at 384 kHz on 8 channels (the longest take
accepted, read in blocks), and a FLAC whose header declares 30 minutes at 384 kHz on 8
channels. Each is checked by `kiosk booth analyze --json` in a child process; the
baseline, measured in the same run, is a child that only decodes the same file whole
(`soundfile.read`, as the check read files before): the least the old way cost.
`--no-baseline` skips it on a machine without a few GB to spare. Peak memory is the
child's maximum resident set size (as `/usr/bin/time -v` reports it).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile

ANALYZE = [sys.executable, "-m", "kiosk", "booth", "analyze", "--json"]
DECODE = [sys.executable, "-c", "import sys, soundfile; soundfile.read(sys.argv[1], dtype='float64', always_2d=True)"]
# A child reporting the peak memory of its own child (RUSAGE_CHILDREN counts only those waited for).
MEASURE = (
    "import json, resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "print(json.dumps({'rc': done.returncode, 'out': done.stdout, 'err': done.stderr[-300:], "
    "'kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))"
)


def peak(command: list[str]) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def silent_hour(path: Path) -> Path:
    with soundfile.SoundFile(path, "w", 48_000, 1, subtype="PCM_16", format="FLAC") as hour:
        second = np.zeros(48_000, dtype=np.int16)
        for _ in range(3600):
            hour.write(second)
    return path


def array_take(path: Path, seconds: float = 59.0, rate: int = 384_000, channels: int = 8) -> Path:
    block = rate  # one second at a time
    t = np.arange(block) / rate
    tone = (0.05 * np.sin(2 * np.pi * 300 * t) * 32767).astype(np.int16)
    frames = np.repeat(tone[:, np.newaxis], channels, axis=1)
    with soundfile.SoundFile(path, "w", rate, channels, subtype="PCM_16", format="FLAC") as take:
        for _ in range(int(seconds)):
            take.write(frames)
    return path


def declared_half_hour(path: Path) -> Path:
    soundfile.write(path, np.zeros((19_200, 8), dtype=np.int16), 384_000, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    packed = int.from_bytes(data[18:26], "big")
    data[18:26] = ((packed >> 36 << 36) | 30 * 60 * 384_000).to_bytes(8, "big")
    path.write_bytes(bytes(data))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-baseline", action="store_true", help="skip the whole-file decode (needs a few GB)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="analyze-memory-") as folder:
        files = [
            ("an hour of silence, 48 kHz mono", silent_hour(Path(folder) / "hour.flac")),
            ("59 s, 384 kHz, 8 channels", array_take(Path(folder) / "array.flac")),
            ("header says 30 min, 384 kHz, 8 ch", declared_half_hour(Path(folder) / "declared.flac")),
        ]
        print(f"{'file':<36} {'size':>9} {'verdict':>10} {'analyze MB':>11} {'decode MB':>10}")
        for label, path in files:
            checked = peak([*ANALYZE, str(path)])
            verdict = json.loads(checked["out"])["verdict"] if checked["rc"] == 0 else f"exit {checked['rc']}"
            baseline = "-"
            if not arguments.no_baseline:
                decoded = peak([*DECODE, str(path)])
                baseline = f"{decoded['kb'] / 1024:.0f}" if decoded["rc"] == 0 else "failed"
            size = f"{path.stat().st_size / 1024:.0f} kB"
            print(f"{label:<36} {size:>9} {verdict:>10} {checked['kb'] / 1024:>11.0f} {baseline:>10}")
    print(f"(this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
