"""Approved voices as a BagIt bag: a folder from the command line, a .tar from the staff pages."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import bagit
import pytest
from central_support import Store, flac_bytes, keep_recording
from fastapi.testclient import TestClient

from kiosk.central.api import create_app
from kiosk.central.moderation import approve, reject
from kiosk.central.recordings import AudioStore
from kiosk.central.staff.accounts import add_staff
from kiosk.central.staff.export import plan_bag, stream_bag_tar, write_bag
from kiosk.errors import KioskError

KIOSK = [sys.executable, "-m", "kiosk"]


def _moderated(store: Store) -> dict[str, object]:
    """Two approved voices (XX 2 and Z 1), one rejected, one waiting."""
    first = keep_recording(store, "t-z-001", audio=flac_bytes(frequency=330), code="ABCD-2345")
    second = keep_recording(store, "t-xx-002")
    third = keep_recording(store, "t-xx-003", audio=flac_bytes(frequency=440))
    keep_recording(store, "t-xx-004", audio=flac_bytes(frequency=550))
    approve(store.database, first, by="anna")
    approve(store.database, second, by="anna")
    reject(store.database, third, reason="Another name was read", by="anna")
    return {"first": first, "second": second}


def _check_bag(folder: Path, ids: dict[str, object]) -> None:
    bag = bagit.Bag(str(folder))
    bag.validate()  # manifests, Payload-Oxum, tag manifest: raises when anything is off
    assert bag.info["Source-Organization"] == "Kazerne Dossin"
    assert bag.info["Payload-Oxum"].endswith(".4") and bag.info["Bag-Count"] == "1 of 1"
    assert sorted(bag.payload_files()) == [
        "data/XX/00002-t-xx-002.flac",
        "data/XX/00002-t-xx-002.json",
        "data/Z/00001-t-z-001.flac",
        "data/Z/00001-t-z-001.json",
    ]
    assert (folder / "data/XX/00002-t-xx-002.flac").read_bytes() == flac_bytes()
    document = json.loads((folder / "data/Z/00001-t-z-001.json").read_text(encoding="utf-8"))
    assert document["person_id"] == "t-z-001" and document["transport"] == "Z" and document["list_number"] == 1
    assert document["surname"] == "Testari1" and document["recording_id"] == str(ids["first"])
    assert document["consent_version"] == "2026-11" and document["consent_language"] == "nl"
    assert document["recorded_at"].startswith("2026-11-21T10:42") and document["approved_at"]
    # Nothing about the reader: no station, no age band, no withdrawal code.
    # Values compared whole: a timestamp's microseconds may well read "...118+00:00".
    keys, values = _keys_and_values(document)
    assert not {key for key in keys if any(word in key for word in ("station", "age_band", "withdrawal", "guardian"))}
    assert not {"booth-1", "18+", "13-17", "9-12"} & values
    assert not any("ABCD" in value for value in values)


def _keys_and_values(document: object) -> tuple[set[str], set[str]]:
    """Every key and every scalar value (as text) in a JSON document, however deep."""
    keys: set[str] = set()
    values: set[str] = set()
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            keys.update(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        else:
            values.add(str(item))
    return keys, values


def test_the_folder_bag_validates_and_holds_only_approved_voices(store: Store, tmp_path: Path):
    ids = _moderated(store)
    plan = plan_bag(store.database, AudioStore(store.config.audio_dir))
    seen = []
    exports = tmp_path / "exports"
    exports.mkdir()
    out = write_bag(plan, exports / "bag", progress=seen.append)
    assert sum(seen) == 4
    _check_bag(out, ids)
    assert [p.name for p in exports.iterdir()] == ["bag"]  # no temporary folder left
    with pytest.raises(KioskError, match="exists already"):
        write_bag(plan, exports / "bag")


def test_a_changed_audio_file_stops_the_export_and_leaves_nothing(store: Store, tmp_path: Path):
    _moderated(store)
    plan = plan_bag(store.database, AudioStore(store.config.audio_dir))
    flac = next(item.source for item in plan.payload if item.source is not None)
    flac.write_bytes(flac.read_bytes()[:-10] + b"0123456789")
    exports = tmp_path / "exports"
    exports.mkdir()
    with pytest.raises(KioskError, match="SHA-256 differs"):
        write_bag(plan, exports / "bag")
    assert list(exports.iterdir()) == []
    with pytest.raises(KioskError, match="SHA-256 differs"):
        b"".join(stream_bag_tar(plan))


def test_the_streamed_tar_is_the_same_bag(store: Store, tmp_path: Path):
    ids = _moderated(store)
    add_staff(store.database, "anna", "correct horse battery")
    app = create_app(store.config, store.database)
    with TestClient(app, base_url="http://store.test", follow_redirects=False) as client:
        assert client.get("/staff/export/bag.tar").status_code == 303  # logged out: to the login page
        token = client.get("/staff/login").text.split('name="login_token" value="')[1].split('"')[0]
        client.post("/staff/login", data={"login_token": token, "username": "anna", "password": "correct horse battery"})
        page = client.get("/staff/export")
        assert "2 opnamen" in page.text
        answer = client.get("/staff/export/bag.tar")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/x-tar"
    name = answer.headers["content-disposition"].split('filename="')[1].rstrip('"').removesuffix(".tar")
    with tarfile.open(fileobj=io.BytesIO(answer.content)) as archive:
        assert {member.name.split("/")[0] for member in archive.getmembers()} == {name}
        archive.extractall(tmp_path / "download", filter="data")
    _check_bag(tmp_path / "download" / name, ids)


# The command line is the same on both databases: one run, on the embedded default.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_command_writes_the_bag_and_reports_it(store: Store, tmp_path: Path):
    ids = _moderated(store)
    out = tmp_path / "archive" / "voices"
    run = subprocess.run(
        [*KIOSK, "central", "export", "--config", str(store.config.source), "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0 and "does not exist" in run.stderr  # no parent folder: says so
    out.parent.mkdir()
    run = subprocess.run(
        [*KIOSK, "central", "export", "--config", str(store.config.source), "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) | {"bag": None, "bytes": None, "bagging_date": None} == {
        "bag": None,
        "recordings": 2,
        "files": 4,
        "bytes": None,
        "bagging_date": None,
    }
    _check_bag(out, ids)


# The command line is the same on both databases: one run, on the embedded default.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_staff_accounts_from_the_command_line(store: Store):
    from kiosk.central.staff.accounts import LoginRefused, log_in

    config = str(store.config.source)

    def kiosk(*args: str, password: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [*KIOSK, "central", "staff", *args], input=password + "\n", capture_output=True, text=True, timeout=60
        )

    assert kiosk("add", "--config", config, "anna", password="correct horse battery").returncode == 0
    assert log_in(store.database, "anna", "correct horse battery").username == "anna"
    refused = kiosk("add", "--config", config, "anna", password="another long one")
    assert refused.returncode != 0 and "already" in refused.stderr and "passwd" in refused.stderr
    short = kiosk("passwd", "--config", config, "anna", password="short")
    assert short.returncode != 0 and "shorter than" in short.stderr
    assert kiosk("disable", "--config", config, "anna").returncode == 0
    with pytest.raises(LoginRefused):
        log_in(store.database, "anna", "correct horse battery")
    assert kiosk("passwd", "--config", config, "anna", password="a new long password").returncode == 0
    assert log_in(store.database, "anna", "a new long password").username == "anna"
