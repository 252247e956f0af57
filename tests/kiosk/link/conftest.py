"""Fixtures for the station side of sync: a real central store on loopback, a booth enrolled.

- `collection` (session): a small fictional collection (`sync_support.write_small_collection`).
- `central`: the central store (SQLite in a temporary folder, the collection imported)
  served by a real uvicorn on 127.0.0.1, in a thread.
- `station`: a booth station enrolled with it, with short retry waits for tests.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sync_support import Central, CentralServer, Station, enrolled_station, make_central, write_small_collection  # noqa: E402


FAST_SYNC = {"retry_first_s": 0.05, "retry_max_s": 0.5, "invalid_retry_s": 1, "heartbeat_s": 5}


@pytest.fixture(scope="session")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_collection(tmp_path_factory.mktemp("sync-collection") / "collection", count=80)


@pytest.fixture
def central(tmp_path: Path, collection: Path) -> Iterator[Central]:
    config, database = make_central(tmp_path / "central", collection)
    server = CentralServer(config, database).start()
    try:
        yield Central(config, database, server)
    finally:
        server.stop()
        database.dispose()


@pytest.fixture
def station(tmp_path: Path, central: Central, collection: Path) -> Station:
    return enrolled_station(tmp_path / "station", central.url, central.database, collection, **FAST_SYNC)
