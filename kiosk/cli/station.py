"""`kiosk station init` and `kiosk run`: set up a station folder, and run it."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import click

from kiosk.config import EXHIBITS, STATION_ID_PATTERN, load_station_config, write_station_config
from kiosk.errors import KioskError


@click.group()
def station() -> None:
    """Set up a station (booth, portrait wall or memorial)."""


@station.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--exhibit", type=click.Choice(EXHIBITS), required=True, help="What this station is.")
@click.option("--station-id", required=True, help="Unique in the gallery: lowercase letters, digits, dashes (e.g. booth-1).")
@click.option("--central", "central_url", default="", help="URL of the central store (empty: the station works on its own).")
@click.option("--token-file", default="", help="File holding this station's token from `kiosk central enroll`.")
@click.option(
    "--collection",
    "collection",
    default="collection",
    show_default=True,
    help="Collection folder, relative to FOLDER or absolute (see `kiosk collection demo`).",
)
def init(folder: Path, exhibit: str, station_id: str, central_url: str, token_file: str, collection: str) -> None:
    """Write FOLDER/station.toml with working defaults; the station keeps its data under FOLDER.

    The sound devices this machine shows are listed in the file, the first one chosen:
    check the choice there, then run `kiosk doctor`.
    """
    import re

    if not re.match(STATION_ID_PATTERN, station_id):
        raise KioskError(
            f"station id {station_id!r} is not usable",
            "use lowercase letters, digits and dashes, at most 40, starting with a letter or digit (e.g. booth-1)",
        )
    devices = _device_choices(exhibit)
    target = write_station_config(
        folder,
        exhibit=exhibit,
        station_id=station_id,
        central_url=central_url,
        token_file=token_file,
        collection=collection,
        devices=devices,
    )
    click.echo(f"wrote {target}")
    for setting, (value, notes) in devices.items():
        section = {"microphone": "booth", "speaker": "booth", "wall_speaker": "wall", "output": "memorial"}[setting]
        key = "speaker" if setting == "wall_speaker" else setting
        if value == "default":
            click.echo(f"note: no device for [{section}] {key} seen here; name it in station.toml before `kiosk doctor`")
        else:
            others = len(notes) - 2
            click.echo(f"[{section}] {key} = {value!r}" + (f" (of {others + 1} seen, listed in station.toml)" if others else ""))
    config = load_station_config(target)
    if not config.collection_dir.exists() and exhibit != "memorial":
        click.echo(
            f"note: no collection at {config.collection_dir} yet; "
            f"make the demo one with `kiosk collection demo --out {config.collection_dir}`"
        )


def _device_choices(exhibit: str) -> dict[str, tuple[str, list[str]]]:
    """The exhibit's sound devices: the ones this machine shows, the first chosen."""
    from hardware.device_names import choose, devices_seen

    seen = devices_seen()
    if exhibit == "booth":
        return {"microphone": choose("input", seen), "speaker": choose("output", seen)}
    if exhibit == "wall":
        return {"wall_speaker": choose("output", seen)}
    return {"output": choose("output", seen)}


STARTED_AFTER_S = 1.0
"""After the app's start: the start's memory is settled (kiosk.station.started)."""


@click.command()
@click.argument("station_toml", type=click.Path(path_type=Path))
@click.option("--windowed", is_flag=True, help="A window of the configured size instead of full screen (for development).")
def run(station_toml: Path, windowed: bool) -> None:
    """Run one station full screen (a booth, a portrait wall or the memorial)."""
    from kiosk.logs import configure_logging

    config = load_station_config(station_toml)
    configure_logging(config.station.id, config.log.level)
    # SDL_VIDEODRIVER: the memorial (pygame) may also draw on the console (kmsdrm), without X.
    sdl_alone = config.station.exhibit == "memorial" and os.environ.get("SDL_VIDEODRIVER")
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sdl_alone):
        raise KioskError(
            "no screen: neither DISPLAY nor WAYLAND_DISPLAY is set",
            "run it from the station's kiosk session, or see it headless with `kiosk screenshot` or `kiosk demo`",
        )
    if config.station.exhibit == "memorial":  # pygame, not Kivy: no touch, no session
        from exhibits.memorial.app import run_memorial

        run_memorial(config, windowed=windowed)
        return
    from kiosk.shell import prepare_kivy
    from kiosk.station import COLLECTION_HANDED_ON, image_index, load_content, start_quietly, started

    start_quietly()
    # Read once here; the wall's and the booth's screens take it from the content
    # (app.content.collection), never reading it a second time.
    content = load_content(config.collection_dir, images=image_index(config.data_dir), keep=config.station.exhibit in COLLECTION_HANDED_ON)
    prepare_kivy(
        width=config.display.width,
        height=config.display.height,
        fullscreen=config.display.fullscreen and not windowed,
        kivy_home=config.data_dir / "kivy",
        title=f"kiosk {config.station.id}",
    )
    from kiosk.shell.app import StationApp

    app = StationApp(config, content)
    # Counted from on_start, when the app is built and its first frame comes; the timer's
    # thread touches no widget, only the interpreter's collector.
    settle = threading.Timer(STARTED_AFTER_S, started)
    settle.daemon = True
    app.bind(on_start=lambda *_args: settle.start())
    app.run()
