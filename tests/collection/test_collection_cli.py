"""`kiosk collection demo` and `kiosk collection check` as a technician runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kiosk.cli import KioskGroup
from kiosk.cli.collection import collection
from kiosk.collection.layout import DEFAULT_COUNT


@pytest.fixture
def kiosk() -> click.Group:
    """The `kiosk` entry point with only this command group, as kiosk.cli registers it."""
    group = KioskGroup(name="kiosk")
    group.add_command(collection)
    return group


def run(kiosk: click.Group, *args: str) -> click.testing.Result:
    return CliRunner().invoke(kiosk, list(args), catch_exceptions=False)


def test_help_for_every_command(kiosk: click.Group) -> None:
    for args in (["collection", "--help"], ["collection", "demo", "--help"], ["collection", "check", "--help"]):
        result = run(kiosk, *args)
        assert result.exit_code == 0 and "Usage:" in result.output
    assert "FICTIONAL" in run(kiosk, "collection", "demo", "--help").output
    assert set(collection.commands) == {"check", "demo"}  # `import` belongs to a later issue


def test_check_a_valid_collection(kiosk: click.Group, demo_dir: Path, demo_count: int) -> None:
    result = run(kiosk, "collection", "check", str(demo_dir))
    assert result.exit_code == 0
    assert result.stdout.count("\n") == 1
    assert f"valid fictional demo collection: {demo_count} persons, 28 transports" in result.stdout
    assert result.stderr == ""


def test_check_json_of_a_valid_collection(kiosk: click.Group, demo_dir: Path, demo_count: int) -> None:
    result = run(kiosk, "collection", "check", str(demo_dir), "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert {k: document[k] for k in ("valid", "persons", "transports", "fictional", "problems")} == {
        "valid": True,
        "persons": demo_count,
        "transports": 28,
        "fictional": True,
        "problems": [],
    }
    assert 0 < document["portraits"] < demo_count


def _damage(folder: Path) -> None:
    path = folder / "persons.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[6] = (
        lines[6]
        .replace(",murdered,", ",vanished,")
        .replace(",survived,", ",vanished,")
        .replace(",unknown,", ",vanished,")
    )
    path.write_text("\n".join(lines), encoding="utf-8")


def test_check_an_invalid_collection(kiosk: click.Group, demo_copy: Path) -> None:
    _damage(demo_copy)
    result = run(kiosk, "collection", "check", str(demo_copy))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "NOT a valid fictional demo collection, 1 problem(s)" in result.stderr
    assert "persons.csv line 7, column fate: fate 'vanished' must be murdered, survived or unknown" in result.stderr
    assert "what to do:" in result.stderr


def test_check_json_of_an_invalid_collection(kiosk: click.Group, demo_copy: Path) -> None:
    _damage(demo_copy)
    result = run(kiosk, "collection", "check", str(demo_copy), "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["valid"] is False
    assert document["problems"] == [
        {
            "file": "persons.csv",
            "line": 7,
            "column": "fate",
            "message": "fate 'vanished' must be murdered, survived or unknown",
        }
    ]


def test_check_a_folder_that_does_not_exist(kiosk: click.Group, tmp_path: Path) -> None:
    result = run(kiosk, "collection", "check", str(tmp_path / "missing"))
    assert result.exit_code == 1 and "is not a folder" in result.stderr


def test_demo_writes_and_reports(kiosk: click.Group, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = run(
        kiosk, "collection", "demo", "--out", str(out), "--count", "120", "--seed", "3", "--workers", "1", "--json"
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["persons"], document["transports"], document["seed"], document["fictional"]) == (120, 28, 3, True)
    assert run(kiosk, "collection", "check", str(out)).exit_code == 0
    again = run(kiosk, "collection", "demo", "--out", str(out), "--count", "60", "--workers", "1")
    assert (
        again.exit_code == 0 and "FICTIONAL demo collection" in again.stdout and "60 invented persons" in again.stdout
    )


def test_demo_refuses_a_folder_with_other_files(kiosk: click.Group, tmp_path: Path, demo_dir: Path) -> None:
    shutil.copy(demo_dir / "persons.csv", tmp_path / "persons.csv")  # a collection, but no demo README
    result = run(kiosk, "collection", "demo", "--out", str(tmp_path), "--count", "10")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"kiosk: {tmp_path} is not empty and is not a demo collection")
    assert "what to do:" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["persons.csv"]


def test_demo_refuses_a_bad_count(kiosk: click.Group, tmp_path: Path) -> None:
    result = run(kiosk, "collection", "demo", "--out", str(tmp_path / "x"), "--count", "0")
    assert result.exit_code == 2 and "--count" in result.stderr


@pytest.mark.slow
def test_full_default_demo_then_check(kiosk: click.Group, tmp_path: Path) -> None:
    assert DEFAULT_COUNT == 25_843  # CONTRACT.md: "25,843 persons by default"
    out = tmp_path / "demo"
    written = run(kiosk, "collection", "demo", "--out", str(out), "--json")
    assert written.exit_code == 0, written.stderr
    assert json.loads(written.stdout)["persons"] == 25_843
    checked = run(kiosk, "collection", "check", str(out), "--json")
    assert checked.exit_code == 0, checked.stdout[:2000]
    document = json.loads(checked.stdout)
    assert document["valid"] and document["persons"] == 25_843 and document["transports"] == 28
    assert 0.75 * 25_843 < document["portraits"] < 0.85 * 25_843
