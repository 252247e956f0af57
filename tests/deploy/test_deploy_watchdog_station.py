"""The station feeds systemd's watchdog from its UI loop: proven on the real entry point.

`kiosk run` on a portrait wall under Xvfb, with NOTIFY_SOCKET and WATCHDOG_USEC set as
systemd sets them for dossin-station.service. The test sees READY=1, then WATCHDOG=1 at
half the watchdog time; freezes the UI thread alone and sees the pings stop (systemd
would now kill and restart the station); lets it go and sees them come back; and sees
STOPPING=1 when the station is told to stop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from notify_listener import NotifyListener, freeze_main_thread, thread_states

KIOSK = str(Path(sys.executable).with_name("kiosk"))
WATCHDOG_USEC = 1_000_000  # pings every 0.5 s

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def wall(tmp_path: Path) -> Path:
    folder = tmp_path / "wall-1"
    for command in (
        [KIOSK, "station", "init", str(folder), "--exhibit", "wall", "--station-id", "wall-1"],
        [KIOSK, "collection", "demo", "--out", str(folder / "collection"), "--count", "60"],
    ):
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    return folder / "station.toml"


def test_station_pings_from_its_ui_loop_and_goes_quiet_when_it_hangs(wall: Path, tmp_path: Path) -> None:
    listener = NotifyListener(tmp_path / "notify")
    environment = {
        **os.environ,
        "NOTIFY_SOCKET": str(listener.path),
        "WATCHDOG_USEC": str(WATCHDOG_USEC),
        "KIVY_HOME": str(tmp_path / "kivy"),
    }
    station = subprocess.Popen(
        [KIOSK, "run", str(wall), "--windowed"], env=environment, stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "station.err", "w"), start_new_session=True,
    )
    try:
        before_ready = listener.wait_for("READY=1", timeout_s=90)
        assert "WATCHDOG=1" not in before_ready  # nothing claims to be alive before it is up
        assert "STATUS=wall wall-1" in before_ready[-1]

        alive = listener.messages(within_s=3)
        assert alive.count("WATCHDOG=1") >= 3, alive

        with freeze_main_thread(station.pid):
            states = thread_states(station.pid)
            assert states[station.pid] == "t"  # the UI thread stands still ...
            assert all(state != "t" for tid, state in states.items() if tid != station.pid)  # ... and only it
            listener.messages(within_s=0.3)  # a ping already on its way when the thread stopped
            hung = listener.messages(within_s=3)  # six ping intervals, three watchdog times
        assert hung == [], f"pings kept coming while the UI thread was frozen: {hung}"

        recovered = listener.messages(within_s=3)
        assert recovered.count("WATCHDOG=1") >= 2, recovered

        station.send_signal(signal.SIGTERM)  # what `systemctl stop` sends
        listener.wait_for("STOPPING=1", timeout_s=30)
        assert station.wait(timeout=30) == 0
    finally:
        if station.poll() is None:
            os.killpg(station.pid, signal.SIGKILL)
            station.wait()
        listener.close()
    assert "Traceback" not in (tmp_path / "station.err").read_text()
