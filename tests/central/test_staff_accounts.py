"""Staff accounts, sessions, throttling and CSRF on SQLite and PostgreSQL (no browser)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from central_support import Store, keep_recording
from fastapi.testclient import TestClient
from sqlalchemy import select

from kiosk.central.api import create_app
from kiosk.central.moderation import recordings_to_review
from kiosk.central.schema import staff_accounts, staff_sessions
from kiosk.central.staff.accounts import (
    FREE_FAILURES,
    LoginRefused,
    add_staff,
    disable_staff,
    ensure_demo_staff,
    hash_password,
    log_in,
    set_password,
    verify_password,
)
from kiosk.central.staff.sessions import COOKIE, SessionRules, check_csrf, close_session, find_session, open_session
from kiosk.errors import KioskError

PASSWORD = "correct horse battery"
RULES = SessionRules(lifetime=timedelta(hours=10), idle=timedelta(minutes=30))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(store: Store) -> Clock:
    clock = Clock()
    store.database.clock = clock
    return clock


def test_passwords_are_stored_salted_and_verified(store: Store):
    add_staff(store.database, "anna", PASSWORD)
    with store.database.read() as connection:
        stored = connection.execute(select(staff_accounts.c.password_hash)).scalar_one()
    assert PASSWORD not in stored and stored.startswith("scrypt$")
    assert verify_password(PASSWORD, stored) and not verify_password(PASSWORD + "!", stored)
    assert hash_password(PASSWORD) != hash_password(PASSWORD)  # a salt of its own each time
    assert log_in(store.database, "Anna ", PASSWORD).username == "anna"


def test_bad_usernames_short_passwords_and_duplicates_are_refused(store: Store):
    with pytest.raises(KioskError, match="not usable"):
        add_staff(store.database, "Anna Smith", PASSWORD)
    with pytest.raises(KioskError, match="shorter than"):
        add_staff(store.database, "anna", "short")
    add_staff(store.database, "anna", PASSWORD)
    with pytest.raises(KioskError, match="already"):
        add_staff(store.database, "anna", PASSWORD)
    with pytest.raises(KioskError, match="no staff account"):
        set_password(store.database, "bert", PASSWORD)


def test_wrong_passwords_lock_the_account_for_a_while(store: Store, clock: Clock):
    add_staff(store.database, "anna", PASSWORD)
    for _ in range(FREE_FAILURES):
        with pytest.raises(LoginRefused) as refused:
            log_in(store.database, "anna", "wrong password")
        assert refused.value.key == "staff.login.wrong"
    # Locked now: even the right password is refused until the minute is over.
    with pytest.raises(LoginRefused) as refused:
        log_in(store.database, "anna", PASSWORD)
    assert refused.value.key == "staff.login.locked" and 0 < refused.value.wait_s <= 61
    clock.now += timedelta(seconds=61)
    with pytest.raises(LoginRefused):
        log_in(store.database, "anna", "wrong again")  # the sixth failure: two minutes
    clock.now += timedelta(seconds=61)
    with pytest.raises(LoginRefused) as refused:
        log_in(store.database, "anna", PASSWORD)
    assert refused.value.key == "staff.login.locked"
    clock.now += timedelta(seconds=60)
    assert log_in(store.database, "anna", PASSWORD).username == "anna"
    with store.database.read() as connection:
        assert connection.execute(select(staff_accounts.c.failed_logins)).scalar_one() == 0


def test_unknown_and_disabled_accounts_do_not_log_in(store: Store):
    with pytest.raises(LoginRefused, match="wrong"):
        log_in(store.database, "nobody", PASSWORD)
    add_staff(store.database, "anna", PASSWORD)
    disable_staff(store.database, "anna")
    with pytest.raises(LoginRefused) as refused:
        log_in(store.database, "anna", PASSWORD)
    assert refused.value.key == "staff.login.disabled"
    set_password(store.database, "anna", PASSWORD + " 2")  # enables it again
    assert log_in(store.database, "anna", PASSWORD + " 2").username == "anna"


def test_sessions_expire_when_idle_or_old_and_end_at_logout_or_disable(store: Store, clock: Clock):
    add_staff(store.database, "anna", PASSWORD)
    staff = log_in(store.database, "anna", PASSWORD)
    cookie, session = open_session(store.database, staff, RULES, "fr")
    with store.database.read() as connection:
        stored = connection.execute(select(staff_sessions.c.id_hash)).scalar_one()
    assert stored != cookie and len(stored) == 64  # only the hash is kept
    found = find_session(store.database, cookie, RULES)
    assert found is not None and found.language == "fr" and found.csrf_token == session.csrf_token
    assert find_session(store.database, cookie + "x", RULES) is None
    clock.now += timedelta(minutes=29)
    assert find_session(store.database, cookie, RULES) is not None  # seen: idle time starts again
    clock.now += timedelta(minutes=29)
    assert find_session(store.database, cookie, RULES) is not None
    clock.now += timedelta(minutes=31)
    assert find_session(store.database, cookie, RULES) is None  # idle too long
    cookie, _ = open_session(store.database, staff, RULES, "nl")
    for _ in range(21):
        clock.now += timedelta(minutes=29)
        find_session(store.database, cookie, RULES)
    assert find_session(store.database, cookie, RULES) is None  # past ten hours, however busy
    cookie, _ = open_session(store.database, staff, RULES, "nl")
    close_session(store.database, cookie)
    assert find_session(store.database, cookie, RULES) is None
    cookie, _ = open_session(store.database, staff, RULES, "nl")
    disable_staff(store.database, "anna")
    assert find_session(store.database, cookie, RULES) is None


def test_csrf_tokens_must_match():
    check_csrf("abc", "abc")
    for given in (None, "", "abd"):
        with pytest.raises(Exception, match="out of date"):
            check_csrf("abc", given)


def test_the_demo_account_gets_a_fresh_password_each_time(store: Store):
    username, first = ensure_demo_staff(store.database)
    _, second = ensure_demo_staff(store.database)
    assert first != second
    assert log_in(store.database, username, second).username == "demo"
    with pytest.raises(LoginRefused):
        log_in(store.database, username, first)


def _logged_in(client: TestClient) -> str:
    """Log in through the form; returns the CSRF token of the queue page."""
    login = client.get("/staff/login")
    token = login.text.split('name="login_token" value="')[1].split('"')[0]
    answer = client.post(
        "/staff/login",
        data={"login_token": token, "username": "anna", "password": PASSWORD, "next": "/staff/queue", "lang": "en"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/staff/queue"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/staff" in cookie
    page = client.get("/staff/queue")
    assert page.status_code == 200
    return page.text.split('name="csrf" value="')[1].split('"')[0]


def test_pages_need_a_session_and_posts_need_the_token_and_our_origin(store: Store):
    add_staff(store.database, "anna", PASSWORD)
    recording = keep_recording(store, "t-xx-001")
    app = create_app(store.config, store.database)
    with TestClient(app, base_url="http://store.test", follow_redirects=False) as client:
        answer = client.get("/staff/queue?page=1")
        assert answer.status_code == 303 and answer.headers["location"] == "/staff/login?next=%2Fstaff%2Fqueue%3Fpage%3D1"
        assert client.get(f"/staff/recordings/{recording}/audio").status_code == 303
        csrf = _logged_in(client)
        assert client.get(f"/staff/recordings/{recording}/audio").content.startswith(b"fLaC")
        approve = f"/staff/recordings/{recording}/approve"
        assert client.post(approve, data={}).status_code == 403
        assert client.post(approve, data={"csrf": csrf + "x"}).status_code == 403
        assert client.post(approve, data={"csrf": csrf}, headers={"Origin": "http://evil.test"}).status_code == 403
        assert recordings_to_review(store.database)[1] == 1  # still waiting
        answer = client.post(approve, data={"csrf": csrf, "return_to": "/staff/queue"}, headers={"Origin": "http://store.test"})
        assert answer.status_code == 303 and answer.headers["location"] == "/staff/queue?notice=approved"
        assert recordings_to_review(store.database)[1] == 0
        assert client.post("/staff/logout", data={"csrf": csrf}).status_code == 303
        assert client.get("/staff/progress").status_code == 303


def test_a_login_form_from_elsewhere_is_refused(store: Store):
    add_staff(store.database, "anna", PASSWORD)
    app = create_app(store.config, store.database)
    with TestClient(app, base_url="http://store.test", follow_redirects=False) as client:
        answer = client.post("/staff/login", data={"login_token": "made-up", "username": "anna", "password": PASSWORD})
        assert answer.status_code == 403 and f"{COOKIE}=" not in answer.headers.get("set-cookie", "")
        assert "aanmeldformulier was verlopen" in answer.text  # Dutch: the default language


def test_the_session_cookie_is_secure_when_the_store_is_behind_https(tmp_path, small_collection):
    from central_support import make_config

    from kiosk.central.db import open_database
    from kiosk.central.importer import import_collection

    config = make_config(tmp_path / "central", secure_cookies="true")
    database = open_database(config)
    try:
        import_collection(database, small_collection)
        add_staff(database, "anna", PASSWORD)
        with TestClient(create_app(config, database), base_url="https://store.test", follow_redirects=False) as client:
            token = client.get("/staff/login").text.split('name="login_token" value="')[1].split('"')[0]
            answer = client.post(
                "/staff/login", data={"login_token": token, "username": "anna", "password": PASSWORD, "lang": "fr"}
            )
            assert answer.status_code == 303
            cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}="))
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
            page = client.get("/staff/progress")
            assert page.headers["content-security-policy"].startswith("default-src 'none'")
            assert '<html lang="fr">' in page.text  # the language chosen at the login stays
    finally:
        database.dispose()
