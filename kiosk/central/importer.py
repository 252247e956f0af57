"""`kiosk collection import`: a collection folder into the central store, all or nothing.

The folder is read and checked whole by `kiosk.collection.load_collection` before the
database is touched, so a bad file is refused with every problem named and the store
keeps what it had. The import then runs in one transaction: a failure halfway (a full
disk, a lost database) leaves no half-imported list behind.

Importing again (the museum's export grows every year) updates persons in place by
person_id, so their recordings, leases and bookings keep pointing at them. Persons no
longer in the folder are kept but marked inactive: they leave the queue and the
figures, and their recordings stay. Transports are matched by code against those of
the previous import; a code is unique only within one import (see `schema`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from kiosk.central.db import Database
from kiosk.central.schema import collection_imports, persons, transports
from kiosk.collection import Collection, Person, load_collection
from kiosk.collection.folding import first_name_key

log = logging.getLogger(__name__)

_PERSON_FIELDS = (
    "transport_id",
    "list_number",
    "surname",
    "given_names",
    "first_name_key",
    "birth_date",
    "birth_month",
    "birth_day",
    "age_at_departure",
    "birth_place",
    "sex",
    "fate",
    "portrait",
    "fictional",
    "queue_order",
)


@dataclass(frozen=True)
class ImportReport:
    """What an import did, for the command line and the log."""

    source: str
    transports: int
    persons: int
    persons_added: int
    persons_updated: int
    persons_unchanged: int
    persons_retired: int
    fictional: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        mark = " (FICTIONAL demo collection)" if self.fictional else ""
        return (
            f"imported {self.source}{mark}: {self.persons} persons on {self.transports} transports; "
            f"{self.persons_added} new, {self.persons_updated} updated, {self.persons_unchanged} unchanged, "
            f"{self.persons_retired} no longer in the collection (kept, out of the queue)"
        )


def import_collection(database: Database, folder: Path | str) -> ImportReport:
    """Check FOLDER as a collection and import it in one transaction (see module docstring)."""
    collection = load_collection(folder)  # KioskError listing the problems: nothing touched
    with database.write() as connection:
        report = _import(connection, collection, database.now())
    log.info("collection imported", extra=report.to_json())
    return report


def _import(connection: Connection, collection: Collection, now: datetime) -> ImportReport:
    previous_import = connection.execute(select(func.max(collection_imports.c.id))).scalar()
    import_id = connection.execute(
        insert(collection_imports)
        .values(
            imported_at=now,
            source=str(collection.root),
            fictional=collection.fictional,
            persons=len(collection.persons),
            transports=len(collection.transports),
        )
        .returning(collection_imports.c.id)
    ).scalar_one()

    transport_ids = _import_transports(connection, collection, import_id, previous_import)

    existing = {row.person_id: row for row in connection.execute(select(persons))}
    queue_order = {
        person.person_id: position
        for position, person in enumerate(p for t in collection.transports for p in collection.persons_of(t.code))
    }
    added: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    unchanged: list[int] = []
    updated = 0
    for person in collection.persons:
        values = _person_values(
            person, transport_ids[person.transport], queue_order[person.person_id], collection.age_at_departure(person)
        )
        before = existing.get(person.person_id)
        if before is None:
            added.append(
                {
                    **values,
                    "person_id": person.person_id,
                    "import_id": import_id,
                    "active": True,
                    "voiced": False,
                    "booked": False,
                    "booked_until": None,
                }
            )
            continue
        differs = {key for key, value in values.items() if getattr(before, key) != value}
        if before.active and not differs:
            unchanged.append(before.id)
            continue
        changed.append({f"b_{key}": value for key, value in values.items()} | {"b_id": before.id})
        # A person moved up or down the queue because others were added or removed
        # has not changed: only what the list says of them counts.
        updated += bool(differs - {"queue_order"}) or not before.active

    if added:
        connection.execute(insert(persons), added)
    if changed:
        connection.execute(
            update(persons)
            .where(persons.c.id == bindparam("b_id"))
            .values({**{key: bindparam(f"b_{key}") for key in _PERSON_FIELDS}, "import_id": import_id, "active": True}),
            changed,
        )
    if unchanged:
        for start in range(0, len(unchanged), 5000):
            connection.execute(
                update(persons).where(persons.c.id.in_(unchanged[start : start + 5000])).values(import_id=import_id)
            )
    retired = connection.execute(
        update(persons).where(persons.c.import_id != import_id, persons.c.active).values(active=False)
    ).rowcount

    return ImportReport(
        source=str(collection.root),
        transports=len(collection.transports),
        persons=len(collection.persons),
        persons_added=len(added),
        persons_updated=updated,
        persons_unchanged=len(collection.persons) - len(added) - updated,
        persons_retired=retired,
        fictional=collection.fictional,
    )


def _import_transports(
    connection: Connection, collection: Collection, import_id: int, previous_import: int | None
) -> dict[str, int]:
    """Transport code -> id for this import: earlier rows updated by code, new ones added."""
    current = {}
    if previous_import is not None:
        current = {
            row.code: row.id
            for row in connection.execute(
                select(transports.c.id, transports.c.code).where(transports.c.import_id == previous_import)
            )
        }
    ids: dict[str, int] = {}
    for position, transport in enumerate(collection.transports):
        values = {
            "import_id": import_id,
            "code": transport.code,
            "departed": transport.departed,
            "destination": transport.destination,
            "note": transport.note,
            "position": position,
        }
        if transport.code in current:
            connection.execute(update(transports).where(transports.c.id == current[transport.code]).values(values))
            ids[transport.code] = current[transport.code]
        else:
            ids[transport.code] = connection.execute(
                insert(transports).values(values).returning(transports.c.id)
            ).scalar_one()
    return ids


def _person_values(person: Person, transport_id: int, queue_order: int, age: int | None) -> dict[str, Any]:
    birth = person.birth_date
    return {
        "transport_id": transport_id,
        "list_number": person.list_number,
        "surname": person.surname,
        "given_names": person.given_names,
        "first_name_key": first_name_key(person.given_names),
        "birth_date": str(birth) if birth else None,
        "birth_month": birth.month if birth else None,
        "birth_day": birth.day if birth else None,
        "age_at_departure": age,
        "birth_place": person.birth_place,
        "sex": person.sex,
        "fate": person.fate,
        "portrait": person.portrait,
        "fictional": person.fictional,
        "queue_order": queue_order,
    }
