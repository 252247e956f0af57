"""The central store's configuration: one TOML file, validated before anything starts.

A technician edits `central.toml` by hand, like a station's `station.toml`, so every
mistake is reported with the file, the [section] key and what to write instead, and the
store refuses to start rather than guess. Relative paths (the SQLite file, the audio
folder) are taken from the folder that holds the file, so the store's folder can be
moved or backed up whole. A PostgreSQL password in the database URL is never printed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator

from kiosk.configbase import FileConfig, Section, explain_problem, problem_location
from kiosk.errors import KioskError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

DEFAULT_PORT = 8800
CONFIG_NAME = "central.toml"
SQLITE_DRIVERS = ("sqlite", "sqlite+pysqlite")
POSTGRESQL_DRIVER = "postgresql+psycopg"


class ServerSection(Section):
    # 127.0.0.1 by default: the store is reached through the gallery network's reverse
    # proxy (TLS) or an SSH tunnel, never exposed by accident.
    host: Annotated[str, Field(min_length=1)] = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = DEFAULT_PORT
    # A take is at most 60 s of 24-bit 48 kHz mono FLAC: about 6 MB. The limit keeps a
    # broken or hostile client from filling the disk with one request.
    max_upload_mb: Annotated[float, Field(gt=0, le=1024)] = 50


class DatabaseSection(Section):
    url: str = "sqlite:///central.sqlite3"

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        parse_database_url(value)
        return value


class StorageSection(Section):
    audio_dir: Annotated[str, Field(min_length=1)] = "audio"


class NamesSection(Section):
    # How long a booth may hold a name it has not yet recorded: long enough for one
    # participant's visit (about 15 minutes) with room to spare; a booth renews it.
    lease_s: Annotated[int, Field(ge=60, le=86_400)] = 3600
    # Names one booth may hold at once: a few in hand for the next participants, and
    # room for one found by booking or by a shared first name.
    hand_size: Annotated[int, Field(ge=1, le=100)] = 5


class StaffSection(Section):
    # A staff login lasts at most a working day, and ends sooner when the page is left
    # alone: staff computers in the museum are shared.
    session_hours: Annotated[float, Field(ge=0.25, le=24)] = 10
    idle_minutes: Annotated[int, Field(ge=5, le=480)] = 30
    # Behind the TLS reverse proxy: true, so the browser sends the login cookie over
    # HTTPS only. False works on http://127.0.0.1 (an SSH tunnel, the demo).
    secure_cookies: bool = False
    # A station that has not sent a heartbeat for this long is shown as silent.
    station_silent_after_s: Annotated[int, Field(ge=60, le=86_400)] = 600


class MetricsSection(Section):
    # GET /metrics answers on loopback; a Prometheus elsewhere sends the token in this
    # file (bearer_token_file). Empty: loopback only.
    token_file: str = ""


class BookingsSection(Section):
    # A booking holds its name this long: a school books weeks ahead; an unused booking
    # must not keep a name from the queue for ever.
    expire_days: Annotated[int, Field(ge=1, le=366)] = 30
    # Wrong booking codes a station may send in wrong_code_window_s before it must wait.
    wrong_code_limit: Annotated[int, Field(ge=1, le=100)] = 5
    wrong_code_window_s: Annotated[int, Field(ge=10, le=86_400)] = 600


class LogSection(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class CentralConfig(FileConfig):
    server: ServerSection = Field(default_factory=ServerSection)
    database: DatabaseSection = Field(default_factory=DatabaseSection)
    storage: StorageSection = Field(default_factory=StorageSection)
    names: NamesSection = Field(default_factory=NamesSection)
    staff: StaffSection = Field(default_factory=StaffSection)
    bookings: BookingsSection = Field(default_factory=BookingsSection)
    log: LogSection = Field(default_factory=LogSection)
    metrics: MetricsSection = Field(default_factory=MetricsSection)

    @property
    def database_url(self) -> URL:
        """The database URL with a relative SQLite path taken from the config's folder."""
        url = parse_database_url(self.database.url)
        if url.get_backend_name() == "sqlite" and url.database:
            url = url.set(database=str(self.resolve(url.database)))
        return url

    @property
    def database_label(self) -> str:
        """The database URL as a technician may see it: without the password."""
        return self.database_url.render_as_string(hide_password=True)

    @property
    def audio_dir(self) -> Path:
        return self.resolve(self.storage.audio_dir)

    @property
    def metrics_token_file(self) -> Path | None:
        return self.resolve(self.metrics.token_file) if self.metrics.token_file else None

    @property
    def max_upload_bytes(self) -> int:
        return int(self.server.max_upload_mb * 1_000_000)

    def describe(self) -> dict:
        """The settings as a technician may see them: the database password hidden."""
        described = self.model_dump(mode="json")
        described["database"]["url"] = self.database_label
        return described


def parse_database_url(text: str) -> URL:
    """The URL of a database the store can use, or ValueError saying which forms work."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except ArgumentError:
        raise ValueError(
            "is not a database URL: write sqlite:///central.sqlite3 or postgresql+psycopg://USER@HOST/DATABASE"
        ) from None
    if url.drivername in SQLITE_DRIVERS:
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            raise ValueError(
                "needs a file: write sqlite:///central.sqlite3 (relative to this file) or an absolute path"
            )
        return url
    if url.drivername == POSTGRESQL_DRIVER:
        if not url.database:
            raise ValueError("names no database: write postgresql+psycopg://USER@HOST/DATABASE")
        return url
    if url.get_backend_name() == "postgresql":
        raise ValueError(
            f"uses the driver {url.drivername!r}: write postgresql+psycopg://... "
            "(psycopg 3 is the driver the store ships with)"
        )
    raise ValueError("must be an SQLite (sqlite:///FILE) or PostgreSQL (postgresql+psycopg://...) URL")


def parse_central_config(text: str, source: Path) -> CentralConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise KioskError(
            f"{source}: not valid TOML: {error}", "fix the line named above; compare with `kiosk central init`"
        ) from error
    try:
        config = CentralConfig.model_validate(raw)
    except ValidationError as error:
        lines = [f"{source}: {problem_location(e['loc'])} {explain_problem(_hide_password(e))}" for e in error.errors()]
        raise KioskError(
            f"{source} has {len(lines)} problem(s):\n  " + "\n  ".join(lines),
            "correct these settings; `kiosk central init` writes a file with every setting explained",
        ) from None
    config.source = source.resolve()
    return config


def _hide_password(error: Mapping[str, Any]) -> dict[str, Any]:
    """A validation error about the database URL without the password it may hold."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if tuple(error.get("loc", ())) == ("database", "url") and isinstance(error.get("input"), str):
        try:
            shown = make_url(error["input"]).render_as_string(hide_password=True)
        except ArgumentError:
            shown = error["input"]
        return {**error, "input": shown}
    return dict(error)


def load_central_config(path: str | Path) -> CentralConfig:
    """Read and check CENTRAL.toml (or a folder holding one); KioskError names each mistake."""
    source = Path(path)
    if source.is_dir():
        source = source / CONFIG_NAME
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KioskError(
            f"{source}: no such file", "give the path of a central.toml, or create one with `kiosk central init`"
        ) from None
    except UnicodeDecodeError as error:
        raise KioskError(f"{source}: not UTF-8 text (byte {error.start})", "save the file as UTF-8") from None
    except OSError as error:
        raise KioskError(f"{source}: cannot be read ({error.strerror})", "check the path and its permissions") from None
    return parse_central_config(text, source)


CENTRAL_TEMPLATE = """\
# Kazerne Dossin central store, written by `kiosk central init`.
# Paths are relative to this file's folder. Start it with
# `kiosk central serve --config central.toml`; give each station its token with
# `kiosk central enroll --config central.toml STATION_ID`.

[server]
host = "127.0.0.1"              # 0.0.0.0 to listen on every network (put TLS in front)
port = {port}                    # booths reach the store at http://HOST:PORT ([central] url)
max_upload_mb = 50              # largest upload accepted (a 60 s take is about 6 MB)

[database]
# SQLite in this folder, or PostgreSQL: "postgresql+psycopg://USER:PASSWORD@HOST/DATABASE"
url = "sqlite:///central.sqlite3"

[storage]
audio_dir = "audio"             # recordings, kept as audio/<first 2 of sha256>/<sha256>.flac

[names]
lease_s = 3600                  # a booth holds a name this long before it returns to the queue
hand_size = 5                   # names one booth may hold at once

[staff]
# The staff pages at http://HOST:PORT/staff; add accounts with `kiosk central staff add`.
session_hours = 10              # a login lasts at most this long
idle_minutes = 30               # and ends after this long without a page opened
secure_cookies = false          # true behind the HTTPS proxy (deploy/ sets it): cookies over HTTPS only
station_silent_after_s = 600    # a station not heard from this long is shown as silent

[bookings]
expire_days = 30                # a booking holds its name this long, then the name is free again
wrong_code_limit = 5            # wrong booking codes one station may send ...
wrong_code_window_s = 600       # ... in this many seconds before it must wait

[log]
level = "INFO"                  # DEBUG, INFO, WARNING or ERROR

[metrics]
token_file = ""                 # GET /metrics answers on loopback; elsewhere with the token in this file
"""


def write_central_config(folder: Path, *, port: int = DEFAULT_PORT) -> Path:
    """Write FOLDER/central.toml with working defaults; refuse to overwrite one."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / CONFIG_NAME
    if target.exists():
        raise KioskError(f"{target} already exists", "edit it, or choose another folder")
    text = CENTRAL_TEMPLATE.format(port=str(int(port)).ljust(5))
    parse_central_config(text, target)  # never write a file we would refuse to read
    temporary = target.with_suffix(".toml.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)
    return target
