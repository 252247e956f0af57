"""What the sync tests share: a small fictional collection, a real central store on
loopback, a station enrolled with it, and takes kept the way the booth keeps them.

Plain functions and classes (no fixtures), so the tests, the fault tests' child
processes and `bench/central_sync.py` can all use them.
"""

from __future__ import annotations

import csv
import io
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
for folder in (ROOT, ROOT / "tests" / "central"):  # the project, and the live server the tests share
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from central_support import LiveServer  # noqa: E402

from exhibits.booth.take_store import TakeStore  # noqa: E402
from kiosk.link.outbox import Consent, KeptTake  # noqa: E402
from kiosk.central.config import CentralConfig, load_central_config, write_central_config  # noqa: E402
from kiosk.central.db import Database, open_database  # noqa: E402
from kiosk.central.importer import import_collection  # noqa: E402
from kiosk.central.stations import enroll  # noqa: E402
from kiosk.config import StationConfig, load_station_config, write_station_config  # noqa: E402

ADULT = Consent(version="2026-11", language="nl", age_band="18+", guardian_confirmed=False)
QUALITY = {"verdict": "ok", "problems": []}
FIRST_NAMES = ("Chaja", "Rywka", "Abram", "Sura", "Hélène", "Mendel")


def write_small_collection(folder: Path, count: int = 60) -> Path:
    """Invented persons (marked fictional) on two transports; ids p-0001, p-0002, ..."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "portraits").mkdir(exist_ok=True)
    transports = [["XX", "1943-04-19", "Auschwitz-Birkenau", ""], ["XXI", "1943-07-31", "Auschwitz-Birkenau", ""]]
    persons = []
    for number in range(1, count + 1):
        transport = "XX" if number <= count // 2 else "XXI"
        listed = number if transport == "XX" else number - count // 2
        birth = f"{1870 + number % 70}-{number % 12 + 1:02d}-{number % 27 + 1:02d}"
        first = FIRST_NAMES[number % len(FIRST_NAMES)]
        persons.append(
            [f"p-{number:04d}", f"Testowa{number}", first, birth, "Anvers", "f", transport, str(listed), "unknown", "", "yes"]
        )
    for name, header, rows in (
        ("transports.csv", ["code", "departed", "destination", "note"], transports),
        (
            "persons.csv",
            ["person_id", "surname", "given_names", "birth_date", "birth_place", "sex", "transport", "list_number", "fate", "portrait", "fictional"],
            persons,
        ),
    ):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        (folder / name).write_text(buffer.getvalue(), encoding="utf-8")
    return folder


def make_central(
    folder: Path, collection: Path, *, max_upload_mb: float | None = None, database_url: str | None = None, **names: int
) -> tuple[CentralConfig, Database]:
    """A central store as `kiosk central init` writes it (another database if given), the collection imported."""
    target = write_central_config(folder)
    text = target.read_text(encoding="utf-8")
    if database_url is not None:
        text = text.replace('url = "sqlite:///central.sqlite3"', f'url = "{database_url}"')
    settings: dict[str, object] = dict(names)
    if max_upload_mb is not None:
        settings["max_upload_mb"] = max_upload_mb
    lines = []
    for line in text.splitlines():
        key = line.split("=")[0].strip()
        lines.append(f"{key} = {settings[key]}" if key in settings else line)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = load_central_config(target)
    database = open_database(config)
    import_collection(database, collection)
    return config, database


class CentralServer(LiveServer):
    """The real central store app on uvicorn, on a free port of 127.0.0.1, in a thread."""

    def __init__(self, config: CentralConfig, database: Database):
        from kiosk.central.api import create_app

        super().__init__(create_app(config, database))


@dataclass
class Central:
    """A central store under test: its config, its database, the live server; `recorder` if one sits in front."""

    config: CentralConfig
    database: Database
    server: LiveServer
    recorder: Any = None

    @property
    def url(self) -> str:
        return self.server.url


@dataclass
class Station:
    """A booth station's folder, enrolled with a central store."""

    toml: Path
    config: StationConfig
    token: str

    @property
    def store(self) -> TakeStore:
        return TakeStore(self.config.data_dir / "takes", self.config.station.id)


def make_station(
    folder: Path, central_url: str, token: str, collection: Path, *, station_id: str = "booth-1", **sync: object
) -> Station:
    """station.toml as `kiosk station init` writes it, with the token file and [sync] settings."""
    token_file = folder / "central.token"
    folder.mkdir(parents=True, exist_ok=True)
    token_file.write_text(token + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    target = write_station_config(
        folder,
        exhibit="booth",
        station_id=station_id,
        central_url=central_url,
        token_file=str(token_file),
        collection=str(collection),
        fullscreen=False,
        audio="simulated",
    )
    if sync:
        lines = []
        for line in target.read_text(encoding="utf-8").splitlines():
            key = line.split("=")[0].strip()
            lines.append(f"{key} = {sync[key]}" if key in sync and "=" in line else line)
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Station(target, load_station_config(target), token)


def enrolled_station(folder: Path, central_url: str, database: Database, collection: Path, **kwargs: object) -> Station:
    station_id = str(kwargs.pop("station_id", "booth-1"))
    return make_station(folder, central_url, enroll(database, station_id), collection, station_id=station_id, **kwargs)


def tone(seconds: float, *, seed: int = 0, rate: int = 48_000) -> np.ndarray:
    """A quiet tone with a little noise: any audio will do for the store, but not silence."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * (200 + seed % 300) * t) + rng.uniform(-0.05, 0.05, t.size)).astype(np.float32)


def keep_takes(store: TakeStore, count: int, *, first_person: int = 1, seconds: float = 0.5) -> list[KeptTake]:
    """`count` takes kept as the booth keeps them, for persons p-0001 onwards."""
    return [
        store.keep(tone(seconds, seed=n), 48_000, person_id=f"p-{first_person + n:04d}", consent=ADULT, quality=QUALITY)
        for n in range(count)
    ]


def central_recordings(database: Database) -> dict[str, tuple[str, int]]:
    """recording id -> (sha256, size) of every recording the central store holds."""
    from sqlalchemy import select

    from kiosk.central.schema import recordings

    with database.read() as connection:
        rows = connection.execute(select(recordings.c.id, recordings.c.sha256, recordings.c.size_bytes)).all()
    return {str(row.id): (row.sha256, row.size_bytes) for row in rows}


def local_takes(store: TakeStore) -> dict[str, tuple[str, int]]:
    """recording id -> (sha256, size) of every accepted take on the station (every sidecar)."""
    import json

    takes = {}
    for sidecar in (store.root / "takes").glob("*.json"):
        metadata = json.loads(sidecar.read_text())
        takes[metadata["recording_id"]] = (metadata["sha256"], metadata["size_bytes"])
    return takes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
