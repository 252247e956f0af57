"""`kiosk collection`: write the fictional demo collection, check a collection folder."""

from __future__ import annotations

import time
from pathlib import Path

import click

from kiosk.cli.output import emit, json_option
from kiosk.collection.layout import DEFAULT_COUNT, DEFAULT_SEED


@click.group()
def collection() -> None:
    """Collection folders: transports.csv, persons.csv and portraits/ (see CONTRACT.md).

    `demo` writes an invented collection to try the stations with; `check` validates a
    folder (the museum's export, or the demo) before anything imports it.
    """


@collection.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into: new, empty, or an earlier demo collection (rewritten).",
)
@click.option(
    "--count",
    default=DEFAULT_COUNT,
    show_default=True,
    type=click.IntRange(min=1),
    help="Number of invented persons (by default as many as the persons deported from Mechelen).",
)
@click.option(
    "--seed",
    default=DEFAULT_SEED,
    show_default=True,
    type=int,
    help="Random seed: the same seed writes the same collection.",
)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(min=1),
    help="Processes drawing portraits [default: one per CPU core].",
)
@json_option
def demo(out: Path, count: int, seed: int, workers: int | None, as_json: bool) -> None:
    """Write the FICTIONAL demo collection into --out.

    Every person is invented and marked so (a fictional=yes column, a README.txt in Dutch,
    French and English, a mark on each portrait); only the transports, their dates and
    their sizes come from public sources, cited in transports.csv. About four persons in
    five get a synthetic portrait, the others a silhouette.
    """
    from kiosk.collection.demo import write_demo

    started = time.monotonic()
    report = write_demo(out, count, seed, workers)
    result = {**report.to_json(), "seconds": round(time.monotonic() - started, 2)}
    emit(
        result,
        as_json,
        lambda r: (
            f"wrote a FICTIONAL demo collection to {r['out']}: {r['persons']} invented persons on "
            f"{r['transports']} transports, {r['portraits']} portraits, seed {r['seed']} ({r['seconds']} s)"
        ),
    )


@collection.command()
@click.argument("folder", type=click.Path(path_type=Path))
@json_option
@click.pass_context
def check(ctx: click.Context, folder: Path, as_json: bool) -> None:
    """Validate the collection in FOLDER without importing it.

    Exit 0 and one summary line when it is valid. Otherwise exit 1 and list every problem
    by file, line and column on stderr (with --json, in the JSON document on stdout):
    a collection with any problem is refused whole.
    """
    from kiosk.collection.check import check_collection

    report = check_collection(folder)
    if as_json or report.valid:
        emit(report.to_json() if as_json else report, as_json, lambda r: r.summary())
    else:
        click.echo(report.summary(), err=True)
        for line in report.problem_lines():
            click.echo(f"  {line}", err=True)
        click.echo(
            f"  what to do: correct these lines in the files named and run `kiosk collection check {folder}` again",
            err=True,
        )
    if not report.valid:
        ctx.exit(1)
