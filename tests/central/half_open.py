"""Half-open connections, as an attacker holds them: for the serving tests and bench/central_half_open.py.

`HalfOpenAttack` keeps `count` sockets open to the store, each having sent half a request
header and nothing after; a socket the store closes is opened again at once, as a
hostile client would. `probe_health` asks /api/v1/health on a fresh connection again and
again meanwhile and records each answer and how long it took.
"""

from __future__ import annotations

import resource
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field

import httpx

HALF_HEADER = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: half-open\r\nX-Wait: "


def raise_own_open_files_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


@dataclass
class HalfOpenAttack:
    host: str
    port: int
    count: int
    opened: int = 0
    closed_by_server: int = 0
    failed: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> HalfOpenAttack:
        raise_own_open_files_limit(self.count + 256)
        self._selector = selectors.DefaultSelector()
        for _ in range(self.count):
            self._open()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _open(self) -> None:
        sock = socket.socket()
        sock.settimeout(5)
        try:
            sock.connect((self.host, self.port))
            sock.sendall(HALF_HEADER)
        except OSError:
            self.failed += 1
            sock.close()
            return
        sock.setblocking(False)
        self._selector.register(sock, selectors.EVENT_READ)
        self.opened += 1

    def _watch(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.2):
                sock = key.fileobj
                try:
                    data = sock.recv(4096)
                except OSError:
                    data = b""
                if data:
                    continue  # an answer (a 408, say) before the close
                self._selector.unregister(sock)
                sock.close()
                self.closed_by_server += 1
                if not self._stop.is_set():
                    self._open()

    @property
    def open_now(self) -> int:
        return len(self._selector.get_map())

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()
        self._selector.close()


@dataclass
class Probe:
    status: int | None
    seconds: float
    problem: str = ""


def probe_health(url: str, seconds: float, every_s: float = 0.5, timeout_s: float = 10) -> list[Probe]:
    """GET url/api/v1/health on a new connection every `every_s` for `seconds`."""
    probes = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        began = time.monotonic()
        try:
            with httpx.Client(timeout=timeout_s) as client:
                status = client.get(f"{url}/api/v1/health").status_code
            probes.append(Probe(status, time.monotonic() - began))
        except httpx.HTTPError as error:
            probes.append(Probe(None, time.monotonic() - began, repr(error)))
        time.sleep(max(0.0, every_s - (time.monotonic() - began)))
    return probes
