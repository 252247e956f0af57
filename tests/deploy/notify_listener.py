"""What systemd sees of a service: a NOTIFY_SOCKET the test binds, and a way to hang a
service's main thread from outside.

`freeze_main_thread` stops only the main thread of a process (ptrace, PTRACE_SEIZE and
PTRACE_INTERRUPT on the thread whose id is the process id), the way a hung UI or a
blocked event loop looks: every other thread runs on. Production code has no hook to
hang itself; the test hangs it the way a debugger would.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WAIT_ALL = 0x40000000  # __WALL: wait for a thread, not only for a child process

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
_libc.ptrace.restype = ctypes.c_long


class NotifyListener:
    """A datagram socket standing in for systemd's notification socket."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.received: list[tuple[float, str]] = []

    def close(self) -> None:
        self.sock.close()

    def messages(self, within_s: float) -> list[str]:
        """Every message that arrives within WITHIN_S seconds from now."""
        found: list[str] = []
        deadline = time.monotonic() + within_s
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                break
            self.received.append((time.monotonic(), data.decode()))
            found.append(data.decode())
        return found

    def wait_for(self, wanted: str, timeout_s: float) -> list[str]:
        """Messages up to and including the first one that contains WANTED."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                message = self.sock.recv(4096).decode()
            except TimeoutError:
                break
            self.received.append((time.monotonic(), message))
            seen.append(message)
            if wanted in message.splitlines():
                return seen
        raise AssertionError(f"no {wanted!r} within {timeout_s} s; got {seen}")


def thread_states(pid: int) -> dict[int, str]:
    """Thread id -> state letter from /proc (R running, S sleeping, t stopped by a tracer)."""
    states = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = (task / "stat").read_text()
        states[int(task.name)] = stat.rsplit(")", 1)[1].split()[0]
    return states


@contextlib.contextmanager
def freeze_main_thread(pid: int) -> Iterator[None]:
    for request in (PTRACE_SEIZE, PTRACE_INTERRUPT):
        if _libc.ptrace(request, pid, None, None) != 0:
            error = ctypes.get_errno()
            raise AssertionError(
                f"cannot freeze process {pid} with ptrace: {os.strerror(error)}; this test needs to trace its own "
                "child (kernel.yama.ptrace_scope at most 1, or CAP_SYS_PTRACE)"
            )
    os.waitpid(pid, WAIT_ALL)  # the interrupt has taken effect: the thread is stopped
    try:
        yield
    finally:
        _libc.ptrace(PTRACE_DETACH, pid, None, None)
