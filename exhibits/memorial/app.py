"""The memorial station: its composition root and its loop.

One loop on the main thread, a few times a second: take a newer list if the refresher
brought one, let the player queue the next name (only while the memorial is open), redraw
the screen when what it shows has changed, ping systemd's watchdog. The network lives in
the refresher thread and the sound in the card's callback, so neither can hold the loop.

The composition root (`make_output`) is the one place that picks the real sound card or
the simulation, from `[memorial] output`.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from exhibits.memorial.library import Library, Snapshot, refresh_forever
from exhibits.memorial.player import Player, open_output
from exhibits.memorial.playlist import ChannelMap, OpeningHours, Playlist
from hardware.multichannel.api import MultichannelOutput
from kiosk.config import StationConfig
from kiosk.errors import KioskError

log = logging.getLogger(__name__)
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame must not print on stdout: the log is there


FRAME_S = 0.1  # the loop's period: the screen changes once per name, sound is not timed here


def make_output(config: StationConfig) -> MultichannelOutput:
    from hardware.devices import multichannel_named

    return multichannel_named(config.memorial.output, config.memorial.channels)


def collection_facts(folder: Path) -> tuple[dict[str, date], bool]:
    """Departure dates by transport code, and whether the collection is the fictional demo.

    The memorial plays without a collection (its names come from the central store); with
    one, the screen adds the date and, for the demo, says the names are invented.
    """
    if not (folder / "transports.csv").is_file():
        return {}, False
    from kiosk.collection import load_collection

    try:
        collection = load_collection(folder)
    except KioskError as error:
        log.error("memorial collection unusable", extra={"path": str(folder), "problem": error.message, "hint": error.hint})
        return {}, False
    departed = {t.code: t.departed for t in collection.transports if t.departed is not None}
    return departed, collection.fictional


class MemorialStation:
    """Everything the loop needs, made from the config; `tick()` does one round of work."""

    def __init__(
        self,
        config: StationConfig,
        output: MultichannelOutput,
        *,
        now: Callable[[], datetime] = datetime.now,
        clock: Callable[[], float] = time.monotonic,
    ):
        settings = config.memorial
        self.config = config
        self.output = output
        self.library = Library(config.data_dir / "memorial")
        self.hours = OpeningHours.from_file(config.resolve(settings.hours_file))
        if settings.old_hours_section:
            log.warning("[memorial.hours] in station.toml is no longer read; remove it", extra={"hours_file": str(config.resolve(settings.hours_file))})
        self.player = Player(
            output,
            self.library,
            ChannelMap(settings.channels, settings.channel_of),
            pause_s=settings.pause_s,
            target_lufs=settings.target_lufs,
            peak_dbfs=settings.peak_dbfs,
            clock=clock,
        )
        self.departed, self.fictional = collection_facts(config.collection_dir)
        self.snapshot: Snapshot | None = None
        self._now = now
        self._arrivals: queue.SimpleQueue[Snapshot] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None
        self.open_now = False
        saved = self.library.saved()
        if saved is not None:
            self._take(saved)

    def start(self) -> None:
        open_output(self.output)
        if not self.config.central.url:
            log.warning("memorial has no central store ([central] url is empty): it plays its saved copy only")
            return
        from kiosk.link.client import CentralClient

        CentralClient.for_station(self.config).close()  # a missing token file stops the start, with what to do
        self._refresher = threading.Thread(
            target=refresh_forever,
            args=(self.library, lambda: CentralClient.for_station(self.config), self._arrivals.put),
            kwargs={"every_s": self.config.memorial.refresh_s, "stop": self._stop},
            name="memorial refresher",
            daemon=True,
        )
        self._refresher.start()

    def stop(self) -> None:
        self._stop.set()
        self.output.close()
        if self._refresher is not None:
            self._refresher.join(timeout=5)

    def _take(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.player.update(Playlist(snapshot.entries))

    def tick(self) -> None:
        newest = None
        while True:
            try:
                newest = self._arrivals.get_nowait()
            except queue.Empty:
                break
        if newest is not None:
            self._take(newest)
        moment = self._now()
        is_open = self.hours.is_open(moment)
        if is_open != self.open_now:
            log.info("memorial opens" if is_open else "memorial closes", extra={"hours_today": self.hours.describe(moment)})
            self.open_now = is_open
        self.player.step(is_open)

    def view(self):
        from exhibits.memorial.display import MemorialView

        entry = self.player.now_playing
        snapshot = self.snapshot
        return MemorialView(
            languages=tuple(self.config.station.languages),
            names_with_voice=snapshot.names_with_voice if snapshot else 0,
            persons=snapshot.persons if snapshot else 0,
            name=entry.name if entry else None,
            transport=entry.transport if entry else None,
            departed=self.departed.get(entry.transport) if entry else None,
            open=self.open_now,
            fictional=self.fictional,
        )


def run_memorial(config: StationConfig, *, windowed: bool = False, for_s: float | None = None) -> None:
    """Run the memorial full screen until SIGTERM, SIGINT or the window closes (or `for_s`)."""
    import pygame

    from exhibits.memorial.display import MemorialScreen

    try:
        from kiosk.watchdog import ServiceNotifier

        notifier = ServiceNotifier.from_environment()
    except ImportError:  # a release without systemd support
        notifier = None

    stopping = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stopping.set())

    pygame.display.init()
    size = (config.display.width, config.display.height)
    flags = pygame.FULLSCREEN if config.display.fullscreen and not windowed else 0
    surface = pygame.display.set_mode((0, 0) if flags else size, flags)
    pygame.display.set_caption(f"kiosk {config.station.id}")
    pygame.mouse.set_visible(False)
    screen = MemorialScreen(surface.get_size())

    station = MemorialStation(config, make_output(config))
    station.start()
    if notifier is not None:
        notifier.ready("memorial playing")
    log.info("memorial started", extra={"voices": len(station.player.playlist), "channels": config.memorial.channels})
    shown = None
    ends_at = time.monotonic() + for_s if for_s is not None else None
    snapshot_every = config.display.snapshot_every_s
    next_snapshot = time.monotonic()
    try:
        while not stopping.is_set() and (ends_at is None or time.monotonic() < ends_at):
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    stopping.set()
            station.tick()
            view = station.view()
            if view != shown:
                screen.draw(surface, view)
                pygame.display.flip()
                shown = view
            if snapshot_every and time.monotonic() >= next_snapshot:
                next_snapshot = time.monotonic() + snapshot_every
                target = config.resolve(config.display.snapshot_path)
                target.parent.mkdir(parents=True, exist_ok=True)
                pygame.image.save(surface, str(target))
            if notifier is not None:
                notifier.ping()
            time.sleep(FRAME_S)
    finally:
        if notifier is not None:
            notifier.stopping()
        station.stop()
        pygame.display.quit()
        log.info("memorial stopped", extra={"names_played": station.player.played})


def screenshot(config: StationConfig, screen: str, language: str | None, out: Path) -> list[Path]:
    """`kiosk screenshot` for a memorial: "memorial" (a name sounding), "closed", or "all"."""
    from exhibits.memorial.display import MemorialView, render_png

    library = Library(config.data_dir / "memorial")
    saved = library.saved()
    departed, fictional = collection_facts(config.collection_dir)
    languages = tuple(config.station.languages)
    if language is not None:
        languages = (language, *[other for other in languages if other != language])
    first = saved.entries[0] if saved and saved.entries else None
    base = dict(
        languages=languages,
        names_with_voice=saved.names_with_voice if saved else 0,
        persons=saved.persons if saved else 0,
        fictional=fictional,
    )
    views = {
        "memorial": MemorialView(
            **base,
            name=first.name if first else None,
            transport=first.transport if first else None,
            departed=departed.get(first.transport) if first else None,
        ),
        "closed": MemorialView(**base, open=False),
    }
    size = (config.display.width, config.display.height)
    if screen == "all":
        return [render_png(view, size, out / f"{name}-{languages[0]}.png") for name, view in views.items()]
    if screen not in views:
        raise KioskError(f"a memorial has no screen {screen!r}", f"use one of: {', '.join(views)}, all")
    return [render_png(views[screen], size, out)]
