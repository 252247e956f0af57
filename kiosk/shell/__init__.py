"""The touch shell: Kivy screens over the Kivy-free station logic.

Kivy reads its settings when it is first imported and opens a window as soon as some of
its modules are, so `prepare_kivy` must run before anything imports Kivy. Only this
package and the exhibits' screen modules import Kivy.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

BASE_HEIGHT = 800  # the layouts are drawn for 1280x800 and scale with the window height


def prepare_kivy(*, width: int, height: int, fullscreen: bool, kivy_home: Path, title: str) -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ["KIVY_NO_CONFIG"] = "1"  # settings come from station.toml, not ~/.kivy/config.ini
    # Kivy's own mode takes over sys.stderr and the root logger; ours keeps them, so
    # errors reach the technician and logs stay one JSON object per line.
    os.environ["KIVY_LOG_MODE"] = "PYTHON"
    logging.getLogger("kivy").setLevel(logging.WARNING)
    os.environ["KIVY_HOME"] = str(kivy_home)
    # dp() grows with the screen, so a 1920x1080 station shows the same layout as the
    # 1280x800 design, with touch targets of the same physical share of the screen.
    os.environ["KIVY_METRICS_DENSITY"] = f"{height / BASE_HEIGHT:.3f}"
    kivy_home.mkdir(parents=True, exist_ok=True)

    from kivy.config import Config

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "borderless", "1" if fullscreen else "0")
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "window_icon", "")
    # One finger, one touch: no red multitouch-emulation dots from the right button.
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "keyboard_mode", "system")
    os.environ["KIOSK_WINDOW_TITLE"] = title
