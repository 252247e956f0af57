"""`kiosk central ...` and `kiosk collection import`: set up, run and read the central store."""

from __future__ import annotations

from pathlib import Path

import click

from kiosk.central.config import DEFAULT_PORT
from kiosk.cli.output import emit, json_option

config_option = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The store's central.toml (written by `kiosk central init`).",
)


@click.group()
def central() -> None:
    """The central store: names for the booths and their recordings.

    `init` writes a central.toml, `serve` runs the store, `enroll` gives a station its
    token, `status` says how many names have a voice. Import the collection with
    `kiosk collection import`.
    """


@central.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535), help="Port the store listens on."
)
def init(folder: Path, port: int) -> None:
    """Write FOLDER/central.toml with working defaults: SQLite and the audio folder under FOLDER."""
    from kiosk.central.config import load_central_config, write_central_config

    target = write_central_config(folder, port=port)
    config = load_central_config(target)
    click.echo(f"wrote {target}")
    click.echo(f"next: kiosk collection import COLLECTION --central {target}")
    click.echo(f"      kiosk central enroll --config {target} STATION_ID   (once per station)")
    click.echo(
        f"      kiosk central serve --config {target}   (listens on http://{config.server.host}:{config.server.port})"
    )


@central.command()
@config_option
def serve(config_path: Path) -> None:
    """Run the store's HTTP service (logs as JSON lines on stdout); Ctrl-C stops it."""
    from kiosk.central.config import load_central_config
    from kiosk.central.server import serve as run_server

    run_server(load_central_config(config_path))


@central.command()
@config_option
@click.argument("station_id")
@json_option
def enroll(config_path: Path, station_id: str, as_json: bool) -> None:
    """Print a new token for STATION_ID; enrolling again replaces the old token.

    The token is shown once and stored only as a hash: save it in the station's
    token_file ([central] in station.toml), readable by the kiosk user only.
    """
    from kiosk.central.config import load_central_config
    from kiosk.central.db import open_database
    from kiosk.central.stations import enroll as enroll_station

    database = open_database(load_central_config(config_path))
    try:
        token = enroll_station(database, station_id)
    finally:
        database.dispose()
    emit({"station_id": station_id, "token": token}, as_json, lambda r: r["token"])


@central.command()
@config_option
@json_option
def status(config_path: Path, as_json: bool) -> None:
    """Persons, recordings held and approved, and names with a voice, per transport.

    A name has a voice when at least one of its recordings is received or approved
    (not rejected, not withdrawn); recordings counts those held, received or approved.
    """
    from kiosk.central.config import load_central_config
    from kiosk.central.db import open_database
    from kiosk.central.status import central_status, status_lines

    database = open_database(load_central_config(config_path))
    try:
        report = central_status(database)
    finally:
        database.dispose()
    emit(report, as_json, status_lines)


@click.command("import")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--central",
    "central_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The central store's central.toml.",
)
@json_option
def import_collection(folder: Path, central_path: Path, as_json: bool) -> None:
    """Import the collection in FOLDER into the central store, all or nothing.

    The folder is checked first (as `kiosk collection check` does) and refused whole
    with every problem listed. Importing again updates persons in place: their
    recordings stay theirs; persons no longer listed are kept but leave the queue.
    """
    from kiosk.central.config import load_central_config
    from kiosk.central.db import open_database
    from kiosk.central.importer import import_collection as run_import

    database = open_database(load_central_config(central_path))
    try:
        report = run_import(database, folder)
    finally:
        database.dispose()
    emit(report.to_json(), as_json, lambda r: report.summary())
