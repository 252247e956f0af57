"""`kiosk demo` on a machine without a screen: stations on a virtual one, pictures to look at."""

from __future__ import annotations

import pytest
from PIL import Image

from exhibits.booth.flow import Step

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_the_demo_runs_both_stations_headless_and_says_where_to_look(kiosk, tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    result = kiosk("demo", "--dir", str(tmp_path), "--count", "400", "--for", "12", timeout=300)
    assert result.returncode == 0, result.stderr + result.stdout
    out = result.stdout
    assert "no screen here" in out and "fictional" in out
    for station in ("booth-1", "wall-1"):
        live = tmp_path / station / "data" / "screen.png"
        assert str(live) in out
        assert live.exists(), f"{station} saved no live picture"
        assert Image.open(live).size == (1280, 800)
    booth_steps = [step.value for step in Step if step is not Step.WELCOME]
    expected = {
        "booth-1": {"attract", "welcome", "idle", *booth_steps},
        "wall-1": {"attract", "grid", "search", "person", "transports", "idle"},
    }
    for station, screens in expected.items():
        names = {p.name for p in (tmp_path / "screenshots" / station).glob("*.png")}
        assert names == {f"{screen}-{lang}.png" for screen in screens for lang in ("nl", "fr", "en")}
    assert "demo stopped" in out
