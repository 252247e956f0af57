"""`kiosk search`: the portrait wall's search from the shell.

For a technician checking that a name can be found on the wall (and how it ranks), and
for scripts: with --json, exactly the shape of CONTRACT.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kiosk.cli.output import emit, json_option
from kiosk.errors import KioskError

if TYPE_CHECKING:
    from kiosk.collection import Collection

DEFAULT_LIMIT = 20


@click.command()
@click.argument("query")
@click.option(
    "--collection",
    "folder",
    required=True,
    type=click.Path(path_type=Path),
    help="Collection folder (transports.csv, persons.csv, portraits/), e.g. from `kiosk collection demo`.",
)
@click.option(
    "--limit",
    default=DEFAULT_LIMIT,
    show_default=True,
    type=click.IntRange(min=1, max=1000),
    help="At most this many persons, best first.",
)
@json_option
def search(query: str, folder: Path, limit: int, as_json: bool) -> None:
    """Find persons in the collection as a visitor at the portrait wall would.

    QUERY is a name as remembered or heard, surname first or last, with or without
    accents (Goldstein finds Goldsztajn), a place of birth, or a transport code as on the
    lists (XXIIA). Prints the persons best first with a score from 0 to 1.
    """
    from exhibits.wall.search import SearchIndex
    from kiosk.collection import load_collection

    if not folder.is_dir():
        raise KioskError(
            f"no collection folder at {folder}",
            "give --collection the folder that holds transports.csv and persons.csv "
            "(or write the fictional demo with `kiosk collection demo --out DIR`)",
        )
    collection = load_collection(folder)
    hits = SearchIndex.build(collection).search(query, limit)
    report = {"query": query, "results": [hit.to_json() for hit in hits]}
    emit(report, as_json, lambda r: _table(r, collection))


def _table(report: dict, collection: Collection) -> str:
    """One line per person; the place of birth too, since a query may have matched it."""
    lines = []
    if collection.fictional:
        lines.append("(fictional demo collection: every person in it is invented)")
    results = report["results"]
    if not results:
        lines.append(f"nobody found for {report['query']!r}")
        return "\n".join(lines)
    born = {r["person_id"]: collection.by_id[r["person_id"]].birth_place for r in results}
    name_width = max(len("name"), *(len(r["name"]) for r in results))
    id_width = max(len("person"), *(len(r["person_id"]) for r in results))
    lines.append(
        f"{'#':>3}  {'score':>5}  {'name':<{name_width}}  {'transport':<9}  {'list':>5}  "
        f"{'person':<{id_width}}  born in"
    )
    for place, r in enumerate(results, start=1):
        lines.append(
            f"{place:>3}  {r['score']:5.3f}  {r['name']:<{name_width}}  {r['transport']:<9}  "
            f"{r['list_number']:>5}  {r['person_id']:<{id_width}}  {born[r['person_id']]}"
        )
    return "\n".join(line.rstrip() for line in lines)
