"""The central store's database: SQLite in the store's folder, or PostgreSQL by URL.

Sixteen booths ask for names at the same moment, and no name may go to two of them.
How each database keeps that promise:

- SQLite allows one writer at a time. Every write transaction starts with
  `BEGIN IMMEDIATE`, which takes the write lock before the first read, so two claimers
  never both read "free" and then both try to upgrade to writing (the deadlock SQLite
  answers with "database is locked"). WAL lets readers go on while one writes;
  `synchronous=FULL` makes a commit survive a power cut, which "201 means durable"
  needs (an upload gets the same from an fsync of the log right after the write lock
  is released: `write(sync_after_lock=True)`); foreign keys are switched on, as SQLite
  leaves them off.
- PostgreSQL runs writers at once; claims lock the person rows they hand out with
  `FOR UPDATE SKIP LOCKED` (see `kiosk.central.leases`).

Most of the store speaks SQLAlchemy Core through `write()` and `read()`. The booths' most
frequent requests (a claim of the next name, a give-back, an upload's usual path)
instead run SQL text on the driver's own connection (`driver_write`, `driver_cursor`,
`DriverSQL`), prepared once per connection, with the same locks: building SQLAlchemy
statements for them cost more than the database did.

The schema is brought up to date by the Alembic migrations shipped in this package,
every time a database is opened (`open_database`), so a new version of the store never
runs on an old schema.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Self

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError

from kiosk.central.config import CentralConfig
from kiosk.central.tokens import KnownTokens
from kiosk.errors import KioskError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30
KEPT_CONNECTIONS = 16  # PostgreSQL connections `Database.driver_write` keeps, at most
IDLE = 0  # psycopg.pq.TransactionStatus.IDLE: no transaction open
KEPT_IDLE_S = 10.0  # one unused this long is checked by the pool again before use
_READ_ONLY = "kiosk_read_only"
DIALECTS = ("sqlite", "postgresql")
# An arbitrary key: two stores starting at once on one PostgreSQL migrate one after the other.
_MIGRATION_LOCK_KEY = 0x4B696F736B  # "Kiosk"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Database:
    """One database and the clock the store reads time from.

    `write()` and `read()` hand out a connection inside one transaction, committed when
    the block ends and rolled back if it raises. Time comes from `now()`, never from the
    database server, so tests can move it and SQLite and PostgreSQL agree.
    """

    def __init__(self, engine: Engine, *, clock: Clock = utc_now):
        self.engine = engine
        self.clock = clock
        # SQLite lets one transaction write at a time. Writers of this process queue on
        # this lock and go the moment it is free, instead of polling in SQLite's busy
        # handler, which sleeps up to 100 ms between tries; writers in other processes
        # (an import, an enrolment) still wait through the busy timeout.
        self._writer = threading.Lock() if engine.dialect.name == "sqlite" else None
        self._sqlite_writers: dict[bool, Any] = {}  # driver_write's connections on SQLite, by durable
        self._kept: list[tuple[Any, float]] = []  # and on PostgreSQL: (connection, last used)
        # The station tokens this process has seen (kiosk.central.tokens).
        self.tokens = KnownTokens()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def now(self) -> datetime:
        moment = self.clock()
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("the store's clock must give moments with a time zone")
        return moment.astimezone(timezone.utc)

    @contextmanager
    def write(self, *, sync_after_lock: bool = False) -> Iterator[Connection]:
        """A transaction that may write; on SQLite it holds the write lock from the start.

        The transaction is durable when the block ends. `sync_after_lock=True` (SQLite, for
        the uploads, issue 18Y): its commit does not wait for the disk while this process's
        write lock is held (synchronous=NORMAL for this one transaction); the log (WAL) is
        fsynced after the lock is released, before the block returns. A power cut before
        that fsync may undo the transaction, but nobody has been told it happened; the
        database stays whole either way. Uploads that commit meanwhile share one fsync,
        and the next writer need not wait for the disk.
        """
        if self._writer is None or not sync_after_lock:
            with self._writer or nullcontext(), self.engine.connect() as connection, connection.begin():
                yield connection
            return
        with self._writer, self.engine.connect() as connection:
            driver = connection.connection.driver_connection
            driver.execute("PRAGMA synchronous=NORMAL")
            try:
                with connection.begin():
                    yield connection
            finally:
                try:
                    driver.execute("PRAGMA synchronous=FULL")
                except sqlite3.Error:
                    connection.invalidate()  # never handed out again without FULL
                    raise
        self._sync_log()

    def _sync_log(self) -> None:
        """fsync SQLite's write-ahead log: every transaction committed to it so far is durable.

        No log file means it was checkpointed into the database file and removed, and a
        checkpoint fsyncs the database file first (synchronous=NORMAL or FULL).
        """
        try:
            fd = os.open(f"{self.engine.url.database}-wal", os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    @contextmanager
    def driver_write(self, *, durable: bool = True) -> Iterator[Any]:
        """A write transaction on the driver's own connection: yields a DBAPI cursor.

        For the few statements the store runs for every booth request (a claim, a
        give-back), written as SQL text: the driver prepares each text once per
        connection and keeps it (sqlite3's statement cache; psycopg prepares a statement
        it has run five times), so they cost no statement building in Python. The
        transaction starts, commits and rolls back as `write()`'s does (on SQLite:
        this process's writer lock, then BEGIN IMMEDIATE). On SQLite, where this
        process writes one transaction at a time anyway, they use a connection kept
        for them, taken from the pool once.

        `durable=False` commits without waiting for the disk (SQLite: a connection with
        synchronous=NORMAL; PostgreSQL: synchronous_commit off for this transaction):
        a power cut may undo that transaction, and what came after it, never what came
        before, and the database stays whole. Only for changes whose loss does no harm
        (a name given back stays held until its lease ends); never for anything a
        station is told it holds or has sent.
        """
        if self._writer is None:
            raw = self._kept_connection()
            connection = raw.driver_connection
            try:
                # psycopg's pipeline: statements whose answers are not read yet go to the
                # server together (BEGIN with the first one, COMMIT with the last ones).
                with connection.pipeline(), _committed(connection) as cursor:
                    if not durable:
                        cursor.execute("SET LOCAL synchronous_commit TO OFF")
                    yield cursor
            finally:
                if connection.broken or connection.closed or connection.info.transaction_status != IDLE:
                    raw.invalidate()  # lost, or in a state unknown: never used again
                else:
                    self._keep_connection(raw)
            return
        with self._writer:
            raw = self._sqlite_writers.get(durable)
            if raw is None:
                raw = self._sqlite_writers[durable] = self.engine.raw_connection()
                if not durable:
                    raw.cursor().execute("PRAGMA synchronous=NORMAL")
            try:
                with _committed(raw, "BEGIN IMMEDIATE") as cursor:
                    yield cursor
            except sqlite3.Error:
                # A connection in an unknown state is never used again.
                del self._sqlite_writers[durable]
                raw.invalidate()
                raise

    def _kept_connection(self) -> Any:
        """A pooled connection for `driver_write` on PostgreSQL, from the few this process keeps.

        Kept ones skip the pool's check on every checkout (a round trip of its own); one
        unused for `KEPT_IDLE_S` goes back to the pool and a checked one comes instead.
        """
        while self._kept:
            raw, used = self._kept.pop()
            if time.monotonic() - used < KEPT_IDLE_S:
                return raw
            raw.close()
        return self.engine.raw_connection()

    def _keep_connection(self, raw: Any) -> None:
        if len(self._kept) < KEPT_CONNECTIONS:
            self._kept.append((raw, time.monotonic()))
        else:
            raw.close()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A transaction that only reads; on SQLite it does not wait for writers."""
        with self.engine.connect() as connection:
            connection = connection.execution_options(**{_READ_ONLY: True})
            with connection.begin():
                yield connection

    def dispose(self) -> None:
        while self._sqlite_writers:
            # Closed, not returned: the pool never hands out a connection set to commit without waiting.
            self._sqlite_writers.popitem()[1].invalidate()
        while self._kept:
            self._kept.pop()[0].close()
        self.engine.dispose()


@contextmanager
def _committed(raw: Any, begin: str | None = None) -> Iterator[Any]:
    """A cursor on the DBAPI connection `raw`, in a transaction committed at the end, rolled back on error."""
    cursor = raw.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        try:
            yield cursor
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
    finally:
        cursor.close()


def create_database_engine(url: URL) -> Engine:
    """An engine for `url` with the settings described in the module docstring."""
    # Each booth request may hold a connection while it waits for SQLite's lock: allow
    # as many as the server runs requests at once, rather than fail with a pool timeout.
    pool = {"pool_size": 10, "max_overflow": 40, "pool_timeout": 60}
    backend = url.get_backend_name()
    if backend == "sqlite":
        folder = Path(url.database or "").parent
        if not folder.is_dir():
            raise KioskError(
                f"the database folder {folder} does not exist",
                "create it, or correct [database] url in central.toml",
            )
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}, **pool)
        _prepare_sqlite(engine)
        return engine
    if backend == "postgresql":
        return create_engine(url, pool_pre_ping=True, **pool)
    raise KioskError(f"unsupported database {url.render_as_string(hide_password=True)}", "use SQLite or PostgreSQL")


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # The driver's own implicit BEGIN (DEFERRED) is switched off: `_on_begin` says
        # which kind of transaction each block needs.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    """Alembic's configuration for the migrations in this package, without an ini file.

    A new migration: `alembic.command.revision(alembic_config(), message="...")`, then
    write its upgrade by hand (and keep `kiosk.central.schema` in step).
    """
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest version; nothing happens when it is there already."""
    with engine.connect() as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        command.upgrade(alembic_config(connection), "head")


def schema_version(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def open_database(config: CentralConfig, *, clock: Clock = utc_now) -> Database:
    """Connect to the configured database and migrate it; KioskError if that fails."""
    engine = create_database_engine(config.database_url)
    try:
        migrate(engine)
    except OperationalError as error:
        engine.dispose()
        raise KioskError(
            f"{config.source}: [database] url {config.database_label} cannot be opened ({_first_line(error)})",
            "check that the database server runs and the URL, user and password are right",
        ) from None
    return Database(engine, clock=clock)


class DriverSQL:
    """SQL texts for one database, and how its driver takes values (`driver_write`, `driver_cursor`).

    Texts are written with `:name` parameters (sqlite3's style) and turned into
    `%(name)s` for psycopg once, here, so each is one fixed text the driver prepares once.
    """

    def __init__(self, dialect: str, texts: dict[str, str]):
        self.dialect = dialect
        if dialect == "postgresql":
            texts = {name: re.sub(r"(?<!:):([a-z_][a-z0-9_]*)", r"%(\1)s", text) for name, text in texts.items()}
        self.__dict__.update(texts)

    def moment(self, value: datetime) -> Any:
        """A moment as `UTCDateTime` keeps it: naive UTC text on SQLite, as SQLAlchemy writes it."""
        if self.dialect == "sqlite":
            return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return value

    def key(self, value: uuid.UUID) -> Any:
        """A `Uuid` column's value: 32 hex digits on SQLite, as SQLAlchemy writes it."""
        return value.hex if self.dialect == "sqlite" else value

    @classmethod
    def each(cls, texts: dict[str, str] | Callable[[str], dict[str, str]]) -> dict[str, Self]:
        """The texts for each database the store runs on, by dialect name (`texts(dialect)`
        when they differ between them)."""
        return {dialect: cls(dialect, texts(dialect) if callable(texts) else texts) for dialect in DIALECTS}


@contextmanager
def driver_cursor(connection: Connection) -> Iterator[Any]:
    """A DBAPI cursor in the transaction of `connection` (from `write()` or `read()`), for `DriverSQL` texts.

    What the driver raises comes out as SQLAlchemy's own exception (IntegrityError,
    OperationalError, ...), as from `connection.execute`, so a caller's handling (a
    repeated id, a full disk) is the same for both.
    """
    dbapi = connection.dialect.loaded_dbapi
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        yield cursor
    except dbapi.Error as error:
        raise DBAPIError.instance(None, None, error, dbapi.Error, dialect=connection.dialect) from None
    finally:
        cursor.close()


def _first_line(error: Exception) -> str:
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
