"""The `display` fixture gives Kivy a screen it can really draw on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from harness.tools import HarnessError
from harness.xserver import Xvfb, x_server_answers

# Runs in a child process so this test session never imports Kivy itself. Window
# background white, label text black; the screenshot waits for a drawn frame, since
# the buffer before the first frame is all black. Kivy numbers the file: label0001.png.
DRAW_A_LABEL = """
import sys
from kivy.base import runTouchApp, stopTouchApp
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.label import Label

Window.clearcolor = (1, 1, 1, 1)

def shoot_after_first_frame(dt):
    if Clock.frames_displayed < 1:
        return True
    print(Window.screenshot(name=sys.argv[1]))
    stopTouchApp()
    return False

Clock.schedule_interval(shoot_after_first_frame, 0)
runTouchApp(Label(text="Elke naam telt", color=(0, 0, 0, 1), font_size=96))
"""


@pytest.mark.gui
def test_a_kivy_window_draws_a_label(display, tmp_path: Path):
    environment = dict(os.environ)
    environment.pop("KIVY_NO_CONSOLELOG")  # Kivy's own log explains a failure best.
    child = subprocess.run(
        [sys.executable, "-c", DRAW_A_LABEL, str(tmp_path / "label.png")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, f"Kivy failed on {display.name}:\n{child.stderr[-3000:]}"
    screenshots = sorted(tmp_path.glob("label*.png"))
    assert screenshots, f"Kivy wrote no screenshot:\n{child.stdout}\n{child.stderr[-3000:]}"

    histogram = Image.open(screenshots[0]).convert("L").histogram()
    dark, light = sum(histogram[:128]), sum(histogram[128:])
    assert light > 10 * dark, "the white window background was not drawn"
    assert dark > 500, "the label's black text was not drawn"


@pytest.mark.gui
def test_gui_tests_get_a_display_unasked():
    assert x_server_answers(os.environ["DISPLAY"])


def test_kivy_is_kept_away_from_the_home_folder():
    kivy_home = Path(os.environ["KIVY_HOME"])
    assert kivy_home.is_dir()
    assert kivy_home != Path.home() / ".kivy"
    assert os.environ["KIVY_NO_ARGS"] == "1"


def test_nothing_answers_on_an_unused_display():
    assert not x_server_answers(":987")
    assert not x_server_answers("not a display")


def test_without_xvfb_the_error_says_to_run_setup(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(HarnessError, match="run scripts/setup"):
        Xvfb().start()
