"""The station's image index: a start opens only the portraits that are new or changed,
and a missing, damaged or unwritable index costs time, never the start."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from kiosk.collection import load_collection
from kiosk.collection import imagefacts
from kiosk.collection.imagefacts import ImageFactsIndex


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    from kiosk.collection import write_demo

    folder = tmp_path_factory.mktemp("demo") / "collection"
    write_demo(folder, count=60, seed=11)
    return folder


@pytest.fixture
def collection(demo, tmp_path) -> Path:
    return Path(shutil.copytree(demo, tmp_path / "collection"))


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    """The image files Pillow opens through the index, in order."""
    calls: list[str] = []
    real_open = imagefacts.Image.open

    def counting_open(path, *args, **kwargs):
        calls.append(Path(path).name)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(imagefacts.Image, "open", counting_open)
    return calls


def portraits(folder: Path) -> list[str]:
    """The portrait files the list names, sorted."""
    return sorted({p.portrait for p in load_collection(folder).persons if p.portrait})


def test_a_fresh_index_opens_every_portrait_once_then_none(collection, tmp_path, opened):
    index = ImageFactsIndex(tmp_path / "cache" / "image-facts.json")
    loaded = load_collection(collection, images=index)
    named = {p.portrait for p in loaded.persons if p.portrait}
    assert named and sorted(opened) == sorted(named), "each portrait the list names, once"
    rows = json.loads(index.path.read_text())["images"]
    first = next(iter(named))
    with Image.open(collection / "portraits" / first) as image:
        assert rows[first][2:] == [image.width, image.height, "JPEG"]
    assert set(loaded.portrait_signatures) == named

    opened.clear()
    again = load_collection(collection, images=index)
    assert opened == [], "nothing changed: no image opened"
    assert len(again.persons) == len(loaded.persons)
    assert dict(again.portrait_signatures) == dict(loaded.portrait_signatures)


def test_a_changed_portrait_is_opened_again_and_its_facts_updated(collection, tmp_path, opened):
    index = ImageFactsIndex(tmp_path / "image-facts.json")
    loaded = load_collection(collection, images=index)
    changed = next(p.portrait for p in loaded.persons if p.portrait)
    Image.new("RGB", (300, 200), (90, 90, 90)).save(collection / "portraits" / changed, "PNG")  # a new scan, same name
    opened.clear()

    report = index.read(collection / "portraits", [p.portrait for p in loaded.persons if p.portrait])
    assert opened == [changed] and report.opened == 1
    assert report.facts(changed) == (300, 200, "PNG")
    assert json.loads(index.path.read_text())["images"][changed][2:] == [300, 200, "PNG"]


def test_a_touched_portrait_counts_as_changed(collection, tmp_path, opened):
    index = ImageFactsIndex(tmp_path / "image-facts.json")
    load_collection(collection, images=index)
    touched = portraits(collection)[0]
    status = (collection / "portraits" / touched).stat()
    os.utime(collection / "portraits" / touched, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))
    opened.clear()
    load_collection(collection, images=index)
    assert opened == [touched]


def test_a_removed_portrait_leaves_the_index_and_is_a_problem_if_still_named(collection, tmp_path):
    index = ImageFactsIndex(tmp_path / "image-facts.json")
    loaded = load_collection(collection, images=index)
    gone = next(p.portrait for p in loaded.persons if p.portrait)
    (collection / "portraits" / gone).unlink()

    report = index.read(collection / "portraits", [p.portrait for p in loaded.persons if p.portrait])
    assert gone in report.problems and gone not in report.signatures
    assert gone not in json.loads(index.path.read_text())["images"], "the index forgets it"

    from kiosk.errors import KioskError

    with pytest.raises(KioskError, match="does not exist"):
        load_collection(collection, images=index)  # the list still names it: refused, as without an index


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"{not json",
        b"\xff\xfe\x00garbage",
        json.dumps({"version": 99, "images": {}}).encode(),
        json.dumps(["a", "list"]).encode(),
        json.dumps({"version": imagefacts.FORMAT_VERSION, "images": "nope"}).encode(),
    ],
    ids=["empty", "cut", "binary", "other-version", "list", "images-not-a-map"],
)
def test_a_damaged_index_is_rebuilt_with_a_warning(collection, tmp_path, opened, caplog, damage):
    path = tmp_path / "image-facts.json"
    path.write_bytes(damage)
    with caplog.at_level(logging.WARNING, logger="kiosk.collection.imagefacts"):
        loaded = load_collection(collection, images=ImageFactsIndex(path))
    assert sorted(opened) == sorted({p.portrait for p in loaded.persons if p.portrait}), "every image opened again"
    assert "rebuilt" in caplog.text
    assert json.loads(path.read_text())["version"] == imagefacts.FORMAT_VERSION, "written anew, whole"


def test_an_index_too_large_to_be_ours_is_not_read(collection, tmp_path, opened, monkeypatch, caplog):
    path = tmp_path / "image-facts.json"
    load_collection(collection, images=ImageFactsIndex(path))
    monkeypatch.setattr(imagefacts, "MAX_INDEX_BYTES", path.stat().st_size - 1)
    opened.clear()
    with caplog.at_level(logging.WARNING, logger="kiosk.collection.imagefacts"):
        load_collection(collection, images=ImageFactsIndex(path))
    assert opened and "rebuilt" in caplog.text


def test_rows_that_lie_are_not_trusted(collection, tmp_path, opened):
    index = ImageFactsIndex(tmp_path / "image-facts.json")
    load_collection(collection, images=index)
    data = json.loads(index.path.read_text())
    first, second, third = sorted(data["images"])[:3]
    data["images"][first] = ["big", 1, 2, 3, "JPEG"]
    data["images"][second] = [1, 2, 3]
    data["images"][third][2] = True  # a bool is not a width
    index.path.write_text(json.dumps(data))
    opened.clear()
    load_collection(collection, images=index)
    assert sorted(opened) == sorted([first, second, third])


def test_an_unwritable_index_folder_costs_time_not_the_start(collection, tmp_path, caplog):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING, logger="kiosk.collection.imagefacts"):
        loaded = load_collection(collection, images=ImageFactsIndex(blocked / "cache" / "image-facts.json"))
    assert loaded.persons and "image index not written" in caplog.text


def test_a_read_only_index_is_used_and_never_written(collection, tmp_path, opened):
    path = tmp_path / "image-facts.json"
    load_collection(collection, images=ImageFactsIndex(path))
    before = path.read_bytes(), path.stat().st_mtime_ns
    touched = portraits(collection)[0]
    status = (collection / "portraits" / touched).stat()
    os.utime(collection / "portraits" / touched, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))
    opened.clear()
    load_collection(collection, images=ImageFactsIndex(path, read_only=True))
    assert opened == [touched], "what the index knows is not opened"
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_a_portrait_that_is_not_an_image_is_refused_with_or_without_an_index(collection, tmp_path):
    from kiosk.collection import check_collection

    broken = portraits(collection)[0]
    index = ImageFactsIndex(tmp_path / "image-facts.json")
    load_collection(collection, images=index)
    (collection / "portraits" / broken).write_bytes(b"not a picture at all")
    report = index.read(collection / "portraits", [broken])
    assert report.problems == {broken: "not an image Pillow can read"}
    assert broken not in json.loads(index.path.read_text())["images"]
    assert any("cannot be opened" in problem.message for problem in check_collection(collection).problems)
