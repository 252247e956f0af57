"""Fixtures for a real screen and a real audio path; see `tests/harness/`.

- `display` (session): an X display in DISPLAY: the one already there if a server
  answers, else an Xvfb started for this session. Tests marked `gui` get it without
  asking. Import Kivy inside tests and fixtures, never at module level: importing some
  Kivy modules opens a window, and collection happens before any fixture runs.
- `pulse` (session): a private PulseAudio daemon with the null sink "booth"
  (`harness.pulse.PulseAudio`). Tests marked `audio` get it without asking.

Kivy is pointed at a per-session KIVY_HOME before any test module is imported, so no
test reads or writes ~/.kivy.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

# The harness package sits next to this file. Under pytest's default import mode this
# folder is on sys.path already; saying so keeps `--import-mode=importlib` working too.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.pulse import PulseAudio  # noqa: E402
from harness.tools import HarnessError  # noqa: E402
from harness.xserver import Display, Xvfb, existing_display  # noqa: E402

_KIVY_ENVIRONMENT = ("KIVY_NO_ARGS", "KIVY_NO_CONSOLELOG", "KIVY_HOME")
_saved_kivy_environment: dict[str, str | None] = {}
_kivy_home: str | None = None

T = TypeVar("T")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    global _kivy_home
    # A CI job cancelled with SIGTERM then tears down like Ctrl-C: fixtures stop the
    # Xvfb and PulseAudio they started instead of leaving them running.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)
    _saved_kivy_environment.update({key: os.environ.get(key) for key in _KIVY_ENVIRONMENT})
    _kivy_home = tempfile.mkdtemp(prefix="kivy-home-")
    os.environ["KIVY_NO_ARGS"] = "1"  # Kivy must not parse pytest's command line.
    os.environ["KIVY_NO_CONSOLELOG"] = "1"
    os.environ["KIVY_HOME"] = _kivy_home


def pytest_unconfigure(config: pytest.Config) -> None:
    if signal.getsignal(signal.SIGTERM) is _interrupt:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for key, value in _saved_kivy_environment.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    if _kivy_home is not None:
        shutil.rmtree(_kivy_home, ignore_errors=True)


@pytest.fixture(autouse=True)
def _sdl_drivers_stay_as_they_were() -> Iterator[None]:
    """A test that lets pygame draw headless (SDL's dummy drivers) must not leave them set:
    every Kivy window a later test starts as a child would inherit them and show nothing."""
    before = {key: os.environ.get(key) for key in ("SDL_VIDEODRIVER", "SDL_AUDIODRIVER")}
    yield
    for key, value in before.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def display() -> Iterator[Display]:
    """The X display in DISPLAY if a server answers there, else a new Xvfb 1280x800x24."""
    reused = existing_display()
    if reused is not None:
        yield reused
        return
    server = Xvfb()
    started = _start_or_fail(server.start, server.stop, "no screen for GUI tests")
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("DISPLAY", started.name)
        try:
            yield started
        finally:
            server.stop()


@pytest.fixture(scope="session")
def pulse() -> Iterator[PulseAudio]:
    """A private PulseAudio with the null sink "booth"; clients find it via the environment."""
    daemon = PulseAudio()
    _start_or_fail(daemon.start, daemon.stop, "no audio path for audio tests")
    with pytest.MonkeyPatch.context() as environment:
        for key, value in daemon.env.items():
            environment.setenv(key, value)
        try:
            yield daemon
        finally:
            daemon.stop()


def _start_or_fail(start: Callable[[], T], stop: Callable[[], None], what: str) -> T:
    try:
        return start()
    except HarnessError as error:
        problem = f"{what}: {error}"
    stop()
    # Outside the except block, so the report shows the message once, without a chain.
    pytest.fail(problem, pytrace=False)


@pytest.fixture(autouse=True)
def _devices_for_marked_tests(request: pytest.FixtureRequest) -> None:
    """Give `gui` tests a screen and `audio` tests the sound server, unasked."""
    if request.node.get_closest_marker("gui"):
        request.getfixturevalue("display")
    if request.node.get_closest_marker("audio"):
        request.getfixturevalue("pulse")
