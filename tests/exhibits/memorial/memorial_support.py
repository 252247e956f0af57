"""What the memorial's tests share: recordings of known pitch and level, a central store
with approved voices on loopback, and a memorial station folder enrolled with it."""

from __future__ import annotations

import hashlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "central"))

from central_support import (  # noqa: E402
    SMALL_TRANSPORTS,
    LiveServer,
    keep_recording,
    make_config,
    small_persons,
    write_collection,
)

from exhibits.memorial.playlist import Entry  # noqa: E402
from kiosk.central.config import CentralConfig  # noqa: E402
from kiosk.central.db import Database, open_database  # noqa: E402

RATE = 48_000


def name_audio(frequency: float, *, seconds: float = 0.8, level: float = 0.3, rate: int = RATE) -> bytes:
    """A "name": a tone of `frequency` with soft edges and silence around it, as FLAC."""
    t = np.arange(int(seconds * rate)) / rate
    envelope = np.minimum(1.0, np.minimum(t, seconds - t) / 0.02)
    tone = level * envelope * np.sin(2 * np.pi * frequency * t)
    silence = np.zeros(int(0.1 * rate))
    samples = np.concatenate([silence, tone, silence]).astype(np.float32)
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="FLAC", subtype="PCM_24")
    return buffer.getvalue()


def entry_for(audio: bytes, person_id: str, transport: str, position: int, number: int) -> Entry:
    return Entry(
        person_id=person_id,
        sha256=hashlib.sha256(audio).hexdigest(),
        size_bytes=len(audio),
        surname=f"Testowa{number}",
        given_names="Chaja",
        transport=transport,
        transport_position=position,
        list_number=number,
    )


def put_in_library(folder: Path, audio: bytes) -> Path:
    """Place `audio` where the library keeps it, as a refresh would."""
    sha = hashlib.sha256(audio).hexdigest()
    path = folder / "audio" / sha[:2] / f"{sha}.flac"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(audio)
    return path


@dataclass
class Central:
    config: CentralConfig
    database: Database
    server: LiveServer
    collection: Path

    @property
    def url(self) -> str:
        return self.server.url


def start_central(folder: Path) -> Central:
    """A central store (SQLite) with the small collection (XX: 30 persons, Z: 10), served on loopback."""
    from kiosk.central.api import create_app
    from kiosk.central.importer import import_collection

    collection = write_collection(folder / "collection", SMALL_TRANSPORTS, small_persons())
    config = make_config(folder / "central")
    database = open_database(config)
    import_collection(database, collection)
    server = LiveServer(create_app(config, database)).start()
    return Central(config, database, server, collection)


def approve_voice(central: Central, person_id: str, audio: bytes, code: str | None = None):
    """A recording of `person_id` kept and approved by staff; returns its id."""
    from kiosk.central.moderation import approve

    from central_support import Store

    recording_id = keep_recording(Store(central.config, central.database), person_id, audio=audio, code=code)
    approve(central.database, recording_id, by="test")
    return recording_id


def enroll_memorial(folder: Path, central: Central, *, station_id: str = "memorial-1", **memorial: object) -> Path:
    """A memorial station folder enrolled with `central`, with [memorial] settings replaced."""
    from kiosk.central.stations import enroll
    from kiosk.config import STATION_TEMPLATE, parse_station_config

    token = enroll(central.database, station_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "token").write_text(token + "\n")
    return write_memorial_config(folder, central.url, "token", collection=str(central.collection), **memorial)


def write_hours(path: Path, hours: dict[str, str] | None = None) -> Path:
    """The gallery's hours file (as the playbook writes it); days not given: open all day."""
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    lines = [f"DAY_{number}={(hours or {}).get(day, '0000-2400')}" for number, day in enumerate(days, start=1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_memorial_config(folder: Path, url: str = "", token_file: str = "", *, collection: str = "collection", **memorial: object) -> Path:
    """station.toml for a memorial: the [memorial] keys given replace those of the template."""
    import json

    from kiosk.config import load_station_config

    folder.mkdir(parents=True, exist_ok=True)
    hours = memorial.pop("hours", None)
    channel_of = memorial.pop("channel_of", None)
    lines = [
        "[station]", 'id = "memorial-1"', 'exhibit = "memorial"', "",
        "[display]", "fullscreen = false", "width = 1280", "height = 720", "",
        "[collection]", f"path = {json.dumps(collection)}", "",
        "[central]", f"url = {json.dumps(url)}", f"token_file = {json.dumps(token_file)}", "",
        "[memorial]",
    ]
    settings = {"output": "simulated", "channels": 2, "pause_s": 0.5, "refresh_s": 10, "hours_file": "hours.conf", **memorial}
    lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    if channel_of:
        lines += ["", "[memorial.channel_of]"] + [f"{code} = {channel}" for code, channel in channel_of.items()]
    write_hours(folder / "hours.conf", hours)
    target = folder / "station.toml"
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_station_config(target)  # the test's own file must be valid
    return target


def dominant_frequency(samples: np.ndarray, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def sounding_stretches(recorded: np.ndarray, rate: int = RATE, threshold: float = 1e-3) -> list[tuple[int, int, int]]:
    """(first frame, end frame, loudest channel) of each stretch of sound; gaps under 50 ms join."""
    loud = (np.abs(recorded) > threshold).any(axis=1).astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], loud, [0]])))
    merged: list[list[int]] = []
    for first, end in zip(edges[0::2], edges[1::2]):
        if merged and first - merged[-1][1] < int(0.05 * rate):
            merged[-1][1] = end
        else:
            merged.append([int(first), int(end)])
    return [
        (first, end, int(np.argmax(np.sum(np.square(recorded[first:end]), axis=0))))
        for first, end in merged
    ]
