"""`kiosk screenshot` of a station enrolled with a live central store leaves the store untouched.

The store is the real `kiosk central serve` in its own process on loopback, the booth and
the wall are enrolled with it (their real tokens in their token files), and the pictures
are taken of the screens that would need a name from the store. Afterwards the store
holds no lease, no recording and no heartbeat, and its log shows no request from a station.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "link"))

from sync_support import free_port, make_station, write_small_collection  # noqa: E402

from kiosk.central.config import load_central_config, write_central_config  # noqa: E402
from kiosk.central.db import open_database  # noqa: E402
from kiosk.central.importer import import_collection  # noqa: E402
from kiosk.central.stations import enroll  # noqa: E402

pytestmark = [pytest.mark.gui]


class LiveStore:
    def __init__(self, folder: Path, url: str, tokens: dict[str, str], collection: Path):
        self.folder, self.url, self.tokens, self.collection = folder, url, tokens, collection

    def count(self, table: str) -> int:
        engine = create_engine(f"sqlite:///{self.folder / 'central.sqlite3'}")
        try:
            with engine.connect() as connection:
                return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def live_store(tmp_path_factory) -> Iterator[LiveStore]:
    folder = tmp_path_factory.mktemp("screenshot-store")
    collection = write_small_collection(folder / "collection", count=30)
    port = free_port()
    config = load_central_config(write_central_config(folder / "central", port=port))
    database = open_database(config)
    try:
        import_collection(database, collection)
        tokens = {station: enroll(database, station) for station in ("booth-1", "wall-1")}
    finally:
        database.dispose()
    log = (folder / "central.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "central", "serve", "--config", str(config.source)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, f"the store stopped: {(folder / 'central.log').read_text()}"
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the store did not answer within 90 s"
            time.sleep(0.2)
        yield LiveStore(folder / "central", url, tokens, collection)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _screenshot(toml: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", "screenshot", str(toml), *args],
                          capture_output=True, text=True, timeout=240)


def test_a_booth_screenshot_leases_no_name_and_sends_nothing(live_store, tmp_path):
    booth = make_station(tmp_path / "booth", live_store.url, live_store.tokens["booth-1"], live_store.collection)
    for screen in ("name", "recording", "thanks"):
        result = _screenshot(booth.toml, "--screen", screen, "--lang", "nl", "--out", str(tmp_path / f"{screen}.png"))
        assert result.returncode == 0, result.stderr
        assert (tmp_path / f"{screen}.png").stat().st_size > 0
    assert live_store.count("leases") == 0, "a picture leased names of the live store"
    assert live_store.count("recordings") == 0
    assert live_store.count("heartbeats") == 0
    # The station itself is as it was: no take kept, no names in hand written.
    assert not (booth.toml.parent / "data" / "takes").exists()
    # The count above would have seen a lease: the booth's own token takes one now.
    answer = httpx.post(f"{live_store.url}/api/v1/leases", json={"how": "next", "count": 1},
                        headers={"Authorization": f"Bearer {live_store.tokens['booth-1']}"}, timeout=10)
    assert answer.status_code in (200, 201), answer.text
    assert live_store.count("leases") == 1


def test_a_wall_screenshot_asks_the_store_for_nothing(live_store, tmp_path):
    wall = make_station(tmp_path / "wall", live_store.url, live_store.tokens["wall-1"], live_store.collection, station_id="wall-1")
    text_before = wall.toml.read_text(encoding="utf-8").replace('exhibit = "booth"', 'exhibit = "wall"')
    wall.toml.write_text(text_before, encoding="utf-8")
    result = _screenshot(wall.toml, "--screen", "grid", "--lang", "fr", "--out", str(tmp_path / "grid.png"))
    assert result.returncode == 0, result.stderr
    assert live_store.count("heartbeats") == 0
    assert not (wall.toml.parent / "data" / "voices").exists(), "the wall's own voice cache was not touched"
