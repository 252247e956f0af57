"""The portrait wall's first screen: what the wall is, and the transports it remembers."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.shell.widgets import Named, StationScreen

Builder.load_file(str(Path(__file__).with_name("screens.kv")))


class TransportRow(Named, BoxLayout):
    """One transport: its code, the day it left (when a source gives it), how many people."""

    code = StringProperty("")
    departed = ObjectProperty(None, allownone=True)
    persons = NumericProperty(0)


class WallWelcomeScreen(StationScreen):
    def on_kv_post(self, _base_widget) -> None:
        content = App.get_running_app().content
        table = self.ids.transports
        for transport in content.transports_with_persons if content else ():
            table.add_widget(
                TransportRow(
                    code=transport.code,
                    departed=transport.departed,
                    persons=transport.persons,
                    test_name=f"transport-{transport.code}",
                )
            )


def build_screens(app) -> list:
    return [WallWelcomeScreen(name="welcome")]
