"""The database layer: migrations from empty on SQLite and PostgreSQL, SQLite's locking."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from central_support import make_config
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from kiosk.central.db import (
    DriverSQL,
    alembic_config,
    create_database_engine,
    driver_cursor,
    migrate,
    open_database,
    schema_version,
)
from kiosk.central.schema import metadata, stations
from kiosk.errors import KioskError


def test_migrations_build_the_schema_from_empty(tmp_path: Path, database_url: str | None):
    config = make_config(tmp_path / "central", database_url)
    engine = create_database_engine(config.database_url)
    try:
        assert schema_version(engine) is None
        migrate(engine)
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert schema_version(engine) == head
        assert set(inspect(engine).get_table_names()) == set(metadata.tables) | {"alembic_version"}
        with engine.connect() as connection:
            # What the code says the tables are is what the migrations made.
            assert compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata) == []
        migrate(engine)  # a second time: nothing to do, nothing breaks
        assert schema_version(engine) == head
    finally:
        engine.dispose()


def test_the_queue_and_the_one_open_lease_rule_have_their_partial_indexes(tmp_path: Path, database_url: str | None):
    config = make_config(tmp_path / "central", database_url)
    database = open_database(config)
    try:
        indexes = {index["name"]: index for index in inspect(database.engine).get_indexes("leases")}
        assert indexes["uq_leases_open_person"]["unique"]
        persons_indexes = {index["name"] for index in inspect(database.engine).get_indexes("persons")}
        assert "ix_persons_waiting" in persons_indexes
    finally:
        database.dispose()


def test_sql_text_on_the_driver_binds_names_with_digits_and_its_errors_come_out_as_sqlalchemys(
    tmp_path: Path, database_url: str | None
):
    database = open_database(make_config(tmp_path / "central", database_url))
    sql = DriverSQL(
        database.dialect,
        {
            "add": "INSERT INTO stations (station_id, token_hash, created_at, token_issued_at) "
            "VALUES (:station_id, :sha256, :now, :now)",
            "find": "SELECT station_id, created_at FROM stations WHERE token_hash = :sha256",
        },
    )
    now = datetime(2026, 12, 5, 6, 0, 0, 123456, tzinfo=timezone.utc)
    try:
        with database.write() as connection, driver_cursor(connection) as cursor:
            cursor.execute(sql.add, {"station_id": "booth-1", "sha256": "a" * 64, "now": sql.moment(now)})
        with database.read() as connection:
            # Written as SQLAlchemy's UTCDateTime writes it: it reads back the same moment.
            assert connection.execute(select(stations.c.created_at)).scalar_one() == now
            with driver_cursor(connection) as cursor:
                cursor.execute(sql.find, {"sha256": "a" * 64})
                assert cursor.fetchone()[0] == "booth-1"
        with pytest.raises(IntegrityError):  # the caller's handling of a repeat is the same as for SQLAlchemy's
            with database.write() as connection, driver_cursor(connection) as cursor:
                cursor.execute(sql.add, {"station_id": "booth-1", "sha256": "b" * 64, "now": sql.moment(now)})
        with database.read() as connection:
            assert connection.execute(select(stations.c.station_id)).scalars().all() == ["booth-1"]
    finally:
        database.dispose()


def test_sqlite_runs_in_wal_with_foreign_keys_and_full_sync(tmp_path: Path):
    database = open_database(make_config(tmp_path / "central"))
    try:
        with database.read() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    finally:
        database.dispose()


def test_a_write_synced_after_the_lock_is_durable_when_it_returns_and_leaves_full_sync(tmp_path: Path, monkeypatch):
    """The uploads' transactions (issue 18Y): the commit does not wait for the disk while
    the write lock is held; the log is fsynced once the lock is free, before the block
    returns; the connection goes back to the pool with synchronous=FULL."""
    config = make_config(tmp_path / "central")
    database = open_database(config)
    events: list[Any] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}"), database._writer.locked()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    now = datetime.now(timezone.utc)
    try:
        with database.write(sync_after_lock=True) as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL, this transaction only
            connection.execute(
                insert(stations).values(station_id="booth-9", token_hash="0" * 64, created_at=now, token_issued_at=now)
            )
            events.append("commit")
        events.append("returned")
        log = f"{Path(database.engine.url.database).resolve()}-wal"
        assert events == ["commit", ("fsync", log, False), "returned"]
        with database.read() as first, database.read() as second:
            for connection in (first, second):  # the pool's connections, the one just used among them
                assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        database.dispose()
    reopened = open_database(config)  # what a new process finds
    try:
        with reopened.read() as connection:
            assert connection.execute(select(stations.c.station_id)).scalars().all() == ["booth-9"]
    finally:
        reopened.dispose()


def test_sqlite_write_transactions_take_the_lock_up_front(tmp_path: Path):
    """A second writer waits at BEGIN, before reading anything; readers never wait."""
    database = open_database(make_config(tmp_path / "central"))
    holding = threading.Event()
    release = threading.Event()
    timeline: list[str] = []

    def first_writer() -> None:
        with database.write() as connection:
            connection.execute(select(stations)).all()  # a read only: the lock is held all the same
            holding.set()
            release.wait(10)
            timeline.append("first commits")

    def second_writer() -> None:
        with database.write() as connection:
            timeline.append("second begins")
            connection.execute(select(stations)).all()

    first = threading.Thread(target=first_writer)
    first.start()
    assert holding.wait(10)
    second = threading.Thread(target=second_writer)
    second.start()
    time.sleep(0.3)
    with database.read() as connection:  # a reader meanwhile: not blocked
        connection.execute(select(stations)).all()
        timeline.append("reader read")
    release.set()
    first.join(10)
    second.join(10)
    database.dispose()
    assert timeline == ["reader read", "first commits", "second begins"]


def test_a_database_that_cannot_be_opened_is_named_without_its_password(tmp_path: Path):
    config = make_config(tmp_path / "central", "postgresql+psycopg://kiosk:s3cret@127.0.0.1:1/central")
    with pytest.raises(KioskError) as caught:
        open_database(config)
    message = str(caught.value)
    assert "[database] url" in message and "s3cret" not in message and "***" in message


def test_a_missing_sqlite_folder_is_named(tmp_path: Path):
    config = make_config(tmp_path / "central", "sqlite:///nowhere/central.sqlite3")
    with pytest.raises(KioskError, match="does not exist"):
        open_database(config)
