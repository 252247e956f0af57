"""`kiosk screenshot`: any screen of any station, in any language, saved as PNG headless.

Always on a private virtual screen of the station's own size, so a technician can run it
over SSH on a live gallery machine without disturbing the visitor in front of it.
"""

from __future__ import annotations

import importlib
import inspect
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import CentralSection, StationConfig
from kiosk.display import VirtualDisplay
from kiosk.errors import KioskError
from kiosk.shell import prepare_kivy
from kiosk.clock import ManualClock
from kiosk.session import Settings
from kiosk.station import load_content


@dataclass(frozen=True)
class Shot:
    screen: str
    language: str
    out: Path


def render(
    config: StationConfig,
    shots: list[Shot] | None = None,
    *,
    every_screen_into: Path | None = None,
    languages: list[str] | None = None,
    person: str | None = None,
    layout: bool = False,
    visit: Settings | None = None,
) -> list[Path]:
    """Save SHOTS, or with EVERY_SCREEN_INTO every screen in every language (or LANGUAGES) into that folder.

    PERSON: the person shown on screens that show one. LAYOUT: also write, beside each
    PNG, its layout JSON (CONTRACT.md, `kiosk.shell.layout`). VISIT: the visitor's settings
    shown (large text, high contrast, audio mode's focus ring).
    """
    source = config.source
    for shot in shots or ():
        if shot.language not in config.station.languages:
            raise KioskError(
                f"station {config.station.id} does not offer language '{shot.language}'",
                f"use one of {', '.join(config.station.languages)} or add it to [station] languages",
            )
    width, height = config.display.width, config.display.height
    content = load_content(config.collection_dir)
    # A copy of the station on simulated devices, a throwaway data folder and no central
    # store: a picture must never record from, play through, or write to the real station,
    # nor lease names, upload or send heartbeats with its token (its names come from the
    # collection, as on a station on its own).
    scratch = tempfile.TemporaryDirectory(prefix="kiosk-screenshot-")
    config = config.model_copy(
        update={
            "data": config.data.model_copy(update={"dir": scratch.name}),
            "central": CentralSection(),
            "booth": config.booth.model_copy(update={"microphone": "simulated", "speaker": "simulated", "controller": "none"}),
            "wall": config.wall.model_copy(update={"speaker": "simulated"}),
            "display": config.display.model_copy(update={"snapshot_every_s": 0}),
        }
    )
    config.source = source
    with scratch, VirtualDisplay(width, height, force=True):
        prepare_kivy(width=width, height=height, fullscreen=False, kivy_home=config.data_dir / "kivy", title=f"kiosk {config.station.id}")
        from kiosk.shell.app import StationApp
        from kiosk.shell.driver import StationDriver

        clock = ManualClock()
        app = StationApp(config, content, clock=clock)
        written = []
        with StationDriver(app) as driver:
            names = app.screen_names()
            if every_screen_into is not None:
                shots = [
                    Shot(name, language, every_screen_into / f"{name}-{language}.png")
                    for name in names
                    for language in (languages or config.station.languages)
                ]
            for shot in shots or ():
                if shot.screen not in names:
                    raise KioskError(f"station {config.station.id} has no screen '{shot.screen}'", f"choose one of: {', '.join(names)}, or all")
                show(app, clock, shot.screen, shot.language, person)
                if visit is not None:
                    app.show_settings(visit)
                driver.settle(0.6)
                # Frames as well as time: on a loaded machine 0.6 s may be two frames, and
                # a layout that depends on a measured text settles over a few.
                driver.frames(6)
                png = driver.screenshot(shot.out)
                written.append(png)
                if layout:
                    from kiosk.shell.layout import take_layout

                    taken = take_layout(app, app.exhibit, shot.screen, shot.language, png)
                    taken.write(png.with_suffix(".json"))
        return written


def show(app, clock: ManualClock, screen: str, language: str, person: str | None = None) -> None:
    """Put APP in the state a visitor would see SCREEN in LANGUAGE."""
    app.finish()
    if screen == "attract":
        app.lang = language
        return
    app.choose_language(language)
    if screen == "idle":
        clock.advance(app.session.warn_after_s)
        app._tick(0)
        return
    from kiosk.shell.app import EXHIBIT_MODULES

    app.screens.transition.duration = 0
    module = importlib.import_module(EXHIBIT_MODULES[app.exhibit])
    if screen != app.first_screen and hasattr(module, "stage"):
        # The exhibit walks its flow to that screen (with the person asked for, if any).
        if person is not None:
            if "person" not in inspect.signature(module.stage).parameters:
                raise KioskError(f"the {app.exhibit}'s screens do not show a chosen person", "leave out --person")
            module.stage(app, screen, clock, person=person)
        else:
            module.stage(app, screen, clock)
    else:
        app.screens.current = screen
