"""Station roles and tokens: `kiosk central enroll --role/--out`, `kiosk central revoke`, and
tokens from before roles, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from central_support import Store, make_config
from sqlalchemy import select, text
from test_central_cli import central_toml, kiosk  # noqa: F401

from kiosk.central.codes import new_token, token_hash
from kiosk.central.db import create_database_engine, migrate, open_database
from kiosk.central.leases import NameRules, claim
from kiosk.central.schema import leases, persons
from kiosk.central.stations import authenticate, enroll, revoke
from kiosk.errors import KioskError


def test_enroll_gives_a_role_and_writes_the_token_to_a_file_only_its_owner_reads(central_toml: Path, tmp_path: Path):
    out = tmp_path / "wall-1.token"
    out.write_text("an old token\n")
    out.chmod(0o644)
    result = kiosk("central", "enroll", "--config", central_toml, "--role", "wall", "--out", out, "wall-1", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report == {"station_id": "wall-1", "role": "wall", "token_file": str(out)}
    token = out.read_text().strip()
    assert token not in result.stdout and len(token) >= 43
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".wall-1.token.*"))  # no temporary file left
    from kiosk.central.config import load_central_config

    database = open_database(load_central_config(central_toml))
    try:
        station = authenticate(database, token)
        assert station.station_id == "wall-1" and station.role == "wall"
        assert not station.may("upload") and station.may("voices")
    finally:
        database.dispose()


def test_enroll_defaults_to_booth_and_refuses_an_unknown_role(central_toml: Path):
    printed = json.loads(kiosk("central", "enroll", "--config", central_toml, "booth-1", "--json").stdout)
    assert printed["role"] == "booth" and printed["token"]
    refused = kiosk("central", "enroll", "--config", central_toml, "--role", "kiosk", "booth-1")
    assert refused.returncode == 2 and "'kiosk' is not one of" in refused.stderr
    help_text = kiosk("central", "enroll", "--help").stdout
    assert "--role" in help_text and "--out" in help_text


def test_revoke_ends_a_token_at_once_from_the_command_line(central_toml: Path):
    token = kiosk("central", "enroll", "--config", central_toml, "booth-1").stdout.strip()
    result = kiosk("central", "revoke", "--config", central_toml, "booth-1", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"station_id": "booth-1", "revoked": True, "leases_released": 0}
    from kiosk.central.config import load_central_config

    database = open_database(load_central_config(central_toml))
    try:
        assert authenticate(database, token) is None
    finally:
        database.dispose()
    unknown = kiosk("central", "revoke", "--config", central_toml, "booth-9")
    assert unknown.returncode == 2 and "no station 'booth-9'" in unknown.stderr and "what to do:" in unknown.stderr
    assert "revoke" in kiosk("central", "--help").stdout


def test_revoking_gives_the_names_back_and_a_new_enrolment_works_again(store: Store):
    database = store.database
    token = enroll(database, "booth-1")
    held = claim(database, authenticate(database, token), NameRules(), how="next", count=3)
    assert revoke(database, "booth-1") == 3
    assert authenticate(database, token) is None
    with database.read() as connection:
        assert connection.execute(select(leases.c.end_reason)).scalars().all() == ["released"] * 3
        assert all(
            held_until is None
            for held_until in connection.execute(
                select(persons.c.held_until).where(persons.c.person_id.in_([lease.person_id for lease in held]))
            ).scalars()
        )
    again = enroll(database, "booth-1", "memorial")
    assert authenticate(database, again).role == "memorial"
    with pytest.raises(KioskError, match="no station"):
        revoke(database, "wall-7")


def test_a_token_from_before_roles_keeps_a_booths_rights(tmp_path: Path, database_url: str | None):
    """A station enrolled on a schema without roles is a booth after the migration."""
    from alembic import command

    from kiosk.central.db import alembic_config

    config = make_config(tmp_path / "central", database_url)
    engine = create_database_engine(config.database_url)
    token = new_token()
    try:
        with engine.connect() as connection, connection.begin():
            command.upgrade(alembic_config(connection), "0003")
            # The stations table as 0003 made it: no role column yet.
            connection.execute(
                text(
                    "INSERT INTO stations (station_id, token_hash, created_at, token_issued_at) "
                    "VALUES ('booth-old', :hash, '2026-11-01 00:00:00', '2026-11-01 00:00:00')"
                ),
                {"hash": token_hash(token)},
            )
        migrate(engine)
    finally:
        engine.dispose()
    database = open_database(config)
    try:
        station = authenticate(database, token)
        assert station.station_id == "booth-old" and station.role == "booth"
        assert station.may("lease") and station.may("upload")
    finally:
        database.dispose()
