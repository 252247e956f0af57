"""`kiosk central serve` on its own against half-open connections: health keeps answering,
stalled headers are closed, the log never repeats a line in a loop. A real server process
on loopback; the figures (latency, log size) come from bench/central_half_open.py."""

from __future__ import annotations

import collections
import json
import logging
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from half_open import HalfOpenAttack, probe_health
from test_central_cli import RUNNER, central_toml, kiosk, wait_for_health  # noqa: F401

from kiosk.central.config import load_central_config
from kiosk.central.serving import HEADER_TIMEOUT_S, RepeatLimiter


def serve(central_toml: Path, log_path: Path, *, open_files: int | None = None) -> subprocess.Popen:
    def limit() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    with log_path.open("w") as log_file:
        return subprocess.Popen(
            [sys.executable, "-c", RUNNER, "central", "serve", "--config", str(central_toml)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=limit,
        )


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def log_entries(log_path: Path) -> list[dict]:
    lines = log_path.read_text(errors="replace").splitlines()
    assert all(line.startswith("{") for line in lines), [line for line in lines if not line.startswith("{")][:5]
    return [json.loads(line) for line in lines]


@pytest.mark.slow
def test_1100_half_open_connections_for_30_s_leave_health_answering(central_toml: Path, tmp_path: Path):
    config = load_central_config(central_toml)
    url = f"http://127.0.0.1:{config.server.port}"
    log_path = tmp_path / "serve.log"
    process = serve(central_toml, log_path)
    attack = None
    try:
        wait_for_health(url, process)
        attack = HalfOpenAttack("127.0.0.1", config.server.port, 1100).start()
        assert attack.opened == 1100 and attack.failed == 0
        probes = probe_health(url, seconds=30)
    finally:
        if attack is not None:
            attack.stop()
        stop(process)
    failed = [probe for probe in probes if probe.status != 200]
    assert len(probes) >= 10 and not failed, failed[:3]
    # 30 s is longer than the header timeout: the 1,100 were held until the store closed
    # them, and the ones opened again in their place too.
    assert attack.closed_by_server >= 1100
    print(f"\nhealth: {len(probes)} probes, slowest {max(p.seconds for p in probes):.3f} s; "
          f"log {log_path.stat().st_size} bytes; {attack.closed_by_server} stalled connections closed")
    entries = log_entries(log_path)
    per_message = collections.Counter(entry["msg"] for entry in entries)
    assert per_message["closed a connection that sent no whole request header in time"] <= 10, per_message
    assert max(per_message.values()) <= 10, per_message
    assert len(entries) < 60, per_message


@pytest.mark.slow
def test_out_of_open_files_is_logged_a_few_times_not_in_a_loop(central_toml: Path, tmp_path: Path):
    """A hard limit of 256 open files that the store cannot raise: accept() fails, the log stays small."""
    config = load_central_config(central_toml)
    url = f"http://127.0.0.1:{config.server.port}"
    log_path = tmp_path / "serve.log"
    process = serve(central_toml, log_path, open_files=256)
    attack = None
    try:
        wait_for_health(url, process)
        attack = HalfOpenAttack("127.0.0.1", config.server.port, 400).start()
        time.sleep(8)  # accept() keeps failing meanwhile
        attack.stop()
        attack = None
        # Once the sockets are gone the store answers again.
        wait_for_health(url, process, timeout=60)
    finally:
        if attack is not None:
            attack.stop()
        stop(process)
    entries = log_entries(log_path)
    starting = next(entry for entry in entries if entry["msg"] == "central store starting")
    assert starting["open_files_limit"] == 256
    per_message = collections.Counter(entry["msg"].split("\n")[0] for entry in entries)
    assert 1 <= per_message["socket.accept() out of system resource"] <= 5, per_message
    assert max(per_message.values()) <= 10, per_message


def test_a_stalled_header_is_closed_and_a_whole_request_is_answered(central_toml: Path, tmp_path: Path):
    config = load_central_config(central_toml)
    url = f"http://127.0.0.1:{config.server.port}"
    log_path = tmp_path / "serve.log"
    process = serve(central_toml, log_path)
    try:
        wait_for_health(url, process)
        stalled = socket.create_connection(("127.0.0.1", config.server.port), timeout=HEADER_TIMEOUT_S * 6)
        stalled.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
        assert stalled.recv(1024) == b"", "the store closed the stalled connection"
        stalled.close()
        whole = socket.create_connection(("127.0.0.1", config.server.port), timeout=30)
        whole.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert whole.recv(1024).startswith(b"HTTP/1.1 200")
        whole.close()
    finally:
        stop(process)
    starting = next(entry for entry in log_entries(log_path) if entry["msg"] == "central store starting")
    assert starting["open_files_limit"] >= starting["open_files_limit_before"]


def test_the_repeat_limiter_lets_a_burst_through_then_summarises():
    now = [0.0]
    limiter = RepeatLimiter(burst=3, window_s=60, clock=lambda: now[0])

    def record(msg: str, level: int = logging.ERROR) -> logging.LogRecord:
        return logging.LogRecord("asyncio", level, __file__, 1, msg, (), None)

    passed = [limiter.filter(record("socket.accept() out of system resource\nsocket: <x>")) for _ in range(1000)]
    assert passed.count(True) == 3
    assert all(limiter.filter(record("recording received", logging.INFO)) for _ in range(100)), "info lines pass"
    assert limiter.filter(record("another error"))
    now[0] += 61
    summary = record("socket.accept() out of system resource\nsocket: <y>")
    assert limiter.filter(summary) and summary.repeats_left_out == 997
