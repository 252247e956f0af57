"""`kiosk release ...`: the release tool (`kiosk.deploy`) from an installed release.

The same code is copied to stations as /usr/local/sbin/dossin-release, which must work
before any release (and so any `kiosk`) is there; this command passes everything to it
so the two never differ.
"""

from __future__ import annotations

import sys

import click


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def release(arguments: tuple[str, ...]) -> None:
    """Install, switch, check and roll back releases (`kiosk release --help` for more)."""
    from kiosk.deploy import main as release_main

    sys.exit(release_main(list(arguments), prog="kiosk release"))
