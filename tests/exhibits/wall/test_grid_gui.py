"""The portrait grid in a real window under Xvfb, touched through X (xdotool): the right
face in the right cell, taps that choose, drags and flings that only move, and page
textures that arrive without holding up a frame."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from exhibits.wall.thumbs import SILHOUETTE_PAGE, prepare_thumbs
from kiosk.collection import load_collection
from kiosk.collection.demo import write_demo

pytestmark = pytest.mark.gui

PERSONS = 300


@pytest.fixture(scope="module")
def thumbs(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("wall-grid")
    write_demo(folder / "collection", count=PERSONS, seed=5, workers=1)
    collection = load_collection(folder / "collection")
    return collection, prepare_thumbs(collection, folder / "thumbs").index


@pytest.fixture
def wall(display, thumbs, tmp_path):
    """make(**grid_options) -> (driver, grid, selected): a window filled by one grid."""
    from kiosk.shell import prepare_kivy

    prepare_kivy(width=1280, height=800, fullscreen=False, kivy_home=tmp_path / "kivy", title="kiosk grid test")
    from kivy.app import App
    from kivy.uix.floatlayout import FloatLayout

    from exhibits.wall.grid import PortraitGrid
    from kiosk.shell.driver import StationDriver

    collection, index = thumbs
    started = []

    class GridApp(App):
        def build(self):
            return FloatLayout()

    def make(index=index, **options):
        grid = PortraitGrid(index, **options)
        selected: list[str] = []
        grid.bind(on_select=lambda _grid, person_id: selected.append(person_id))
        app = GridApp()
        driver = StationDriver(app).start()
        app.root.add_widget(grid)
        grid.show([person.person_id for person in collection.persons])
        started.append((driver, grid))
        driver.frames(2)
        return driver, grid, selected

    yield make
    for driver, grid in started:
        grid.close()
        driver.stop()


def faces_in_view(driver, grid, timeout: float = 10.0) -> None:
    cells = visible_cells(grid)
    driver.wait_until(lambda: all(grid.tile_loaded(i) for i in cells), timeout=timeout, what="the faces in view")


def visible_cells(grid) -> list[int]:
    from kivy.core.window import Window

    cells = []
    for index in range(len(grid.person_ids)):
        _x, y, _w, h = grid.cell_at(index)
        if y >= grid.y and y + h <= min(grid.top, Window.height):
            cells.append(index)
    return cells


def cell_picture(driver, grid, index: int, folder: Path) -> Image.Image:
    from kivy.core.window import Window

    picture = Image.open(driver.screenshot(folder / f"cell-{index}.png")).convert("RGB")
    x, y, width, height = grid.cell_at(index)
    top = Window.height - (y + height)
    return picture.crop((round(x) + 2, round(top) + 2, round(x + width) - 2, round(top + height) - 2))


def expected_picture(collection, grid, person_id: str) -> Image.Image:
    from exhibits.wall.thumbs import draw_tile

    _x, _y, width, height = grid.cell_at(grid.index_of(person_id))
    tile = draw_tile(collection.image_path(collection.by_id[person_id])).resize((round(width), round(height)))
    return tile.crop((2, 2, round(width) - 2, round(height) - 2))


def difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b.resize(a.size))).mean) / 3


def centre(grid, index: int) -> tuple[float, float]:
    x, y, width, height = grid.cell_at(index)
    return x + width / 2, y + height / 2


def drag(driver, start: tuple[float, float], end: tuple[float, float], steps: int, step_s: float, hold_s: float = 0.0) -> None:
    """A finger put down at START, moved to END in STEPS, held still HOLD_S, lifted.

    Real X pointer events from one xdotool run (one run per step would take longer than
    the steps), while the window keeps drawing frames, so Kivy sees the motion as it
    happens and the scroll effect measures a true speed.
    """
    from kivy.core.window import Window

    def screen(point: tuple[float, float]) -> list[str]:
        return [str(int(point[0])), str(int(Window.height - point[1]))]

    window = driver.window_id()
    command = [shutil.which("xdotool"), "mousemove", "--window", window, *screen(start), "mousedown", "1"]
    for step in range(1, steps + 1):
        at = (start[0] + (end[0] - start[0]) * step / steps, start[1] + (end[1] - start[1]) * step / steps)
        command += ["sleep", f"{step_s:.3f}", "mousemove", "--window", window, *screen(at)]
    command += ["sleep", f"{hold_s:.3f}", "mouseup", "1"]
    pointer = subprocess.Popen(command)
    try:
        while pointer.poll() is None:
            driver.frames()
    finally:
        pointer.wait(timeout=10)
    assert pointer.returncode == 0
    driver.frames(2)


def test_each_cell_shows_its_person_s_face(wall, thumbs, tmp_path):
    collection, _index = thumbs
    driver, grid, _selected = wall()
    faces_in_view(driver, grid)
    assert grid.columns == 9 and len(visible_cells(grid)) >= 36
    with_photo = next(p.person_id for p in collection.persons[10:] if p.portrait)
    without = next(p.person_id for p in collection.persons if not p.portrait)
    for person_id in (collection.persons[0].person_id, with_photo, without):
        shown = cell_picture(driver, grid, grid.index_of(person_id), tmp_path)
        assert difference(shown, expected_picture(collection, grid, person_id)) < 12, person_id
    # Upside down, a portrait would not match itself: the comparison sees orientation.
    shown = cell_picture(driver, grid, grid.index_of(with_photo), tmp_path)
    flipped = expected_picture(collection, grid, with_photo).transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    assert difference(shown, flipped) > 20


def test_a_tap_on_a_face_selects_that_person(wall):
    driver, grid, selected = wall()
    faces_in_view(driver, grid)
    driver.tap_at(*centre(grid, 13))
    assert selected == [grid.person_ids[13]]
    driver.tap_at(*centre(grid, 0))
    assert selected == [grid.person_ids[13], grid.person_ids[0]]


def test_a_tap_between_faces_selects_nobody(wall):
    driver, grid, selected = wall()
    x, y, width, height = grid.cell_at(10)
    driver.tap_at(x + width + grid.spacing / 2, y + height / 2)
    assert selected == []


def test_a_drag_scrolls_and_selects_nobody(wall):
    driver, grid, selected = wall()
    faces_in_view(driver, grid)
    start = centre(grid, 31)
    # Held still before lifting, so nothing flies on.
    drag(driver, start, (start[0], start[1] + 300), steps=15, step_s=0.03, hold_s=0.4)
    driver.settle(0.2)
    driver.wait_until(lambda: not grid.is_moving, timeout=10, what="the wall to come to rest")
    assert selected == []
    assert 250 <= grid.scroll <= 350, grid.scroll
    # The face that was under the finger went up with it.
    x, y, _w, h = grid.cell_at(31)
    assert start[1] + 250 <= y + h / 2 <= start[1] + 350


def test_a_fling_flies_on_after_the_finger_lifts_and_slows_down(wall):
    driver, grid, selected = wall()
    start = centre(grid, 40)
    drag(driver, start, (start[0], start[1] + 240), steps=6, step_s=0.015)
    lifted = grid.scroll
    driver.wait_until(lambda: not grid.is_moving, timeout=20, what="the fling to end")
    assert grid.scroll > lifted + 100, (lifted, grid.scroll)
    assert selected == []


def test_a_touch_on_a_moving_wall_stops_it_and_selects_nobody(wall):
    driver, grid, selected = wall()
    grid.fling(2500)
    driver.frames(3)
    assert grid.is_moving
    driver.tap_at(*centre(grid, 4), settle=0.3)
    assert selected == []
    assert not grid.is_moving


def test_scroll_to_brings_a_person_to_the_top(wall, thumbs):
    collection, _index = thumbs
    driver, grid, selected = wall()
    person_id = collection.persons[200].person_id
    grid.scroll_to(grid.index_of(person_id))
    driver.frames(2)
    x, y, width, height = grid.cell_at(grid.index_of(person_id))
    assert grid.top - grid.padding - height - 1 <= y <= grid.top - height
    faces_in_view(driver, grid)
    driver.tap_at(x + width / 2, y + height / 2)
    assert selected == [person_id]

    grid.scroll_to(len(grid.person_ids) - 1)
    driver.frames(2)
    assert grid.scroll == grid.max_scroll
    _x, y, _w, _h = grid.cell_at(len(grid.person_ids) - 1)
    assert y >= grid.y + grid.padding - 1


def test_a_filtered_list_shows_only_its_persons(wall, thumbs, tmp_path):
    collection, _index = thumbs
    driver, grid, selected = wall()
    chosen = [p.person_id for p in collection.persons if p.transport == collection.persons[-1].transport][::-1]
    grid.show(chosen)
    faces_in_view(driver, grid)
    assert grid.index_of(chosen[0]) == 0
    with pytest.raises(LookupError):
        grid.index_of(collection.persons[0].person_id)
    shown = cell_picture(driver, grid, 1, tmp_path)
    assert difference(shown, expected_picture(collection, grid, chosen[1])) < 12
    driver.tap_at(*centre(grid, 1))
    assert selected == [chosen[1]]


def test_pages_are_read_off_the_main_thread_while_frames_go_on(wall):
    from kivy.cache import Cache
    from kivy.clock import Clock

    from exhibits.wall.grid import decode_page

    release = threading.Event()
    readers: set[str] = set()

    def slow_read(path: Path):
        readers.add(threading.current_thread().name)
        if not release.wait(timeout=30):
            raise TimeoutError("the test never released the pages")
        return decode_page(path)

    textures_before = set(Cache._objects.get("kv.texture", {}))
    driver, grid, _selected = wall(read_page=slow_read)
    first_frame = Clock.frames_displayed
    started = time.monotonic()
    slowest = 0.0
    while time.monotonic() - started < 1.0:
        frame_started = time.monotonic()
        driver.frames()
        slowest = max(slowest, time.monotonic() - frame_started)
    assert Clock.frames_displayed - first_frame >= 5, "frames went on while pages were read"
    assert slowest < 0.5
    assert readers and threading.main_thread().name not in readers
    assert not any(grid.tile_loaded(i) for i in visible_cells(grid)), "placeholders until the pages arrive"

    release.set()
    faces_in_view(driver, grid)
    assert SILHOUETTE_PAGE in grid.loaded_pages
    # Nothing added (an entry of an earlier test may expire meanwhile: Kivy's timeout).
    assert set(Cache._objects.get("kv.texture", {})) <= textures_before, "Kivy's texture cache is not used"


def test_the_page_cache_keeps_its_size_and_the_pages_in_view(wall, thumbs, tmp_path):
    collection, _index = thumbs
    # Four faces a page: jumping through 300 persons passes some 60 pages.
    small_pages = prepare_thumbs(collection, tmp_path / "thumbs", page_grid=(2, 2)).index
    driver, grid, _selected = wall(index=small_pages, cached_pages=4)
    seen: set[int] = set()
    for cell in range(0, len(grid.person_ids), 40):
        grid.scroll_to(cell)
        driver.frames(2)
        faces_in_view(driver, grid)
        # The rows the view's edges cut through may come a frame later on a loaded machine.
        driver.wait_until(lambda: grid.pages_in_view <= set(grid.loaded_pages), timeout=10, what="the pages in view")
        seen |= set(grid.loaded_pages)
        in_view = {small_pages.tile(grid.person_ids[i]).page for i in visible_cells(grid)}
        assert in_view <= grid.pages_in_view <= set(grid.loaded_pages)
        assert len(grid.loaded_pages) <= max(4, len(grid.pages_in_view) + 1)
    assert len(seen) > 2 * len(grid.loaded_pages)


def test_for_collection_builds_the_thumbnails_and_shows_everyone_in_list_order(wall, thumbs, tmp_path):
    from exhibits.wall.grid import PortraitGrid

    collection, _index = thumbs
    wall()  # a window, for the grid's textures
    grid = PortraitGrid.for_collection(collection, tmp_path / "cache")
    try:
        assert list(grid.person_ids) == [person.person_id for person in collection.persons]
        assert (tmp_path / "cache" / "index.json").is_file()
    finally:
        grid.close()


def test_names_under_the_faces_are_drawn_whole_and_follow_the_scroll(wall, thumbs, tmp_path):
    from kiosk.audit import Item

    collection, _index = thumbs
    names = {person.person_id: person.display_name for person in collection.persons}
    driver, grid, selected = wall(name_of=names.__getitem__, cell_width=150, cell_height=200, name_height=62)
    faces_in_view(driver, grid)
    picture = Image.open(driver.screenshot(tmp_path / "names.png")).convert("L")

    def to_item(name, kind, box, **values):
        return Item(name=name, kind=kind, box=box, text=values.get("text"), text_needs=values.get("needs"), touch=values.get("touch", False))

    items = grid.layout_items(to_item)
    shown = [item for item in items if item.name and item.name.startswith("name-")]
    faces = {item.name[5:] for item in items if item.name.startswith("face-")}
    assert shown and {item.name[5:] for item in shown} <= faces, "a name under a face (those the view's edge cuts: not yet read)"
    for item in shown:
        person_id = item.name[5:]
        assert item.text == names[person_id]
        need_w, need_h = item.text_needs
        assert need_w <= item.box[2] and need_h <= item.box[3], f"{item.text!r} does not fit under its face"
        x, y, w, h = (round(v) for v in item.box)
        band = picture.crop((x, y, x + w, y + h))
        assert max(band.get_flattened_data()) > 180, f"no light letters under {person_id}'s face"
    # A tap on the name chooses the person, as a tap on the face does.
    first = shown[0]
    from kivy.core.window import Window

    driver.tap_at(first.box[0] + first.box[2] / 2, Window.height - (first.box[1] + first.box[3] / 2))
    assert selected == [first.name[5:]]
    grid.scroll_by(grid.cell_height + grid.name_height + grid.spacing)
    driver.frames(3)
    moved = [item.name for item in grid.layout_items(to_item) if item.name.startswith("name-")]
    assert moved and moved[0] != first.name, "the names scroll with their faces"


def test_a_grid_not_showing_holds_no_page_and_loads_them_once_shown(wall, thumbs):
    """A wall's grid waits behind the attract screen (issue 18: memory): no page texture
    (3.7 MB each) until its screen shows it; then the faces in view arrive."""
    driver, grid, _selected = wall(showing=False)
    driver.frames(5)
    assert grid.height > 0 and grid.loaded_pages == ()
    grid.showing = True  # as the wall's grid screen says on entering
    faces_in_view(driver, grid)
    assert grid.loaded_pages, "shown, the grid loaded no page"
