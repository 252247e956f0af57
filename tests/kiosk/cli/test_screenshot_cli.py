"""`kiosk screenshot` of the wall on a collection without a single portrait, and with a
person asked for by id: pictures and layouts, or a message that says what to do."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from kiosk.config import write_station_config

pytestmark = [pytest.mark.gui, pytest.mark.slow]

HARDCASES = Path(__file__).resolve().parents[2] / "exhibits" / "hardcases"


@pytest.fixture
def wall_without_portraits(tmp_path):
    collection = tmp_path / "collection"
    collection.mkdir()
    shutil.copy(HARDCASES / "transports.csv", collection)
    with (HARDCASES / "persons.csv").open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    with (collection / "persons.csv").open("w", encoding="utf-8", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**row, "portrait": ""} for row in rows)
    return write_station_config(tmp_path / "wall", exhibit="wall", station_id="wall-1", fullscreen=False, size=(1280, 800), audio="simulated", collection="../collection")


def test_the_person_page_of_a_collection_without_portraits(kiosk, wall_without_portraits, tmp_path):
    out = tmp_path / "person-fr.png"
    done = kiosk("screenshot", str(wall_without_portraits), "--screen", "person", "--lang", "fr", "--layout", "--out", str(out), timeout=600)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    layout = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert layout["screen"] == "person" and layout["lang"] == "fr"
    texts = [widget["text"] for widget in layout["widgets"] if widget["text"]]
    assert "Aucune photographie de cette personne n’a encore été retrouvée." in texts, "a silhouette, and it says so"

    asked = tmp_path / "asked.png"
    done = kiosk("screenshot", str(wall_without_portraits), "--screen", "person", "--person", "hard-07", "--lang", "nl", "--layout", "--out", str(asked), timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    texts = [widget["text"] for widget in json.loads(asked.with_suffix(".json").read_text(encoding="utf-8"))["widgets"] if widget["text"]]
    assert "Jacques-Élie O'Neill-Grünbaum" in texts and "Geboren: augustus 1911 in Den Haag" in texts


def test_an_unknown_person_is_a_message_not_a_traceback(kiosk, wall_without_portraits, tmp_path):
    done = kiosk("screenshot", str(wall_without_portraits), "--screen", "person", "--person", "nobody-42", "--out", str(tmp_path / "x.png"), timeout=600)
    assert done.returncode != 0
    assert "no person 'nobody-42'" in done.stderr and "Traceback" not in done.stderr
