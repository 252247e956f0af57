"""`kiosk station init`, `kiosk run` refusals, and `kiosk screenshot` pictures."""

from __future__ import annotations

import pytest
from PIL import Image, ImageStat

from kiosk.config import load_station_config

FICTION_BAND = (102, 79, 28)  # the colour of the "fictional" band at the foot of every screen


def test_every_command_has_help(kiosk):
    for command in (
        [],
        ["demo"],
        ["run"],
        ["screenshot"],
        ["station"],
        ["station", "init"],
        ["collection"],
        ["collection", "demo"],
        ["collection", "check"],
        ["booth"],
        ["booth", "analyze"],
        ["booth", "ingest"],
    ):
        result = kiosk(*command, "--help")
        assert result.returncode == 0, result.stderr
        assert "Usage: kiosk" in result.stdout and len(result.stdout.splitlines()) > 3


def test_station_init_writes_a_working_config(kiosk, tmp_path):
    result = kiosk("station", "init", str(tmp_path / "booth-2"), "--exhibit", "booth", "--station-id", "booth-2")
    assert result.returncode == 0, result.stderr
    config = load_station_config(tmp_path / "booth-2" / "station.toml")
    assert config.station.id == "booth-2" and config.data_dir.is_dir()
    assert "kiosk collection demo --out" in result.stdout, "points at how to get a collection"


def test_station_init_refuses_a_bad_id_with_what_to_do(kiosk, tmp_path):
    result = kiosk("station", "init", str(tmp_path / "x"), "--exhibit", "wall", "--station-id", "Wall One")
    assert result.returncode == 2
    assert "station id 'Wall One' is not usable" in result.stderr and "what to do:" in result.stderr
    assert not (tmp_path / "x" / "station.toml").exists()


def test_run_without_a_screen_says_where_to_look(kiosk, tmp_path, monkeypatch):
    kiosk("station", "init", str(tmp_path), "--exhibit", "wall", "--station-id", "wall-1")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = kiosk("run", str(tmp_path / "station.toml"))
    assert result.returncode == 2 and "no screen" in result.stderr and "kiosk screenshot" in result.stderr


def test_a_broken_config_stops_the_command_with_file_and_setting(kiosk, tmp_path):
    (tmp_path / "station.toml").write_text('[station]\nid = "wall-1"\nexhibit = "wal"\n', encoding="utf-8")
    result = kiosk("screenshot", str(tmp_path / "station.toml"), "--screen", "attract", "--out", str(tmp_path / "a.png"))
    assert result.returncode == 2
    assert "station.toml" in result.stderr and "[station] exhibit must be one of" in result.stderr
    assert "Traceback" not in result.stderr


def _station(kiosk, tmp_path, collection, exhibit="wall"):
    toml = tmp_path / exhibit / "station.toml"
    result = kiosk("station", "init", str(toml.parent), "--exhibit", exhibit, "--station-id", f"{exhibit}-1", "--collection", str(collection))
    assert result.returncode == 0, result.stderr
    return toml


@pytest.mark.gui
@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_screenshot_of_the_attract_screen_shows_the_fictional_mark(kiosk, tmp_path, small_collection, language):
    toml = _station(kiosk, tmp_path, small_collection)
    out = tmp_path / f"attract-{language}.png"
    result = kiosk("screenshot", str(toml), "--screen", "attract", "--lang", language, "--out", str(out))
    assert result.returncode == 0, result.stderr
    picture = Image.open(out).convert("RGB")
    assert picture.size == (1920, 1080), "rendered at the station's own size"
    assert ImageStat.Stat(picture).stddev[0] > 10, "not a blank picture"
    foot = picture.crop((0, 1040, 1920, 1080)).getcolors(1920 * 40)
    share = sum(n for n, colour in foot if max(abs(a - b) for a, b in zip(colour, FICTION_BAND)) < 6) / (1920 * 40)
    assert share > 0.5, "the fictional-data band is at the foot of the screen"


@pytest.mark.gui
def test_screenshot_of_an_unknown_screen_lists_the_screens(kiosk, tmp_path, small_collection):
    toml = _station(kiosk, tmp_path, small_collection)
    result = kiosk("screenshot", str(toml), "--screen", "gallery", "--out", str(tmp_path / "x.png"))
    assert result.returncode == 2
    assert "has no screen 'gallery'" in result.stderr and "attract, grid, search" in result.stderr


@pytest.mark.gui
@pytest.mark.slow
def test_screenshot_all_writes_every_screen_in_every_language(kiosk, tmp_path, small_collection):
    toml = _station(kiosk, tmp_path, small_collection, exhibit="wall")
    result = kiosk("screenshot", str(toml), "--screen", "all", "--out", str(tmp_path / "shots"))
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "shots").glob("*.png"))
    screens = ("attract", "grid", "search", "person", "transports", "idle")
    assert names == sorted(f"{s}-{l}.png" for s in screens for l in ("nl", "fr", "en"))
    pictures = {name: Image.open(tmp_path / "shots" / name).convert("L").tobytes() for name in names}
    assert len(set(pictures.values())) == len(names), "each screen and language looks different"
