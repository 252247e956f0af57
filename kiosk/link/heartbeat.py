"""Heartbeats: the station tells the central store, every minute, how it is doing.

The staff's overview of the gallery reads them: which booths are alive, how many takes
each still has to send, how much disk is left, and whether the microphone and the
controller work (from the station program's status file, see `kiosk.link.status`), or
that the program is not running. A heartbeat that does not get through is not retried:
the next one says it all again.

When the station saves pictures of its screen (`[display] snapshot_every_s`), a small
copy of the newest one (at most `SCREEN_SIZE`, PNG) goes with the next heartbeat, once;
the store shows it to staff behind their login only.
"""

from __future__ import annotations

import base64
import io
import logging
import shutil
import threading
from datetime import datetime, timezone
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


SCREEN_SIZE = (480, 300)  # enough to see what the station shows; a few tens of kB


def heartbeat_payload(store: Outbox, data_dir: Path, *, screen: Path | None = None) -> dict[str, Any]:
    """The body of `POST /api/v1/heartbeats`, as the store's API defines it.

    `screen`: a picture of the station's screen to send along (made small here)."""
    status = read_station_status(data_dir)
    try:
        free = shutil.disk_usage(data_dir).free
    except OSError:
        free = 0
    fields: dict[str, Any] = {}
    if status.program != "unknown":
        fields.update(program=status.program, devices=status.devices, program_seen_at=status.written_at)
    if screen is not None:
        small = small_screen(screen)
        if small is not None:
            fields["screen_png"], fields["screen_taken_at"] = small
    return HeartbeatIn(
        version=__version__,
        queue_length=store.counts()["queued"],
        free_disk_bytes=free,
        audio_state=status.audio_state,
        controller_state=status.controller_state,
        input_overflows=status.input_overflows,
        **fields,
    ).model_dump(mode="json", exclude_none=True)


def small_screen(path: Path) -> tuple[str, str] | None:
    """The picture at `path` made small, as base64 PNG, and when it was taken; None if unreadable."""
    from PIL import Image, UnidentifiedImageError

    try:
        taken = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
        with Image.open(path) as image:
            image.thumbnail(SCREEN_SIZE)
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="PNG", optimize=True)
    except (OSError, UnidentifiedImageError, ValueError) as error:
        log.warning("screen picture not sent", extra={"path": str(path), "problem": str(error)})
        return None
    return base64.b64encode(buffer.getvalue()).decode("ascii"), taken.isoformat()


def send_heartbeat(client: CentralClient, store: Outbox, data_dir: Path, *, screen: Path | None = None) -> bool:
    """Send one heartbeat; True when the store took it. Raises TokenRefused for 401."""
    try:
        payload = heartbeat_payload(store, data_dir, screen=screen)
        response = client.send("POST", "/heartbeats", json=payload, timeout_s=HEARTBEAT_TIMEOUT_S)
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
        screen_path: Path | None = None,
    ):
        super().__init__(name="heartbeat", daemon=True)
        self.client = client
        self.store = store
        self.data_dir = data_dir
        self.interval_s = interval_s
        self.stop = stop
        self.on_token_refused = on_token_refused
        self.screen_path = screen_path
        self._screen_sent: float | None = None  # mtime of the picture last delivered
        self.sent = 0

    def _new_screen(self) -> tuple[Path, float] | None:
        if self.screen_path is None:
            return None
        try:
            modified = self.screen_path.stat().st_mtime
        except OSError:
            return None
        return (self.screen_path, modified) if modified != self._screen_sent else None

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                screen = self._new_screen()
                delivered = send_heartbeat(self.client, self.store, self.data_dir, screen=screen[0] if screen else None)
                if delivered and screen is not None:
                    self._screen_sent = screen[1]
                self.sent += delivered
            except TokenRefused as error:
                self.on_token_refused(error)
                return
            except Exception:
                # A heartbeat must never take the uploads down with it.
                log.exception("heartbeat failed")
            self.stop.wait(self.interval_s)
