"""Every staff page, in Dutch, French and English, in a real headless Chromium:
no serious or critical axe-core violation, and no horizontal scrolling at 400 px wide
(WCAG 1.4.10 Reflow). The pages are found by following the staff navigation, so a page
added later is checked without touching this test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from central_support import Store, keep_recording, make_config
from playwright.sync_api import sync_playwright

from kiosk.central.api import create_app
from kiosk.central.db import open_database
from kiosk.central.importer import import_collection
from kiosk.central.staff.accounts import add_staff
from kiosk.central.stations import Heartbeat, authenticate, enroll, record_heartbeat

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery"
SERIOUS = {"serious", "critical"}
NARROW = {"width": 400, "height": 800}
WIDE = {"width": 1280, "height": 900}


@pytest.fixture
def store(tmp_path: Path, small_collection: Path) -> Iterator[Store]:
    config = make_config(tmp_path / "central")
    database = open_database(config)
    import_collection(database, small_collection)
    try:
        yield Store(config, database)
    finally:
        database.dispose()


@pytest.fixture
def page_of(live_server, store):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no {CHROMIUM}: install Debian's chromium (scripts/setup does)", pytrace=False)
    add_staff(store.database, "anna", PASSWORD)
    keep_recording(store, "t-xx-001")
    record_heartbeat(
        store.database,
        authenticate(store.database, enroll(store.database, "booth-1")),
        Heartbeat("0.1.0", 3, 1 * 10**9, "lost", "connected", 12),
    )
    server = live_server(create_app(store.config, store.database))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        try:
            page = browser.new_page(viewport=WIDE)
            yield server, page
        finally:
            browser.close()


def serious_violations(page, axe: Axe, width: str) -> list[str]:
    found = []
    for violation in axe.run(page).response["violations"]:
        if violation["impact"] in SERIOUS:
            targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
            found.append(f"{width}: {violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


def problems_on(page, axe: Axe, shot: Path) -> list[str]:
    found = serious_violations(page, axe, "wide")
    page.set_viewport_size(NARROW)
    found += serious_violations(page, axe, "400 px")
    page.screenshot(path=str(shot), full_page=True)
    overflow = page.evaluate(
        "() => { const e = document.scrollingElement; return e.scrollWidth - e.clientWidth; }"
    )
    if overflow > 0:
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                 .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                 .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))"""
        )
        found.append(f"scrolls sideways by {overflow} px at 400 px wide: {wide}")
    page.set_viewport_size(WIDE)
    return found


def test_every_staff_page_is_accessible_and_reflows(page_of, tmp_path):
    """Pictures at 400 px go to $STAFF_SCREENSHOTS when set, for a person to look at."""
    server, page = page_of
    shots = Path(os.environ.get("STAFF_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    axe = Axe()
    problems: dict[str, list[str]] = {}
    page.goto(f"{server.url}/staff/login")
    problems["login nl"] = problems_on(page, axe, shots / "login-nl-400px.png")
    page.fill("input[name=username]", "anna")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button")
    page.wait_for_url(lambda url: "/login" not in url)
    sections = [urlsplit(href).path for href in page.eval_on_selector_all("nav.sections a", "links => links.map(a => a.href)")]
    assert len(sections) >= 6, sections
    for language in ("nl", "fr", "en"):
        if language != "nl":
            page.click(f"form.languages button[value={language}]")
        for path in sections:
            page.goto(f"{server.url}{path}")
            assert page.locator("html").get_attribute("lang") == language
            problems[f"{path} {language}"] = problems_on(page, axe, shots / f"{path.strip('/').replace('/', '-')}-{language}-400px.png")
    found = {where: what for where, what in problems.items() if what}
    assert not found, "\n".join(f"{where}: {what}" for where, what in found.items())
