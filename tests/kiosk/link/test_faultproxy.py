"""tests/harness/faultproxy.py: each fault looks, from a client, like the real thing."""

from __future__ import annotations

import time

import httpx
import pytest

from harness.faultproxy import Fault, FaultProxy


@pytest.fixture
def proxy(central):
    with FaultProxy(central.url, lifetime_s=120) as running:
        yield running


def health(proxy: FaultProxy, timeout: float = 5) -> httpx.Response:
    with httpx.Client(base_url=proxy.url, timeout=timeout) as client:
        return client.get("/api/v1/health")


def test_pass_goes_through(proxy):
    assert health(proxy).json()["status"] == "ok"
    assert proxy.applied["pass"] == 1


def test_reset_gives_the_client_a_connection_reset(proxy):
    proxy.push(Fault("reset"), Fault("reset", at_byte=10))
    for _ in range(2):
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError)):
            health(proxy)
    assert proxy.applied["reset"] == 2


def test_error_is_answered_by_the_proxy_itself(proxy):
    proxy.push(Fault("error", status=502))
    response = health(proxy)
    assert response.status_code == 502 and "fault proxy" in response.json()["detail"]


def test_error_answers_even_a_client_still_sending_a_large_body(proxy):
    proxy.push(Fault("error", status=503))
    with httpx.Client(base_url=proxy.url, timeout=10) as client:
        response = client.put("/api/v1/recordings/x", content=b"x" * 3_000_000)
    assert response.status_code == 503


def test_cut_response_leaves_the_client_with_half_an_answer(proxy):
    proxy.push(Fault("cut_response", at_byte=40), Fault("cut_response", at_byte=0))
    for _ in range(2):
        with pytest.raises(httpx.RemoteProtocolError):
            health(proxy)


def test_cut_request_never_lets_the_whole_body_reach_the_server(proxy):
    proxy.push(Fault("cut_request", at_byte=1000))
    with httpx.Client(base_url=proxy.url, timeout=10) as client, pytest.raises(httpx.TransportError):
        client.put("/api/v1/recordings/x", content=b"x" * 200_000, headers={"Authorization": "Bearer nobody"})


def test_delay_holds_the_answer_back(proxy):
    proxy.push(Fault("delay", delay_s=1.5), Fault("delay", delay_s=1.5))
    started = time.monotonic()
    assert health(proxy).status_code == 200
    assert time.monotonic() - started >= 1.4
    with pytest.raises(httpx.ReadTimeout):
        health(proxy, timeout=0.5)


def test_random_faults_follow_the_seed(central):
    weights = {"pass": 1, "reset": 1, "error": 1, "cut_response": 1}
    outcomes = []
    for _ in range(2):
        with FaultProxy(central.url, seed=42, weights=weights, max_response_cut=100, lifetime_s=60) as proxy:
            seen = []
            for _ in range(12):
                try:
                    seen.append(health(proxy).status_code)
                except httpx.TransportError as error:
                    seen.append(type(error).__name__)
            outcomes.append((seen, dict(proxy.applied)))
    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0][1]) >= 3, "a mix of faults"


def test_the_proxy_stops_by_itself(central):
    proxy = FaultProxy(central.url, lifetime_s=0.5).start()
    time.sleep(1.0)
    with pytest.raises(httpx.ConnectError):
        health(proxy, timeout=1)
    proxy.stop()
