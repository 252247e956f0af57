"""The `kiosk` command: one entry point for technicians, scripts and other stations.

Each command group lives in its own module and is registered here. A `KioskError`
becomes a message on stderr (what went wrong, what to do) and a non-zero exit; every
command that reports takes `--json` and then prints exactly one JSON document.
"""

from __future__ import annotations

import sys

import click

from kiosk import __version__
from kiosk.errors import KioskError


class KioskGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KioskError as error:
            click.echo(f"kiosk: {error.message}", err=True)
            if error.hint:
                click.echo(f"  what to do: {error.hint}", err=True)
            ctx.exit(error.exit_code)


@click.group(cls=KioskGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kiosk")
def cli() -> None:
    """Kazerne Dossin gallery stations: portrait wall, "Elke naam telt" booth, memorial
    and central store.

    Start with `kiosk demo` to see everything running on this machine, or
    `kiosk station init` to set up a real station.
    """


def _register() -> None:
    from kiosk.cli import booth, collection, demo, screenshot, search, station, sync
    from kiosk.cli import central as central_cli
    from kiosk.cli import doctor as doctor_cli
    from kiosk.cli import hardware as hardware_cli
    from kiosk.cli import release as release_cli

    cli.add_command(collection.collection)
    cli.add_command(station.station)
    cli.add_command(station.run)
    cli.add_command(screenshot.screenshot)
    cli.add_command(demo.demo)
    cli.add_command(booth.booth)
    cli.add_command(search.search)
    cli.add_command(central_cli.central)
    cli.add_command(sync.sync)
    cli.add_command(doctor_cli.doctor)
    cli.add_command(hardware_cli.hardware)
    cli.add_command(release_cli.release)
    collection.collection.add_command(central_cli.import_collection)


def main(argv: list[str] | None = None) -> None:
    _register()
    cli.main(args=argv, prog_name="kiosk", standalone_mode=True)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
