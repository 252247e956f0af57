"""Printing a command's report: one JSON document with --json, readable lines without;
and the options the commands share."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def emit(report: Any, as_json: bool, human: Callable[[Any], str]) -> None:
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, sort_keys=False))
    else:
        click.echo(human(report))


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")

config_option = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The store's central.toml (written by `kiosk central init`).",
)
"""The central store's commands all name its central.toml the same way."""
