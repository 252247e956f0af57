"""A throwaway PostgreSQL server for tests and benchmarks: initdb, pg_ctl, gone afterwards.

The central store must keep its promises on a real PostgreSQL, not only on SQLite, so
tests start one: a new cluster in a temporary folder, listening on a free port on
127.0.0.1 and on a unix socket in that folder, with trust authentication for one user.
PostgreSQL refuses to run as root; as root the cluster belongs to the `postgres` user
that Debian's package creates, and its commands run through `runuser`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness.tools import HarnessError, tail, wait_until

DEBIAN_BIN = Path("/usr/lib/postgresql")
USER = "kiosk"


def find_bin_dir() -> Path:
    """The folder with initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/N/bin."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    versions = sorted(
        (p for p in DEBIAN_BIN.glob("*/bin") if (p / "pg_ctl").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        raise HarnessError("PostgreSQL is not installed (Debian package postgresql): run scripts/setup")
    return versions[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresCluster:
    """One PostgreSQL server; `start()` it, make databases with `new_database()`, `stop()` it."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="kiosk-pg-")))
    port: int = field(default_factory=free_port)
    bin_dir: Path = field(default_factory=find_bin_dir)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    def _as_owner(self) -> list[str]:
        # PostgreSQL will not run as root: run its programs as the postgres user then.
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self._as_owner(), *args], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise HarnessError(
                f"{Path(args[0]).name} failed: {result.stderr.strip() or result.stdout.strip()}\n{tail(self.log_path)}"
            )

    def start(self) -> PostgresCluster:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise HarnessError(
                    "running as root and there is no postgres user: install the postgresql package"
                ) from None
            for path in (self.root, self.socket_dir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=on -c max_connections=200 -c shared_buffers=32MB"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_path),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        wait_until(self._answers, timeout=30, waiting_for=f"PostgreSQL on port {self.port}")
        return self

    def _answers(self) -> bool:
        return (self.socket_dir / f".s.PGSQL.{self.port}").exists()

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(
                [
                    *self._as_owner(),
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        """A SQLAlchemy URL for `database` over the unix socket."""
        return f"postgresql+psycopg://{USER}@/{database}?host={self.socket_dir}&port={self.port}"

    def new_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            host=str(self.socket_dir), port=self.port, user=USER, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def cluster_for_tests(who: str) -> Iterator[PostgresCluster]:
    """A started cluster for a pytest fixture, stopped afterwards; the test fails, saying why, without one."""
    import pytest

    cluster = PostgresCluster()
    try:
        cluster.start()
    except HarnessError as error:
        cluster.stop()
        pytest.fail(f"no PostgreSQL for {who}: {error}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()
