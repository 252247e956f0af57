"""Importing a collection: all or nothing, and again without breaking recordings."""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from pathlib import Path

import pytest
from central_support import SMALL_TRANSPORTS, Store, flac_bytes, make_config, small_persons, write_collection
from sqlalchemy import func, select

from kiosk.central import importer
from kiosk.central.db import Database, open_database
from kiosk.central.importer import import_collection
from kiosk.central.recordings import AudioStore, ReceivedAudio, parse_metadata, store_recording
from kiosk.central.schema import collection_imports, persons, recordings, transports
from kiosk.central.stations import authenticate, enroll
from kiosk.central.status import central_status
from kiosk.errors import KioskError


def counts(database: Database) -> dict[str, int]:
    with database.read() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar()
            for table in (collection_imports, transports, persons, recordings)
        }


def record(store: Store, person_id: str) -> uuid.UUID:
    """A recording of `person_id` kept the way an upload keeps it."""
    database = store.database
    station = authenticate(database, enroll(database, "booth-1"))
    audio_store = AudioStore(store.config.audio_dir)
    audio_store.prepare()
    audio = flac_bytes(frequency=200 + len(person_id))
    path, fd = audio_store.new_incoming()
    with open(fd, "wb") as file:
        file.write(audio)
    recording_id = uuid.uuid4()
    digest = hashlib.sha256(audio).hexdigest()
    metadata, document = parse_metadata(
        json.dumps(
            {
                "person_id": person_id,
                "station_id": "booth-1",
                "recorded_at": "2026-11-21T10:00:00Z",
                "duration_s": 0.5,
                "sample_rate": 48000,
                "sha256": digest,
                "size_bytes": len(audio),
                "quality": {},
                "consent": {"version": "2026-11", "language": "en", "age_band": "18+", "guardian_confirmed": False},
            }
        ).encode()
    )
    received = ReceivedAudio(path, hashlib.sha256(audio).hexdigest(), len(audio), True)
    assert store_recording(database, audio_store, station, recording_id, metadata, document, received).status == 201
    return recording_id


def test_an_import_reports_what_it_did(tmp_path: Path, small_collection: Path, database_url: str | None):
    database = open_database(make_config(tmp_path / "central", database_url))
    try:
        report = import_collection(database, small_collection)
        assert (report.persons, report.transports, report.persons_added) == (40, 2, 40)
        assert report.fictional and "FICTIONAL" in report.summary()
        assert counts(database) == {"collection_imports": 1, "transports": 2, "persons": 40, "recordings": 0}
        status = central_status(database)
        assert status["persons"] == 40 and status["transports"] == {
            "XX": {"persons": 30, "names_with_voice": 0},
            "Z": {"persons": 10, "names_with_voice": 0},
        }
    finally:
        database.dispose()


def test_a_bad_collection_is_refused_whole_and_changes_nothing(store: Store, tmp_path: Path):
    before = counts(store.database)
    rows = small_persons()
    rows[3][7] = "0"  # list_number must be positive
    rows[5][6] = "XXVIII"  # there is no such transport
    bad = write_collection(tmp_path / "bad", SMALL_TRANSPORTS, rows)
    with pytest.raises(KioskError) as caught:
        import_collection(store.database, bad)
    message = str(caught.value)
    assert "persons.csv line 5" in message and "persons.csv line 7" in message
    assert counts(store.database) == before


def test_an_import_that_fails_halfway_leaves_nothing_behind(
    tmp_path: Path, small_collection: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
):
    database = open_database(make_config(tmp_path / "central", database_url))
    real = importer._person_values
    seen = []

    def failing(*args, **kwargs):
        seen.append(1)
        if len(seen) == 30:
            raise OSError("the disk is full")
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "_person_values", failing)
    try:
        with pytest.raises(OSError):
            import_collection(database, small_collection)
        assert counts(database) == {"collection_imports": 0, "transports": 0, "persons": 0, "recordings": 0}
    finally:
        database.dispose()


def test_importing_again_updates_persons_and_keeps_their_recordings(store: Store, tmp_path: Path):
    kept = record(store, "t-xx-002")
    dropped = record(store, "t-xx-003")
    with store.database.read() as connection:
        ids_before = dict(connection.execute(select(persons.c.person_id, persons.c.id)).all())
        transport_ids = dict(connection.execute(select(transports.c.code, transports.c.id)).all())

    rows = small_persons()
    rows[1][1] = "Testowa-Rozenberg"  # t-xx-002: a corrected spelling
    del rows[2]  # t-xx-003 leaves the list
    rows.append(["t-z-011", "Testari11", "Jan", "1931", "Gent", "m", "Z", "11", "unknown", "", "yes"])
    report = import_collection(store.database, write_collection(tmp_path / "v2", SMALL_TRANSPORTS, rows))
    assert (report.persons_added, report.persons_updated, report.persons_retired) == (1, 1, 1)
    assert report.persons_unchanged == 38

    with store.database.read() as connection:
        after = {row.person_id: row for row in connection.execute(select(persons))}
        recorded = dict(connection.execute(select(recordings.c.id, recordings.c.person_id)).all())
        assert dict(connection.execute(select(transports.c.code, transports.c.id)).all()) == transport_ids
    assert after["t-xx-002"].id == ids_before["t-xx-002"] and after["t-xx-002"].surname == "Testowa-Rozenberg"
    assert after["t-xx-002"].voiced, "its recording still gives it a voice"
    assert recorded[kept] == ids_before["t-xx-002"] and recorded[dropped] == ids_before["t-xx-003"]
    assert not after["t-xx-003"].active
    status = central_status(store.database)
    assert status["persons"] == 40 and status["recordings"] == 2 and status["names_with_voice"] == 1
    assert status["transports"]["Z"]["persons"] == 11

    # The person comes back in a later export: active again, voice and all.
    import_collection(store.database, store_small_collection(tmp_path))
    assert central_status(store.database)["names_with_voice"] == 2


def store_small_collection(tmp_path: Path) -> Path:
    return write_collection(tmp_path / "v3", SMALL_TRANSPORTS, small_persons())


def test_a_transport_code_names_one_transport_per_import_only(store: Store, tmp_path: Path):
    """Codes are not keys in the real world: a new export may give "Z" another date."""
    changed = [["XX", "1943-04-19", "Auschwitz-Birkenau", ""], ["Z", "1943-12-13", "Auschwitz-Birkenau", "special"]]
    rows = [row for row in small_persons() if row[6] == "XX"] + [
        ["t-z-100", "Testari100", "Mirjam", "1920", "Gent", "f", "Z", "1", "unknown", "", "yes"]
    ]
    import_collection(store.database, write_collection(tmp_path / "v2", changed, rows))
    with store.database.read() as connection:
        rows_z = connection.execute(select(transports).where(transports.c.code == "Z")).all()
    assert len(rows_z) == 1 and str(rows_z[0].departed) == "1943-12-13" and rows_z[0].note == "special"


def test_the_demo_collection_imports(store: Store, tmp_path: Path):
    from kiosk.collection import write_demo

    folder = tmp_path / "demo"
    write_demo(folder, count=120, seed=3, workers=1)
    report = import_collection(store.database, folder)
    assert report.persons == 120 and report.fictional
    assert central_status(store.database)["persons"] == 120
    shutil.rmtree(folder)


def test_list_numbers_are_range_checked_before_the_database_sees_them(store: Store, tmp_path: Path):
    rows = small_persons()
    rows[0][7] = "2147483647"  # the largest the store keeps, on SQLite and PostgreSQL
    import_collection(store.database, write_collection(tmp_path / "largest", SMALL_TRANSPORTS, rows))
    with store.database.read() as connection:
        assert connection.execute(select(func.max(persons.c.list_number))).scalar() == 2147483647
    before = counts(store.database)
    rows[0][7] = "99999999999999999999999"
    too_large = write_collection(tmp_path / "too-large", SMALL_TRANSPORTS, rows)
    with pytest.raises(KioskError, match="persons.csv line 2, column list_number: list number 99999999999999999999999 is out of range"):
        import_collection(store.database, too_large)
    assert counts(store.database) == before
