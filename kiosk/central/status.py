"""`kiosk central status`: how far "Every name counts" has come, per transport.

Definitions (the figures staff read and scripts parse, CONTRACT.md):
- persons: persons in the collection as last imported (persons dropped by a later
  import are kept for their recordings but not counted);
- recordings: recordings the store holds, received or approved (not rejected, not
  withdrawn), of any person;
- approved: of those, approved by staff;
- names_with_voice: persons in the collection with at least one received or approved
  recording; a name whose only recordings were rejected or withdrawn has no voice;
- transports: per transport code of the last import, in its order, the same two person
  figures.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, select

from kiosk.central.db import Database
from kiosk.central.schema import VOICED_STATUSES, collection_imports, persons, recordings, transports


def central_status(database: Database) -> dict[str, Any]:
    """The `kiosk central status --json` document (see the module docstring)."""
    has_voice = exists().where(recordings.c.person_id == persons.c.id, recordings.c.status.in_(VOICED_STATUSES))
    with database.read() as connection:
        latest = connection.execute(select(func.max(collection_imports.c.id))).scalar()
        recording_counts: dict[str, int] = {
            status: count
            for status, count in connection.execute(
                select(recordings.c.status, func.count()).group_by(recordings.c.status)
            )
        }
        per_transport = connection.execute(
            select(
                transports.c.code,
                func.count(persons.c.id),
                func.count(persons.c.id).filter(has_voice),
            )
            .select_from(transports)
            .outerjoin(persons, (persons.c.transport_id == transports.c.id) & persons.c.active)
            .where(transports.c.import_id == latest)
            .group_by(transports.c.id, transports.c.code, transports.c.position)
            .order_by(transports.c.position)
        ).all()
    figures = {code: {"persons": count, "names_with_voice": voiced} for code, count, voiced in per_transport}
    return {
        "persons": sum(f["persons"] for f in figures.values()),
        "recordings": sum(recording_counts.get(status, 0) for status in VOICED_STATUSES),
        "approved": recording_counts.get("approved", 0),
        "names_with_voice": sum(f["names_with_voice"] for f in figures.values()),
        "transports": figures,
    }


def status_lines(status: dict[str, Any]) -> str:
    """The status for a person at a terminal."""
    lines = [
        f"{status['names_with_voice']} of {status['persons']} names have a voice; "
        f"{status['recordings']} recordings held, {status['approved']} approved",
    ]
    for code, figures in status["transports"].items():
        lines.append(f"  {code:>6}  {figures['names_with_voice']:>6} of {figures['persons']:>6} names")
    return "\n".join(lines)


def collection_is_fictional(database: Database) -> bool:
    """Whether the collection imported last is the fictional demo (every page then says so)."""
    with database.read() as connection:
        latest = connection.execute(
            select(collection_imports.c.fictional).order_by(collection_imports.c.id.desc()).limit(1)
        ).scalar()
    return bool(latest)
