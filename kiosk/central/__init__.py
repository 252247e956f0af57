"""The central store: the collection, the booths' names and their recordings, in one place.

Every booth of "Elke naam telt" asks the store for names to read (leases, so no two
booths read the same name at once) and uploads each accepted take to it. The store
keeps the persons of the collection, the stations and their tokens, the leases and
bookings, and the recordings with their consent, in SQLite or PostgreSQL, and the audio
in a content-addressed folder. It is the only place that knows which names have a voice.

- configuration: `load_central_config(path) -> CentralConfig`, `write_central_config(folder, port=)`
  (`kiosk.central.config`);
- database: `open_database(config) -> Database` (connects and migrates), `migrate(engine)`
  (`kiosk.central.db`), tables in `kiosk.central.schema`;
- the work: `import_collection` (`importer`), `enroll` and `authenticate` (`stations`),
  `claim`, `release`, `renew` (`leases`), `book`, `cancel_booking`, `create_booking`
  (`bookings`), `store_recording` (`recordings`),
  `central_status` (`status`);
- HTTP: `create_app(config, database=None) -> FastAPI` (`kiosk.central.api`), `serve(config)`
  (`kiosk.central.server`).

Nothing here imports Kivy or the booth's audio stack.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "CentralConfig": "config",
    "load_central_config": "config",
    "write_central_config": "config",
    "Database": "db",
    "migrate": "db",
    "open_database": "db",
    "ImportReport": "importer",
    "import_collection": "importer",
    "Lease": "leases",
    "NameRules": "leases",
    "claim": "leases",
    "book": "bookings",
    "cancel_booking": "bookings",
    "create_booking": "bookings",
    "release": "leases",
    "renew": "leases",
    "Station": "stations",
    "authenticate": "stations",
    "enroll": "stations",
    "central_status": "status",
    "create_app": "api",
    "serve": "server",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    # Loaded on first use: the `kiosk` command reads this package's config module at
    # start-up and should not pay for SQLAlchemy, Alembic, FastAPI and uvicorn then.
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
