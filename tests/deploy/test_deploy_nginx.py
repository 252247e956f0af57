"""The store's reverse proxy (deploy/ansible/roles/central/templates/dossin-central-nginx.conf.j2):
rendered as Ansible renders it, checked with `nginx -t`, then a real nginx on loopback with
a certificate made here, in front of a real uvicorn serving the store."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CENTRAL_TESTS = Path(__file__).resolve().parents[1] / "central"
sys.path.insert(0, str(CENTRAL_TESTS))

from central_support import SMALL_TRANSPORTS, LiveServer, flac_bytes, make_config, small_persons, write_collection  # noqa: E402

TEMPLATES = Path(__file__).resolve().parents[2] / "deploy" / "ansible" / "roles" / "central" / "templates"
PER_CLIENT = 4


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def render(**values: Any) -> str:
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined)
    return environment.get_template("dossin-central-nginx.conf.j2").render(ansible_managed="Ansible managed", **values)


def certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, made as the Ansible role makes one for the LAN."""
    cert, key = folder / "central.crt", folder / "central.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-sha256", "-days", "2", "-nodes", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def nginx_conf(folder: Path, store_port: int, http_port: int, https_port: int) -> Path:
    """nginx.conf for a private nginx as root in `folder`, including the rendered site."""
    cert, key = certificate(folder)
    site = folder / "dossin-central.conf"
    site.write_text(render(dossin_central_port=store_port, dossin_http_port=http_port, dossin_https_port=https_port,
                           dossin_tls_certificate=str(cert), dossin_tls_key=str(key), dossin_max_upload_mb=1,
                           dossin_connections_per_client=PER_CLIENT))
    # Only loopback here: the template also listens on [::]; keep that when IPv6 is off.
    main = folder / "nginx.conf"
    main.write_text(f"""
user root;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {site};
}}
""")
    return main


@pytest.fixture(autouse=True)
def _nginx() -> None:
    if shutil.which("nginx", path="/usr/sbin:/usr/bin") is None:
        pytest.fail("no nginx: install Debian's nginx-light (scripts/setup does)", pytrace=False)


def nginx_test(main: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["/usr/sbin/nginx", "-t", "-c", str(main), "-p", str(main.parent)], capture_output=True, text=True)


def test_nginx_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    main = nginx_conf(tmp_path, free_port(), free_port(), free_port())
    result = nginx_test(main)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def test_nginx_t_catches_a_broken_configuration(tmp_path: Path) -> None:
    main = nginx_conf(tmp_path, free_port(), free_port(), free_port())
    site = tmp_path / "dossin-central.conf"
    site.write_text(site.read_text().replace("client_header_timeout 10s;", "client_header_timeout ten;", 1))
    result = nginx_test(main)
    assert result.returncode != 0 and "client_header_timeout" in result.stderr


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The store (SQLite, staff cookies Secure) on uvicorn, nginx in front with TLS."""
    from kiosk.central.api import create_app
    from kiosk.central.db import open_database
    from kiosk.central.importer import import_collection
    from kiosk.central.stations import enroll

    config = make_config(tmp_path / "central")
    config.staff.secure_cookies = True
    database = open_database(config)
    import_collection(database, write_collection(tmp_path / "collection", SMALL_TRANSPORTS, small_persons()))
    token = enroll(database, "booth-1")
    server = LiveServer(create_app(config, database)).start()
    folder = tmp_path / "nginx"
    folder.mkdir()
    http_port, https_port = free_port(), free_port()
    main = nginx_conf(folder, server.port, http_port, https_port)
    nginx = subprocess.Popen(["/usr/sbin/nginx", "-c", str(main), "-p", str(folder), "-g", "daemon off;"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            except OSError:
                if nginx.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"nginx did not start: {(folder / 'error.log').read_text()}") from None
                time.sleep(0.1)
        yield {"https": f"https://127.0.0.1:{https_port}", "http": f"http://127.0.0.1:{http_port}",
               "https_port": https_port, "cert": str(folder / "central.crt"), "token": token, "database": database}
    finally:
        nginx.terminate()
        nginx.wait(15)
        server.stop()
        database.dispose()


def test_the_store_answers_through_nginx_over_tls_with_secure_staff_cookies(proxied: dict[str, Any]) -> None:
    import ssl

    trust = ssl.create_default_context(cafile=proxied["cert"])
    with httpx.Client(base_url=proxied["https"], verify=trust, timeout=30) as client:
        health = client.get("/api/v1/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert "max-age" in health.headers["strict-transport-security"]
        login = client.get("/staff/login")
        assert login.status_code == 200
        cookies = login.headers.get_list("set-cookie")
        assert cookies and all("secure" in cookie.lower() for cookie in cookies)
        audio = flac_bytes()
        rid = str(uuid.uuid4())
        metadata = {
            "person_id": "t-xx-001", "station_id": "booth-1", "recorded_at": "2026-11-21T10:00:00Z",
            "duration_s": 0.5, "sample_rate": 48000, "sha256": hashlib.sha256(audio).hexdigest(),
            "size_bytes": len(audio), "quality": {},
            "consent": {"version": "2026-11", "language": "nl", "age_band": "18+", "guardian_confirmed": False},
        }
        uploaded = client.put(f"/api/v1/recordings/{rid}", headers={"Authorization": f"Bearer {proxied['token']}"},
                              files={"metadata": (None, json.dumps(metadata).encode()), "audio": ("t.flac", audio)})
        assert uploaded.status_code == 201, uploaded.text
        too_large = client.put(f"/api/v1/recordings/{uuid.uuid4()}", content=b"\0" * 1_100_000,
                               headers={"Content-Type": "multipart/form-data; boundary=x"})
        assert too_large.status_code == 413  # nginx's own client_max_body_size
    plain = httpx.get(f"{proxied['http']}/staff/login", timeout=30)
    assert plain.status_code == 308 and plain.headers["location"].startswith("https://")


def test_nginx_drops_a_stalled_header_and_limits_connections_per_client(proxied: dict[str, Any]) -> None:
    import ssl

    context = ssl.create_default_context(cafile=proxied["cert"])

    def tls_socket() -> ssl.SSLSocket:
        raw = socket.create_connection(("127.0.0.1", proxied["https_port"]), timeout=60)
        return context.wrap_socket(raw, server_hostname="127.0.0.1")

    stalled = tls_socket()
    stalled.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    began = time.monotonic()
    answer = stalled.recv(1024)
    waited = time.monotonic() - began
    stalled.close()
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer
    print(f"\nnginx closed a stalled header after {waited:.1f} s")
    # Requests whose header is in but whose body never comes each hold a connection.
    held = [tls_socket() for _ in range(PER_CLIENT + 2)]
    try:
        for sock in held:
            sock.sendall(b"PUT /api/v1/recordings/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n"
                         b"Content-Type: multipart/form-data; boundary=x\r\n\r\n")
            time.sleep(0.2)
        refused = 0
        for sock in held[PER_CLIENT:]:
            sock.settimeout(30)
            refused += sock.recv(1024).startswith(b"HTTP/1.1 429")
        assert refused == 2
    finally:
        for sock in held:
            sock.close()


def test_the_central_role_turns_secure_cookies_on_in_the_stores_config(tmp_path: Path) -> None:
    """The role's own lineinfile task, run by Ansible on a central.toml as `kiosk central init` writes it."""
    import os

    import yaml

    from kiosk.central.config import load_central_config, write_central_config

    tasks = yaml.safe_load((TEMPLATES.parent / "tasks" / "main.yml").read_text())
    [task] = [task for task in tasks if "ansible.builtin.lineinfile" in task and "cookies" in task["name"].lower()]
    arguments = dict(task["ansible.builtin.lineinfile"])
    toml = write_central_config(tmp_path / "central")
    assert load_central_config(toml).staff.secure_cookies is False  # the demo's and the tests' default
    arguments.update(path=str(toml), owner=None, group=None)
    arguments = {key: value for key, value in arguments.items() if value is not None}
    environment = {**os.environ, "HOME": str(tmp_path), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"), "NO_COLOR": "1"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible"), "localhost", "-c", "local", "-i", "localhost,",
         "-e", f"ansible_python_interpreter={sys.executable}",
         "-m", "ansible.builtin.lineinfile", "-a", json.dumps(arguments)],
        capture_output=True, text=True, env=environment, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert load_central_config(toml).staff.secure_cookies is True
    assert toml.read_text().count("secure_cookies") == 1
