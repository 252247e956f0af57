"""Heartbeats: the station tells the central store, every minute, how it is doing.

The staff's overview of the gallery reads them: which booths are alive, how many takes
each still has to send, how much disk is left, and whether the microphone and the
controller work (from the booth's status file, see `kiosk.link.status`). A heartbeat
that does not get through is not retried: the next one says it all again.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.link.outbox import Outbox
from kiosk import __version__
from kiosk.contract import HeartbeatIn
from kiosk.errors import KioskError
from kiosk.link.client import CentralClient, StoreUnreachable, TokenRefused, problem_detail
from kiosk.link.status import read_station_status

log = logging.getLogger(__name__)

HEARTBEAT_TIMEOUT_S = 10.0


def heartbeat_payload(store: Outbox, data_dir: Path) -> dict[str, Any]:
    """The body of `POST /api/v1/heartbeats`, as the store's API defines it."""
    status = read_station_status(data_dir)
    try:
        free = shutil.disk_usage(data_dir).free
    except OSError:
        free = 0
    return HeartbeatIn(
        version=__version__,
        queue_length=store.counts()["queued"],
        free_disk_bytes=free,
        audio_state=status.audio_state,
        controller_state=status.controller_state,
        input_overflows=status.input_overflows,
    ).model_dump(mode="json")


def send_heartbeat(client: CentralClient, store: Outbox, data_dir: Path) -> bool:
    """Send one heartbeat; True when the store took it. Raises TokenRefused for 401."""
    try:
        response = client.send("POST", "/heartbeats", json=heartbeat_payload(store, data_dir), timeout_s=HEARTBEAT_TIMEOUT_S)
    except StoreUnreachable as error:
        log.warning("heartbeat not delivered", extra={"problem": str(error)})
        return False
    if response.status_code != 200:
        log.error("heartbeat refused", extra={"status": response.status_code, "detail": problem_detail(response)})
        return False
    return True


class HeartbeatThread(threading.Thread):
    """Sends a heartbeat now and then every `interval_s`, until `stop` is set.

    A refused token ends the thread and is handed to `on_token_refused`, so the run
    stops even when it has nothing to upload.
    """

    def __init__(
        self,
        client: CentralClient,
        store: Outbox,
        data_dir: Path,
        *,
        interval_s: float,
        stop: threading.Event,
        on_token_refused: Callable[[KioskError], None],
    ):
        super().__init__(name="heartbeat", daemon=True)
        self.client = client
        self.store = store
        self.data_dir = data_dir
        self.interval_s = interval_s
        self.stop = stop
        self.on_token_refused = on_token_refused
        self.sent = 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.sent += send_heartbeat(self.client, self.store, self.data_dir)
            except TokenRefused as error:
                self.on_token_refused(error)
                return
            except Exception:
                # A heartbeat must never take the uploads down with it.
                log.exception("heartbeat failed")
            self.stop.wait(self.interval_s)
