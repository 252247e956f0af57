"""The stations' health as staff read it: real heartbeats over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
import json
from datetime import datetime, timedelta, timezone

import httpx
from central_support import keep_recording
from PIL import Image
from test_central_cli import kiosk

from kiosk.central.api import create_app
from kiosk.central.station_health import stations_health
from kiosk.central.stations import enroll

SILENT = timedelta(minutes=10)


def beat(**extra) -> dict:
    body = {"version": "0.1.0", "queue_length": 0, "free_disk_bytes": 80 * 10**9, "audio_state": "none",
            "controller_state": "none", "input_overflows": 0}
    return body | extra


def png(colour: str = "#203040") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (480, 300), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def post(server, token: str, body: dict) -> httpx.Response:
    return httpx.post(f"{server.url}/api/v1/heartbeats", json=body, headers={"Authorization": f"Bearer {token}"})


def by_id(store) -> dict:
    return {row.station_id: row for row in stations_health(store.database, silent_after=SILENT)}


def test_each_station_is_judged_on_the_devices_it_has(store, live_server):
    server = live_server(create_app(store.config, store.database))
    now = datetime.now(timezone.utc)
    tokens = {name: enroll(store.database, name) for name in ("wall-1", "memorial-1", "booth-1", "booth-2", "booth-old")}
    assert post(server, tokens["wall-1"], beat(devices={"speaker": "ready"}, program="running",
                                              program_seen_at=now.isoformat())).status_code == 200
    for _ in range(2):
        assert post(server, tokens["memorial-1"], beat(devices={"output": "lost"}, program="running",
                                                      program_seen_at=now.isoformat())).status_code == 200
    stopped_at = now - timedelta(minutes=7)
    assert post(server, tokens["booth-1"], beat(devices={}, program="stopped", queue_length=3,
                                               program_seen_at=stopped_at.isoformat())).status_code == 200
    assert post(server, tokens["booth-2"], beat(devices={"microphone": "ready", "controller": "connected"},
                                               program="running", program_seen_at=now.isoformat())).status_code == 200
    # A station from before issue 14 says "unknown" for what it does not know: not a fault.
    assert post(server, tokens["booth-old"], beat(audio_state="unknown", controller_state="unknown")).status_code == 200

    rows = by_id(store)
    assert rows["wall-1"].state == "ok" and rows["wall-1"].devices == {"speaker": "ready"}
    assert rows["booth-2"].state == "ok" and rows["booth-old"].state == "ok" and rows["booth-old"].devices == {}
    (problem,) = rows["memorial-1"].problems
    assert (problem.code, problem.device) == ("device", "output")
    first_seen = problem.since
    assert post(server, tokens["memorial-1"], beat(devices={"output": "lost"}, program="running")).status_code == 200
    assert by_id(store)["memorial-1"].problems[0].since == first_seen  # since it began, not since the last beat
    (stopped,) = rows["booth-1"].problems
    assert stopped.code == "program_stopped" and abs(stopped.since - stopped_at) < timedelta(seconds=1)
    assert rows["booth-1"].devices == {}
    # Back to normal: the condition goes.
    assert post(server, tokens["memorial-1"], beat(devices={"output": "ready"}, program="running")).status_code == 200
    assert by_id(store)["memorial-1"].state == "ok"

    # `kiosk central stations --json` says the same, in words too.
    done = kiosk("central", "stations", "--config", store.config.source, "--json")
    assert done.returncode == 0, done.stderr
    stations = {s["station_id"]: s for s in json.loads(done.stdout)["stations"]}
    assert stations["wall-1"]["state"] == "ok" and stations["wall-1"]["devices"] == {"speaker": {"state": "ready", "ok": True}}
    assert stations["booth-1"]["problems"][0]["code"] == "program_stopped"
    assert "program is not running" in stations["booth-1"]["problems"][0]["what"]
    assert "Switch the station off and on again" in stations["booth-1"]["problems"][0]["todo"]
    text = kiosk("central", "stations", "--config", store.config.source)
    assert text.returncode == 0 and "wall-1: ok (speaker ok)" in text.stdout


def test_a_station_that_only_uploaded_is_heard_from(store):
    keep_recording(store, "t-xx-003", station_id="booth-3")
    row = by_id(store)["booth-3"]
    assert row.state == "ok" and row.last_take_at is not None and row.last_heard_at == row.last_take_at
    enroll(store.database, "wall-9")
    assert [p.code for p in by_id(store)["wall-9"].problems] == ["never"]


def test_the_screen_picture_is_kept_and_shown_to_staff_only(store, live_server):
    server = live_server(create_app(store.config, store.database))
    token = enroll(store.database, "wall-1")
    taken = datetime.now(timezone.utc).replace(microsecond=0)
    picture = png()
    body = beat(devices={"speaker": "ready"}, program="running", screen_png=base64.b64encode(picture).decode(),
                screen_taken_at=taken.isoformat())
    assert post(server, token, body).status_code == 200
    assert by_id(store)["wall-1"].screen_taken_at == taken
    staff_only = httpx.get(f"{server.url}/staff/stations/wall-1/screen.png")
    assert staff_only.status_code == 303 and "/staff/login" in staff_only.headers["location"]
    not_a_picture = body | {"screen_png": base64.b64encode(b"<svg/>").decode()}
    answer = post(server, token, not_a_picture)
    assert answer.status_code == 422 and "PNG" in str(answer.json()["detail"])
    too_big = body | {"screen_png": "A" * 500_000}
    assert post(server, token, too_big).status_code == 422


def test_a_station_from_before_says_stale_when_its_program_stopped(store, live_server):
    server = live_server(create_app(store.config, store.database))
    token = enroll(store.database, "booth-old")
    assert post(server, token, beat(audio_state="stale", controller_state="stale")).status_code == 200
    row = by_id(store)["booth-old"]
    assert [p.code for p in row.problems] == ["program_stopped"] and row.devices == {}
