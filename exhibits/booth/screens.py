"""The booth's first screen: what "Elke naam telt" asks of a participant, step by step."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder

from kiosk.shell.widgets import StationScreen

Builder.load_file(str(Path(__file__).with_name("screens.kv")))


class BoothWelcomeScreen(StationScreen):
    pass
