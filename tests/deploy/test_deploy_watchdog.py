"""kiosk.watchdog (sd_notify) on its own, and the central store feeding it from its event loop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kiosk.watchdog import ServiceNotifier
from notify_listener import NotifyListener, freeze_main_thread

KIOSK = str(Path(sys.executable).with_name("kiosk"))


def test_without_notify_socket_nothing_is_sent() -> None:
    notifier = ServiceNotifier.from_environment({})
    assert not notifier.enabled and notifier.ping_interval_s is None
    notifier.ready()
    notifier.ping()  # no socket, no error


def test_messages_reach_an_abstract_socket() -> None:
    name = f"dossin-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind("\0" + name)
        systemd.settimeout(5)
        notifier = ServiceNotifier.from_environment({"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "30000000"})
        assert notifier.ping_interval_s == 15.0  # half the watchdog time
        notifier.ready("wall wall-1")
        notifier.ping()
        notifier.stopping()
        assert [systemd.recv(100) for _ in range(3)] == [b"READY=1\nSTATUS=wall wall-1", b"WATCHDOG=1", b"STOPPING=1"]


def test_watchdog_meant_for_another_process_is_left_alone() -> None:
    """A child started by the service inherits the variables; WATCHDOG_PID says they are not its own."""
    notifier = ServiceNotifier.from_environment({"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})
    assert notifier.ping_interval_s is None
    mine = ServiceNotifier.from_environment({"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid())})
    assert mine.ping_interval_s == 0.5


def test_an_unreachable_systemd_does_not_stop_the_service(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    notifier = ServiceNotifier(str(tmp_path / "gone"), 1_000_000)
    notifier.ping()
    notifier.ping()
    assert [r.message for r in caplog.records] == ["cannot notify systemd"]  # once, not every half second


def test_a_long_wait_keeps_pinging(tmp_path: Path) -> None:
    listener = NotifyListener(tmp_path / "notify")
    try:
        notifier = ServiceNotifier(str(listener.path), 200_000)  # ping every 0.1 s
        stop = threading.Event()
        started = time.monotonic()
        assert notifier.wait_alive(stop, 0.55) is False
        assert time.monotonic() - started >= 0.55
        assert listener.messages(within_s=0.2).count("WATCHDOG=1") >= 5
        threading.Timer(0.1, stop.set).start()
        assert notifier.wait_alive(stop, 30) is True  # a stop ends the wait at once
    finally:
        listener.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_central_store_pings_from_its_event_loop(tmp_path: Path) -> None:
    subprocess.run([KIOSK, "central", "init", str(tmp_path / "central"), "--port", str(free_port())], check=True, capture_output=True)
    listener = NotifyListener(tmp_path / "notify")
    environment = {**os.environ, "NOTIFY_SOCKET": str(listener.path), "WATCHDOG_USEC": "1000000"}
    store = subprocess.Popen(
        [KIOSK, "central", "serve", "--config", str(tmp_path / "central" / "central.toml")],
        env=environment, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "store.err", "w"), start_new_session=True,
    )
    try:
        listener.wait_for("READY=1", timeout_s=60)
        assert listener.messages(within_s=2.5).count("WATCHDOG=1") >= 3
        with freeze_main_thread(store.pid):  # the event loop runs in the main thread
            listener.messages(within_s=0.3)
            assert listener.messages(within_s=3) == []
        assert listener.messages(within_s=2.5).count("WATCHDOG=1") >= 2
        store.send_signal(signal.SIGTERM)
        listener.wait_for("STOPPING=1", timeout_s=30)
        assert store.wait(timeout=30) == 0
    finally:
        if store.poll() is None:
            os.killpg(store.pid, signal.SIGKILL)
            store.wait()
        listener.close()
