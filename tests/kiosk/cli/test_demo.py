"""`kiosk demo` on a machine without a screen: stations on a virtual one, pictures to look at."""

from __future__ import annotations

import json
import socket

import pytest
from PIL import Image
from sqlalchemy import create_engine, text

from exhibits.booth.flow import Step

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_demo_runs_every_station_headless_and_says_where_to_look(kiosk, tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    port = _free_port()
    result = kiosk("demo", "--dir", str(tmp_path), "--count", "400", "--port", str(port), "--for", "45", timeout=420)
    assert result.returncode == 0, result.stderr + result.stdout
    out = result.stdout
    assert "no screen here" in out and "fictional" in out
    assert f"central store: http://127.0.0.1:{port}" in out
    assert f"staff pages: http://127.0.0.1:{port}/staff/login  (user demo, password " in out
    # The store holds the collection, and the booth took names in hand from it.
    status = kiosk("central", "status", "--config", str(tmp_path / "central" / "central.toml"), "--json")
    assert json.loads(status.stdout)["persons"] == 400
    engine = create_engine(f"sqlite:///{tmp_path / 'central' / 'central.sqlite3'}")
    with engine.connect() as connection:
        held = connection.execute(text("SELECT count(*) FROM leases JOIN stations ON stations.id = leases.station_id WHERE stations.station_id = 'booth-1'")).scalar()
        beating = set(connection.execute(text("SELECT stations.station_id FROM latest_heartbeats JOIN stations ON stations.id = latest_heartbeats.station_id")).scalars())
    engine.dispose()
    assert held >= 1
    assert beating == {"booth-1", "wall-1", "memorial-1"}  # all alive on the staff's overview
    for station in ("booth-1", "wall-1", "memorial-1"):
        toml = (tmp_path / station / "station.toml").read_text(encoding="utf-8")
        assert "\ndemo = true " in toml, "a demo station says so, for the doctor"
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
    # The memorial shows every language at once: one picture per screen.
    assert {p.name for p in (tmp_path / "screenshots" / "memorial-1").glob("*.png")} == {"memorial-nl.png", "closed-nl.png"}
    memorial_log = (tmp_path / "logs" / "memorial-1.log").read_text(encoding="utf-8")
    assert "memorial opens" in memorial_log, "the demo's hours say open"
    assert "demo stopped" in out
