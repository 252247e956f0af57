"""`kiosk screenshot`: any screen of any station, in any language, saved as PNG headless.

Always on a private virtual screen of the station's own size, so a technician can run it
over SSH on a live gallery machine without disturbing the visitor in front of it.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import CentralSection, StationConfig
from kiosk.display import VirtualDisplay
from kiosk.errors import KioskError
from kiosk.shell import prepare_kivy
from kiosk.clock import ManualClock
from kiosk.session import Settings
from kiosk.station import COLLECTION_HANDED_ON, SHARED_CACHES, image_index, load_content, start_quietly, started

log = logging.getLogger(__name__)

DRAWN_TIMEOUT_S = 30.0
"""At most this long for a screen's pictures to arrive (a page that cannot be read never does)."""
STEADY_FRAMES_AT_MOST = 60
"""A screen that changes on every frame (a level meter, a count) is pictured after this many."""


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
    live_data = config.data_dir
    start_quietly()
    # The station's own image index, read and never written: a picture opens no portrait
    # the station has already checked.
    content = load_content(config.collection_dir, images=image_index(live_data, read_only=True), keep=config.station.exhibit in COLLECTION_HANDED_ON)
    # A copy of the station on simulated devices, a throwaway data folder and no central
    # store: a picture must never record from, play through, or write to the real station,
    # nor lease names, upload or send heartbeats with its token (its names come from the
    # collection, as on a station on its own).
    scratch = tempfile.TemporaryDirectory(prefix="kiosk-screenshot-")
    for cache in SHARED_CACHES:
        # The station's own, read only (exhibits.wall.thumbs.require_thumbs follows the link).
        (Path(scratch.name) / cache).symlink_to((live_data / cache).resolve(), target_is_directory=True)
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
            started(collect=False)
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
                wait_drawn(driver, app)
                png = driver.screenshot(shot.out)
                written.append(png)
                if layout:
                    from kiosk.shell.layout import take_layout

                    taken = take_layout(app, app.exhibit, shot.screen, shot.language, png)
                    taken.write(png.with_suffix(".json"))
        return written


def show(app, clock: ManualClock, screen: str, language: str, person: str | None = None) -> None:
    """Put APP in the state a visitor would see SCREEN in LANGUAGE."""
    app.screens.transition.duration = 0  # a picture has no time for a fade
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


def wait_drawn(driver, app) -> None:
    """Frames until the screen is drawn whole, then return at once (no fixed wait).

    Whole: no screen transition running, every picture in view uploaded (a widget with
    `pages_in_view` and `loaded_pages`, the wall's grid, has all its pages), and one frame
    drawn after that with every widget where and as it was in the frame before, so a
    layout that measures its text (a name fitted to two lines) has settled. The focus ring
    follows its control on every frame, and is part of what must have settled.
    """
    deadline = time.monotonic() + DRAWN_TIMEOUT_S
    previous = None
    frames_waited = 0
    while True:
        driver.frames(1)
        if app.screens.transition.is_active or not _pictures_arrived(app):
            if time.monotonic() > deadline:
                log.warning("pictures still missing: the screenshot shows placeholders", extra={"screen": app.screens.current})
                return
            continue
        app.follow_focus()
        state = _drawn_state(app)
        if state == previous:
            return
        previous = state
        frames_waited += 1
        if frames_waited >= STEADY_FRAMES_AT_MOST:
            return


def _pictures_arrived(app) -> bool:
    for widget in app.root_widget.walk(restrict=True):
        wanted = getattr(widget, "pages_in_view", None)
        if wanted is not None and not set(wanted) <= set(getattr(widget, "loaded_pages", ())):
            return False
    return True


def _drawn_state(app) -> list:
    """Where every widget is and what it says: equal in two frames, the layout has settled."""
    return [tuple(app.focus_box)] + [
        (type(widget).__name__, tuple(widget.pos), tuple(widget.size), widget.opacity, getattr(widget, "text", None), tuple(getattr(widget, "texture_size", ())))
        for widget in app.root_widget.walk(restrict=True)
    ]
