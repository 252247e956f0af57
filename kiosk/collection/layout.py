"""The collection folder's layout (CONTRACT.md, "Collection folder") and how it is written.

One place names the files and columns, so the checker and the demo writer cannot drift
apart from each other or from the contract.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from kiosk.files import replacing

TRANSPORTS_FILE = "transports.csv"
PERSONS_FILE = "persons.csv"
PORTRAITS_DIR = "portraits"
README_FILE = "README.txt"

TRANSPORT_COLUMNS = ("code", "departed", "destination", "note")
PERSON_COLUMNS = (
    "person_id",
    "surname",
    "given_names",
    "birth_date",
    "birth_place",
    "sex",
    "transport",
    "list_number",
    "fate",
    "portrait",
)
FICTIONAL_COLUMN = "fictional"
"""Extra column of the demo collection: "yes" on every invented person."""
FICTIONAL_YES = "yes"

DEFAULT_COUNT = 25_843
"""Persons in the demo collection unless asked otherwise: the persons the museum
commemorates (DOMAIN.md). Anything that needs a total counts the data instead."""
DEFAULT_SEED = 1942


def write_csv_atomically(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a CSV under a temporary name, fsync it, then rename it into place.

    A run killed half-way leaves at most a stray temporary file, never a persons.csv that
    looks complete but stops mid-list.
    """
    with replacing(path, partial=path.with_name(f".{path.name}.partial"), mode=0o644) as binary:
        handle = io.TextIOWrapper(binary, encoding="utf-8", newline="")
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        handle.flush()
        handle.detach()
