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


_COMMANDS = {
    "collection": ("kiosk.cli.collection", "collection"),
    "station": ("kiosk.cli.station", "station"),
    "run": ("kiosk.cli.station", "run"),
    "screenshot": ("kiosk.cli.screenshot", "screenshot"),
    "demo": ("kiosk.cli.demo", "demo"),
    "booth": ("kiosk.cli.booth", "booth"),
    "search": ("kiosk.cli.search", "search"),
    "central": ("kiosk.cli.central", "central"),
    "sync": ("kiosk.cli.sync", "sync"),
    "doctor": ("kiosk.cli.doctor", "doctor"),
    "hardware": ("kiosk.cli.hardware", "hardware"),
    "release": ("kiosk.cli.release", "release"),
}
"""Command name -> (module, attribute). A module is imported when its command is asked
for: `kiosk run` does not load every other command's libraries (4 MB a station holds all
day, issue 18); `kiosk --help` loads them all to list them."""


def _command(name: str) -> click.Command:
    import importlib

    module, attribute = _COMMANDS[name]
    command = getattr(importlib.import_module(module), attribute)
    if name == "collection" and "import" not in command.commands:
        from kiosk.cli.central import import_collection

        command.add_command(import_collection)
    return command


class _Commands(KioskGroup):
    """The `kiosk` group: its commands are imported when first asked for (`_COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            self.add_command(_command(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kiosk")
def cli() -> None:
    """Kazerne Dossin gallery stations: portrait wall, "Elke naam telt" booth, memorial
    and central store.

    Start with `kiosk demo` to see everything running on this machine, or
    `kiosk station init` to set up a real station.
    """


def _register() -> None:
    """Every command imported and registered now (for tests that look at them all)."""
    for name in _COMMANDS:
        if name not in cli.commands:
            cli.add_command(_command(name), name)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="kiosk", standalone_mode=True)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
