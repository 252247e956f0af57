"""The API fuzzed from its own OpenAPI description (schemathesis): no answer is ever a 5xx.

Requests are generated from /openapi.json of a real server over loopback, valid ones
and invalid ones (schemathesis' positive and negative modes), with a real station
token, on both databases. Whatever a broken or hostile client sends, the store answers
with a status it can explain; a 5xx would mean an input reached the database or the
disk unchecked. (Hypothesis drives the generation directly: schemathesis' own pytest
plugin does not run under this pytest.)
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from central_support import Store
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from kiosk.central.api import create_app
from kiosk.central.stations import enroll

pytestmark = pytest.mark.slow

OPERATIONS = [
    ("GET", "/api/v1/health"),
    ("PUT", "/api/v1/recordings/{recording_id}"),
    ("POST", "/api/v1/leases"),
    ("GET", "/api/v1/leases"),
    ("DELETE", "/api/v1/leases/{lease_id}"),
    ("POST", "/api/v1/leases/{lease_id}/renew"),
    ("POST", "/api/v1/heartbeats"),
    ("GET", "/api/v1/voices"),
    ("GET", "/api/v1/voices/audio/{sha256}"),
    ("GET", "/api/v1/withdrawn"),
    ("POST", "/api/v1/bookings"),
    ("GET", "/api/v1/bookings/{code}"),
    ("DELETE", "/api/v1/bookings/{code}"),
]


def test_the_description_lists_every_operation(store: Store, live_server: Any):
    server = live_server(create_app(store.config, store.database))
    described = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    listed = {(op.ok().method.upper(), op.ok().path) for op in described.get_all_operations()}
    assert listed == set(OPERATIONS)


WITHOUT_INPUT = {("GET", "/api/v1/health"), ("GET", "/api/v1/leases"), ("GET", "/api/v1/withdrawn")}
"""Nothing in these requests can be made invalid but the token (tested elsewhere)."""
CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or (method, path) not in WITHOUT_INPUT
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_no_request_makes_the_store_fail(store: Store, live_server: Any, method: str, path: str, mode: GenerationMode):
    server = live_server(create_app(store.config, store.database))
    # The booking system's own token for its operations, a booth's for the others.
    token = enroll(store.database, "website", "booking") if "/bookings" in path else enroll(store.database, "booth-1")
    operation = schemathesis.openapi.from_url(f"{server.url}/openapi.json")[path][method]

    @settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def answered(case: Any) -> None:
        response = case.call(headers={"Authorization": f"Bearer {token}"}, timeout=30)
        case.validate_response(response, checks=[not_a_server_error])

    answered()
