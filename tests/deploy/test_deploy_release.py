"""The release tool (`kiosk/deploy.py`, installed on stations as dossin-release) run for
real into a temporary root: real virtualenvs, real pip, real symlinks, real kills.

The tool runs as a standalone script, as the playbook installs it, so these tests also
prove it needs nothing beyond the standard library.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import kiosk.deploy
from release_builder import build_release_wheel

RELEASE_TOOL = Path(kiosk.deploy.__file__)
KIOSK = Path(sys.executable).with_name("kiosk")

pytestmark = pytest.mark.slow


def release_tool(root: Path, *arguments: str, check: bool = True) -> subprocess.CompletedProcess:
    # A clean environment: DOSSIN_ROOT from the developer's shell must not leak in.
    environment = {key: value for key, value in os.environ.items() if key != "DOSSIN_ROOT"}
    result = subprocess.run(
        [sys.executable, str(RELEASE_TOOL), "--root", str(root), *arguments],
        capture_output=True, text=True, timeout=240, env=environment,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def status(root: Path) -> dict:
    return json.loads(release_tool(root, "status", "--json").stdout)


def current_kiosk_says(root: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(root / "current/.venv/bin/kiosk"), *arguments], capture_output=True, text=True, timeout=30)


@pytest.fixture
def wheelhouse(tmp_path: Path) -> Path:
    folder = tmp_path / "wheelhouse"
    build_release_wheel(folder, "1.0.0", healthy=True)
    build_release_wheel(folder, "2.0.0", healthy=False)
    build_release_wheel(folder, "3.0.0", healthy=True)
    return folder


DOCTOR = "{current}/.venv/bin/kiosk doctor --json"


def test_install_two_releases_side_by_side_and_switch(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "opt-dossin"
    release_tool(root, "install", "1.0.0", "--wheelhouse", str(wheelhouse))
    release_tool(root, "install", "3.0.0", "--wheelhouse", str(wheelhouse))
    assert status(root)["current"] is None  # installing never changes what runs

    release_tool(root, "switch", "1.0.0", "--check", DOCTOR, "--settle-s", "5")
    assert current_kiosk_says(root, "--version").stdout.strip() == "kiosk, version 1.0.0"

    switched = release_tool(root, "switch", "3.0.0", "--check", DOCTOR, "--settle-s", "5")
    assert "health check passed" in switched.stdout
    report = status(root)
    assert (report["current"], report["previous"], report["pending"]) == ("3.0.0", "1.0.0", None)
    assert os.readlink(root / "current") == "releases/3.0.0"  # relative: the root can move
    assert current_kiosk_says(root, "--version").stdout.strip() == "kiosk, version 3.0.0"
    assert {r["version"] for r in report["releases"]} == {"1.0.0", "3.0.0"}

    # The same report through the project's own command.
    through_kiosk = subprocess.run([str(KIOSK), "release", "--root", str(root), "status", "--json"], capture_output=True, text=True)
    assert json.loads(through_kiosk.stdout)["current"] == "3.0.0"


def test_a_release_that_fails_its_health_check_rolls_back_by_itself(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "opt-dossin"
    for version in ("1.0.0", "2.0.0"):
        release_tool(root, "install", version, "--wheelhouse", str(wheelhouse))
    release_tool(root, "switch", "1.0.0", "--check", DOCTOR, "--settle-s", "2")

    failed = release_tool(root, "switch", "2.0.0", "--check", DOCTOR, "--settle-s", "2", check=False)

    assert failed.returncode == 2
    assert "failed its health check" in failed.stderr and "rolled back to 1.0.0" in failed.stderr
    assert "no screen answers" in failed.stderr  # the check's own words reach the technician
    report = status(root)
    assert (report["current"], report["previous"], report["pending"]) == ("1.0.0", "2.0.0", None)
    assert current_kiosk_says(root, "--version").stdout.strip() == "kiosk, version 1.0.0"
    assert next(r for r in report["releases"] if r["version"] == "2.0.0")["failed"]

    # A release that failed is not tried again by accident (a playbook run twice, say).
    again = release_tool(root, "switch", "2.0.0", "--check", DOCTOR, "--settle-s", "2", check=False)
    assert again.returncode == 2 and "--force" in again.stderr
    assert status(root)["current"] == "1.0.0"


def test_a_unit_that_does_not_start_after_the_switch_rolls_back(tmp_path: Path, wheelhouse: Path) -> None:
    """systemctl restart fails when a Type=notify unit sends no READY=1: a stand-in systemctl
    fails exactly when `current` is the broken release, and refuses any other call."""
    root = tmp_path / "opt-dossin"
    calls = tmp_path / "systemctl-calls"
    systemctl = tmp_path / "systemctl"
    systemctl.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {calls}\n'
        '[ "$1" = restart ] || { echo "stand-in systemctl: unexpected call: $*" >&2; exit 99; }\n'
        f'case "$(readlink {root}/current)" in *2.0.0) echo "Job for $2 failed" >&2; exit 1;; esac\n'
    )
    systemctl.chmod(0o755)
    for version in ("1.0.0", "2.0.0"):
        release_tool(root, "install", version, "--wheelhouse", str(wheelhouse))
    unit_options = ["--restart", "dossin-station.service", "--systemctl", str(systemctl), "--settle-s", "1"]
    release_tool(root, "switch", "1.0.0", *unit_options)

    failed = release_tool(root, "switch", "2.0.0", *unit_options, check=False)

    assert failed.returncode == 2 and "dossin-station.service did not start" in failed.stderr
    assert status(root)["current"] == "1.0.0"
    # Started on 1.0.0, tried on 2.0.0, started again on 1.0.0 after the roll-back.
    assert calls.read_text().splitlines() == ["restart dossin-station.service"] * 3


def test_rollback_by_hand_goes_to_previous(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "opt-dossin"
    for version in ("1.0.0", "3.0.0"):
        release_tool(root, "install", version, "--wheelhouse", str(wheelhouse))
        release_tool(root, "switch", version)
    assert "rolled back from 3.0.0 to 1.0.0" in release_tool(root, "rollback").stdout
    report = status(root)
    assert (report["current"], report["previous"]) == ("1.0.0", "3.0.0")


def test_a_kill_during_install_leaves_the_running_release_alone(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "opt-dossin"
    release_tool(root, "install", "1.0.0", "--wheelhouse", str(wheelhouse))
    release_tool(root, "switch", "1.0.0")

    installing = subprocess.Popen(
        [sys.executable, str(RELEASE_TOOL), "--root", str(root), "install", "3.0.0", "--wheelhouse", str(wheelhouse)],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    unfinished = root / "releases/3.0.0"
    wait_for(lambda: (unfinished / ".venv/bin/python").exists(), "the install to start")
    os.killpg(installing.pid, signal.SIGKILL)  # the power goes, pip and all
    installing.wait()

    assert unfinished.exists() and not (unfinished / "RELEASE.json").exists()
    report = status(root)
    assert report["current"] == "1.0.0" and [r["version"] for r in report["releases"]] == ["1.0.0"]
    assert current_kiosk_says(root, "--version").returncode == 0

    switch_to_unfinished = release_tool(root, "switch", "3.0.0", check=False)
    assert switch_to_unfinished.returncode == 2 and "not installed" in switch_to_unfinished.stderr
    release_tool(root, "install", "3.0.0", "--wheelhouse", str(wheelhouse))  # starts over
    release_tool(root, "switch", "3.0.0")
    assert current_kiosk_says(root, "--version").stdout.strip() == "kiosk, version 3.0.0"


def test_a_kill_during_the_health_check_is_finished_at_the_next_boot(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "opt-dossin"
    for version in ("1.0.0", "2.0.0"):
        release_tool(root, "install", version, "--wheelhouse", str(wheelhouse))
    release_tool(root, "switch", "1.0.0")
    checking, slow = tmp_path / "checking", tmp_path / "slow"
    slow.touch()
    # A check that says when it runs and takes its time while `slow` exists.
    slow_doctor = f"sh -c 'touch {checking}; while [ -e {slow} ]; do sleep 0.1; done; exec {{current}}/.venv/bin/kiosk doctor'"

    switching = subprocess.Popen(
        [sys.executable, str(RELEASE_TOOL), "--root", str(root), "switch", "2.0.0", "--check", slow_doctor, "--settle-s", "2"],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_for(checking.exists, "the health check to start")
    os.killpg(switching.pid, signal.SIGKILL)
    switching.wait()

    # What a boot finds: `current` is whole (the new release, complete) and the switch is pending.
    report = status(root)
    assert report["current"] == "2.0.0" and report["pending"]["rollback_to"] == "1.0.0"
    assert current_kiosk_says(root, "--version").returncode == 0

    slow.unlink()
    finished = release_tool(root, "check", check=False)  # what dossin-release-check.service runs at boot

    assert finished.returncode == 2 and "rolled back to 1.0.0" in finished.stderr
    report = status(root)
    assert (report["current"], report["pending"]) == ("1.0.0", None)
    assert "no switch was waiting" in release_tool(root, "check").stdout  # nothing pending now: a plain report


def test_errors_say_what_to_do(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "opt-dossin"
    missing = release_tool(root, "switch", "9.9.9", check=False)
    assert missing.returncode == 2 and "not installed" in missing.stderr and "what to do: install it first" in missing.stderr
    not_built = release_tool(root, "install", "9.9.9", "--wheelhouse", str(wheelhouse), check=False)
    assert not_built.returncode == 2 and "what to do: the wheelhouse must hold dossin-kiosk-9.9.9" in not_built.stderr
    assert status(root)["releases"] == []
    bad_name = release_tool(root, "install", "../etc", "--wheelhouse", str(wheelhouse), check=False)
    assert bad_name.returncode == 2 and "is not a release version" in bad_name.stderr


def wait_for(condition, what: str, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
