from __future__ import annotations

import subprocess
import sys

import pytest


def _kiosk(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """The real `kiosk` command in a child process, as a technician runs it."""
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, timeout=timeout, **kwargs)


@pytest.fixture(scope="session")
def small_collection(tmp_path_factory):
    from kiosk.collection import write_demo

    folder = tmp_path_factory.mktemp("collection")
    write_demo(folder, count=300, seed=7)
    return folder


@pytest.fixture(scope="session")
def kiosk():
    """kiosk("station", "init", ...) -> CompletedProcess of the real command."""
    return _kiosk
