"""The staff's paged lists take any page number: a huge, negative or past-the-end one goes
to a page that exists, never to a 500 (SQLite and PostgreSQL, a real server on loopback)."""

from __future__ import annotations

import httpx
from central_support import Store, keep_recording

from kiosk.central.api import create_app
from kiosk.central.moderation import approve
from kiosk.central.staff.accounts import add_staff
from kiosk.central.staff.pages import MAX_PAGE, PAGE_SIZE, bounded_page

PASSWORD = "correct horse battery"
HUGE = "99999999999999999999"


def _log_in(client: httpx.Client) -> None:
    login = client.get("/staff/login")
    token = login.text.split('name="login_token" value="')[1].split('"')[0]
    answer = client.post(
        "/staff/login",
        data={"login_token": token, "username": "anna", "password": PASSWORD, "next": "/staff/queue", "lang": "en"},
        headers={"Origin": str(client.base_url).rstrip("/")},
    )
    assert answer.status_code == 303, answer.text


def test_bounded_page_keeps_numbers_the_database_takes():
    assert bounded_page(1) == 1
    assert bounded_page(0) == 1
    assert bounded_page(-10**30) == 1
    assert bounded_page(7) == 7
    assert bounded_page(10**40) == MAX_PAGE
    # The largest offset asked of the database fits a signed 64-bit integer with room to spare.
    assert (MAX_PAGE - 1) * PAGE_SIZE < 2**31


def test_any_page_number_gives_a_page_never_a_500(store: Store, live_server):
    add_staff(store.database, "anna", PASSWORD)
    waiting = [keep_recording(store, f"t-xx-{n:03d}") for n in range(1, PAGE_SIZE + 3)]  # two pages
    approve(store.database, waiting[0], by="anna")
    server = live_server(create_app(store.config, store.database))
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as client:
        _log_in(client)
        for path, last in (("/staff/queue?", 2), ("/staff/history?status=approved&", 1)):
            for asked in (HUGE, "-" + HUGE, str(MAX_PAGE + 1), "3"):
                answer = client.get(f"{path}page={asked}")
                assert answer.status_code in (200, 303), (path, asked, answer.status_code)
                if asked.startswith("-"):
                    assert answer.status_code == 200  # read as the first page
                    continue
                assert answer.status_code == 303, (path, asked)
                assert f"page={last}" in answer.headers["location"]
                shown = client.get(answer.headers["location"])
                assert shown.status_code == 200
            # Not a number at all: the framework's clear 4xx, not a 500.
            assert client.get(f"{path}page=many").status_code == 422
