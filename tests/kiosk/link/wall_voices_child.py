"""A portrait wall's voices in a process of their own, as the wall runs them, for the
cross-process withdrawal test: the wall's refresh thread (the one voice cache, ON_DEMAND),
and a visitor who hears every name on the list once, so its audio is kept here.

    python wall_voices_child.py STATION.toml
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from exhibits.wall.voices import make_wall_voices  # noqa: E402
from kiosk.config import load_station_config  # noqa: E402
from kiosk.logs import configure_logging  # noqa: E402
from kiosk.link.client import CentralClient  # noqa: E402
from kiosk.link.voices import VoiceUnavailable  # noqa: E402

if __name__ == "__main__":
    config = load_station_config(Path(sys.argv[1]))
    configure_logging(config.station.id, "INFO")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    voices = make_wall_voices(config).start()
    heard: set[str] = set()
    while not stop.wait(0.5):
        for person_id in list(voices.catalogue.current.entries):
            if person_id in heard:
                continue
            try:
                with CentralClient.for_station(config) as client:
                    voices.catalogue.audio(client, person_id)
                heard.add(person_id)
            except VoiceUnavailable:
                pass
    voices.close()
