"""`kiosk demo`: the whole system on this machine, on embedded defaults.

Makes (once) the fictional demo collection and a booth and a portrait wall station,
saves a picture of every screen in every language, then runs both stations: in windows
when there is a screen, otherwise on a virtual screen whose live pictures it points to.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from kiosk.config import load_station_config, write_station_config
from kiosk.display import VirtualDisplay, display_answers
from kiosk.errors import KioskError

DEMO_STATIONS = (("booth-1", "booth"), ("wall-1", "wall"))
SNAPSHOT_EVERY_S = 5


def _ensure_collection(folder: Path, count: int) -> None:
    from kiosk.collection import check_collection, write_demo

    if (folder / "persons.csv").exists() and check_collection(folder).valid:
        click.echo(f"collection: {folder} (already made)")
        return
    click.echo(f"collection: writing {count:,} fictional persons to {folder} ...")
    started = time.monotonic()
    write_demo(folder, count=count)
    click.echo(f"collection: done in {time.monotonic() - started:.1f} s")


def _has_microphone() -> bool:
    try:
        import sounddevice

        return any(device["max_input_channels"] > 0 for device in sounddevice.query_devices())
    except Exception:  # no PortAudio, no sound server: the demo booth uses simulated audio
        return False


def _ensure_station(folder: Path, station_id: str, exhibit: str) -> Path:
    toml = folder / "station.toml"
    if not toml.exists():
        # A demo station lives in a window and shows the technician what it does.
        write_station_config(
            folder,
            exhibit=exhibit,
            station_id=station_id,
            collection="../collection",
            fullscreen=False,
            size=(1280, 800),
            snapshot_every_s=SNAPSHOT_EVERY_S,
            audio="default" if _has_microphone() else "simulated",
        )
    load_station_config(toml)
    return toml


def _kiosk(*args: str) -> list[str]:
    return [sys.executable, "-m", "kiosk", *args]


@click.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("var/demo"), show_default=True, help="Where the demo keeps its collection, stations and pictures.")
@click.option("--count", default=25_843, show_default=True, help="Persons in the fictional collection.")
@click.option("--for", "duration", type=float, default=0, help="Stop after this many seconds (default: run until Ctrl-C).")
@click.option("--no-screenshots", is_flag=True, help="Skip the pictures of every screen at start.")
def demo(folder: Path, count: int, duration: float, no_screenshots: bool) -> None:
    """The whole system on embedded defaults: the fictional demo collection, a booth and a
    portrait wall. Without a screen it uses a virtual one and says where to look."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    _ensure_collection(folder / "collection", count)
    stations = [(sid, _ensure_station(folder / sid, sid, exhibit)) for sid, exhibit in DEMO_STATIONS]

    if not no_screenshots:
        pictures = folder / "screenshots"
        for sid, toml in stations:
            click.echo(f"screenshots: every screen of {sid} in nl, fr, en ...")
            subprocess.run(_kiosk("screenshot", str(toml), "--screen", "all", "--out", str(pictures / sid)), check=True, stdout=subprocess.DEVNULL)
        click.echo(f"screenshots: {pictures}")

    has_screen = display_answers(os.environ.get("DISPLAY")) or bool(os.environ.get("WAYLAND_DISPLAY"))
    with VirtualDisplay(2560, 800, force=not has_screen) as display:
        logs = folder / "logs"
        logs.mkdir(exist_ok=True)
        children = []
        for sid, toml in stations:
            log = (logs / f"{sid}.log").open("ab")
            children.append((sid, subprocess.Popen(_kiosk("run", str(toml), "--windowed"), stdout=log, stderr=subprocess.STDOUT)))
        if has_screen:
            click.echo(f"stations: {', '.join(sid for sid, _ in stations)} are open in windows on {display.display}")
        else:
            click.echo(f"stations: no screen here, so they run on the virtual screen {display.display}. Live pictures, renewed every {SNAPSHOT_EVERY_S} s:")
            for sid, toml in stations:
                click.echo(f"  {load_station_config(toml).resolve('data/screen.png')}")
        click.echo(f"logs: {logs}")
        click.echo("The demo collection is fictional: none of its people existed. Stop with Ctrl-C.")
        _wait(children, duration)


def _wait(children: list[tuple[str, subprocess.Popen]], duration: float) -> None:
    stop = time.monotonic() + duration if duration else None
    interrupted = False

    def _interrupt(*_):
        nonlocal interrupted
        interrupted = True

    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        while not interrupted and (stop is None or time.monotonic() < stop):
            for sid, child in children:
                if child.poll() is not None:
                    raise KioskError(f"station {sid} stopped (exit {child.returncode})", "see its log in the demo's logs folder")
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        for _, child in children:
            if child.poll() is None:
                child.terminate()
        for _, child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        click.echo("demo stopped")
