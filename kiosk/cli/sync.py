"""`kiosk sync run` and `kiosk sync status`: a station's takes on their way to the central store."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click

from kiosk.cli.output import emit, json_option

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@click.group()
def sync() -> None:
    """Send a booth's accepted takes to the central store, and see how far it got.

    `run` is the station's upload service (one per booth, beside `kiosk run`);
    `status` counts the takes queued, sent and failed.
    """


@sync.command()
@click.argument("station_toml", type=click.Path(path_type=Path))
@click.option("--once", is_flag=True, help="Upload until the queue is empty or the store is unreachable, then exit.")
def run(station_toml: Path, once: bool) -> None:
    """Upload the queued takes of STATION_TOML's booth, send heartbeats, prune old audio.

    Without --once it runs until SIGTERM or Ctrl-C, logging JSON lines on stdout. With
    --once it exits 0 when the queue is empty or the store cannot be reached (saying so
    on stderr), and non-zero when the store refuses the station's token.
    """
    from kiosk.config import load_station_config
    from kiosk.logs import configure_logging
    from kiosk.link.runner import SyncRunner

    config = load_station_config(station_toml)
    if once:
        configure_logging(config.station.id, "WARNING", stream=sys.stderr)
    else:
        configure_logging(config.station.id, config.log.level)
    stop = threading.Event()
    runner = SyncRunner(config, stop=stop)
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}

    def stop_softly(number: int, _frame: object) -> None:
        stop.set()
        # A second signal ends the process at once, as a technician pressing Ctrl-C twice expects.
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    for sig in STOP_SIGNALS:
        signal.signal(sig, stop_softly)
    try:
        report = runner.run_once() if once else runner.run_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        runner.close()
    if once:
        click.echo(
            f"sent {report.sent}, failed {report.failed}, still queued {report.queued_left}"
            + (f" ({report.waiting} wait to be tried again after the store called them invalid)" if report.waiting else "")
        )
        if report.unreachable:
            click.echo(
                f"kiosk: the central store at {config.central.url} could not be reached ({report.last_problem}); "
                f"{report.queued_left} takes stay queued and go with the next run",
                err=True,
            )


def _status_lines(counts: dict[str, int]) -> str:
    return "\n".join(f"{key}: {value}" for key, value in counts.items())


@sync.command()
@click.argument("station_toml", type=click.Path(path_type=Path))
@json_option
def status(station_toml: Path, as_json: bool) -> None:
    """Count the booth's takes: queued (not yet acknowledged by the store), sent, failed
    (refused for good, waiting for a technician; see the log for why)."""
    from kiosk.link.outbox import Outbox
    from kiosk.config import load_station_config
    from kiosk.logs import configure_logging
    from kiosk.link.prune import sync_counts

    config = load_station_config(station_toml)
    configure_logging(config.station.id, "WARNING", stream=sys.stderr)
    store = Outbox(config.data_dir / "takes", config.station.id)
    emit(sync_counts(store), as_json, _status_lines)
