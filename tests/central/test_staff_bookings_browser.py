"""The staff's Bookings page in a real headless Chromium against a real uvicorn: a group of
four registered with what each member shares, the sheet printed (a real PDF from the
browser's print engine), one booking cancelled; screenshots in nl, fr and en.

Screenshots go to $STAFF_SCREENSHOTS when set (else the test's temporary folder).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from central_support import Store
from playwright.sync_api import expect
from test_staff_browser import browser, shots, sqlite_store  # noqa: F401  (fixtures shared with the other pages)

from kiosk.central.api import create_app
from kiosk.central.bookings import find_booking
from kiosk.central.leases import NameRules, claim
from kiosk.central.staff.accounts import add_staff
from kiosk.central.stations import authenticate, enroll

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """The size in points of each page of a PDF Chromium printed (its page objects are plain)."""
    boxes = re.findall(rb"/Type\s*/Page\b.*?/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", pdf, re.S)
    if not boxes:  # MediaBox may come before /Type
        boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]


def test_a_group_of_four_is_registered_printed_and_one_cancelled(
    sqlite_store: Store, live_server, browser, shots: Path
):
    store = sqlite_store
    add_staff(store.database, "anna", PASSWORD)
    server = live_server(create_app(store.config, store.database))
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-BE").new_page()

    def shot(name: str, **options) -> None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True, **options)

    page.goto(f"{server.url}/staff/login")
    page.fill("input[name=username]", "anna")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button")
    page.click("nav.sections a[href$='/bookings']")
    expect(page.locator("h1")).to_have_text("Reservaties")
    shot("bookings-empty-nl")

    # Four participants: a first name, a birthday, an age, nothing.
    page.select_option("form.members select[name=members]", "4")
    page.click("form.members button")
    expect(page.locator("fieldset.member")).to_have_count(4)
    page.fill("input[name=first_name_0]", "helene")
    page.select_option("select[name=day_1]", "2")
    page.select_option("select[name=month_1]", "2")
    page.fill("input[name=age_2]", "30")
    page.select_option("select[name=language]", "fr")
    shot("bookings-group-form-nl")
    page.click("form.register button[type=submit]")

    # The sheet: four slips with four codes, in French, nothing about anyone.
    expect(page.locator("article.slip")).to_have_count(4)
    assert page.locator(".sheet").get_attribute("lang") == "fr"
    codes = page.locator(".slip-code").all_inner_texts()
    assert len(set(codes)) == 4 and all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", c) for c in codes)
    sheet_text = page.locator(".sheet").inner_text()
    assert "Votre code de réservation" in sheet_text and "Langue : Français" in sheet_text
    assert "J’ai un code de réservation" in sheet_text
    bookings = [find_booking(store.database, code) for code in codes]
    assert len({b.person_id for b in bookings}) == 4 and {b.language for b in bookings} == {"fr"}
    html = page.content()
    for booking in bookings:  # neither the person nor what the participant shared
        assert booking.name.split()[0] not in html and booking.person_id not in html
    assert "helene" not in html.lower() and 'value="30"' not in html
    shot("sheet-fr-screen-nl")

    # Printed: one A4 page, only the slips.
    page.emulate_media(media="print")
    shot("sheet-fr-print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator(".screen-only")).to_be_hidden()
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (shots / "sheet-fr.pdf").write_bytes(pdf)
    sizes = pdf_pages(pdf)
    assert len(sizes) == 1, sizes
    width, height = sizes[0]
    assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2, sizes  # A4 in points
    page.emulate_media(media="screen")

    # Back to the list; cancel the third one by its row's button.
    page.click("a.button[href$='/staff/bookings']")
    rows = page.locator("table.bookings tbody tr")
    expect(rows).to_have_count(4)
    assert page.locator("table.bookings").inner_text().count("geldig") >= 4
    page.locator(f"table.bookings tr:has(th:text('{codes[2]}')) form button").click()
    expect(page.locator(".notice")).to_contain_text(f"Reservatie {codes[2]} is geannuleerd")
    assert "geannuleerd" in page.locator(f"table.bookings tr:has(th:text('{codes[2]}'))").inner_text()
    assert find_booking(store.database, codes[2]).state == "cancelled"
    booth = authenticate(store.database, enroll(store.database, "booth-1"))
    assert claim(store.database, booth, NameRules(), how="booking", code=codes[2]) == []
    assert claim(store.database, booth, NameRules(), how="booking", code=codes[0])[0].person_id == bookings[0].person_id
    shot("bookings-list-nl")

    # Bad input: an impossible birthday, half a birthday, an unknown code; nothing kept.
    page.select_option("select[name=day_0]", "30")
    page.select_option("select[name=month_0]", "2")
    page.click("form.register button[type=submit]")
    expect(page.locator(".problem")).to_contain_text("die dag bestaat niet")
    page.select_option("select[name=day_0]", "")
    page.click("form.register button[type=submit]")
    expect(page.locator(".problem")).to_contain_text("kies de dag én de maand")
    page.fill("form.cancel-code input[name=code]", "wxyz 9999")
    page.click("form.cancel-code button")
    expect(page.locator(".problem")).to_contain_text("Geen reservatie heeft de code 'wxyz 9999'")
    expect(page.locator("table.bookings tbody tr")).to_have_count(4)

    # The page and the sheet in the three languages.
    for language in ("nl", "fr", "en"):
        page.goto(f"{server.url}/staff/bookings?members=3")
        if language != "nl":
            page.click(f"form.languages button[value={language}]")
        page.goto(f"{server.url}/staff/bookings?members=3")
        assert page.locator("html").get_attribute("lang") == language
        shot(f"bookings-{language}")
        page.goto(f"{server.url}/staff/bookings/{codes[0]}/sheet")
        shot(f"sheet-screen-{language}")
    # A single visitor's sheet in English and in Dutch, printed.
    for language in ("en", "nl"):
        page.goto(f"{server.url}/staff/bookings")
        page.select_option("select[name=language]", language)
        page.click("form.register button[type=submit]")
        expect(page.locator("article.slip")).to_have_count(1)
        page.emulate_media(media="print")
        shot(f"sheet-single-{language}-print")
        page.emulate_media(media="screen")
