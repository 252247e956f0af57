"""What a portrait wall loads to show its attract screen: not the libraries only a later
visitor's request needs (issue 18: memory after the attract screen). httpx (with rich
and pygments) talks to the central store, soundfile reads a voice or audio mode's words,
numpy makes a sound (hardware.audio) or searches, with rapidfuzz, in the search index that
the search screen has made (exhibits.wall.ondemand), multiprocessing draws thumbnails that
are missing, Kivy's text input is the search screen's field; each is imported where it is
first used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.config import write_station_config

pytestmark = [pytest.mark.gui, pytest.mark.slow]

CHILD = Path(__file__).with_name("wall_start_child.py")
NOT_AT_START = {"httpx", "rich", "pygments", "soundfile", "numpy", "rapidfuzz", "multiprocessing", "exhibits.wall.search"}
NOT_AT_START |= {"kivy.uix.textinput"}
NOT_AT_START |= {"kiosk.cli.central", "kiosk.cli.doctor", "kiosk.cli.release", "kiosk.cli.sync"}  # other commands (kiosk.cli)


def test_a_wall_shows_its_attract_screen_without_the_libraries_only_a_visitor_needs(display, tmp_path):
    from kiosk.collection import write_demo

    write_demo(tmp_path / "collection", count=60, seed=5)
    station = write_station_config(
        tmp_path / "wall", exhibit="wall", station_id="wall-1", fullscreen=False, size=(1280, 800), audio="simulated", collection="../collection"
    )
    done = subprocess.run(
        [sys.executable, str(CHILD), str(station)],
        capture_output=True,
        text=True,
        timeout=180,
        env=dict(os.environ, KIVY_NO_ARGS="1"),
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("MODULES ")]
    assert done.returncode == 0 and lines, f"the wall did not start ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    modules = set(json.loads(lines[-1][len("MODULES ") :]))
    assert {"exhibits.wall.grid", "exhibits.wall.ondemand", "kiosk.speech"} <= modules, "the wall's own start was not what ran"
    assert not NOT_AT_START & modules, f"loaded at start: {sorted(NOT_AT_START & modules)}"
