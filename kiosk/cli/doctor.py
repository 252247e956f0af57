"""`kiosk doctor STATION.toml [--json]`: one line per check, ok or what to do."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kiosk.cli.output import emit, json_option

MARKS = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skipped": "--"}


def _lines(report: dict) -> str:
    lines = []
    for check in report["checks"]:
        line = f"{MARKS[check['status']]:<5} {check['name']:<11} {check['detail']}"
        if check["fix"]:
            line += f"\n{'':17}what to do: {check['fix']}"
        lines.append(line)
    failed = [c["name"] for c in report["checks"] if c["status"] == "fail"]
    lines.append(f"{len(failed)} problem(s): {', '.join(failed)}" if failed else "all checks passed")
    return "\n".join(lines)


@click.command()
@click.argument("station_toml", type=click.Path(path_type=Path))
@click.option("--play", is_flag=True, help="Sound a soft tone on the wall's speaker, or on each of the memorial's loudspeakers in turn (a booth's speaker always gets one).")
@json_option
def doctor(station_toml: Path, play: bool, as_json: bool) -> None:
    """Check a station: its config, microphone (speak when asked), speaker (the booth's,
    the wall's, or the memorial's channels), controller, disk, clock, central store and
    token, and the takes waiting to be sent.

    One line per check: ok, or what is wrong and what to do. Exits 1 when a check failed.
    A device named "simulated", "default" or "pulse" fails, except on a station that
    `kiosk demo` made.
    """
    import logging

    from kiosk.doctor import run_checks

    # The checks report every device problem themselves, with what to do; the devices'
    # own log lines would only repeat them out of order on stderr.
    logging.getLogger().addHandler(logging.NullHandler())
    checks = run_checks(station_toml, say=lambda message: click.echo(message, err=True), play=play)
    report = {
        "station_toml": str(station_toml),
        "ok": all(check.status != "fail" for check in checks),
        "checks": [check.to_json() for check in checks],
    }
    emit(report, as_json, _lines)
    sys.exit(0 if report["ok"] else 1)
