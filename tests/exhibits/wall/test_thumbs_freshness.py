"""The thumbnails' freshness check reads the signatures the collection's check took (the
station's image index), and a picture of a station borrows its thumbnails read only."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from harness.tools import folder_state
from PIL import Image

from exhibits.wall import thumbs
from exhibits.wall.thumbs import INDEX_FILE, current_thumbs, prepare_thumbs, require_thumbs
from kiosk.collection import load_collection
from kiosk.collection.demo import write_demo
from kiosk.collection.imagefacts import ImageFactsIndex


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fresh-demo") / "collection"
    write_demo(folder, count=120, seed=5, workers=1)
    return folder


@pytest.fixture
def collection_dir(demo_dir, tmp_path) -> Path:
    return Path(shutil.copytree(demo_dir, tmp_path / "collection", copy_function=shutil.copy2))


def test_an_up_to_date_check_stats_no_portrait(collection_dir, tmp_path, monkeypatch):
    images = ImageFactsIndex(tmp_path / "cache" / "image-facts.json")
    collection = load_collection(collection_dir, images=images)
    prepare_thumbs(collection, tmp_path / "thumbs", workers=1)

    real_signature = thumbs._signature

    def no_stat(path):
        if str(path).startswith(str(collection_dir)):  # the six silhouettes are the program's own
            raise AssertionError(f"{path} stat-ed again: the collection's check already has its signature")
        return real_signature(path)

    monkeypatch.setattr(thumbs, "_signature", no_stat)
    again = prepare_thumbs(load_collection(collection_dir, images=images), tmp_path / "thumbs", workers=1)
    assert not again.index_written and again.pages_drawn == 0


def test_a_changed_portrait_redraws_its_page(collection_dir, tmp_path):
    images = ImageFactsIndex(tmp_path / "image-facts.json")
    collection = load_collection(collection_dir, images=images)
    first = prepare_thumbs(collection, tmp_path / "thumbs", workers=1)
    person = next(p for p in collection.persons if p.portrait)
    path = collection_dir / "portraits" / person.portrait
    Image.new("RGB", (240, 320), (250, 250, 250)).save(path, "JPEG")
    status = path.stat()
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 2_000_000_000))

    changed = load_collection(collection_dir, images=images)
    assert changed.portrait_signatures[person.portrait] != collection.portrait_signatures[person.portrait]
    report = prepare_thumbs(changed, tmp_path / "thumbs", workers=1)
    assert report.index_written and report.pages_drawn == 1
    tile = report.index.tile(person.person_id)
    with Image.open(report.index.page_path(tile.page)) as page:
        assert page.getpixel((tile.x + 60, tile.y + 80))[0] > 240, "the new, white portrait is drawn"
    assert first.index.key != report.index.key


def link(live: Path, private: Path) -> Path:
    """As `kiosk screenshot` makes its throwaway station's thumbnails folder."""
    private.parent.mkdir(parents=True, exist_ok=True)
    private.symlink_to(live.resolve(), target_is_directory=True)
    return private


def test_a_picture_borrows_the_stations_thumbnails_and_writes_nothing_there(collection_dir, tmp_path):
    collection = load_collection(collection_dir)
    live = tmp_path / "station" / "thumbs"
    prepare_thumbs(collection, live, workers=1)
    before = folder_state(live)

    private = link(live, tmp_path / "picture" / "thumbs")
    index = require_thumbs(collection, private)
    assert private.is_symlink() and index.page_path(1).resolve().parent == live.resolve()
    assert index.page_path(1).read_bytes()[:2] == b"\xff\xd8"
    assert folder_state(live) == before, "the station's thumbnails are read, never written"


def test_a_station_without_thumbnails_gets_them_built(collection_dir, tmp_path):
    collection = load_collection(collection_dir)
    live = tmp_path / "station" / "thumbs"
    private = link(live, tmp_path / "picture" / "thumbs")
    index = require_thumbs(collection, private, workers=1)
    assert (live / INDEX_FILE).is_file() and current_thumbs(collection, live) is not None
    assert private.is_symlink() and len(index.tiles) == len(collection.persons)


def test_thumbnails_of_another_collection_are_left_alone_and_drawn_privately(collection_dir, demo_dir, tmp_path):
    live = tmp_path / "station" / "thumbs"
    prepare_thumbs(load_collection(demo_dir), live, workers=1)
    before = folder_state(live)
    (collection_dir / "persons.csv").write_text(
        "\n".join((collection_dir / "persons.csv").read_text(encoding="utf-8").splitlines()[:-5]) + "\n", encoding="utf-8"
    )
    shorter = load_collection(collection_dir)

    private = link(live, tmp_path / "picture" / "thumbs")
    index = require_thumbs(shorter, private, workers=1)
    assert not private.is_symlink() and index.folder == private and len(index.tiles) == len(shorter.persons)
    assert folder_state(live) == before


def test_a_station_whose_thumbnails_cannot_be_built_gets_a_private_picture(collection_dir, tmp_path):
    blocked = tmp_path / "station"
    blocked.write_text("a file where the station's data folder should be")
    private = link(blocked / "thumbs", tmp_path / "picture" / "thumbs")
    index = require_thumbs(load_collection(collection_dir), private, workers=1)
    assert not private.is_symlink() and index.folder == private
