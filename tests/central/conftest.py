"""Fixtures for the central store: collections, stores on SQLite and PostgreSQL, live servers.

- `pg_cluster` (session): a real PostgreSQL started for this session (`pg_cluster.py`).
- `store` (parametrised "sqlite" / "postgresql"): a `CentralConfig` in a temporary
  folder and its opened (migrated) `Database`, with the small collection imported.
- `live_server(app)`: the app served by a real uvicorn on a free port of 127.0.0.1, in a
  thread; tests talk to it with httpx over loopback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from central_support import SMALL_TRANSPORTS, LiveServer, Store, make_config, small_persons, write_collection
from pg_cluster import PostgresCluster, cluster_for_tests

from kiosk.central.db import open_database
from kiosk.central.importer import import_collection


@pytest.fixture(scope="session")
def small_collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_collection(tmp_path_factory.mktemp("collection") / "small", SMALL_TRANSPORTS, small_persons())


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    with cluster_for_tests("the central store's tests") as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """None for the default SQLite file, or a new PostgreSQL database."""
    if backend == "sqlite":
        return None
    return request.getfixturevalue("pg_cluster").new_database()


@pytest.fixture
def store(tmp_path: Path, database_url: str | None, small_collection: Path) -> Iterator[Store]:
    config = make_config(tmp_path / "central", database_url)
    database = open_database(config)
    import_collection(database, small_collection)
    try:
        yield Store(config, database)
    finally:
        database.dispose()


@pytest.fixture
def live_server() -> Iterator[Callable[[object], LiveServer]]:
    started: list[LiveServer] = []

    def start(app: object) -> LiveServer:
        server = LiveServer(app).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
