"""Names, heartbeats and health over HTTP, as a booth and `kiosk doctor` use them."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from central_support import Store
from sqlalchemy import select

from kiosk.central import api as central_api
from kiosk.central.api import create_app
from kiosk.central.leases import create_booking
from kiosk.central.schema import heartbeats, latest_heartbeats
from kiosk.central.stations import enroll, latest_heartbeats_by_station

BEAT = {
    "version": "0.1.0",
    "queue_length": 2,
    "free_disk_bytes": 12_000_000_000,
    "audio_state": "ok",
    "controller_state": "ok",
    "input_overflows": 0,
}


@pytest.fixture
def api(store: Store, live_server: Any) -> tuple[str, httpx.Client, httpx.Client]:
    """The server's URL and clients for booth-1 and booth-2."""
    server = live_server(create_app(store.config, store.database))
    clients = [
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {enroll(store.database, name)}"})
        for name in ("booth-1", "booth-2")
    ]
    yield server.url, *clients
    for client in clients:
        client.close()


def test_health_needs_no_token_and_names_the_database(api: tuple, store: Store):
    url, _, _ = api
    answer = httpx.get(f"{url}/api/v1/health")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok" and body["database"] == store.database.dialect
    assert body["free_disk_bytes"] > 0 and body["time"].endswith("Z")


def test_on_sqlite_the_lease_changes_run_one_after_another_on_one_thread(api: tuple, store: Store, monkeypatch):
    """SQLite writes one transaction at a time: claims, give-backs and renewals queue on
    the store's lease writer instead of sixteen threads taking turns at its write lock;
    reading what a booth holds stays on the pool. PostgreSQL runs them all on the pool."""
    ran_on: list[tuple[str, str]] = []

    def noting(name: str):
        real = getattr(central_api, name)

        def noted(*args: Any, **kwargs: Any) -> Any:
            ran_on.append((name, threading.current_thread().name))
            return real(*args, **kwargs)

        monkeypatch.setattr(central_api, name, noted)

    for name in ("claim", "release", "renew", "held_by"):
        noting(name)
    _, one, _ = api
    first, second = one.post("/api/v1/leases", json={"how": "next", "count": 2}).json()["leases"]
    assert one.post(f"/api/v1/leases/{second['lease_id']}/renew").status_code == 200
    assert one.delete(f"/api/v1/leases/{first['lease_id']}").status_code == 204
    assert [lease["lease_id"] for lease in one.get("/api/v1/leases").json()["leases"]] == [second["lease_id"]]

    assert [name for name, _ in ran_on] == ["claim", "renew", "release", "held_by"]
    threads = {name: thread.rsplit("_", 1)[0] for name, thread in ran_on}
    changes = "kiosk-lease-writer" if store.database.dialect == "sqlite" else "kiosk-leases"
    assert threads == {"claim": changes, "renew": changes, "release": changes, "held_by": "kiosk-leases"}


def test_names_are_leased_given_back_and_renewed(api: tuple):
    _, one, two = api
    answer = one.post("/api/v1/leases", json={"how": "next", "count": 2})
    assert answer.status_code == 200
    first, second = answer.json()["leases"]
    assert (first["person_id"], second["person_id"]) == ("t-xx-001", "t-xx-002")
    assert set(first) == {
        "lease_id",
        "person_id",
        "expires_at",
        "how",
        "surname",
        "given_names",
        "transport",
        "list_number",
        "birth_date",
        "birth_place",
        "fictional",
        "sex",
    }
    assert first["sex"] in ("f", "m", "")  # the booth's lines agree with the person
    assert [lease["lease_id"] for lease in one.get("/api/v1/leases").json()["leases"]] == [
        first["lease_id"],
        second["lease_id"],
    ]
    assert two.get("/api/v1/leases").json() == {"leases": []}

    assert two.delete(f"/api/v1/leases/{first['lease_id']}").status_code == 403
    assert one.delete(f"/api/v1/leases/{first['lease_id']}").status_code == 204
    assert two.post("/api/v1/leases", json={"how": "next"}).json()["leases"][0]["person_id"] == "t-xx-001"

    renewed = one.post(f"/api/v1/leases/{second['lease_id']}/renew")
    assert renewed.status_code == 200 and renewed.json()["expires_at"] >= second["expires_at"]
    assert one.post(f"/api/v1/leases/{first['lease_id']}/renew").status_code == 410
    assert one.delete("/api/v1/leases/00000000-0000-4000-8000-000000000000").status_code == 404


def test_match_and_booking_over_http(api: tuple, store: Store):
    _, one, two = api
    matched = one.post("/api/v1/leases", json={"how": "match", "first_name": "helene", "birthday": None})
    assert [lease["given_names"] for lease in matched.json()["leases"]] == ["Hélène Maria"]
    code = create_booking(store.database, "t-z-005")
    booked = two.post("/api/v1/leases", json={"how": "booking", "code": code.lower()})
    assert [(lease["person_id"], lease["how"]) for lease in booked.json()["leases"]] == [("t-z-005", "booking")]
    assert one.post("/api/v1/leases", json={"how": "booking", "code": code}).json() == {"leases": []}


@pytest.mark.parametrize(
    "body",
    [
        {"how": "match"},
        {"how": "match", "first_name": "  "},
        {"how": "match", "birthday": "02-30"},
        {"how": "match", "birthday": "1-1"},
        {"how": "booking"},
        {"how": "next", "count": 0},
        {"how": "anything"},
    ],
)
def test_a_claim_that_cannot_be_answered_is_422(api: tuple, body: dict):
    _, one, _ = api
    assert one.post("/api/v1/leases", json=body).status_code == 422


def test_29_february_is_a_birthday(api: tuple):
    _, one, _ = api
    assert one.post("/api/v1/leases", json={"how": "match", "birthday": "02-29"}).status_code == 200


def test_a_full_hand_is_409_with_what_to_do(api: tuple):
    _, one, _ = api
    assert len(one.post("/api/v1/leases", json={"how": "next", "count": 100}).json()["leases"]) == 5
    full = one.post("/api/v1/leases", json={"how": "next"})
    assert full.status_code == 409 and "give names back" in full.json()["detail"]


def test_every_call_but_health_needs_a_token(api: tuple):
    url, _, _ = api
    with httpx.Client(base_url=url) as anonymous:
        for method, path in (
            ("POST", "/api/v1/leases"),
            ("GET", "/api/v1/leases"),
            ("DELETE", "/api/v1/leases/00000000-0000-4000-8000-000000000000"),
            ("POST", "/api/v1/leases/00000000-0000-4000-8000-000000000000/renew"),
            ("POST", "/api/v1/heartbeats"),
        ):
            answer = anonymous.request(method, path, json={"how": "next"} if method == "POST" else None)
            assert answer.status_code == 401, (method, path)


def test_heartbeats_are_kept_as_latest_and_history(api: tuple, store: Store):
    _, one, two = api
    assert one.post("/api/v1/heartbeats", json=BEAT).status_code == 200
    assert (
        one.post("/api/v1/heartbeats", json={**BEAT, "queue_length": 0, "from_a_newer_booth": True}).status_code == 200
    )
    assert two.post("/api/v1/heartbeats", json={**BEAT, "audio_state": "no microphone"}).status_code == 200
    assert one.post("/api/v1/heartbeats", json={**BEAT, "queue_length": -1}).status_code == 422
    with store.database.read() as connection:
        assert len(connection.execute(select(heartbeats)).all()) == 3
        assert len(connection.execute(select(latest_heartbeats)).all()) == 2
    latest = latest_heartbeats_by_station(store.database)
    assert latest["booth-1"]["queue_length"] == 0 and latest["booth-2"]["audio_state"] == "no microphone"


def test_the_openapi_description_documents_the_upload(api: tuple):
    url, _, _ = api
    description = httpx.get(f"{url}/openapi.json").json()
    body = description["paths"]["/api/v1/recordings/{recording_id}"]["put"]["requestBody"]["content"][
        "multipart/form-data"
    ]
    assert body["schema"]["required"] == ["metadata", "audio"]
    metadata = description["components"]["schemas"]["UploadMetadata"]
    assert {
        "person_id",
        "station_id",
        "recorded_at",
        "duration_s",
        "sample_rate",
        "sha256",
        "size_bytes",
        "consent",
        "quality",
    } <= set(metadata["required"])
    responses = description["paths"]["/api/v1/recordings/{recording_id}"]["put"]["responses"]
    assert {"200", "201", "401", "403", "409", "413", "422"} <= set(responses)
