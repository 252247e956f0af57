"""`kiosk central booking add|list|cancel` and `kiosk central enroll --role`, as a technician runs them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from central_support import make_config

from kiosk.central.bookings import find_booking
from kiosk.central.config import load_central_config
from kiosk.central.db import open_database
from kiosk.central.importer import import_collection
from kiosk.central.stations import authenticate

KIOSK = str(Path(os.environ.get("VIRTUAL_ENV") or Path(__file__).resolve().parents[2] / ".venv") / "bin" / "kiosk")


def kiosk(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([KIOSK, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture
def central(tmp_path: Path, small_collection: Path) -> Path:
    config = make_config(tmp_path / "central")
    database = open_database(config)
    import_collection(database, small_collection)
    database.dispose()
    return config.source


def test_add_prints_the_contracts_json_one_entry_per_participant(central: Path):
    done = kiosk("central", "booking", "add", "--config", central, "--first-name", "Łaja", "--language", "fr", "--json")
    assert done.returncode == 0, done.stderr
    [made] = json.loads(done.stdout)["bookings"]
    assert set(made) == {"code", "person_id", "name", "matched_on", "expires_at"}
    assert made["matched_on"] == "first_name" and made["name"] == "Łaja Maria Testowa1"
    group = kiosk("central", "booking", "add", "--config", central, "--age", "30", "--group", "3", "--json")
    made = json.loads(group.stdout)["bookings"]
    assert [b["matched_on"] for b in made] == ["age", "next", "next"] and len({b["person_id"] for b in made}) == 3
    human = kiosk("central", "booking", "add", "--config", central, "--birthday", "02-29")
    assert human.returncode == 0 and "matched on next" in human.stdout


def test_list_and_cancel(central: Path):
    [made] = json.loads(kiosk("central", "booking", "add", "--config", central, "--json").stdout)["bookings"]
    listed = json.loads(kiosk("central", "booking", "list", "--config", central, "--json").stdout)["bookings"]
    assert [(b["code"], b["state"]) for b in listed] == [(made["code"], "active")]
    done = kiosk("central", "booking", "cancel", "--config", central, made["code"].lower().replace("-", " "))
    assert done.returncode == 0 and "cancelled" in done.stdout
    assert json.loads(kiosk("central", "booking", "list", "--config", central, "--json").stdout) == {"bookings": []}
    everything = kiosk("central", "booking", "list", "--config", central, "--all", "--json")
    assert [b["state"] for b in json.loads(everything.stdout)["bookings"]] == ["cancelled"]
    database = open_database(load_central_config(central))
    try:
        assert find_booking(database, made["code"]).state == "cancelled"
    finally:
        database.dispose()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--group", "7"], "at most 6"),
        (["--birthday", "02-30"], "not a day of the year"),
        (["--birthday", "2/3"], "not MM-DD"),
        (["--age", "8"], "9 to 120"),
        (["--age", "old"], "9 to 120"),
    ],
)
def test_bad_input_is_refused_clearly_and_nothing_is_kept(central: Path, args: list[str], says: str):
    done = kiosk("central", "booking", "add", "--config", central, *args)
    assert done.returncode != 0 and says in done.stderr and "Traceback" not in done.stderr
    assert json.loads(kiosk("central", "booking", "list", "--config", central, "--all", "--json").stdout) == {
        "bookings": []
    }


def test_unknown_code_and_no_waiting_name(central: Path):
    done = kiosk("central", "booking", "cancel", "--config", central, "ABCD-2345")
    assert done.returncode != 0 and "no booking has the code ABCD-2345" in done.stderr
    for _ in range(6):
        assert kiosk("central", "booking", "add", "--config", central, "--group", "6").returncode == 0
    assert kiosk("central", "booking", "add", "--config", central, "--group", "4").returncode == 0  # 40 names
    done = kiosk("central", "booking", "add", "--config", central)
    assert done.returncode != 0 and "no name waits" in done.stderr and "Traceback" not in done.stderr


def test_enroll_gives_a_booking_role(central: Path):
    done = kiosk("central", "enroll", "--config", central, "--role", "booking", "website", "--json")
    assert done.returncode == 0, done.stderr
    token = json.loads(done.stdout)["token"]
    database = open_database(load_central_config(central))
    try:
        assert authenticate(database, token).role == "booking"
    finally:
        database.dispose()
    assert "--role" in kiosk("central", "enroll", "--help").stdout
    for command in (["booking"], ["booking", "add"], ["booking", "list"], ["booking", "cancel"]):
        assert kiosk("central", *command, "--help").returncode == 0
