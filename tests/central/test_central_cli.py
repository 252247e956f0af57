"""`kiosk central init|serve|enroll|status` and `kiosk collection import`, as a technician runs them."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from central_support import SMALL_TRANSPORTS, flac_bytes, small_persons, write_collection
from sqlalchemy import create_engine, select

from kiosk.central.codes import token_hash
from kiosk.central.config import load_central_config
from kiosk.central.db import open_database
from kiosk.central.schema import recordings, stations
from kiosk.central.stations import authenticate

# The real `kiosk` command line, with the central commands added when the entry point
# does not list them yet, so these tests hold before and after they are registered.
RUNNER = """
import sys
from kiosk.cli import _register, cli
_register()
if "central" not in cli.commands:
    from kiosk.cli.central import central
    cli.add_command(central)
if "import" not in cli.commands["collection"].commands:
    from kiosk.cli.central import import_collection
    cli.commands["collection"].add_command(import_collection)
cli.main(args=sys.argv[1:], prog_name="kiosk")
"""


def kiosk(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def kiosk_process(*args: str | Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def central_toml(tmp_path: Path) -> Path:
    result = kiosk("central", "init", tmp_path / "store", "--port", free_port())
    assert result.returncode == 0, result.stderr
    return tmp_path / "store" / "central.toml"


def test_init_writes_central_toml_and_says_what_next(tmp_path: Path):
    result = kiosk("central", "init", tmp_path / "store", "--port", "8123")
    assert result.returncode == 0, result.stderr
    assert "kiosk central enroll" in result.stdout and "kiosk collection import" in result.stdout
    assert load_central_config(tmp_path / "store" / "central.toml").server.port == 8123
    again = kiosk("central", "init", tmp_path / "store")
    assert again.returncode == 2 and "already exists" in again.stderr and "what to do:" in again.stderr


def test_import_reports_counts_and_refuses_a_bad_collection(central_toml: Path, small_collection: Path, tmp_path: Path):
    result = kiosk("collection", "import", small_collection, "--central", central_toml, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["persons"] == 40 and report["transports"] == 2 and report["persons_added"] == 40
    rows = small_persons()
    rows[0][0] = rows[1][0]  # person_id twice
    bad = write_collection(tmp_path / "bad", SMALL_TRANSPORTS, rows)
    refused = kiosk("collection", "import", bad, "--central", central_toml)
    assert refused.returncode == 2 and "persons.csv line 3" in refused.stderr and "what to do:" in refused.stderr
    status = json.loads(kiosk("central", "status", "--config", central_toml, "--json").stdout)
    assert status["persons"] == 40


def test_enroll_prints_a_token_once_and_stores_only_its_hash(central_toml: Path):
    result = kiosk("central", "enroll", "--config", central_toml, "booth-1")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert len(token) >= 43 and "\n" not in token
    config = load_central_config(central_toml)
    engine = create_engine(config.database_url)
    with engine.connect() as connection:
        [row] = connection.execute(select(stations)).all()
    engine.dispose()
    assert row.station_id == "booth-1" and row.token_hash == token_hash(token) != token
    assert token.encode() not in b"".join(p.read_bytes() for p in central_toml.parent.glob("central.sqlite3*"))

    again = json.loads(kiosk("central", "enroll", "--config", central_toml, "booth-1", "--json").stdout)
    assert again["station_id"] == "booth-1" and again["token"] != token
    database = open_database(config)
    try:
        assert authenticate(database, token) is None, "the old token stopped working"
        assert authenticate(database, again["token"]).station_id == "booth-1"
    finally:
        database.dispose()

    bad = kiosk("central", "enroll", "--config", central_toml, "Booth 1")
    assert bad.returncode == 2 and "not usable" in bad.stderr


def test_status_prints_the_contract_shape(central_toml: Path, small_collection: Path):
    empty = json.loads(kiosk("central", "status", "--config", central_toml, "--json").stdout)
    assert empty == {"persons": 0, "recordings": 0, "approved": 0, "names_with_voice": 0, "transports": {}}
    kiosk("collection", "import", small_collection, "--central", central_toml)
    result = kiosk("central", "status", "--config", central_toml, "--json")
    status = json.loads(result.stdout)
    assert list(status) == ["persons", "recordings", "approved", "names_with_voice", "transports"]
    assert status["transports"] == {
        "XX": {"persons": 30, "names_with_voice": 0},
        "Z": {"persons": 10, "names_with_voice": 0},
    }
    assert all(isinstance(status[key], int) for key in ("persons", "recordings", "approved", "names_with_voice"))
    human = kiosk("central", "status", "--config", central_toml)
    assert "0 of 40 names have a voice" in human.stdout


def test_a_config_with_mistakes_stops_every_command_with_what_to_do(central_toml: Path):
    central_toml.write_text(central_toml.read_text().replace("hand_size = 5", "hand_size = 0"))
    for command in (("central", "status"), ("central", "serve"), ("central", "enroll")):
        args = [*command, "--config", central_toml] + (["booth-1"] if command[1] == "enroll" else [])
        result = kiosk(*args)
        assert result.returncode == 2, command
        assert "[names] hand_size" in result.stderr and "kiosk central init" in result.stderr


def wait_for_health(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the store exited: {process.stdout.read()} {process.stderr.read()}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the store did not answer")


def test_serve_logs_json_lines_and_a_201_survives_a_kill(central_toml: Path, small_collection: Path):
    kiosk("collection", "import", small_collection, "--central", central_toml)
    token = kiosk("central", "enroll", "--config", central_toml, "booth-1").stdout.strip()
    config = load_central_config(central_toml)
    url = f"http://127.0.0.1:{config.server.port}"
    process = kiosk_process("central", "serve", "--config", central_toml)
    try:
        wait_for_health(url, process)
        audio = flac_bytes()
        rid = str(uuid.uuid4())
        metadata = {
            "person_id": "t-z-001",
            "station_id": "booth-1",
            "recorded_at": "2026-11-21T10:00:00Z",
            "duration_s": 0.5,
            "sample_rate": 48000,
            "sha256": hashlib.sha256(audio).hexdigest(),
            "size_bytes": len(audio),
            "quality": {},
            "consent": {"version": "2026-11", "language": "nl", "age_band": "9-12", "guardian_confirmed": True},
        }
        answer = httpx.put(
            f"{url}/api/v1/recordings/{rid}",
            headers={"Authorization": f"Bearer {token}"},
            files={"metadata": (None, json.dumps(metadata).encode()), "audio": ("t.flac", audio)},
        )
        assert answer.status_code == 201
        process.send_signal(signal.SIGKILL)  # no goodbye: what 201 promised must be on disk
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    engine = create_engine(config.database_url)
    with engine.connect() as connection:
        [row] = connection.execute(select(recordings)).all()
    engine.dispose()
    assert str(row.id) == rid
    assert (config.audio_dir / row.audio_path).read_bytes() == audio
    lines = process.stdout.read().splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    assert entries and all(entry["station"] == "central" for entry in entries)
    assert any(entry["msg"] == "central store starting" for entry in entries)
    assert any(entry["msg"] == "recording received" and entry["recording_id"] == rid for entry in entries)
    assert not any("t-z-001" in line for line in lines), "no person id in the log next to a recording"


def test_serve_stops_cleanly_on_sigterm_and_names_a_taken_port(central_toml: Path):
    config = load_central_config(central_toml)
    url = f"http://127.0.0.1:{config.server.port}"
    process = kiosk_process("central", "serve", "--config", central_toml)
    try:
        wait_for_health(url, process)
        second = kiosk("central", "serve", "--config", central_toml, timeout=60)
        assert second.returncode == 2 and "cannot listen" in second.stderr and "[server] port" in second.stderr
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
    assert any(
        json.loads(line)["msg"] == "central store stopped"
        for line in process.stdout.read().splitlines()
        if line.strip()
    )
