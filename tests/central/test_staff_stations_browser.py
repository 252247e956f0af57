"""The staff's stations page in a real headless Chromium: a wall, a memorial and a booth
report through the station side's own heartbeat code over real HTTP; the booth's program
has stopped and the memorial has lost its sound card. Screenshots in nl, fr and en go to
$STAFF_SCREENSHOTS when set (else the test's temporary folder)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from central_support import keep_recording
from PIL import Image, ImageDraw
from playwright.sync_api import expect
from test_staff_browser import PASSWORD, browser, sqlite_store  # noqa: F401 (fixtures)

from exhibits.booth.take_store import TakeStore
from kiosk.central.api import create_app
from kiosk.central.staff.accounts import add_staff
from kiosk.central.stations import enroll
from kiosk.config import load_station_config, write_station_config
from kiosk.link.client import CentralClient
from kiosk.link.heartbeat import send_heartbeat
from kiosk.link.status import STATUS_FILE, write_station_status

pytestmark = pytest.mark.slow


def report(folder: Path, exhibit: str, station_id: str, url: str, token: str, devices: dict, *, stopped: bool = False) -> None:
    """A station folder whose program wrote `devices`, and one heartbeat from it with a screen picture."""
    (folder / "token").parent.mkdir(parents=True)
    (folder / "token").write_text(token + "\n")
    toml = write_station_config(folder, exhibit=exhibit, station_id=station_id, central_url=url, token_file=str(folder / "token"),
                                fullscreen=False, audio="simulated", snapshot_every_s=60)
    config = load_station_config(toml)
    write_station_status(config.data_dir, program=exhibit, devices=devices, input_overflows=0)
    if stopped:  # the program wrote its last state 25 minutes ago and nothing since
        status = config.data_dir / STATUS_FILE
        document = json.loads(status.read_text())
        document["written_at"] = (datetime.now(timezone.utc) - timedelta(minutes=25)).isoformat()
        status.write_text(json.dumps(document))
    picture = config.resolve(config.display.snapshot_path)
    picture.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (1280, 720), "#16181c")
    ImageDraw.Draw(image).text((40, 40), f"{station_id}: {exhibit}", fill="#f0f0f0")
    image.save(picture)
    with CentralClient.for_station(config) as client:
        assert send_heartbeat(client, TakeStore(config.data_dir / "takes", station_id), config.data_dir, screen=picture)


def test_the_stations_page_says_what_needs_attention_in_plain_words(sqlite_store, live_server, browser, tmp_path):  # noqa: F811
    store = sqlite_store
    add_staff(store.database, "anna", PASSWORD)
    keep_recording(store, "t-xx-001", station_id="booth-1")  # its last take
    server = live_server(create_app(store.config, store.database))
    report(tmp_path / "wall", "wall", "wall-1", server.url, enroll(store.database, "wall-1"), {"speaker": "ready"})
    report(tmp_path / "memorial", "memorial", "memorial-1", server.url, enroll(store.database, "memorial-1"), {"output": "lost"})
    report(tmp_path / "booth", "booth", "booth-1", server.url, enroll(store.database, "booth-1"),
           {"microphone": "ready", "controller": "connected"}, stopped=True)
    shots = Path(os.environ.get("STAFF_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    try:
        # The pictures are for staff only.
        assert page.request.get(f"{server.url}/staff/stations/wall-1/screen.png", max_redirects=0).status == 303
        page.goto(f"{server.url}/staff/stations")
        page.fill("input[name=username]", "anna")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.login button")
        rows = page.locator("table.stations tbody tr")
        expect(rows).to_have_count(3)
        for language, words in (
            ("nl", ("Werkt normaal", "Het programma van het station draait niet", "De luidsprekers van het memoriaal zwijgen")),
            ("fr", ("Fonctionne normalement", "Le programme de la station ne tourne pas", "Les haut-parleurs du mémorial sont muets")),
            ("en", ("Working normally", "The station's program is not running", "The memorial's loudspeakers are silent")),
        ):
            if language != "nl":
                page.click(f"form.languages button[value={language}]")
                page.goto(f"{server.url}/staff/stations")
            expect(rows).to_have_count(3)
            booth, memorial, wall = (page.locator(f"tr[data-station={name}]") for name in ("booth-1", "memorial-1", "wall-1"))
            assert words[0] in wall.inner_text()
            assert words[1] in booth.inner_text()
            assert words[2] in memorial.inner_text()
            page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
            assert page.locator("td.screen img").count() == 3
            page.screenshot(path=str(shots / f"stations-{language}.png"), full_page=True)
        wall_text, memorial_text, booth_text = (page.locator(f"tr[data-station={n}]").inner_text() for n in ("wall-1", "memorial-1", "booth-1"))
        # Only the devices a station has; nothing red for what it has not.
        assert "Microphone" not in wall_text and "Microphone" not in memorial_text
        assert "Loudspeaker: working" in wall_text and "Loudspeakers: not working" in memorial_text
        assert wall.get_attribute("class") == "fine" and "unknown" not in page.locator("table.stations").inner_text()
        assert "What to do: Switch the station off and on again" in booth_text
        assert "never" not in booth_text.lower() and "none yet" not in booth_text  # it uploaded a take
        assert "none yet" in wall_text
    finally:
        page.context.close()
