"""`kiosk run` of a portrait wall, as a station starts it, telling which modules it has
loaded once its attract screen shows; then it stops.

    python wall_start_child.py STATION.toml

Prints one line: MODULES followed by a JSON list of the names in sys.modules.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import kiosk.shell  # noqa: E402

prepare = kiosk.shell.prepare_kivy


def prepared(**kwargs) -> None:
    """The real preparation, then a look at every frame for the attract screen."""
    prepare(**kwargs)
    from kivy.app import App
    from kivy.clock import Clock

    def look(_dt):
        app = App.get_running_app()
        if app is None or app.root is None or app.screens.current != "attract":
            return True
        print("MODULES " + json.dumps(sorted(sys.modules)), flush=True)
        app.stop()
        return False

    Clock.schedule_interval(look, 0)


if __name__ == "__main__":
    kiosk.shell.prepare_kivy = prepared  # `kiosk run` imports it when it runs
    from kiosk.cli import main

    sys.argv = [sys.argv[0], "run", sys.argv[1], "--windowed"]
    main()
