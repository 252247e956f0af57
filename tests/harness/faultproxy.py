"""A TCP proxy on 127.0.0.1 that breaks connections on purpose, for network fault tests.

The test machines have only loopback and no `tc netem`, so the faults a gallery network
really produces (a switch rebooting, a cable pulled in the middle of an upload, a proxy
answering 502, a link so slow that requests time out) are made here, between a client
and a real server:

- `pass`: bytes flow both ways untouched.
- `reset`: after `at_byte` bytes of the request stream, the client gets a TCP RST
  (SO_LINGER 0), as when a router drops the connection.
- `cut_request`: the server gets only the first `at_byte` bytes of the request stream,
  then both sides see the connection closed: a body cut midway.
- `cut_response`: the request reaches the server whole, but the client gets only the
  first `at_byte` bytes of the answer: the server acted, the client never heard.
- `delay`: the answer is held back `delay_s` before it flows (a client's time-out).
- `error`: the proxy itself answers `status` (500, 502, 503 or 504), as a reverse proxy
  does when the server behind it is down; nothing reaches the server.
- `answer`: the proxy answers `status` (any 4xx or 5xx) with the JSON `body` in the
  server's place: a refusal the contract names but the server here cannot be brought
  to give (a full disk's 507, a 409 with a reason code); nothing reaches the server.
  Only from a plan, never drawn at random.

A fault applies to one HTTP request, so that a client keeping its connection alive
still meets faults on later requests. The proxy does not parse HTTP: a new request is
taken to begin when the client sends after the server has answered (HTTP/1.1 without
pipelining, as httpx sends). Byte offsets count from the start of that request or of
its answer. A fault that breaks the connection ends it; the client's next request
comes on a new one. The fault of each request is the next one of `plan` (given up front
or with `push`), or, when the plan is empty, drawn at random with `weights` from a
generator seeded with `seed`; with neither, requests pass. `applied` counts them.

Bounded: the proxy stops by itself after `lifetime_s`, every socket has a time-out,
and `stop()` (or leaving the `with` block) closes every connection and joins its threads.
"""

from __future__ import annotations

import collections
import http
import random
import selectors
import socket
import struct
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

KINDS = ("pass", "reset", "cut_request", "cut_response", "delay", "error", "answer")
ERROR_STATUSES = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Fault:
    """What the proxy does to one connection (see the module docstring)."""

    kind: str = "pass"
    at_byte: int = 0
    delay_s: float = 0.0
    status: int = 503
    body: str = ""  # `answer`: the JSON document answered

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {', '.join(KINDS)}")
        if self.kind == "error" and self.status not in ERROR_STATUSES:
            raise ValueError(f"the proxy answers one of {sorted(ERROR_STATUSES)}, not {self.status}")
        if self.kind == "answer" and not (400 <= self.status <= 599 and self.body):
            raise ValueError(f"an answer needs a 4xx or 5xx status and a JSON body, not {self.status} {self.body!r}")


class FaultProxy:
    """Listens on 127.0.0.1 (a free port) and forwards to `target` with faults."""

    def __init__(
        self,
        target: str | tuple[str, int],
        *,
        plan: Iterable[Fault] = (),
        seed: int | None = None,
        weights: Mapping[str, float] | None = None,
        max_request_cut: int = 1 << 20,
        max_response_cut: int = 600,
        max_delay_s: float = 3.0,
        lifetime_s: float = 600.0,
        socket_timeout_s: float = 30.0,
    ):
        if isinstance(target, str):
            parts = urlsplit(target)
            target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.target = target
        self.weights = dict(weights or {})
        unknown = set(self.weights) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown faults in weights: {sorted(unknown)}")
        self.max_request_cut = max_request_cut
        self.max_response_cut = max_response_cut
        self.max_delay_s = max_delay_s
        self.lifetime_s = lifetime_s
        self.socket_timeout_s = socket_timeout_s
        self.applied: collections.Counter[str] = collections.Counter()
        self._plan: collections.deque[Fault] = collections.deque(plan)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._sockets: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._acceptor = threading.Thread(target=self._accept_loop, name="faultproxy-accept", daemon=True)

    # -- control ---------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._started_at = time.monotonic()
        self._acceptor.start()
        return self

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def push(self, *faults: Fault) -> None:
        """Faults for the next connections, in order, before any random one."""
        with self._lock:
            self._plan.extend(faults)

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Change the random mix (e.g. {"pass": 1} to let everything through)."""
        with self._lock:
            self.weights = dict(weights)

    def stop(self) -> None:
        """Stop listening, close every connection, join the threads (bounded)."""
        self._stopping.set()
        self._acceptor.join(timeout=5)
        with self._lock:
            sockets = list(self._sockets)
            threads = list(self._threads)
        for sock in sockets:
            # shutdown wakes a thread blocked on the socket; each thread closes its own.
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in threads:
            thread.join(timeout=5)
        for sock in sockets:
            _close(sock)
        _close(self._listener)

    # -- connections -----------------------------------------------------------------

    def _next_fault(self) -> Fault:
        with self._lock:
            if self._plan:
                return self._plan.popleft()
            if not self.weights:
                return Fault("pass")
            kinds = list(self.weights)
            kind = self._rng.choices(kinds, weights=[self.weights[k] for k in kinds])[0]
            if kind in ("reset", "cut_request"):
                return Fault(kind, at_byte=self._rng.randint(0, self.max_request_cut))
            if kind == "cut_response":
                return Fault(kind, at_byte=self._rng.randint(0, self.max_response_cut))
            if kind == "delay":
                return Fault(kind, delay_s=self._rng.uniform(0, self.max_delay_s))
            if kind == "error":
                return Fault(kind, status=self._rng.choice(sorted(ERROR_STATUSES)))
            return Fault("pass")

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            if time.monotonic() - self._started_at > self.lifetime_s:
                self._stopping.set()
                break
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            thread = threading.Thread(target=self._serve, args=(client,), name="faultproxy-connection", daemon=True)
            with self._lock:
                self._threads.add(thread)
            thread.start()
        _close(self._listener)

    def _track(self, sock: socket.socket) -> socket.socket:
        sock.settimeout(self.socket_timeout_s)
        with self._lock:
            self._sockets.add(sock)
        return sock

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            self._track(client)
            upstream = self._track(socket.create_connection(self.target, timeout=self.socket_timeout_s))
            self._pump(client, upstream)
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    _close(sock)
                    with self._lock:
                        self._sockets.discard(sock)
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _begin_request(self) -> Fault:
        fault = self._next_fault()
        with self._lock:
            self.applied[fault.kind] += 1
        return fault

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        """Forward both ways, drawing a fault as each request begins and applying it."""
        fault = Fault("pass")
        sent_up = sent_down = 0
        answered = True  # the server has spoken since the client last did: the next bytes begin a request
        delayed = True
        open_ends = {client, upstream}
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            selector.register(upstream, selectors.EVENT_READ)
            while open_ends and not self._stopping.is_set():
                events = selector.select(timeout=self.socket_timeout_s)
                if not events:
                    return  # idle too long
                for key, _ in events:
                    source = key.fileobj
                    data = source.recv(CHUNK)  # type: ignore[union-attr]
                    if source is client:
                        if not data:
                            upstream.shutdown(socket.SHUT_WR)
                            selector.unregister(client)
                            open_ends.discard(client)
                            continue
                        if answered:
                            fault = self._begin_request()
                            sent_up = sent_down = 0
                            answered = False
                            delayed = fault.kind != "delay"
                            if fault.kind in ("error", "answer"):
                                self._answer_error(client, fault)
                                return
                        if fault.kind in ("reset", "cut_request") and sent_up + len(data) >= fault.at_byte:
                            upstream.sendall(data[: fault.at_byte - sent_up])
                            if fault.kind == "reset":
                                _reset(client)
                            return
                        upstream.sendall(data)
                        sent_up += len(data)
                    else:
                        if not data:
                            client.shutdown(socket.SHUT_WR)
                            selector.unregister(upstream)
                            open_ends.discard(upstream)
                            continue
                        answered = True
                        if not delayed:
                            self._stopping.wait(fault.delay_s)
                            delayed = True
                        if fault.kind == "cut_response" and sent_down + len(data) >= fault.at_byte:
                            client.sendall(data[: fault.at_byte - sent_down])
                            return
                        client.sendall(data)
                        sent_down += len(data)

    def _answer_error(self, client: socket.socket, fault: Fault) -> None:
        """Answer as a reverse proxy whose server is down (or as `fault` says), then let the
        client finish sending."""
        status = fault.status
        body = b'{"detail": "fault proxy: the server behind me does not answer"}'
        if fault.kind == "answer":
            body = fault.body.encode()
        head = (
            f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        client.sendall(head + body)
        client.shutdown(socket.SHUT_WR)
        # Read what the client still sends: closing with unread bytes would send an RST,
        # which may destroy the answer before the client reads it.
        deadline = time.monotonic() + 5
        client.settimeout(0.5)
        while time.monotonic() < deadline and not self._stopping.is_set():
            try:
                if not client.recv(CHUNK):
                    return
            except socket.timeout:
                continue


def _reset(sock: socket.socket) -> None:
    """Close with an RST instead of a FIN: SO_LINGER on, with a time of 0."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    _close(sock)


def _close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass
