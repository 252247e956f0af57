"""A screen for Kivy: reuse the X server in DISPLAY if one answers, else start Xvfb.

Kivy 2.3.1's SDL2 window opens on Xvfb with Mesa's software OpenGL, so GUI tests run
real windows, real shaders and real screenshots on a machine without a screen.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.tools import HarnessError, require_program, tail, wait_until

SCREEN_SIZE = (1280, 800)
SOCKET_DIR = Path("/tmp/.X11-unix")
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Display:
    """The X display tests draw on. `size` is None for a server we did not start."""

    name: str
    size: tuple[int, int] | None
    started_here: bool


def x_server_answers(display: str, timeout: float = 2.0) -> bool:
    """Whether an X server answers on `display` (":N", ":N.S", "unix:N", "host:N").

    Sends the X11 connection setup request and accepts any well-formed reply: a server
    that asks for authorisation still answers, and clients find the cookie through
    XAUTHORITY as usual (this is how `xvfb-run scripts/test` works).
    """
    host, separator, rest = display.rpartition(":")
    if not separator:
        return False
    number_text = rest.split(".", 1)[0]
    if not number_text.isdigit():
        return False
    number = int(number_text)
    try:
        if host in ("", "unix"):
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            address: object = str(SOCKET_DIR / f"X{number}")
        else:
            connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            address = (host, 6000 + number)
        with connection:
            connection.settimeout(timeout)
            connection.connect(address)
            # Little-endian setup request, protocol 11.0, no authorisation data.
            connection.sendall(b"l\x00" + struct.pack("<HHHH", 11, 0, 0, 0) + b"\x00\x00")
            status = connection.recv(1)
    except OSError:
        return False
    return status in (b"\x00", b"\x01", b"\x02")


class Xvfb:
    """One Xvfb server on the first free display number from `first_number` up."""

    def __init__(
        self,
        size: tuple[int, int] = SCREEN_SIZE,
        depth: int = 24,
        first_number: int = 99,
        startup_timeout: float = 15.0,
    ):
        self.size = size
        self.depth = depth
        self.first_number = first_number
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self.display: Display | None = None
        self._log_dir: tempfile.TemporaryDirectory | None = None

    def start(self) -> Display:
        executable = require_program("Xvfb", "xvfb")
        self._log_dir = tempfile.TemporaryDirectory(prefix="xvfb-")
        for number in range(self.first_number, self.first_number + 100):
            if self._display_taken(number):
                continue
            if self._try_start(executable, number):
                self.display = Display(f":{number}", self.size, started_here=True)
                return self.display
        raise HarnessError(
            f"no free X display between :{self.first_number} and :{self.first_number + 99}"
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
            self.process = None
        if self._log_dir is not None:
            self._log_dir.cleanup()
            self._log_dir = None
        self.display = None

    @staticmethod
    def _display_taken(number: int) -> bool:
        return Path(f"/tmp/.X{number}-lock").exists() or (SOCKET_DIR / f"X{number}").exists()

    def _try_start(self, executable: str, number: int) -> bool:
        """Start Xvfb on :number; False if another server took the number meanwhile."""
        assert self._log_dir is not None
        log_path = Path(self._log_dir.name) / f"Xvfb-{number}.log"
        width, height = self.size
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [executable, f":{number}", "-screen", "0", f"{width}x{height}x{self.depth}",
                 "-nolisten", "tcp"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: a Ctrl-C in the terminal reaches pytest, which stops
                # Xvfb after the last GUI test; and if pytest dies, Xvfb goes with it.
                start_new_session=True,
                preexec_fn=_terminate_with_parent,
            )
        socket_path = SOCKET_DIR / f"X{number}"

        def exited() -> str | None:
            if process.poll() is None:
                return None
            return f"Xvfb :{number} exited with status {process.returncode}"

        try:
            wait_until(
                socket_path.exists,
                timeout=self.startup_timeout,
                waiting_for=f"Xvfb to create {socket_path}",
                still_worth_waiting=exited,
            )
            wait_until(
                lambda: x_server_answers(f":{number}"),
                timeout=self.startup_timeout,
                waiting_for=f"Xvfb :{number} to answer",
                still_worth_waiting=exited,
            )
        except HarnessError as error:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=5)
            log_text = tail(log_path)
            if "already active" in log_text.lower():
                return False
            raise HarnessError(f"{error}\nXvfb said:\n{log_text}") from None
        self.process = process
        return True


def _terminate_with_parent() -> None:
    """In the child before exec: ask Linux for SIGTERM when the parent thread exits."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def existing_display() -> Display | None:
    """The display in DISPLAY if a server answers there, else None."""
    name = os.environ.get("DISPLAY", "")
    if name and x_server_answers(name):
        return Display(name, None, started_here=False)
    return None
