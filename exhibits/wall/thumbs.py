"""Thumbnails for the portrait wall: every person's image as a small tile on atlas pages.

The wall shows up to 25,843 faces in one scrolling grid. Opening 25,843 files while a
visitor flings through them would stall every frame, so each image is reduced once, with
Pillow and without Kivy, to a tile of TILE_SIZE pixels (120x160: the grid's cell at the
1280x800 design size, the 3:4 shape of the portraits) and packed, in the order of
persons.csv, onto JPEG pages of PAGE_GRID tiles (8x6 tiles: 960x960 pixels). A page is
one texture for the grid: one file read, one decode and one upload for 48 faces. Pages
stay small on purpose: a filtered grid (one family, one place of birth) draws tiles
scattered over many pages, and an upload of 960x960 costs the window under a millisecond
where 1920x1920 costs over ten.

The photograph of a person may be missing (about 5,000 persons have none): the six age
silhouettes get one tile each, on a page of their own, shared by every person without a
photograph. Two persons naming the same file share its tile too.

A build is keyed by what the tiles depend on, not by file names:
- a page's file name is a hash of its tiles' sources (each image's name, size in bytes and
  mtime) and of the tile geometry, so an unchanged page is never drawn again, and a
  replaced photograph (new mtime or size) redraws only its page. The sizes and mtimes are
  those the collection's check took (`Collection.portrait_signatures`, from the station's
  image index, kiosk.collection.imagefacts): a start stats each photograph once. A photograph added in
  the middle of the list moves the tiles after it, so their pages are drawn again: new
  photographs come once a year, and a full build takes seconds (bench/wall.py);
- the index's key hashes every person's id and tile source (derived from persons.csv and
  transports.csv: the transport's date chooses the silhouette's age) and every page's
  key, so any change to the collection rewrites the index.

Writes are atomic (temporary name, fsync, rename): a page named page-*.jpg is always
whole, and the index, written last, names only pages that are. A killed build leaves
at most `.partial` files, removed by the next build, and pages the next build reuses.
Pages no index names are removed after the new index is in place. One build at a time
per folder (an advisory lock): a station starting while `kiosk` builds waits for it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageOps, UnidentifiedImageError

from kiosk.collection.model import AGE_BANDS, Collection, silhouette_path
from kiosk.errors import KioskError
from kiosk.files import fsync_directory, replacing

log = logging.getLogger(__name__)

TILE_SIZE = (120, 160)
"""Width and height of a tile in pixels: the grid's cell at the 1280x800 design size."""
PAGE_GRID = (8, 6)
"""Columns and rows of tiles on a full page (960x960 pixels)."""
JPEG_QUALITY = 88
"""Faces stay clean at their drawn size; a full page is about 180 KB."""
FORMAT_VERSION = 1
"""Part of every key: raise it when the drawing of a tile changes, and everything redraws."""

CACHE_DIR_NAME = "thumbs"
INDEX_FILE = "index.json"
PAGE_PREFIX = "page-"
PAGE_SUFFIX = ".jpg"
PARTIAL_SUFFIX = ".partial"
LOCK_FILE = ".lock"
SILHOUETTE_PAGE = 0
"""The page holding the six age silhouettes; photographs start on page 1."""

_BACKGROUND = (128, 126, 122)
"""What shows through a transparent image: a neutral mid grey, neither dark nor bright."""
_CENTERING = (0.5, 0.4)
"""Where a cropped photograph keeps its middle: a little above centre, where faces are."""


class Tile(NamedTuple):
    """Where one person's tile sits: page number and pixel rectangle on the page image.

    x and y count from the page image's top left corner, as Pillow does.
    """

    page: int
    x: int
    y: int
    width: int
    height: int


class TileMap(Mapping[str, Tile]):
    """person_id -> Tile, each kept as one int (page, x and y packed): 25,843 named
    tuples and their numbers would hold 5 MB of a wall's memory all day.

    All tiles of one build have the same size (SIZE); `code(person_id)` is the packed
    int, `unpack` reads it (the grid keeps codes, not tiles).
    """

    __slots__ = ("_codes", "size")

    def __init__(self, codes: dict[str, int], size: tuple[int, int]):
        self._codes = codes
        self.size = size

    @classmethod
    def of(
        cls, tiles: Iterable[tuple[str, Sequence[int]]], size: tuple[int, int], collection: Collection | None = None
    ) -> TileMap | None:
        """The map of TILES ((person_id, (page, x, y, width, height)) pairs), or None when
        one is not of SIZE or does not fit a code.

        COLLECTION: keyed by its own person id strings, not by the copies read from the
        index file: 25,843 strings (1.5 MB) not held twice (issue 18)."""
        own = collection.by_id if collection is not None else {}
        codes: dict[str, int] = {}
        shared: dict[int, int] = {}  # persons on one tile (a silhouette's, a shared photograph's) share its number
        for person_id, (page, x, y, width, height) in tiles:
            if (width, height) != size or not (0 <= x < _XY_LIMIT and 0 <= y < _XY_LIMIT and page >= 0):
                return None
            code = page << 32 | x << 16 | y
            person = own.get(person_id)
            codes[person.person_id if person is not None else person_id] = shared.setdefault(code, code)
        return cls(codes, size)

    def code(self, person_id: str) -> int:
        return self._codes[person_id]

    def unpack(self, code: int) -> Tile:
        return Tile(code >> 32, code >> 16 & 0xFFFF, code & 0xFFFF, *self.size)

    def __getitem__(self, person_id: str) -> Tile:
        return self.unpack(self._codes[person_id])

    def __contains__(self, person_id: object) -> bool:
        return person_id in self._codes

    def __iter__(self) -> Iterator[str]:
        return iter(self._codes)

    def __len__(self) -> int:
        return len(self._codes)


_XY_LIMIT = 1 << 16


def code_page(code: int) -> int:
    """The page of a packed tile (`TileMap.code`)."""
    return code >> 32


@dataclass(frozen=True, slots=True)
class Page:
    file: str
    """File name inside the thumbs folder."""
    width: int
    height: int


class ThumbIndex:
    """A finished build: the pages and where every person's tile is on them."""

    __slots__ = ("folder", "key", "pages", "tile_size", "tiles")

    def __init__(self, folder: Path, key: str, tile_size: tuple[int, int], pages: tuple[Page, ...], tiles: TileMap):
        self.folder = folder
        self.key = key
        self.tile_size = tile_size
        self.pages = pages
        self.tiles = tiles
        """person_id -> Tile, for every person of the collection (`TileMap.code`: packed)."""

    def __repr__(self) -> str:
        return f"<ThumbIndex {self.folder} pages={len(self.pages)} persons={len(self.tiles)}>"

    def page_path(self, page: int) -> Path:
        return self.folder / self.pages[page].file

    def tile(self, person_id: str) -> Tile:
        return self.tiles[person_id]

    @classmethod
    def read(cls, folder: Path, collection: Collection | None = None) -> ThumbIndex | None:
        """The index in FOLDER, or None when there is none or it cannot be used as it is
        (COLLECTION: its tiles keyed by the collection's own id strings, `TileMap.of`)."""
        try:
            data = json.loads((folder / INDEX_FILE).read_text(encoding="utf-8"))
            if data.get("version") != FORMAT_VERSION:
                return None
            pages = tuple(Page(file, width, height) for file, width, height in data["pages"])
            tile_size = (int(data["tile"][0]), int(data["tile"][1]))
            tiles = TileMap.of(data["persons"].items(), tile_size, collection)
            if tiles is None:
                return None
            return cls(folder, str(data["key"]), tile_size, pages, tiles)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def pages_present(self) -> bool:
        return all((self.folder / page.file).is_file() for page in self.pages)


@dataclass(frozen=True)
class ThumbReport:
    index: ThumbIndex
    pages_drawn: int
    pages_reused: int
    tiles_drawn: int
    unreadable: tuple[str, ...]
    """Images that could not be read; their persons show their age's silhouette instead."""
    seconds: float
    index_written: bool
    """False when the folder already matched the collection and nothing was written."""


def cache_folder(data_dir: Path) -> Path:
    """Where a station keeps its thumbnails: rebuilt from the collection whenever needed."""
    return data_dir / CACHE_DIR_NAME


# -- planning ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Source:
    """One image that becomes one tile."""

    name: str
    """Stable name in keys: "portraits/<file>" or "silhouette/<band>"."""
    path: Path | str
    fallback: Path
    """Drawn instead when PATH cannot be read: the silhouette for the person's age."""
    signature: tuple[int, int]
    """(size in bytes, mtime in ns), (-1, -1) when the file is missing."""


@dataclass(frozen=True, slots=True)
class _PagePlan:
    file: str
    width: int
    height: int
    tiles: tuple[tuple[int, int, _Source], ...]
    """(x, y, source) for each tile on the page."""


def _signature(path: Path | str) -> tuple[int, int]:
    try:
        status = os.stat(path)
    except OSError:
        return (-1, -1)
    return (status.st_size, status.st_mtime_ns)


def _page_digest(columns: int):
    """A page's name is this digest, fed each of its sources (`_feed_source`), cut short."""
    return hashlib.sha256(json.dumps([FORMAT_VERSION, TILE_SIZE, columns, JPEG_QUALITY]).encode())


def _feed_source(digest, name: str, signature: tuple[int, int]) -> None:
    digest.update(f"\n{name}\x00{signature[0]}\x00{signature[1]}".encode())


def _page_file(digest) -> str:
    return f"{PAGE_PREFIX}{digest.hexdigest()[:32]}{PAGE_SUFFIX}"


def _page_plan(sources: Sequence[_Source], columns: int) -> _PagePlan:
    width, height = TILE_SIZE
    rows = -(-len(sources) // columns)
    digest = _page_digest(columns)
    for source in sources:
        _feed_source(digest, source.name, source.signature)
    tiles = tuple(((i % columns) * width, (i // columns) * height, source) for i, source in enumerate(sources))
    page_width = min(len(sources), columns) * width
    return _PagePlan(_page_file(digest), page_width, rows * height, tiles)


def _silhouette_sources() -> list[_Source]:
    paths = {band: silhouette_path(band) for band in AGE_BANDS}
    return [_Source(f"silhouette/{band}", path, path, _signature(path)) for band, path in paths.items()]


def _whole_key(page_files: Iterable[str], collection: Collection) -> str:
    """The key of a build: its pages' names, then what each person shows, in the
    collection's order ("portraits/<file>" or "silhouette/<band>")."""
    digest = hashlib.sha256(f"{FORMAT_VERSION}\n".encode())
    for file in page_files:
        digest.update(f"{file}\n".encode())
    for person in collection.persons:
        name = f"portraits/{person.portrait}" if person.portrait else f"silhouette/{collection.age_band_of(person)}"
        digest.update(f"{person.person_id}\x00{name}\n".encode())
    return digest.hexdigest()


def _key(collection: Collection, page_grid: tuple[int, int]) -> str:
    """The key `_plan` gives, computed as the persons go by: nothing is kept per person.

    A wall's every start asks it; the whole plan (a source, a slot and a tile for each
    of 20,000 portraits) is made only when pages must be drawn. Those objects, made and
    dropped beside what the wall keeps, left 6 MB of its memory in holes (issue 18)."""
    columns, rows = page_grid
    per_page = columns * rows
    files = [_page_plan(_silhouette_sources(), columns).file]
    checked = collection.portrait_signatures
    portraits_dir = f"{collection.root / 'portraits'}{os.sep}"
    seen: set[str] = set()
    digest, on_page = None, 0
    for person in collection.persons:
        portrait = person.portrait
        if not portrait or portrait in seen:
            continue
        seen.add(portrait)
        if digest is None:
            digest = _page_digest(columns)
        _feed_source(digest, f"portraits/{portrait}", checked.get(portrait) or _signature(portraits_dir + portrait))
        on_page += 1
        if on_page == per_page:
            files.append(_page_file(digest))
            digest, on_page = None, 0
    if digest is not None:
        files.append(_page_file(digest))
    return _whole_key(files, collection)


def _plan(
    collection: Collection, page_grid: tuple[int, int]
) -> tuple[str, list[_PagePlan], Callable[[], dict[str, Tile]]]:
    """The key of the whole, the pages to have, and every person's tile on them (when asked)."""
    columns, rows = page_grid
    per_page = columns * rows
    silhouettes = {band: silhouette_path(band) for band in AGE_BANDS}
    silhouette_sources = _silhouette_sources()
    # Page 0 is the silhouettes: six tiles, the same for every collection.
    pages: list[list[_Source]] = [silhouette_sources]
    slot_of: dict[str, tuple[int, int]] = {s.name: (SILHOUETTE_PAGE, i) for i, s in enumerate(silhouette_sources)}
    person_source: list[tuple[str, str]] = []
    # The signatures the collection's check took (from its image index): no second stat.
    checked = collection.portrait_signatures
    portraits_dir = f"{collection.root / 'portraits'}{os.sep}"
    for person in collection.persons:
        if not person.portrait:
            person_source.append((person.person_id, f"silhouette/{collection.age_band_of(person)}"))
            continue
        name = f"portraits/{person.portrait}"
        if name not in slot_of:
            band = collection.age_band_of(person)
            portrait = portraits_dir + person.portrait  # a str: 20,000 Path objects cost a start 0.1 s
            signature = checked.get(person.portrait) or _signature(portrait)
            if len(pages) == 1 or len(pages[-1]) == per_page:
                pages.append([])
            pages[-1].append(_Source(name, portrait, silhouettes[band], tuple(signature)))
            slot_of[name] = (len(pages) - 1, len(pages[-1]) - 1)
        person_source.append((person.person_id, name))

    plans = [_page_plan(sources, columns) for sources in pages]

    def tiles() -> dict[str, Tile]:
        # Only when the index is written: an up-to-date start reads them from the index.
        width, height = TILE_SIZE
        placed: dict[str, Tile] = {}
        for person_id, name in person_source:
            page, slot = slot_of[name]
            placed[person_id] = Tile(page, (slot % columns) * width, (slot // columns) * height, width, height)
        return placed

    return _whole_key((plan.file for plan in plans), collection), plans, tiles


# -- building ----------------------------------------------------------------------------


def prepare_thumbs(
    collection: Collection, folder: Path, *, workers: int | None = None, page_grid: tuple[int, int] = PAGE_GRID
) -> ThumbReport:
    """Make FOLDER hold the thumbnails of COLLECTION, drawing only the pages it lacks.

    Returns at once when the folder is up to date: the images' signatures are those the
    collection's check took (a stat of each image only for a collection without them). Pages are
    drawn in WORKERS processes (default: every core) when there are more than a few.
    """
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    with _build_lock(folder):
        current = ThumbIndex.read(folder, collection)
        if current is not None and current.key == _key(collection, page_grid) and current.pages_present():
            return ThumbReport(current, 0, len(current.pages), 0, (), time.perf_counter() - started, index_written=False)

        key, plans, place_tiles = _plan(collection, page_grid)
        _remove_partials(folder)
        missing = [plan for plan in plans if not (folder / plan.file).is_file()]
        unreadable = _draw_pages(missing, folder, workers)
        if missing:
            fsync_directory(folder)
        pages = tuple(Page(plan.file, plan.width, plan.height) for plan in plans)
        tiles = place_tiles()
        _write_index(folder, key, pages, tiles)
        tile_map = TileMap.of(tiles.items(), TILE_SIZE)
        if tile_map is None:  # pages of 65,536 pixels and more: never drawn here
            raise ValueError(f"tiles do not fit a page of at most {_XY_LIMIT} pixels")
        index = ThumbIndex(folder, key, TILE_SIZE, pages, tile_map)
        _remove_stale_pages(folder, {page.file for page in pages})
    if unreadable:
        log.warning("images unreadable, silhouettes shown instead", extra={"count": len(unreadable), "first": unreadable[0]})
    return ThumbReport(
        index,
        pages_drawn=len(missing),
        pages_reused=len(plans) - len(missing),
        tiles_drawn=sum(len(plan.tiles) for plan in missing),
        unreadable=tuple(unreadable),
        seconds=time.perf_counter() - started,
        index_written=True,
    )


def current_thumbs(collection: Collection, folder: Path, *, page_grid: tuple[int, int] = PAGE_GRID) -> ThumbIndex | None:
    """The thumbnails in FOLDER if they are those of COLLECTION, else None; reads only,
    writes nothing, takes no lock (a look at a live station's folder)."""
    current = ThumbIndex.read(folder, collection)
    if current is not None and current.key == _key(collection, page_grid) and current.pages_present():
        return current
    return None


def _borrow(collection: Collection, live: Path, workers: int | None) -> ThumbIndex | None:
    try:
        if not (live / INDEX_FILE).exists():
            return prepare_thumbs(collection, live, workers=workers).index
    except OSError as error:
        log.warning("the station's thumbnails cannot be built, drawn privately", extra={"path": str(live), "problem": str(error)})
        return None
    borrowed = current_thumbs(collection, live)
    if borrowed is None:
        log.warning("the station's thumbnails are of another collection, drawn privately", extra={"path": str(live)})
    return borrowed


def require_thumbs(collection: Collection, folder: Path, *, workers: int | None = None) -> ThumbIndex:
    """`prepare_thumbs` for a station: the index, or a KioskError a technician can act on.

    FOLDER a link to a station's own thumbnails (a picture of that station, `kiosk
    screenshot`: drawing them again takes seconds): they are read, never written; built
    there only when the station has none at all (it would draw the same at its next
    start). Of another collection, they are left alone: the link is replaced by a folder
    of its own, drawn anew.
    """
    if folder.is_symlink():
        borrowed = _borrow(collection, folder.resolve(), workers)
        if borrowed is not None:
            return borrowed
        folder.unlink()
    try:
        return prepare_thumbs(collection, folder, workers=workers).index
    except OSError as error:
        raise KioskError(
            f"the portrait thumbnails cannot be written to {folder}: {error.strerror or error}",
            "check that the station's data folder exists, is writable and has free space",
        ) from error


@contextmanager
def _build_lock(folder: Path) -> Iterator[None]:
    with open(folder / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _draw_pages(plans: Sequence[_PagePlan], folder: Path, workers: int | None) -> list[str]:
    """Draw PLANS into FOLDER, in parallel processes when it is worth starting them."""
    workers = workers or os.cpu_count() or 1
    unreadable: list[str] = []
    if workers == 1 or len(plans) < 4:
        for plan in plans:
            unreadable.extend(_draw_page(plan, folder))
        return unreadable
    # fork starts workers at once and needs no import of the caller's main module, but it
    # copies only this thread: with other threads running (a station's page loader), a
    # lock they hold could be copied held, so then spawn.
    # Imported here: a start that only checks the pages does without them (4 MB, issue 18).
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_all_start_methods, get_context

    forking = threading.active_count() == 1 and "fork" in get_all_start_methods()
    context = get_context("fork" if forking else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        for failed in pool.map(_draw_page, plans, [folder] * len(plans), chunksize=4):
            unreadable.extend(failed)
    return unreadable


def _draw_page(plan: _PagePlan, folder: Path) -> list[str]:
    """Draw one page and write it atomically; return the names of images drawn as silhouettes."""
    page = Image.new("RGB", (plan.width, plan.height), _BACKGROUND)
    unreadable: list[str] = []
    for x, y, source in plan.tiles:
        try:
            tile = draw_tile(source.path)
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
            unreadable.append(source.name)
            tile = draw_tile(source.fallback)
        page.paste(tile, (x, y))
    _write_atomically(folder / plan.file, lambda handle: page.save(handle, "JPEG", quality=JPEG_QUALITY))
    return unreadable


def draw_tile(path: Path, size: tuple[int, int] = TILE_SIZE) -> Image.Image:
    """One image as a tile: upright, RGB, cropped to the tile's shape and reduced to it.

    Photographs from the archive come in every shape; cropping (a little above centre)
    keeps every cell filled and every face the same size, where letterboxing would leave
    bars of different widths across the wall.
    """
    with Image.open(path) as image:
        # A JPEG decoder can reduce by 1/2, 1/4, 1/8 while decoding: far less work.
        image.draft("RGB", size)
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            image = image.convert("RGBA")
            ground = Image.new("RGBA", image.size, (*_BACKGROUND, 255))
            image = Image.alpha_composite(ground, image)
        image = image.convert("RGB")
        return ImageOps.fit(image, size, Image.Resampling.LANCZOS, centering=_CENTERING)


def _write_atomically(target: Path, write) -> None:
    """Write under a temporary name, fsync, rename: TARGET is whole or absent, never cut.

    The folder is fsynced once by the caller, after all its pages are in place.
    """
    with replacing(target, partial=target.with_name(f".{target.name}{PARTIAL_SUFFIX}"), mode=0o644, fsync_folder=False) as handle:
        write(handle)


def _write_index(folder: Path, key: str, pages: Sequence[Page], tiles: Mapping[str, Tile]) -> None:
    data = {
        "version": FORMAT_VERSION,
        "key": key,
        "tile": list(TILE_SIZE),
        "pages": [[page.file, page.width, page.height] for page in pages],
        "persons": {person_id: list(tile) for person_id, tile in tiles.items()},
    }
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    _write_atomically(folder / INDEX_FILE, lambda handle: handle.write(text.encode("utf-8")))
    fsync_directory(folder)


def _remove_partials(folder: Path) -> None:
    """What a killed build left: temporary files, never renamed into place."""
    for path in folder.glob(f".*{PARTIAL_SUFFIX}"):
        path.unlink(missing_ok=True)


def _remove_stale_pages(folder: Path, keep: set[str]) -> None:
    """Pages of earlier builds: removed only once the index that replaced them is in place."""
    for path in folder.glob(f"{PAGE_PREFIX}*{PAGE_SUFFIX}"):
        if path.name not in keep:
            path.unlink(missing_ok=True)

