"""Thumbnails of a small demo collection: every person's tile, shared silhouettes,
rebuilds that follow the collection, and builds that die half-way."""

from __future__ import annotations

import csv
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from exhibits.wall.thumbs import (
    INDEX_FILE,
    PARTIAL_SUFFIX,
    SILHOUETTE_PAGE,
    TILE_SIZE,
    ThumbIndex,
    _key,
    _plan,
    _write_atomically,
    draw_tile,
    prepare_thumbs,
)
from kiosk.collection import AGE_BANDS, Collection, load_collection, silhouette_path
from kiosk.collection.demo import write_demo

ROOT = Path(__file__).resolve().parents[3]
PERSONS = 300


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wall-demo") / "collection"
    write_demo(folder, count=PERSONS, seed=11, workers=1)
    return folder


@pytest.fixture
def collection_dir(demo_dir: Path, tmp_path: Path) -> Path:
    """A copy to change; copy2 keeps the mtimes, as a restore from backup would."""
    folder = tmp_path / "collection"
    shutil.copytree(demo_dir, folder, copy_function=shutil.copy2)
    return folder


@pytest.fixture(scope="module")
def built(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    collection = load_collection(demo_dir)
    report = prepare_thumbs(collection, tmp_path_factory.mktemp("thumbs"), workers=2)
    return collection, report


def tile_image(index: ThumbIndex, person_id: str) -> Image.Image:
    tile = index.tile(person_id)
    with Image.open(index.page_path(tile.page)) as page:
        return page.convert("RGB").crop((tile.x, tile.y, tile.x + tile.width, tile.y + tile.height))


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, 0-255."""
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def test_every_person_has_a_tile_showing_their_image(built):
    collection, report = built
    index = report.index
    assert set(index.tiles) == {p.person_id for p in collection.persons}
    assert report.index_written and report.pages_drawn == len(index.pages)
    for page in index.pages:
        with Image.open(index.folder / page.file) as image:
            assert image.size == (page.width, page.height)
    with_portrait = [p for p in collection.persons if p.portrait]
    for person in (with_portrait[0], with_portrait[len(with_portrait) // 2], with_portrait[-1]):
        shown = tile_image(index, person.person_id)
        assert shown.size == TILE_SIZE
        assert difference(shown, draw_tile(collection.image_path(person))) < 4, "JPEG noise only"
        assert index.tile(person.person_id).page != SILHOUETTE_PAGE
    # Neighbouring tiles really are different faces, so the comparison above means something.
    assert difference(tile_image(index, with_portrait[0].person_id), draw_tile(collection.image_path(with_portrait[1]))) > 8


def test_persons_without_a_photograph_share_their_age_band_s_silhouette(built):
    collection, report = built
    index = report.index
    without = [p for p in collection.persons if not p.portrait]
    assert len(without) > 20
    silhouette_tiles = {index.tile(p.person_id) for p in without}
    assert {tile.page for tile in silhouette_tiles} == {SILHOUETTE_PAGE}
    assert len(silhouette_tiles) <= len(AGE_BANDS)
    for person in without[:10]:
        expected = draw_tile(silhouette_path(collection.age_band_of(person)))
        assert difference(tile_image(index, person.person_id), expected) < 4
    # One tile per photograph on the photo pages, none for the persons without.
    photo_tiles = {t for t in index.tiles.values() if t.page != SILHOUETTE_PAGE}
    assert len(photo_tiles) == len({p.portrait for p in collection.persons if p.portrait})


def test_two_persons_naming_one_file_share_its_tile(demo_dir, tmp_path):
    collection = load_collection(demo_dir)
    first, second = [p for p in collection.persons if p.portrait][:2]
    persons = tuple(dataclasses.replace(p, portrait=first.portrait) if p is second else p for p in collection.persons)
    index = prepare_thumbs(Collection(collection.root, collection.transports, persons), tmp_path / "thumbs").index
    assert index.tile(first.person_id) == index.tile(second.person_id)


@pytest.mark.parametrize("page_grid", [(8, 6), (2, 3), (1, 1)])
def test_the_key_a_start_computes_is_the_key_of_the_whole_plan(demo_dir, tmp_path, page_grid):
    """A start compares only `_key` with the index; a build writes `_plan`'s: they must
    agree on every shape (shared and missing photographs, full and partial pages, and a
    collection with no signatures of its check, whose files are stat-ed)."""
    shutil.copytree(demo_dir, tmp_path / "collection", copy_function=shutil.copy2)
    collection = load_collection(tmp_path / "collection")
    with_portrait = [p for p in collection.persons if p.portrait]
    first, second, gone = with_portrait[:3]
    (tmp_path / "collection" / "portraits" / gone.portrait).unlink()
    persons = tuple(dataclasses.replace(p, portrait=first.portrait) if p is second else p for p in collection.persons)
    for shape in (
        collection,
        Collection(collection.root, collection.transports, persons, collection.portrait_signatures),
        Collection(collection.root, collection.transports, persons),
        Collection(collection.root, collection.transports, persons[: 2 * page_grid[0] * page_grid[1] + 1]),
    ):
        assert _key(shape, page_grid) == _plan(shape, page_grid)[0]
    assert _key(collection, page_grid) != _key(Collection(collection.root, collection.transports, persons), page_grid)


def test_an_up_to_date_folder_is_left_alone(built):
    collection, report = built
    files = {path: path.stat().st_mtime_ns for path in report.index.folder.iterdir()}
    again = prepare_thumbs(collection, report.index.folder)
    assert not again.index_written and again.pages_drawn == 0
    assert again.index.key == report.index.key
    assert {path: path.stat().st_mtime_ns for path in report.index.folder.iterdir()} == files


def test_an_index_read_from_its_file_holds_the_collection_s_own_person_ids(built):
    """Not a second copy of every person id (issue 18: a wall's memory)."""
    collection, report = built
    again = prepare_thumbs(collection, report.index.folder).index
    read_alone = ThumbIndex.read(report.index.folder)  # without a collection: the file's strings
    assert {id(person_id) for person_id in read_alone.tiles}.isdisjoint(id(person.person_id) for person in collection.persons)
    held = {id(person_id) for person_id in again.tiles}
    assert held == {id(person.person_id) for person in collection.persons}
    assert all(again.tile(person.person_id) == report.index.tile(person.person_id) for person in collection.persons)


def test_a_replaced_photograph_redraws_only_its_page(collection_dir, tmp_path):
    folder = tmp_path / "thumbs"
    collection = load_collection(collection_dir)
    before = prepare_thumbs(collection, folder)
    first, other = [p for p in collection.persons if p.portrait][:2]
    # The archive found a better print of the same photograph: same name, new content.
    shutil.copyfile(collection.image_path(other), collection.image_path(first))

    after = prepare_thumbs(load_collection(collection_dir), folder)
    assert after.index_written and after.pages_drawn == 1
    assert after.pages_reused == len(before.index.pages) - 1
    assert difference(tile_image(after.index, first.person_id), draw_tile(collection.image_path(other))) < 4
    old_page = before.index.pages[before.index.tile(first.person_id).page].file
    assert not (folder / old_page).exists(), "the page no index names is gone"
    assert sorted(p.name for p in folder.glob("page-*")) == sorted(page.file for page in after.index.pages)


def test_a_new_photograph_in_persons_csv_rebuilds(collection_dir, tmp_path):
    folder = tmp_path / "thumbs"
    before = prepare_thumbs(load_collection(collection_dir), folder)
    persons_csv = collection_dir / "persons.csv"
    with open(persons_csv, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    portrait_column = header.index("portrait")
    row = next(r for r in rows[1:] if not r[portrait_column])
    person_id = row[header.index("person_id")]
    some_portrait = next(r[portrait_column] for r in rows[1:] if r[portrait_column])
    row[portrait_column] = f"{person_id}.jpg"
    shutil.copyfile(collection_dir / "portraits" / some_portrait, collection_dir / "portraits" / f"{person_id}.jpg")
    with open(persons_csv, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    assert before.index.tile(person_id).page == SILHOUETTE_PAGE

    collection = load_collection(collection_dir)
    after = prepare_thumbs(collection, folder)
    assert after.index_written and after.index.key != before.index.key
    assert after.index.tile(person_id).page != SILHOUETTE_PAGE
    assert difference(tile_image(after.index, person_id), draw_tile(collection_dir / "portraits" / some_portrait)) < 4
    assert ThumbIndex.read(folder).key == after.index.key


def test_an_unreadable_photograph_shows_the_silhouette(collection_dir, tmp_path):
    collection = load_collection(collection_dir)
    person = next(p for p in collection.persons if p.portrait)
    collection.image_path(person).write_bytes(b"\xff\xd8\xff not a JPEG after all")
    report = prepare_thumbs(collection, tmp_path / "thumbs")
    assert report.unreadable == (f"portraits/{person.portrait}",)
    expected = draw_tile(silhouette_path(collection.age_band_of(person)))
    assert difference(tile_image(report.index, person.person_id), expected) < 4


def test_a_write_killed_half_way_leaves_no_file_under_the_real_name(tmp_path):
    target = tmp_path / "page-x.jpg"
    # A process killed while it writes: os._exit skips every cleanup, as SIGKILL would.
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from exhibits.wall.thumbs import _write_atomically\n"
        "def half(handle):\n"
        "    handle.write(b'\\xff\\xd8' + b'0' * 5000)\n"
        "    handle.flush()\n"
        "    os._exit(9)\n"
        "_write_atomically(Path(sys.argv[1]), half)\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(target)], cwd=ROOT, timeout=60)
    assert result.returncode == 9
    assert not target.exists()
    assert (tmp_path / f".page-x.jpg{PARTIAL_SUFFIX}").exists()

    def fails_half_way(handle) -> None:
        handle.write(b"half a page")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        _write_atomically(target, fails_half_way)
    assert not target.exists()
    assert not (tmp_path / f".page-x.jpg{PARTIAL_SUFFIX}").exists(), "an error we see cleans up after itself"


def test_a_killed_build_leaves_only_whole_pages_and_the_next_build_reuses_them(collection_dir, tmp_path):
    folder = tmp_path / "thumbs"
    # One tile per page and one process: hundreds of fsynced pages, so the kill lands mid-build.
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from kiosk.collection import load_collection\n"
        "from exhibits.wall.thumbs import prepare_thumbs\n"
        "prepare_thumbs(load_collection(sys.argv[1]), Path(sys.argv[2]), workers=1, page_grid=(1, 1))\n"
    )
    build = subprocess.Popen([sys.executable, "-c", script, str(collection_dir), str(folder)], cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(list(folder.glob("page-*.jpg"))) < 8:
            assert build.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
    finally:
        os.killpg(build.pid, signal.SIGKILL)
        build.wait(timeout=10)

    assert not (folder / INDEX_FILE).exists(), "killed before the end: no index names any page"
    pages = list(folder.glob("page-*.jpg"))
    for path in pages:
        with Image.open(path) as image:
            image.load()  # raises on a cut JPEG
            assert image.size[0] % TILE_SIZE[0] == 0 and image.size[1] % TILE_SIZE[1] == 0

    report = prepare_thumbs(load_collection(collection_dir), folder, workers=1, page_grid=(1, 1))
    assert report.pages_reused >= len(pages)
    assert not list(folder.glob(f".*{PARTIAL_SUFFIX}"))
    assert report.index.pages_present()


def test_tiles_are_kept_packed_and_read_back_whole():
    from exhibits.wall.thumbs import Tile, TileMap

    tiles = {"a": Tile(0, 0, 0, 120, 160), "b": Tile(7, 840, 800, 120, 160), "c": Tile(431, 120, 160, 120, 160)}
    packed = TileMap.of(tiles.items(), (120, 160))
    assert packed is not None and dict(packed) == tiles and len(packed) == 3 and "b" in packed and "z" not in packed
    assert packed.unpack(packed.code("c")) == tiles["c"]
    # An index whose tiles are not all of its size, or do not fit a code, is not used (it is drawn again).
    assert TileMap.of([("a", (0, 0, 0, 100, 160))], (120, 160)) is None
    assert TileMap.of([("a", (0, 70_000, 0, 120, 160))], (120, 160)) is None
