"""Staff logins held back per (username, address) and per address, never per account alone;
the same words for every username; scrypt at OWASP's parameters, old hashes upgraded at login.
SQLite and PostgreSQL; the pages through a real uvicorn where the client address matters."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

import httpx
import pytest
from central_support import Store
from sqlalchemy import func, select, update
from test_staff_accounts import Clock, clock  # noqa: F401 (the store's clock, moved by the test)

from kiosk.central.api import create_app
from kiosk.central.schema import login_failures, staff_accounts
from kiosk.central.staff.accounts import (
    ADDRESS_FREE_FAILURES,
    FREE_FAILURES,
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    LoginRefused,
    add_staff,
    log_in,
    needs_rehash,
    prune_login_failures,
    set_password,
    verify_password,
)

PASSWORD = "correct horse battery"


def refusal(database: Any, username: str, password: str, address: str) -> LoginRefused:
    with pytest.raises(LoginRefused) as refused:
        log_in(database, username, password, address=address)
    return refused.value


def test_failing_on_purpose_from_elsewhere_does_not_lock_the_staff_member_out(store: Store, clock: Clock):
    add_staff(store.database, "anna", PASSWORD)
    for _ in range(FREE_FAILURES + 3):
        refusal(store.database, "anna", "a guess", "203.0.113.9")
    assert refusal(store.database, "anna", PASSWORD, "203.0.113.9").key == "staff.login.locked"
    # Anna, at her own desk, logs in all the same.
    assert log_in(store.database, "anna", PASSWORD, address="192.168.10.21").username == "anna"


def test_unknown_and_known_usernames_get_the_same_words_and_the_same_lock(store: Store, clock: Clock):
    add_staff(store.database, "anna", PASSWORD)
    answers: dict[str, list[tuple[str, str, int]]] = {}
    for username in ("anna", "nobody"):
        answers[username] = [
            (r.key, r.detail, r.wait_s) for r in (refusal(store.database, username, "a guess", "198.51.100.7")
                                                  for _ in range(FREE_FAILURES + 1))
        ]
    assert answers["anna"] == answers["nobody"]
    assert answers["anna"][-1][0] == "staff.login.locked"


def test_one_address_trying_many_usernames_is_held_back(store: Store, clock: Clock):
    add_staff(store.database, "anna", PASSWORD)
    for n in range(ADDRESS_FREE_FAILURES):
        refusal(store.database, f"user{n}", "a guess", "198.51.100.8")
    assert refusal(store.database, "anna", PASSWORD, "198.51.100.8").key == "staff.login.locked"
    clock.now += timedelta(seconds=61)
    assert log_in(store.database, "anna", PASSWORD, address="198.51.100.8").username == "anna"


def test_a_new_password_ends_the_wait_and_old_counts_are_pruned(store: Store, clock: Clock):
    add_staff(store.database, "anna", PASSWORD)
    for _ in range(FREE_FAILURES):
        refusal(store.database, "anna", "a guess", "192.168.10.21")
    assert refusal(store.database, "anna", PASSWORD, "192.168.10.21").key == "staff.login.locked"
    set_password(store.database, "anna", PASSWORD + " 2")
    assert log_in(store.database, "anna", PASSWORD + " 2", address="192.168.10.21").username == "anna"
    clock.now += timedelta(days=2)
    assert prune_login_failures(store.database) >= 1
    with store.database.read() as connection:
        assert connection.execute(select(func.count()).select_from(login_failures)).scalar_one() == 0


def test_the_login_page_counts_by_the_clients_address(store: Store, live_server: Any):
    add_staff(store.database, "anna", PASSWORD)
    server = live_server(create_app(store.config, store.database))

    def attempt(client: httpx.Client, password: str) -> httpx.Response:
        page = client.get("/staff/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
        return client.post(
            "/staff/login",
            data={"username": "anna", "password": password, "login_token": token},
            headers={"Origin": server.url},
        )

    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(FREE_FAILURES):
            assert attempt(client, "a guess").status_code == 401
        locked = attempt(client, PASSWORD)
        assert locked.status_code == 401
    with store.database.read() as connection:
        # Two counts: anna from 127.0.0.1, and 127.0.0.1 itself; nothing kept as typed.
        keys = connection.execute(select(login_failures.c.key_hash)).scalars().all()
    assert len(keys) == 2 and not any("anna" in key or "127.0.0.1" in key for key in keys)
    assert log_in(store.database, "anna", PASSWORD, address="192.168.10.21").username == "anna"


def test_passwords_are_hashed_with_owasps_scrypt_parameters():
    from kiosk.central.staff.accounts import hash_password

    stored = hash_password(PASSWORD)
    assert stored.startswith("scrypt$131072$8$1$")
    assert (SCRYPT_N, SCRYPT_R, SCRYPT_P) == (2**17, 8, 1)
    assert verify_password(PASSWORD, stored) and not needs_rehash(stored)


def test_a_hash_made_with_older_parameters_is_upgraded_at_the_next_login(store: Store):
    salt = secrets.token_bytes(16)
    derived = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    old = "$".join(["scrypt", "16384", "8", "1", base64.b64encode(salt).decode(), base64.b64encode(derived).decode()])
    add_staff(store.database, "anna", PASSWORD)
    with store.database.write() as connection:
        connection.execute(update(staff_accounts).values(password_hash=old))
    with pytest.raises(LoginRefused):
        log_in(store.database, "anna", "wrong password")
    with store.database.read() as connection:
        assert connection.execute(select(staff_accounts.c.password_hash)).scalar_one() == old, "not on a failure"
    assert log_in(store.database, "anna", PASSWORD).username == "anna"
    with store.database.read() as connection:
        upgraded = connection.execute(select(staff_accounts.c.password_hash)).scalar_one()
    assert upgraded.startswith("scrypt$131072$8$1$") and verify_password(PASSWORD, upgraded)
