"""A full disk: 507 with a clear message, nothing half-written, health says so; on small
tmpfs mounts (the tests run as root), over a real uvicorn, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from central_support import Store, flac_bytes, make_config
from test_central_upload import audio_files, committed_rows, put, sidecar

from kiosk.central.api import create_app
from kiosk.central.db import open_database
from kiosk.central.importer import import_collection
from kiosk.central.stations import enroll


def mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.fail("these tests mount a tmpfs: run them as root (the test harness does)", pytrace=False)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0750", "tmpfs", str(folder)], check=True)


def unmount(folder: Path) -> None:
    subprocess.run(["umount", "--lazy", str(folder)], check=False)


def fill(folder: Path, leave_bytes: int) -> Path:
    """Write a filler file until at most `leave_bytes` are free there."""
    filler = folder / "filler.bin"
    with filler.open("wb") as file:
        block = b"\0" * 65536
        while shutil.disk_usage(folder).free > leave_bytes:
            try:
                file.write(block[: max(4096, min(len(block), shutil.disk_usage(folder).free - leave_bytes))])
                file.flush()
            except OSError:
                break
    return filler


@pytest.fixture
def tight(tmp_path: Path, database_url: str | None, small_collection: Path, live_server: Any) -> Iterator[dict[str, Any]]:
    """A store whose audio folder is a 2 MB tmpfs; uploads up to 0.5 MB."""
    config = make_config(tmp_path / "central", database_url)
    config.server.max_upload_mb = 0.5
    mount_tmpfs(config.audio_dir, "2m")
    database = open_database(config)
    try:
        import_collection(database, small_collection)
        server = live_server(create_app(config, database))
        yield {"config": config, "database": database, "url": server.url, "token": enroll(database, "booth-1"),
               "store": Store(config, database)}
    finally:
        database.dispose()
        unmount(config.audio_dir)


def test_an_upload_to_a_full_disk_is_507_keeps_nothing_and_health_says_so(tight: dict[str, Any]):
    audio_dir: Path = tight["config"].audio_dir
    headers = {"Authorization": f"Bearer {tight['token']}"}
    with httpx.Client(base_url=tight["url"], headers=headers, timeout=30) as client:
        health = client.get("/api/v1/health").json()
        assert health["status"] == "ok" and health["disk"]["can_take"] and health["disk"]["free_bytes"] > 1_000_000
        filler = fill(audio_dir, leave_bytes=20_000)
        audio = flac_bytes(seconds=3.0, frequency=300)  # about 140 KB: it cannot fit
        assert len(audio) > 50_000
        rid = str(uuid.uuid4())
        metadata = sidecar(audio, rid, person_id="t-xx-002", duration_s=3.0)
        answer = put(client, rid, metadata, audio)
        assert answer.status_code == 507, answer.text
        body = answer.json()
        assert body["code"] == "disk_full" and "disk is full" in body["detail"] and "nothing" in body["detail"]
        assert committed_rows(tight["store"]) == []
        assert audio_files(audio_dir) == [filler], "no half-written audio"
        health = client.get("/api/v1/health")
        assert health.status_code == 200
        assert health.json()["status"] == "disk_full" and not health.json()["disk"]["can_take"]
        assert health.json()["free_disk_bytes"] == health.json()["disk"]["free_bytes"] < 500_000
        print(f"\nfull disk: a {len(audio)}-byte take -> {answer.status_code} {body['code']}; health "
              f"{health.json()['status']} with {health.json()['disk']['free_bytes']} bytes free")
        # Room again: the booth sends the same take once more and it is kept.
        filler.unlink()
        assert client.get("/api/v1/health").json()["status"] == "ok"
        assert put(client, rid, metadata, audio).status_code == 201
    [row] = committed_rows(tight["store"])
    assert (audio_dir / row.audio_path).read_bytes() == audio


def test_a_row_that_cannot_be_written_leaves_no_audio_behind(tmp_path: Path, small_collection: Path, live_server: Any):
    """SQLite on a full disk of its own: the audio had room, the row did not."""
    database_dir = tmp_path / "database"
    mount_tmpfs(database_dir, "4m")
    try:
        config = make_config(tmp_path / "central", f"sqlite:///{database_dir}/central.sqlite3")
        database = open_database(config)
        try:
            import_collection(database, small_collection)
            token = enroll(database, "booth-1")
            server = live_server(create_app(config, database))
            filler = fill(database_dir, leave_bytes=0)
            audio = flac_bytes(seconds=1.0)
            rid = str(uuid.uuid4())
            with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
                # A few tries: SQLite may still have room in its pages for the first row.
                statuses = []
                for person in ("t-xx-003", "t-xx-004", "t-xx-005", "t-xx-006"):
                    rid = str(uuid.uuid4())
                    answer = put(client, rid, sidecar(audio, rid, person_id=person, duration_s=1.0), audio)
                    statuses.append(answer.status_code)
                    if answer.status_code == 507:
                        assert answer.json()["code"] == "disk_full"
                        break
                    audio = flac_bytes(seconds=1.0, frequency=200 + len(statuses) * 50)
                assert statuses[-1] == 507, statuses
                kept = {row.audio_path for row in committed_rows(Store(config, database))}
                files = {p.relative_to(config.audio_dir).as_posix() for p in audio_files(config.audio_dir)}
                assert files == kept, "only audio that has its row stays"
            filler.unlink()
        finally:
            database.dispose()
    finally:
        unmount(database_dir)
