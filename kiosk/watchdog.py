"""Telling systemd that a service is up, alive, and stopping (the sd_notify protocol).

The units in `deploy/systemd/` are `Type=notify` with a `WatchdogSec`: systemd waits for
READY=1 before it calls the service started, and restarts it when WATCHDOG=1 stops
coming. The pings must come from the loop that does the service's work (Kivy's clock
for a station, the asyncio loop for the central store, the upload loop for sync), never
from a helper thread: a station whose UI thread hangs must go quiet so that systemd
restarts it. A thread that pinged on its own would keep a frozen screen alive for ever.

The protocol is one datagram per message on the AF_UNIX socket named in $NOTIFY_SOCKET
(a leading '@' means Linux's abstract namespace). Without $NOTIFY_SOCKET (run by hand,
in tests, in `kiosk demo`) every call does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)


class ServiceNotifier:
    """Sends READY=1, WATCHDOG=1, STATUS= and STOPPING=1 to systemd; silent without it."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None):
        self.address = address or None
        # systemd asks for a ping at least every WATCHDOG_USEC; pinging at half of it
        # (as sd_watchdog_enabled(3) advises) leaves room for one slow frame or request.
        self.ping_interval_s = watchdog_usec / 2_000_000 if watchdog_usec else None
        self._warned = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ServiceNotifier:
        environ = os.environ if environ is None else environ
        watchdog_usec: int | None = None
        # WATCHDOG_PID names the process the watchdog is meant for: a child that
        # inherited the variables must not ping on its parent's behalf.
        meant_for = environ.get("WATCHDOG_PID", "")
        if meant_for in ("", str(os.getpid())):
            try:
                watchdog_usec = int(environ.get("WATCHDOG_USEC", "")) or None
            except ValueError:
                watchdog_usec = None
        return cls(environ.get("NOTIFY_SOCKET"), watchdog_usec)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def ready(self, status: str = "") -> None:
        self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def ping(self) -> None:
        self.send("WATCHDOG=1")

    def status(self, text: str) -> None:
        self.send(f"STATUS={text}")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def send(self, message: str) -> None:
        """Send one datagram. A failure is logged once and otherwise ignored: a station
        must not stop because systemd is unreachable (the watchdog then restarts it)."""
        if self.address is None:
            return
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message.encode(), target)
        except OSError as error:
            if not self._warned:
                self._warned = True
                log.warning("cannot notify systemd", extra={"socket": self.address, "error": str(error)})

    def wait_alive(self, stop: threading.Event, seconds: float) -> bool:
        """`stop.wait(seconds)` for a loop that waits long (a backoff of minutes): it
        pings between slices of the ping interval, from the waiting loop's own thread."""
        if self.ping_interval_s is None:
            return stop.wait(seconds)
        deadline = time.monotonic() + seconds
        while True:
            self.ping()
            left = deadline - time.monotonic()
            if left <= 0:
                return stop.is_set()
            if stop.wait(min(left, self.ping_interval_s)):
                return True


async def _notify_while_serving(server: Any, notifier: ServiceNotifier) -> None:
    """READY=1 once uvicorn listens, WATCHDOG=1 from the event loop, STOPPING=1 on shutdown.

    A task of the loop that serves requests: when a request blocks the loop, this task
    does not run either and the pings stop.
    """
    while not server.started:
        if server.should_exit:
            return
        await asyncio.sleep(0.05)
    notifier.ready("serving")
    while not server.should_exit:
        notifier.ping()
        await asyncio.sleep(notifier.ping_interval_s or 0.5)
    notifier.stopping()


def run_uvicorn_notifying(server: Any, notifier: ServiceNotifier | None = None) -> None:
    """`server.run()` with systemd told when the store is ready, alive and stopping."""
    notifier = notifier or ServiceNotifier.from_environment()

    async def serve() -> None:
        watcher = asyncio.create_task(_notify_while_serving(server, notifier))
        try:
            await server.serve()
        finally:
            watcher.cancel()

    # uvicorn picks its event loop (uvloop when installed) through its config.
    loop_factory = getattr(server.config, "get_loop_factory", lambda: None)()
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(serve())
