"""Alembic's entry point: migrate over the connection `kiosk.central.db.migrate` hands over.

The store never runs Alembic from an ini file or its own engine: the caller owns the
connection and its transaction (on SQLite, one that holds the write lock).
"""

from __future__ import annotations

from alembic import context

from kiosk.central.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through kiosk.central.db.migrate(engine), which passes a connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things: later migrations copy and move tables instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
