"""Small pieces the harness modules share: finding programs, waiting with a deadline."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

SETUP_HINT = "run scripts/setup"


class HarnessError(RuntimeError):
    """The test machine lacks something the harness needs, or a server did not start."""


def require_program(program: str, debian_package: str) -> str:
    """The full path of `program`, or a HarnessError naming the package that provides it."""
    path = shutil.which(program)
    if path is None:
        raise HarnessError(
            f"{program} is not installed (Debian package {debian_package}): {SETUP_HINT}"
        )
    return path


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    waiting_for: str,
    poll: float = 0.05,
    still_worth_waiting: Callable[[], str | None] = lambda: None,
) -> None:
    """Poll `condition` until it holds; raise HarnessError after `timeout` seconds.

    `still_worth_waiting` returns a reason to give up early (say, the server process
    exited), so a crash is reported at once instead of after the whole timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        reason = still_worth_waiting()
        if reason:
            raise HarnessError(f"gave up waiting for {waiting_for}: {reason}")
        if time.monotonic() >= deadline:
            raise HarnessError(f"timed out after {timeout:g} s waiting for {waiting_for}")
        time.sleep(poll)


def process_is_running(pid: int) -> bool:
    """Whether `pid` is a live process; a zombie (exited, not yet reaped) counts as gone.

    A daemon that forked away from us is reaped by init, or in a container perhaps never,
    so `kill -0` alone would call a dead daemon alive.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X")


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file, for error messages; empty if there is none."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def folder_state(folder: Path) -> dict[str, tuple[int, int]]:
    """Every entry under FOLDER, links not followed: path -> (size, mtime_ns), the folder's
    own mtime as "."; equal before and after, nothing in it was written."""
    entries = {".": (0, folder.lstat().st_mtime_ns)}
    for path in folder.rglob("*"):
        status = path.lstat()
        entries[str(path.relative_to(folder))] = (status.st_size, status.st_mtime_ns)
    return entries
