"""The systemd units, the kiosk session and the opening-hours script in deploy/.

`systemd-analyze verify` checks every unit as systemd would load it (unknown keys,
bad values, calendar specs, dependencies). It also insists that each Exec* program
exists; on this machine they do not (/opt/dossin/current/...), so the units are verified
as generated copies whose programs point at stand-ins in a temporary folder. Nothing
else in them changes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted(p for p in (DEPLOY / "systemd").iterdir() if p.suffix in {".service", ".target", ".timer"})
EXEC_LINE = re.compile(r"^(Exec\w+=[-@:+!]*)(/\S+)", re.MULTILINE)


@pytest.fixture(autouse=True)
def _systemd_analyze() -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.fail("no systemd-analyze: install Debian's systemd (scripts/setup does)", pytrace=False)


def unit_text(name: str) -> str:
    return (DEPLOY / "systemd" / name).read_text()


def test_there_are_units_for_every_part_of_a_gallery() -> None:
    names = {unit.name for unit in UNITS}
    assert {"dossin-station.service", "dossin-memorial.service", "dossin-sync.service", "dossin-central.service",
            "dossin-gallery.target", "dossin-hours.service", "dossin-hours.timer", "dossin-release-check.service"} <= names


def test_systemd_analyze_verify_accepts_every_unit(tmp_path: Path) -> None:
    stand_ins = tmp_path / "programs"
    copies = tmp_path / "units"
    copies.mkdir()

    def stand_in(match: re.Match) -> str:
        program = stand_ins / match.group(2).lstrip("/")
        program.parent.mkdir(parents=True, exist_ok=True)
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
        return match.group(1) + str(program)

    for unit in UNITS:
        (copies / unit.name).write_text(EXEC_LINE.sub(stand_in, unit.read_text()))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in copies.iterdir())],
        capture_output=True, text=True, cwd=copies,
    )
    # Warnings (an unknown key, say) leave the exit code at 0: any output counts as a failure.
    assert result.returncode == 0 and result.stderr.strip() == "" and result.stdout.strip() == "", result.stderr + result.stdout
    assert len(list(stand_ins.rglob("*"))) > 3  # the Exec lines were found and replaced


def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    """The check above would see a mistake: a misspelt key is reported."""
    broken = tmp_path / "dossin-sync.service"
    broken.write_text(EXEC_LINE.sub(r"\1/bin/true", unit_text("dossin-sync.service")).replace("WatchdogSec=", "WatchdogSecs="))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(broken)], capture_output=True, text=True)
    assert "Unknown key 'WatchdogSecs'" in result.stderr


@pytest.mark.parametrize(
    ("unit", "command"),
    [
        ("dossin-sync.service", "/opt/dossin/current/.venv/bin/kiosk sync run /srv/dossin/station/station.toml"),
        ("dossin-central.service", "/opt/dossin/current/.venv/bin/kiosk central serve --config /srv/dossin/central/central.toml"),
        ("dossin-station.service", "/usr/local/lib/dossin/dossin-session /srv/dossin/station/station.toml"),
        ("dossin-memorial.service", "/usr/local/lib/dossin/dossin-session /srv/dossin/memorial/station.toml"),
    ],
)
def test_long_running_units_are_notify_services_with_a_watchdog(unit: str, command: str) -> None:
    text = unit_text(unit)
    assert f"ExecStart={command}\n" in text
    assert "Type=notify\n" in text and re.search(r"^WatchdogSec=\d+$", text, re.MULTILINE)
    assert "Restart=on-failure\n" in text and "StartLimitBurst=" in text
    assert "StandardOutput=journal\n" in text


def test_the_kiosk_session_runs_the_station_in_cage() -> None:
    session = (DEPLOY / "session" / "dossin-session").read_text()
    assert 'exec cage -d -- "$kiosk" run "$station_toml"' in session
    assert "unset WATCHDOG_PID" in session  # the station, not cage, feeds the watchdog
    assert "NotifyAccess=all\n" in unit_text("dossin-station.service")
    result = subprocess.run(["sh", "-n", str(DEPLOY / "session" / "dossin-session")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("unit", "worst"), [("dossin-sync.service", 4.0), ("dossin-central.service", 4.0), ("dossin-station.service", 6.5)])
def test_hardening_keeps_exposure_low(unit: str, worst: float) -> None:
    """systemd's own exposure score (0 safest, 10 unprotected). The station needs a seat,
    a GPU and input devices, so it cannot be as closed as the network services."""
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", f"--threshold={int(worst * 10)}", str(DEPLOY / "systemd" / unit)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr


HOURS = DEPLOY / "bin" / "dossin-hours"


@pytest.mark.parametrize(
    ("day", "time", "open_"),
    [("1", "0859", False), ("1", "0900", True), ("1", "1659", True), ("1", "1700", False), ("3", "1200", False), ("6", "1000", True)],
)
def test_opening_hours(tmp_path: Path, day: str, time: str, open_: bool) -> None:
    conf = tmp_path / "hours.conf"
    conf.write_text("DAY_1=0900-1700\nDAY_3=closed\nDAY_6=1000-1700\n")
    result = subprocess.run(["sh", str(HOURS), "is-open", day, time], env={"DOSSIN_HOURS_CONF": str(conf), "PATH": "/usr/bin:/bin"})
    assert result.returncode == (0 if open_ else 1)


def test_opening_hours_say_what_to_write(tmp_path: Path) -> None:
    conf = tmp_path / "hours.conf"
    conf.write_text("DAY_1=9-17\n")
    result = subprocess.run(["sh", str(HOURS), "is-open", "1", "1000"], capture_output=True, text=True, env={"DOSSIN_HOURS_CONF": str(conf), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2 and "write HHMM-HHMM (e.g. 0900-1700) or closed" in result.stderr


def test_the_controller_gets_a_stable_name() -> None:
    rules = (DEPLOY / "udev" / "70-dossin-controller.rules").read_text()
    rule = next(line for line in rules.splitlines() if line and not line.startswith("#"))
    assert 'ATTRS{idVendor}=="2e8a"' in rule and 'SYMLINK+="dossin-controller"' in rule
    assert 'SUBSYSTEM=="tty"' in rule  # the serial port, not the Pico's bootloader drive
