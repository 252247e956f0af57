"""The central store in a process of its own, on a clock the test moves.

    python store_child.py CENTRAL.toml CLOCK_FILE

Serves the store of CENTRAL.toml on a free port of 127.0.0.1, prints that port on the
first line of stdout, and runs until SIGTERM. The store's clock (`Database(clock=...)`,
what leases are timed by) reads the moment from CLOCK_FILE, an ISO time with a zone,
at every call: the test writes a later moment there (`FileClock.set`) and the running
store has aged that much. uvicorn's own clock (the HTTP Date header) stays real.
"""

from __future__ import annotations

import os
import socket
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class FileClock:
    """A clock whose time is the ISO moment written in a file."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __call__(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text(encoding="utf-8").strip())

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("the store's clock needs a moment with a time zone")
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(moment.isoformat(), encoding="utf-8")
        os.replace(partial, self.path)  # the store never reads half a moment


def main(central_toml: str, clock_file: str) -> None:
    import uvicorn

    from kiosk.central.api import create_app
    from kiosk.central.config import load_central_config
    from kiosk.central.db import open_database

    config = load_central_config(Path(central_toml))
    database = open_database(config, clock=FileClock(Path(clock_file)))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)  # connections wait in the backlog until uvicorn serves them
    print(listener.getsockname()[1], flush=True)
    server = uvicorn.Server(uvicorn.Config(create_app(config, database), log_config=None, access_log=False))
    try:
        server.run(sockets=[listener])
    finally:
        database.dispose()


if __name__ == "__main__":
    main(*sys.argv[1:3])
