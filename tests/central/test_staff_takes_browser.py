"""Two takes of one name on the moderation page, side by side, in a real headless Chromium:
staff listen to both and keep one. Screenshots go to $STAFF_SCREENSHOTS when set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from central_support import flac_bytes, keep_recording
from playwright.sync_api import expect
from sqlalchemy import select
from test_staff_browser import PASSWORD, browser, sqlite_store  # noqa: F401 (fixtures)

from kiosk.central.api import create_app
from kiosk.central.moderation import approve, approved_voices
from kiosk.central.schema import recordings
from kiosk.central.staff.accounts import add_staff

pytestmark = pytest.mark.slow


def test_staff_hear_both_takes_of_a_name_and_keep_one(sqlite_store, live_server, browser, tmp_path):  # noqa: F811
    store = sqlite_store
    add_staff(store.database, "anna", PASSWORD)
    first = keep_recording(store, "t-xx-003", audio=flac_bytes(seconds=1.0, frequency=300))
    approve(store.database, first, by="anna")
    second = keep_recording(store, "t-xx-003", audio=flac_bytes(seconds=1.5, frequency=400), station_id="booth-2", second_take=True)
    keep_recording(store, "t-xx-004")
    server = live_server(create_app(store.config, store.database))
    shots = Path(os.environ.get("STAFF_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    try:
        page.goto(f"{server.url}/staff/queue?lang=en")
        page.fill("input[name=username]", "anna")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.login button")
        page.click("form.languages button[value=en]")
        page.goto(f"{server.url}/staff/queue")
        item = page.locator(f"#r-{second}")
        expect(item.locator(".other-take")).to_have_count(1)
        assert "This name has 2 takes" in item.inner_text()
        assert "Other take (approved)" in item.inner_text()
        # Both can be heard, each from the staff-only audio address.
        for audio, seconds in ((item.locator(".other-take audio"), 1.0), (item.locator(":scope > audio"), 1.5)):
            audio.evaluate("a => a.load()")
            page.wait_for_function("a => a.readyState >= 1 && a.duration > 0", arg=audio.element_handle(), timeout=15_000)
            assert abs(audio.evaluate("a => a.duration") - seconds) < 0.1
        # A name with one take keeps the plain approve button.
        assert page.locator("li.recording:not(:has(.other-take)) form.approve").count() == 1
        page.screenshot(path=str(shots / "queue-two-takes-en.png"), full_page=True)
        item.locator(".decide form.choose button").click()
        assert "the other takes of this name are rejected" in page.locator(".notice").first.inner_text()
    finally:
        page.context.close()
    [voice] = approved_voices(store.database, "t-xx-003")
    assert voice.recording_id == second
    with store.database.read() as connection:
        assert connection.execute(select(recordings.c.status).where(recordings.c.id == first)).scalar_one() == "rejected"
