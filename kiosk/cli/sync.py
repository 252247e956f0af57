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
@click.option("--once", is_flag=True, help="Upload until the queue is empty or the store cannot take more, then exit (1 if takes stayed queued).")
def run(station_toml: Path, once: bool) -> None:
    """Upload the queued takes of STATION_TOML's booth, send heartbeats, prune old audio.

    Without --once it runs until SIGTERM or Ctrl-C, logging JSON lines on stdout. With
    --once it exits 0 when the queue is empty, 1 when takes stayed queued because the
    store could not take them (unreachable, its disk full, or takes it called invalid:
    why is said on stderr), and 2 when the store refuses the station's token. Takes the
    store refused for good (e.g. "name taken elsewhere") are named on stderr and counted
    as failed by `kiosk sync status`.
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
        for failure in report.failures:
            click.echo(f"kiosk: take {failure.recording_id} failed: {failure.detail}", err=True)
        if report.queued_left:
            click.echo(f"kiosk: {_why_queued(report, config.central.url)}", err=True)
            sys.exit(1)


def _why_queued(report, url: str) -> str:
    """Why takes stayed queued after `--once`, for the technician reading stderr."""
    left = f"{report.queued_left} takes stay queued on this station and go with a later run"
    if report.disk_full:
        return (
            f"{report.last_problem} at {url}: nothing was lost, {left}; make room on the store's disk "
            "(see `kiosk central status` and /api/v1/health there), then run this again"
        )
    if report.unreachable:
        return f"the central store at {url} could not be reached ({report.last_problem}); {left}"
    if report.waiting:
        return (
            f"the central store called {report.waiting} intact takes invalid and they wait to be tried again "
            f"([sync] invalid_retry_s); {left}; `kiosk sync run` logs what the store said"
        )
    return f"the run stopped before the queue was empty; {left}"


def _status_lines(counts: dict[str, int], failed: dict[str, str]) -> str:
    lines = [f"{key}: {value}" for key, value in counts.items()]
    lines += [f"  {recording_id} failed: {reason}" for recording_id, reason in sorted(failed.items())]
    return "\n".join(lines)


@sync.command()
@click.argument("station_toml", type=click.Path(path_type=Path))
@json_option
def status(station_toml: Path, as_json: bool) -> None:
    """Count the booth's takes: queued (not yet acknowledged by the store), sent, failed
    (refused for good, waiting for a technician: each is listed with why, e.g. "name
    taken elsewhere"; --json gives the counts only)."""
    from kiosk.link.outbox import Outbox
    from kiosk.config import load_station_config
    from kiosk.logs import configure_logging
    from kiosk.link.prune import sync_counts

    config = load_station_config(station_toml)
    configure_logging(config.station.id, "WARNING", stream=sys.stderr)
    store = Outbox(config.data_dir / "takes", config.station.id)
    emit(sync_counts(store), as_json, lambda counts: _status_lines(counts, store.failed_reasons()))
