"""Places in the visitor's language: the curator's table of exonyms (media/places/).

The collection keeps each place as the transport list spells it (Bruxelles, Anvers,
Warszawa); that spelling is the key. A visitor reading Dutch sees Brussel, Antwerpen,
Warschau; French, Bruxelles, Anvers, Varsovie; English, Brussels, Antwerp, Warsaw. A
place the table does not know is shown as the list spells it.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.paths import MEDIA

EXONYMS = MEDIA / "places" / "exonyms.csv"
COLUMNS = ("place", "nl", "fr", "en")


class Exonyms:
    def __init__(self, names: dict[str, dict[str, str]]):
        self._names = names

    def name(self, place: str, language: str) -> str:
        """PLACE (as the collection spells it) in LANGUAGE, or unchanged."""
        return self._names.get(place.strip(), {}).get(language) or place

    @classmethod
    def read(cls, path: Path = EXONYMS) -> Exonyms:
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.reader(handle))
        except FileNotFoundError:
            raise KioskError(f"{path}: the table of place names is missing", "restore media/places/exonyms.csv from the release") from None
        except (OSError, UnicodeDecodeError) as error:
            raise KioskError(f"{path}: cannot be read ({error})", "save it again as UTF-8 CSV") from None
        if not rows or tuple(cell.strip() for cell in rows[0]) != COLUMNS:
            raise KioskError(f"{path} line 1: the header must be {','.join(COLUMNS)}", "restore the header row")
        names: dict[str, dict[str, str]] = {}
        for line, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(COLUMNS):
                raise KioskError(f"{path} line {line}: {len(row)} columns, expected {len(COLUMNS)}", "give each place four cells: place,nl,fr,en")
            key = row[0].strip()
            if not key:
                raise KioskError(f"{path} line {line}: no place in the first column", "write the place as the collection spells it")
            if key in names:
                raise KioskError(f"{path} line {line}: {key} is given twice", "keep one row per spelling")
            names[key] = {language: cell.strip() for language, cell in zip(COLUMNS[1:], row[1:])}
        return cls(names)


@lru_cache(maxsize=1)
def exonyms() -> Exonyms:
    """The table shipped in media/, read once."""
    return Exonyms.read()


def place_name(place: str, language: str) -> str:
    return exonyms().name(place, language) if place else place
