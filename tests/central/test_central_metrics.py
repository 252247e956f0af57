"""GET /metrics in Prometheus' text format, from loopback or with the scraper's token."""

from __future__ import annotations

import uuid

import httpx
from central_support import keep_recording, make_config
from prometheus_client.parser import text_string_to_metric_families

from kiosk.central.api import create_app
from kiosk.central.db import open_database
from kiosk.central.importer import import_collection
from kiosk.central.moderation import approve
from kiosk.central.stations import Heartbeat, authenticate, enroll, record_heartbeat


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_figures_staff_and_alerts_need(store, live_server):
    approve(store.database, keep_recording(store, "t-xx-001"), by="anna")
    keep_recording(store, "t-xx-002")
    keep_recording(store, "t-xx-003")
    booth = authenticate(store.database, enroll(store.database, "booth-1"))
    received_at = record_heartbeat(store.database, booth, Heartbeat("0.1.0", 0, 10**10, "ready", "none", 0))
    server = live_server(create_app(store.config, store.database))
    token = enroll(store.database, "booth-1")
    refused = httpx.put(
        f"{server.url}/api/v1/recordings/{uuid.uuid4()}",
        content=b"not multipart",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
    )
    assert refused.status_code == 415
    answer = httpx.get(f"{server.url}/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    figures = samples(answer.text)
    assert figures[("dossin_takes_received_total", ())] == 3
    assert figures[("dossin_takes_approved", ())] == 1
    assert figures[("dossin_recordings_waiting", ())] == 2
    assert figures[("dossin_station_last_heartbeat_timestamp_seconds", (("station", "booth-1"),))] == received_at.timestamp()
    assert figures[("dossin_upload_errors_total", (("status", "415"),))] == 1


def test_through_a_proxy_or_from_elsewhere_only_with_the_token(tmp_path, small_collection, live_server):
    token_file = tmp_path / "metrics.token"
    token_file.write_text("s3cret-for-prometheus-0123456789\n")
    config = make_config(tmp_path / "central")
    text = config.source.read_text().replace('token_file = ""', f'token_file = "{token_file}"')
    config.source.write_text(text)
    from kiosk.central.config import load_central_config

    config = load_central_config(config.source)
    database = open_database(config)
    try:
        import_collection(database, small_collection)
        server = live_server(create_app(config, database))
        proxied = {"X-Forwarded-For": "192.0.2.7"}  # what the reverse proxy adds for a visitor
        assert httpx.get(f"{server.url}/metrics", headers=proxied).status_code == 403
        wrong = proxied | {"Authorization": "Bearer guess"}
        assert httpx.get(f"{server.url}/metrics", headers=wrong).status_code == 403
        right = proxied | {"Authorization": "Bearer s3cret-for-prometheus-0123456789"}
        answer = httpx.get(f"{server.url}/metrics", headers=right)
        assert answer.status_code == 200 and "dossin_recordings_waiting 0.0" in answer.text
    finally:
        database.dispose()
