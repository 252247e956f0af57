"""What the central store's tests share besides fixtures: collections, configs, a live server.

Kept out of conftest.py so that test modules import it by a name no other test folder
uses (a `from conftest import ...` would find whichever conftest pytest loaded last).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from kiosk.central.config import CentralConfig, load_central_config, write_central_config
from kiosk.central.db import Database

TRANSPORT_HEADER = ["code", "departed", "destination", "note"]
PERSON_HEADER = [
    "person_id",
    "surname",
    "given_names",
    "birth_date",
    "birth_place",
    "sex",
    "transport",
    "list_number",
    "fate",
    "portrait",
    "fictional",
]
SMALL_TRANSPORTS = [
    ["XX", "1943-04-19", "Auschwitz-Birkenau", ""],
    ["Z", "1944-01-15", "Auschwitz-Birkenau", "Roma and Sinti"],
]


def small_persons() -> list[list[str]]:
    """Invented persons: transport XX holds 30, Z holds 10; a few names to match on."""
    rows = []
    firsts = ["Chaja", "Łaja", "Hélène", "Rywka", "Abram", "Sura"]
    for number in range(1, 31):
        first = firsts[number % len(firsts)]
        birth = f"19{10 + number:02d}-{(number % 12) + 1:02d}-{(number % 27) + 1:02d}"
        rows.append(
            [
                f"t-xx-{number:03d}",
                f"Testowa{number}",
                f"{first} Maria",
                birth,
                "Anvers",
                "f",
                "XX",
                str(number),
                "murdered",
                "",
                "yes",
            ]
        )
    for number in range(1, 11):
        rows.append(
            [
                f"t-z-{number:03d}",
                f"Testari{number}",
                "Jozef",
                "1920",
                "Liège",
                "m",
                "Z",
                str(number),
                "unknown",
                "",
                "yes",
            ]
        )
    return rows


def write_collection(folder: Path, transports: list[list[str]], persons: list[list[str]]) -> Path:
    """A collection folder in the contract's layout, from rows."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "portraits").mkdir(exist_ok=True)
    for name, header, rows in (
        ("transports.csv", TRANSPORT_HEADER, transports),
        ("persons.csv", PERSON_HEADER, persons),
    ):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        (folder / name).write_text(buffer.getvalue(), encoding="utf-8")
    return folder


def make_config(folder: Path, database_url: str | None = None, **names: int) -> CentralConfig:
    """A central.toml in `folder` as `kiosk central init` writes it, the database URL replaced."""
    target = write_central_config(folder, port=8800)
    text = target.read_text(encoding="utf-8")
    if database_url is not None:
        text = text.replace('url = "sqlite:///central.sqlite3"', f'url = "{database_url}"')
    for key, value in names.items():
        text = (
            "\n".join(f"{key} = {value}" if line.startswith(f"{key} =") else line for line in text.splitlines()) + "\n"
        )
    target.write_text(text, encoding="utf-8")
    return load_central_config(target)


@dataclass
class Store:
    """A central store for one test: its configuration and its opened database."""

    config: CentralConfig
    database: Database


class LiveServer:
    """An ASGI app on a real uvicorn, on a free port of 127.0.0.1, in a daemon thread."""

    def __init__(self, app: object):
        import uvicorn

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()


def lease_rule_breaks(database: Database) -> dict[str, int]:
    """What breaks the leases' rules in the database now (all zero when none): persons with
    two open leases, persons held with no open lease, open leases whose person is held
    until another moment than the lease's end."""
    from sqlalchemy import func, select

    from kiosk.central.schema import leases, persons

    is_open = leases.c.ended_at.is_(None)
    with database.read() as connection:
        twice = select(leases.c.person_id).where(is_open).group_by(leases.c.person_id).having(func.count() > 1)
        open_twice = connection.execute(select(func.count()).select_from(twice.subquery())).scalar()
        held_without_lease = connection.execute(
            select(func.count())
            .select_from(persons)
            .where(persons.c.held_until.is_not(None), ~persons.c.id.in_(select(leases.c.person_id).where(is_open)))
        ).scalar()
        held_otherwise = connection.execute(
            select(func.count())
            .select_from(leases.join(persons, leases.c.person_id == persons.c.id))
            .where(is_open, persons.c.held_until.is_distinct_from(leases.c.expires_at))
        ).scalar()
    return {"open_twice": open_twice, "held_without_lease": held_without_lease, "held_otherwise": held_otherwise}


def flac_bytes(seconds: float = 0.5, frequency: float = 220.0, rate: int = 48_000) -> bytes:
    """A short tone as FLAC, like a booth's take (any audio will do for the store)."""
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * np.sin(2 * np.pi * frequency * t) * 32767).astype(np.int16)
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def keep_recording(
    store: Store,
    person_id: str,
    *,
    station_id: str = "booth-1",
    audio: bytes | None = None,
    code: str | None = None,
    recording_id: uuid.UUID | None = None,
    second_take: bool = False,
) -> uuid.UUID:
    """A recording kept by the store as an upload would keep it (no HTTP), enrolling the station if new."""
    from kiosk.central.recordings import AudioStore, ReceivedAudio, parse_metadata, store_recording
    from kiosk.central.stations import authenticate, enroll

    audio = audio if audio is not None else flac_bytes()
    recording_id = recording_id or uuid.uuid4()
    # Enrolling again only replaces the station's token.
    station = authenticate(store.database, enroll(store.database, station_id))
    sha = hashlib.sha256(audio).hexdigest()
    info = soundfile.info(io.BytesIO(audio))
    document = {
        "recording_id": str(recording_id),
        "person_id": person_id,
        "station_id": station_id,
        "recorded_at": "2026-11-21T10:42:00Z",
        "duration_s": info.frames / info.samplerate,
        "sample_rate": info.samplerate,
        "sha256": sha,
        "size_bytes": len(audio),
        "consent": {"version": "2026-11", "language": "nl", "age_band": "18+", "guardian_confirmed": False},
        "quality": {"verdict": "ok", "problems": []},
    }
    if code is not None:
        document["withdrawal_code"] = code
    if second_take:
        document["second_take"] = True
    metadata, document = parse_metadata(json.dumps(document).encode())
    files = AudioStore(store.config.audio_dir)
    files.prepare()
    path, fd = files.new_incoming()
    with os.fdopen(fd, "wb") as file:
        file.write(audio)
    received = ReceivedAudio(path, sha, len(audio), audio.startswith(b"fLaC"))
    stored = store_recording(store.database, files, station, recording_id, metadata, document, received)
    assert stored.status in (200, 201), stored
    return recording_id



# What a log record carries about its moment and its place in the program: numbers that
# say nothing about anyone, and in which a short secret ("4568") can turn up by chance
# (a timestamp, a thread id).
_RECORD_BOOKKEEPING = frozenset(
    {"created", "msecs", "relativeCreated", "thread", "threadName", "process", "processName", "taskName",
     "lineno", "levelno", "levelname", "pathname", "filename", "module", "funcName"}
)


def logged_text(record) -> str:
    """All a log record says (its message, arguments, extra fields, exception text) as one
    string to search for secrets, without its bookkeeping numbers."""
    said = {key: value for key, value in record.__dict__.items() if key not in _RECORD_BOOKKEEPING}
    return json.dumps(said | {"message": record.getMessage()}, default=str)
