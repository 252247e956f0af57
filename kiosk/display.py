"""A screen for machines that have none: a private Xvfb server for screenshots and demos.

A technician connected over SSH, CI and the demo on a headless box all need to see a
station. When no X display answers, we start Xvfb on a free display number for as long
as we need it, and stop it afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from kiosk.errors import KioskError

SOCKETS = Path("/tmp/.X11-unix")


def display_answers(display: str | None) -> bool:
    if not display or not display.startswith(":"):
        return bool(display)  # a remote display: trust the caller
    number = display[1:].split(".")[0]
    return (SOCKETS / f"X{number}").exists()


class VirtualDisplay:
    """Context manager: DISPLAY points at a working X server inside the block."""

    def __init__(self, width: int = 1920, height: int = 1080, *, force: bool = False):
        self.width = width
        self.height = height
        self.force = force
        self.process: subprocess.Popen | None = None
        self.display: str | None = None
        self._previous: str | None = None

    def __enter__(self) -> VirtualDisplay:
        self._previous = os.environ.get("DISPLAY")
        if not self.force and display_answers(self._previous):
            self.display = self._previous
            return self
        self.start()
        return self

    def start(self) -> None:
        xvfb = shutil.which("Xvfb")
        if not xvfb:
            raise KioskError("no screen here, and Xvfb (a virtual screen) is not installed", "run scripts/setup, or apt-get install xvfb xauth")
        number = next(n for n in range(90, 400) if not (SOCKETS / f"X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists())
        self.process = subprocess.Popen(
            [xvfb, f":{number}", "-screen", "0", f"{self.width}x{self.height}x24", "-nolisten", "tcp", "-noreset"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while not (SOCKETS / f"X{number}").exists():
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode(errors="replace").strip().splitlines()[-3:]
                raise KioskError(f"Xvfb could not start on :{number}: {' '.join(error)}", "run scripts/setup; check /tmp is writable")
            if time.monotonic() > deadline:
                self.stop()
                raise KioskError("Xvfb did not come up within 15 s", "check the machine's load and that Xvfb runs by hand")
            time.sleep(0.05)
        self.display = f":{number}"
        os.environ["DISPLAY"] = self.display

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __exit__(self, *exc) -> None:
        if self.process:
            self.stop()
            if self._previous is None:
                os.environ.pop("DISPLAY", None)
            else:
                os.environ["DISPLAY"] = self._previous
