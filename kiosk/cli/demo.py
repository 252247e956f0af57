"""`kiosk demo`: the whole system on this machine, on embedded defaults.

Makes (once) the fictional demo collection; starts a central store on it (SQLite and an
audio folder under the demo's folder) with its staff pages; writes a booth, a portrait
wall and the memorial, enrolled with it; saves a picture of every screen in every
language; then runs the stations and their sync (uploads, heartbeats): in windows when
there is a screen, otherwise on a virtual screen whose live pictures it points to.

Every device is simulated: the booth's microphone hears a simulated participant read
the assigned name aloud (espeak-ng, `hardware.audio.reader`), the memorial plays into a
simulated multichannel card. Each station.toml says `demo = true`, which is what lets
`kiosk doctor` pass those simulated devices.

The demo's station and store configs are its own: they are written again at every
start (what the demo's store holds, its recordings and names, stays).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click

from kiosk.config import load_station_config, write_station_config
from kiosk.display import VirtualDisplay, display_answers
from kiosk.errors import KioskError

DEMO_STATIONS = (("booth-1", "booth"), ("wall-1", "wall"), ("memorial-1", "memorial"))
WINDOW = (1280, 800)
SNAPSHOT_EVERY_S = 5
CENTRAL_START_S = 60


def _ensure_collection(folder: Path, count: int) -> None:
    from kiosk.collection import check_collection, write_demo

    if (folder / "persons.csv").exists() and check_collection(folder).valid:
        click.echo(f"collection: {folder} (already made)")
        return
    click.echo(f"collection: writing {count:,} fictional persons to {folder} ...")
    started = time.monotonic()
    write_demo(folder, count=count)
    click.echo(f"collection: done in {time.monotonic() - started:.1f} s")


DEMO_HOURS = "".join(f"DAY_{day}=0000-2400\n" for day in range(1, 8))


def write_demo_station(folder: Path, station_id: str, exhibit: str, central_url: str, token: str) -> Path:
    """A demo station enrolled with the demo's store: simulated devices, marked `demo = true`.

    The demo's opening hours (the gallery's hours file, beside the stations) say always open.
    """
    hours = folder.parent / "hours.conf"
    hours.write_text("# kiosk demo: the gallery's opening hours (deploy/README.md): always open\n" + DEMO_HOURS, encoding="utf-8")
    toml = folder / "station.toml"
    toml.unlink(missing_ok=True)
    token_file = folder / "central.token"
    folder.mkdir(parents=True, exist_ok=True)
    token_file.write_text(token + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    # A demo station lives in a window and shows the technician what it does.
    write_station_config(
        folder,
        exhibit=exhibit,
        station_id=station_id,
        central_url=central_url,
        token_file="central.token",
        collection="../collection",
        fullscreen=False,
        size=WINDOW,
        snapshot_every_s=SNAPSHOT_EVERY_S,
        audio="simulated",
        # The booth's controller is `kiosk hardware simulate` on a pty behind this link
        # (started with the stations): the booth opens it as it would the real board.
        controller=str(folder / "controller") if exhibit == "booth" else "none",
        demo=True,
        hours_file="../hours.conf",
    )
    load_station_config(toml)
    return toml


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: connections of a demo just stopped (TIME_WAIT) do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ensure_central(folder: Path, collection: Path, port: int) -> tuple[Path, dict[str, str]]:
    """The demo's central store: config written again, collection imported, stations enrolled."""
    from kiosk.central.config import load_central_config, write_central_config
    from kiosk.central.db import open_database
    from kiosk.central.importer import import_collection
    from kiosk.central.stations import enroll

    if not _port_free(port):
        raise KioskError(
            f"port {port} on this machine is taken (another demo or central store running?)",
            "stop it, or give the demo another port: kiosk demo --port 8801",
        )
    (folder / "central.toml").unlink(missing_ok=True)
    toml = write_central_config(folder, port=port)
    config = load_central_config(toml)
    database = open_database(config)
    try:
        click.echo("central store: importing the collection ...")
        report = import_collection(database, collection)
        click.echo(f"central store: {report.summary()}")
        tokens = {station_id: enroll(database, station_id, exhibit) for station_id, exhibit in DEMO_STATIONS}
        staff = _demo_staff(database)
    finally:
        database.dispose()
    return toml, tokens | staff


def _demo_staff(database) -> dict[str, str]:
    """The demo's staff account, with a new password at every start (printed for the technician)."""
    from kiosk.central.staff import ensure_demo_staff

    username, password = ensure_demo_staff(database)
    return {"staff_username": username, "staff_password": password}


def _wait_for_store(url: str, child: subprocess.Popen, log_path: Path) -> None:
    import httpx

    deadline = time.monotonic() + CENTRAL_START_S
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise KioskError(f"the demo's central store stopped (exit {child.returncode})", f"see its log: {log_path}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise KioskError(f"the demo's central store did not answer at {url} within {CENTRAL_START_S} s", f"see its log: {log_path}")


def _kiosk(*args: str) -> list[str]:
    return [sys.executable, "-m", "kiosk", *args]


@click.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("var/demo"), show_default=True, help="Where the demo keeps its collection, stations, store and pictures.")
@click.option("--count", default=25_843, show_default=True, help="Persons in the fictional collection.")
@click.option("--port", default=8800, show_default=True, type=click.IntRange(1024, 65535), help="Port of the demo's central store (on 127.0.0.1).")
@click.option("--for", "duration", type=float, default=0, help="Stop after this many seconds (default: run until Ctrl-C).")
@click.option("--no-screenshots", is_flag=True, help="Skip the pictures of every screen at start.")
def demo(folder: Path, count: int, port: int, duration: float, no_screenshots: bool) -> None:
    """The whole system on embedded defaults: a central store (SQLite and a local folder)
    with its staff pages, the fictional demo collection, a booth, a portrait wall and the
    memorial, on simulated devices (the booth's microphone hears the name read aloud).
    Without a screen it uses a virtual one and says where to look."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    _ensure_collection(folder / "collection", count)
    central_toml, secrets = _ensure_central(folder / "central", folder / "collection", port)
    url = f"http://127.0.0.1:{port}"
    stations = [
        (sid, write_demo_station(folder / sid, sid, exhibit, url, secrets[sid])) for sid, exhibit in DEMO_STATIONS
    ]

    children: list[tuple[str, subprocess.Popen]] = []
    central_log = logs / "central.log"
    children.append(("central store", _start(_kiosk("central", "serve", "--config", str(central_toml)), central_log)))
    try:
        _wait_for_store(url, children[0][1], central_log)
        click.echo(f"central store: {url}")
        click.echo(f"  staff pages: {url}/staff/login  (user {secrets['staff_username']}, password {secrets['staff_password']})")
        click.echo(f"  progress: kiosk central status --config {central_toml}")

        if not no_screenshots:
            pictures = folder / "screenshots"
            for sid, toml in stations:
                click.echo(f"screenshots: every screen of {sid} in nl, fr, en ...")
                subprocess.run(_kiosk("screenshot", str(toml), "--screen", "all", "--out", str(pictures / sid)), check=True, stdout=subprocess.DEVNULL)
            click.echo(f"screenshots: {pictures}")

        has_screen = display_answers(os.environ.get("DISPLAY")) or bool(os.environ.get("WAYLAND_DISPLAY"))
        with VirtualDisplay(WINDOW[0] * len(stations), WINDOW[1], force=not has_screen) as display:
            for sid, toml in stations:
                if sid.startswith("booth"):
                    children.append((f"{sid} controller", _start_controller(folder / sid / "controller", logs / f"{sid}-controller.log")))
                children.append((sid, _start(_kiosk("run", str(toml), "--windowed"), logs / f"{sid}.log")))
                # Every station's heartbeats (and a booth's uploads) for the staff pages.
                children.append((f"{sid} sync", _start(_kiosk("sync", "run", str(toml)), logs / f"{sid}-sync.log")))
            if has_screen:
                click.echo(f"stations: {', '.join(sid for sid, _ in stations)} are open in windows on {display.display}")
            else:
                click.echo(f"stations: no screen here, so they run on the virtual screen {display.display}. Live pictures, renewed every {SNAPSHOT_EVERY_S} s:")
                for sid, toml in stations:
                    click.echo(f"  {load_station_config(toml).resolve('data/screen.png')}")
            click.echo(f"logs: {logs}")
            click.echo("The demo collection is fictional: none of its people existed. Stop with Ctrl-C.")
            _wait(children, duration)
    finally:
        _stop(children)


def _start(command: list[str], log_path: Path) -> subprocess.Popen:
    log = log_path.open("ab")
    try:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()


def _start_controller(link: Path, log_path: Path) -> subprocess.Popen:
    """The booth's simulated controller; it takes this terminal's keys when there is one."""
    keys = sys.stdin if sys.stdin is not None and sys.stdin.isatty() else subprocess.DEVNULL
    log = log_path.open("ab")
    try:
        child = subprocess.Popen(_kiosk("hardware", "simulate", "--link", str(link)), stdin=keys, stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()
    if keys is not subprocess.DEVNULL:
        click.echo("booth controller: simulated; keys here: b the button, p someone at the door, u pull/put back its cable")
    click.echo(f"booth controller: its lights in {log_path}")
    return child


def _wait(children: list[tuple[str, subprocess.Popen]], duration: float) -> None:
    stop = time.monotonic() + duration if duration else None
    interrupted = False

    def _interrupt(*_):
        nonlocal interrupted
        interrupted = True

    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        while not interrupted and (stop is None or time.monotonic() < stop):
            for name, child in children:
                if child.poll() is not None:
                    raise KioskError(f"{name} stopped (exit {child.returncode})", "see its log in the demo's logs folder")
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop(children: list[tuple[str, subprocess.Popen]]) -> None:
    # Stations first, the store they talk to last.
    for _, child in reversed(children):
        if child.poll() is None:
            child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    if children:
        click.echo("demo stopped")
