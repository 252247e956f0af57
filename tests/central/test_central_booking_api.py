"""The bookings API for the museum's booking system, and the roles that keep tokens apart."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from central_support import Store, flac_bytes, keep_recording
from sqlalchemy import func, select

from kiosk.central.api import create_app
from kiosk.central.schema import bookings
from kiosk.central.stations import enroll


@pytest.fixture
def api(store: Store, live_server: Any):
    """The server's URL, a booking system's client and a booth's client."""
    server = live_server(create_app(store.config, store.database))
    system = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {enroll(store.database, 'website', 'booking')}"}
    )
    booth = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {enroll(store.database, 'booth-1')}"})
    yield server.url, system, booth
    system.close()
    booth.close()


def count(store: Store) -> int:
    with store.database.read() as connection:
        return connection.execute(select(func.count()).select_from(bookings)).scalar_one()


def test_a_group_is_booked_read_and_cancelled(api, store: Store):
    _, system, booth = api
    answer = system.post(
        "/api/v1/bookings",
        json={"language": "en", "participants": [{"first_name": "HELENE"}, {"birthday": "02-02", "age": 99}, {}]},
    )
    assert answer.status_code == 201, answer.text
    made = answer.json()["bookings"]
    assert [b["matched_on"] for b in made] == ["first_name", "birthday", "next"]
    assert set(made[0]) == {"code", "person_id", "name", "matched_on", "expires_at", "language", "group", "state"}
    assert made[0]["name"] == "Hélène Maria Testowa2" and made[1]["person_id"] == "t-xx-001"
    assert len({b["person_id"] for b in made}) == 3 and len({b["group"] for b in made}) == 1
    assert {b["language"] for b in made} == {"en"} and {b["state"] for b in made} == {"active"}

    typed = made[0]["code"].lower().replace("-", " ")
    shown = system.get(f"/api/v1/bookings/{typed}")
    assert shown.status_code == 200 and shown.json()["state"] == "active" and shown.json()["matched_on"] is None
    assert system.delete(f"/api/v1/bookings/{typed}").status_code == 204
    assert system.delete(f"/api/v1/bookings/{made[0]['code']}").status_code == 204  # again: harmless
    assert system.get(f"/api/v1/bookings/{made[0]['code']}").json()["state"] == "cancelled"
    # The cancelled code no longer works at a booth; the others do.
    assert booth.post("/api/v1/leases", json={"how": "booking", "code": made[0]["code"]}).json() == {"leases": []}
    [lease] = booth.post("/api/v1/leases", json={"how": "booking", "code": made[1]["code"]}).json()["leases"]
    assert lease["person_id"] == "t-xx-001" and lease["how"] == "booking"


def test_unknown_codes_are_404(api):
    _, system, _ = api
    assert system.get("/api/v1/bookings/ABCD-2345").status_code == 404
    assert system.delete("/api/v1/bookings/ABCD-2345").status_code == 404
    answer = system.get("/api/v1/bookings/hello")
    assert answer.status_code == 404 and "not a booking code" in answer.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"participants": []},
        {"participants": [{}] * 7},
        {"participants": [{"birthday": "02-30"}]},
        {"participants": [{"birthday": "2-3"}]},
        {"participants": [{"age": 8}]},
        {"participants": [{"age": 121}]},
        {"participants": [{"age": "30"}]},
        {"participants": [{"age": 30.5}]},
        {"participants": [{"surname": "Goldsztajn"}]},
        {"language": "de", "participants": [{}]},
        {},
    ],
)
def test_bad_bookings_are_422_and_nothing_is_kept(api, store: Store, body: dict):
    _, system, _ = api
    answer = system.post("/api/v1/bookings", json=body)
    assert answer.status_code == 422, answer.text
    assert count(store) == 0


def test_a_booking_token_cannot_lease_upload_or_send_heartbeats(api, store: Store):
    _, system, _ = api
    assert system.post("/api/v1/leases", json={"how": "next"}).status_code == 403
    assert system.get("/api/v1/leases").status_code == 403
    assert system.get("/api/v1/voices").status_code == 403
    audio = flac_bytes()
    rid = str(uuid.uuid4())
    metadata = {"recording_id": rid, "person_id": "t-xx-001", "station_id": "website"}
    answer = system.put(
        f"/api/v1/recordings/{rid}",
        files={"metadata": (None, json.dumps(metadata).encode(), "application/json"), "audio": ("a.flac", audio)},
    )
    assert answer.status_code == 403 and "enrolled as a booking" in answer.json()["detail"]


def test_a_station_token_cannot_book(api, store: Store):
    url, _, booth = api
    made = booth.post("/api/v1/bookings", json={"participants": [{}]})
    assert made.status_code == 403 and "cannot book" in made.json()["detail"]
    assert booth.get("/api/v1/bookings/ABCD-2345").status_code == 403
    assert booth.delete("/api/v1/bookings/ABCD-2345").status_code == 403
    with httpx.Client(base_url=url) as anonymous:
        assert anonymous.post("/api/v1/bookings", json={"participants": [{}]}).status_code == 401
    assert count(store) == 0


def test_a_used_booking_is_used(api, store: Store):
    _, system, booth = api
    [made] = system.post("/api/v1/bookings", json={"participants": [{"age": 30}]}).json()["bookings"]
    booth.post("/api/v1/leases", json={"how": "booking", "code": made["code"]})
    keep_recording(store, made["person_id"])
    assert system.get(f"/api/v1/bookings/{made['code']}").json()["state"] == "used"
    assert system.delete(f"/api/v1/bookings/{made['code']}").status_code == 409


@pytest.mark.parametrize(("age", "status"), [(9, 200), (120, 200), (30, 200), (8, 422), (121, 422), ("30", 422), (30.5, 422), (True, 422)])
def test_the_booths_match_takes_a_whole_age_from_9_to_120(api, age, status):
    _, _, booth = api
    answer = booth.post("/api/v1/leases", json={"how": "match", "age": age})
    assert answer.status_code == status, answer.text


def test_wrong_codes_are_rate_limited_per_station(api, store: Store):
    url, system, booth = api
    [made] = system.post("/api/v1/bookings", json={"participants": [{}]}).json()["bookings"]
    for attempt in range(store.config.bookings.wrong_code_limit):
        answer = booth.post("/api/v1/leases", json={"how": "booking", "code": f"ABCD-234{attempt + 2}"})
        assert answer.status_code == 200 and answer.json() == {"leases": []}
    locked = booth.post("/api/v1/leases", json={"how": "booking", "code": made["code"]})
    assert locked.status_code == 429 and "too many wrong booking codes" in locked.json()["detail"]
    # Other ways to a name still work, and so does another booth.
    assert booth.post("/api/v1/leases", json={"how": "next"}).status_code == 200
    other = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {enroll(store.database, 'booth-2')}"})
    with other:
        [lease] = other.post("/api/v1/leases", json={"how": "booking", "code": made["code"]}).json()["leases"]
    assert lease["person_id"] == made["person_id"]


def test_the_openapi_document_describes_bookings(api):
    url, _, _ = api
    schema = httpx.get(f"{url}/openapi.json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/bookings"]) == {"post"}
    assert set(paths["/api/v1/bookings/{code}"]) == {"get", "delete"}
    assert {"401", "403", "409", "422"} <= set(paths["/api/v1/bookings"]["post"]["responses"])
    participant = schema["components"]["schemas"]["ParticipantIn"]["properties"]
    assert set(participant) == {"first_name", "birthday", "age"}
    claim = schema["components"]["schemas"]["ClaimIn"]["properties"]
    age = claim["age"]["anyOf"][0]
    assert (age["minimum"], age["maximum"]) == (9, 120)
