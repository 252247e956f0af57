"""`kiosk screenshot --large-text --high-contrast --audio`: a screen as a visitor with
these settings sees it, for a technician and the layout audit (issue 17)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from kiosk.config import write_station_config
from kiosk.shell.palette import HIGH_CONTRAST

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _rgb(colour) -> tuple[int, int, int]:
    return tuple(round(channel * 255) for channel in colour[:3])


def test_the_welcome_screen_in_audio_mode_with_high_contrast_and_large_text(kiosk, tmp_path):
    station = write_station_config(tmp_path / "booth", exhibit="booth", station_id="booth-1", fullscreen=False, size=(1280, 800), audio="simulated")
    plain, seen = tmp_path / "plain.png", tmp_path / "seen.png"
    for out, options in ((plain, ()), (seen, ("--large-text", "--high-contrast", "--audio"))):
        done = kiosk("screenshot", str(station), "--screen", "welcome", "--lang", "fr", "--layout", "--out", str(out), *options, timeout=600)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    layouts = {out: json.loads(out.with_suffix(".json").read_text(encoding="utf-8")) for out in (plain, seen)}
    by_name = {out: {w["name"]: w for w in layout["widgets"] if w["name"]} for out, layout in layouts.items()}
    assert by_name[seen]["start-over"]["background"] == "#000000", "high contrast: black behind the buttons"
    assert by_name[plain]["start-over"]["background"] != "#000000"
    with Image.open(seen) as image:
        colours = {colour for _count, colour in image.convert("RGB").getcolors(1280 * 800)}
    assert _rgb(HIGH_CONTRAST.focus) in colours, "the focus ring is drawn"
    with Image.open(seen) as image:
        picture = image.convert("RGB")
        # The ring runs just outside the first control's box (which one depends on the screen's words).
        ringed = [w["name"] for w in layouts[seen]["widgets"] if w["touch"] and picture.getpixel((w["box"][0] + w["box"][2] // 2, w["box"][1] - 6)) == _rgb(HIGH_CONTRAST.focus)]
    assert len(ringed) == 1, ringed
