"""`kiosk central serve`: the store's HTTP service on uvicorn, logging JSON lines.

One process serves every booth: uvicorn runs the FastAPI app, and the database work of
each request runs in uvicorn's thread pool. Uvicorn's own log configuration is switched
off, so its lines (start-up, access, errors) go through `kiosk.logs` like every other.

Serving guards against stalled connections (`kiosk.central.serving`): the open files
limit raised, unfinished request headers timed out, repeated warnings rate-limited.
Housekeeping (`kiosk.central.upkeep`) runs at start and hourly beside the server.
"""

from __future__ import annotations

import gc
import logging
import signal
import sys

import uvicorn

from kiosk.central.api import create_app
from kiosk.central.config import CentralConfig
from kiosk.central.db import open_database
from kiosk.central.recordings import AudioStore
from kiosk.central.serving import HeaderTimeoutH11Protocol, limit_repeated_log_lines, raise_open_files_limit
from kiosk.central.upkeep import Upkeep
from kiosk.errors import KioskError
from kiosk.logs import configure_logging
from kiosk.watchdog import run_uvicorn_notifying

log = logging.getLogger(__name__)

LOG_NAME = "central"
SWITCH_INTERVAL_S = 0.0005
"""How long a thread may keep Python's interpreter lock while another waits for it
(Python's default is 5 ms). A request's database work runs in a worker thread that
gives the lock up around every statement (SQLite's driver does so around each step) and
must win it back from the event loop, which runs the HTTP side of every other
request. With 5 ms per statement, a claim held SQLite's write lock for tens of
milliseconds and the booths queued behind it; at 0.5 ms the store serves about a third
more claims a second (bench/central_claims.py), for a little more switching."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def uvicorn_config(config: CentralConfig, app: object) -> uvicorn.Config:
    """How `serve` runs `app` on uvicorn (bench/central_claims.py serves its empty ceiling app the same way)."""
    return uvicorn.Config(
        app,
        host=config.server.host,
        port=config.server.port,
        log_config=None,
        log_level=config.log.level.lower(),
        access_log=config.log.level == "DEBUG",
        server_header=False,
        timeout_graceful_shutdown=10,
        http=HeaderTimeoutH11Protocol,
        # nginx on this machine says who the client is (X-Forwarded-For, set by it,
        # never appended): staff login failures are counted per that address.
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=16 * 1024,
    )


def serve(config: CentralConfig) -> None:
    """Run the store until SIGINT or SIGTERM; returns when it has shut down.

    Call it from the main thread (signal handlers can only be set there).
    """
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    configure_logging(LOG_NAME, config.log.level)
    limit_repeated_log_lines()
    open_files_before, open_files = raise_open_files_limit()
    database = open_database(config)
    app = create_app(config, database)
    log.info(
        "central store starting",
        extra={
            "config": str(config.source),
            "database": config.database_label,
            "audio_dir": str(config.audio_dir),
            "url": f"http://{config.server.host}:{config.server.port}",
            "open_files_limit": open_files,
            "open_files_limit_before": open_files_before,
        },
    )
    server = uvicorn.Server(uvicorn_config(config, app))
    # What start made (modules, the app, its routes and models) lives as long as the
    # store: moved out of the garbage collector's sight, so its full collections no
    # longer walk it again and again while booths upload.
    gc.freeze()
    upkeep = Upkeep(database, AudioStore(config.audio_dir)).start()
    # uvicorn shuts down gracefully on SIGINT and SIGTERM and then raises the signal
    # again for the handler that was there before it; this one lets the store end
    # normally after that (exit 0, the database closed, a last log line).
    stopped_by: list[int] = []
    previous = {sig: signal.signal(sig, lambda number, _frame: stopped_by.append(number)) for sig in STOP_SIGNALS}
    try:
        # server.run(), plus READY=1 and watchdog pings to systemd from the serving loop.
        run_uvicorn_notifying(server)
    except SystemExit:
        # uvicorn exits this way when it cannot listen (the port is taken, say).
        if not server.started:
            raise KioskError(
                f"{config.source}: cannot listen on {config.server.host}:{config.server.port}",
                "another program uses that port (perhaps a store already running): stop it, or change [server] port",
            ) from None
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        upkeep.stop()
        database.dispose()
    log.info("central store stopped", extra={"signal": signal.Signals(stopped_by[0]).name if stopped_by else None})
