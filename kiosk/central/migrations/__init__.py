"""Alembic migrations of the central store's database, run by `kiosk.central.db.migrate`."""
