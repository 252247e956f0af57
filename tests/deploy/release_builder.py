"""Builds tiny stand-in releases of `dossin-kiosk` as real wheels, for the release tests.

The release tool installs a wheelhouse with pip into a new virtualenv; installing the
real project (Kivy, SciPy, ...) there would take minutes and need the network. These
wheels are real enough for what the tool relies on: pip installs them offline, they
provide a `kiosk` command that answers `--version` like the real one, and `kiosk doctor`
that passes or fails as the test chose when it built the release.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

STAND_IN = '''\
import sys

VERSION = {version!r}
HEALTHY = {healthy!r}


def main():
    arguments = sys.argv[1:]
    if arguments == ["--version"]:
        print(f"kiosk, version {{VERSION}}")
        return 0
    if arguments[:1] == ["doctor"]:
        print("all checks ok" if HEALTHY else "display: no screen answers", file=sys.stdout if HEALTHY else sys.stderr)
        return 0 if HEALTHY else 1
    print(f"stand-in kiosk {{VERSION}} does not know {{arguments}}", file=sys.stderr)
    return 64
'''


def build_release_wheel(wheelhouse: Path, version: str, *, healthy: bool = True) -> Path:
    wheelhouse.mkdir(parents=True, exist_ok=True)
    dist_info = f"dossin_kiosk-{version}.dist-info"
    files = {
        "dossin_stand_in_kiosk.py": STAND_IN.format(version=version, healthy=healthy),
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: dossin-kiosk\nVersion: {version}\n",
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: release_builder\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist_info}/entry_points.txt": "[console_scripts]\nkiosk = dossin_stand_in_kiosk:main\n",
    }
    record_lines = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record_lines.append(f"{name},sha256={digest},{len(text.encode())}")
    record_lines.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = "\n".join(record_lines) + "\n"
    target = wheelhouse / f"dossin_kiosk-{version}-py3-none-any.whl"
    with zipfile.ZipFile(target, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
    return target
