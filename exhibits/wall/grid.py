"""The portrait wall's grid: every face of the collection in one kinetic scroll.

A RecycleView of Image widgets runs layout, property bindings and a texture load for
every cell that scrolls in; through 25,843 faces that is more Python per frame than a
frame has. This grid is ONE widget instead. It keeps a pool of Rectangle instructions,
one per cell that fits on screen (plus a row), each drawing a region of an atlas page
texture (`exhibits.wall.thumbs`). The pool sits under a single Translate: a frame that
moves the view sets it, redraws the two rows the view's edges cut through (cut to the
view, so no stencil is needed), and gives a row that scrolls in its place, page texture
and texture coordinates. No widget per cell, no layout, no bindings per cell.

Page textures are our own business, not Kivy's: a background thread reads and decodes
the pages wanted (the visible ones first, then those the movement heads for), and the
main thread only uploads the decoded pixels (`blit_buffer` into a texture, reused from
an evicted page when one is free), a few pages per frame at most. Until its page arrives
a cell shows a neutral placeholder. An LRU of `cached_pages` pages bounds texture
memory; pages in view are never evicted. Kivy's image cache (`kv.texture`: 1,000
entries, slow past that) is never touched.

Touch: a finger that goes down and up without moving more than `drag_threshold` selects
the face under it (`on_select(person_id)`); a finger that moves drags the wall; lifted
while moving, the wall flies on and slows down (Kivy's DampedScrollEffect, which also
gives a soft stop at both ends). A touch on a moving wall only stops it: a visitor
catching the wall has not chosen the face that happened to be under the finger.
"""

from __future__ import annotations

import logging
import math
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from kivy.clock import Clock
from kivy.effects.dampedscroll import DampedScrollEffect
from kivy.graphics import Color, InstructionGroup, PopMatrix, PushMatrix, Rectangle, Translate
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, ColorProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.widget import Widget
from PIL import Image

from exhibits.wall.thumbs import SILHOUETTE_PAGE, ThumbIndex, code_page, require_thumbs
from kiosk.paths import FONTS

log = logging.getLogger(__name__)

UPLOADS_PER_FRAME = 2
"""Pages uploaded per frame at most: 2 x 3 ms (new textures, llvmpipe) stays far under 16 ms."""
_HIDDEN = (-1.0, -1.0)
"""A row's cuts when none of it is in view."""
NAMES_PER_FRAME = 3
"""Names drawn into new textures per frame at most while the wall moves (about 2 ms each
under llvmpipe): a fling stays smooth, and a name arrives a frame or two after its face.
A new list or size is drawn whole at once."""
_NAME_TOP = 4
"""Pixels between a face and the first line of its name."""
CATCH_SPEED = 80.0
"""Pixels per second above which a touch down catches a moving wall instead of tapping."""


class DecodedPage(NamedTuple):
    width: int
    height: int
    pixels: bytes
    """RGBA, rows from the top: uploading RGBA costs the GL driver no conversion."""


def decode_page(path: Path) -> DecodedPage:
    """Read and decode one page image, on the loader's thread (Pillow's decoder lets go of
    the GIL while it works, so the main thread keeps drawing)."""
    with Image.open(path) as image:
        rgba = image.convert("RGBA")
    return DecodedPage(rgba.width, rgba.height, rgba.tobytes())


class _PageTexture(NamedTuple):
    texture: Texture
    u_scale: float
    """Texture u per page pixel (the texture may be larger than the page on old GPUs)."""
    v_scale: float


class _PageLoader:
    """One thread that decodes the pages the grid wants, most wanted first.

    The grid replaces the wanted list whenever its view moves; a page that is no longer
    wanted when the thread gets to it is skipped, so a fast fling does not leave a queue
    of pages decoded for rows long gone. Results reach Kivy only through the Clock.
    """

    def __init__(self, index: ThumbIndex, read_page: Callable[[Path], DecodedPage], deliver: Callable[[int, DecodedPage | None], None]):
        self._index = index
        self._read_page = read_page
        self._deliver = deliver
        self._wanted: list[int] = []
        self._busy: int | None = None
        self._condition = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="portrait-pages", daemon=True)
        self._thread.start()

    def want(self, pages: list[int]) -> None:
        """Replace the wanted pages (most wanted first); the page being read is read once."""
        with self._condition:
            self._wanted = [page for page in pages if page != self._busy]
            self._condition.notify()

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._wanted and not self._closed:
                    self._condition.wait()
                if self._closed:
                    return
                page = self._busy = self._wanted.pop(0)
            try:
                decoded: DecodedPage | None = self._read_page(self._index.page_path(page))
            except Exception:
                log.warning("portrait page unreadable", extra={"page": self._index.pages[page].file}, exc_info=True)
                decoded = None
            with self._condition:
                self._busy = None
            Clock.schedule_once(lambda _dt, page=page, decoded=decoded: self._deliver(page, decoded), -1)
            decoded = None  # not held (3.7 MB) while the thread waits for the next page


class PortraitGrid(Widget):
    """A scrolling grid of portrait tiles for a list of persons.

    `PortraitGrid(index)` draws from a built `ThumbIndex`; `PortraitGrid.for_collection`
    builds or reuses the thumbnails first. `show(person_ids)` sets what is shown and in
    which order; positions (`index_of`, `cell_at`, `scroll_to`) count in that list.
    """

    __events__ = ("on_select",)

    cell_width = NumericProperty("120dp")
    cell_height = NumericProperty("160dp")
    spacing = NumericProperty("6dp")
    padding = NumericProperty("16dp")
    drag_threshold = NumericProperty("12dp")
    """How far a finger may move and still tap: small hands and old hands tremble."""
    background_color = ColorProperty((0.086, 0.086, 0.086, 1))
    placeholder_color = ColorProperty((0.20, 0.20, 0.195, 1))
    friction = NumericProperty(0.03)
    """How fast a fling slows down (Kivy's default, 0.05, stops a brisk fling after a
    screen or two; the wall is 2,800 rows long)."""
    showing = BooleanProperty(True)
    """False while the grid's screen is not shown (the wall's grid behind the attract
    screen): it asks for no page then and holds none it did not hold (issue 18: memory);
    set True, it asks for the pages in view."""
    cached_pages = NumericProperty(24)
    """Page textures kept (960x960 RGBA: 3.7 MB each); pages in view are kept beyond it."""
    scroll = NumericProperty(0.0)
    """Read only: pixels from the top of the grid's content to the top of the view."""
    max_scroll = NumericProperty(0.0)
    """Read only: `scroll` at the end of the list."""
    columns = NumericProperty(1)
    """Read only: cells per row, from the widget's width."""
    person_ids = ListProperty([])
    """Read only: what `show` was given, in order."""
    name_height = NumericProperty(0)
    """Height of the name under each face (0: faces only). Set with `name_of`."""
    name_sizes = ListProperty([14, 13, 12, 11])
    """Font sizes (sp) a name may take, largest first: the largest at which it fits wins."""
    name_color = ColorProperty((0.95, 0.94, 0.91, 1))
    name_font = StringProperty(str(FONTS / "NotoSans-Regular.ttf"))
    """A font file (the grid draws its names itself, with or without the station's shell)."""

    def __init__(
        self,
        index: ThumbIndex,
        *,
        read_page: Callable[[Path], DecodedPage] = decode_page,
        name_of: Callable[[str], str] | None = None,
        **kwargs,
    ):
        self._index = index
        self._name_of = name_of
        # Audio mode's words for what the grid draws itself (layout items by name): set by the wall.
        self.spoken_names: Callable[[], dict[str, str]] | None = None
        self._names: OrderedDict[str, tuple] = OrderedDict()  # person_id -> (texture, Caption)
        self._name_rects: list[Rectangle] = []
        self._measurers: dict[float, object] = {}
        self._name_budget = (-1, 0)  # (frame, names drawn in it)
        self._names_bounded = True  # False while a new list or shape is drawn whole at once
        self._tiles: list[int] = []  # the shown persons' tiles, packed (exhibits.wall.thumbs.TileMap.code)
        self._pages_of = array("I")  # the page of each of _tiles: numbers, not 25,843 int objects
        self._position: dict[str, int] | None = None  # made when first asked (audio mode's focus on a face)
        self._textures: OrderedDict[int, _PageTexture] = OrderedDict()
        self._failed: set[int] = set()
        self._arrived: list[tuple[int, DecodedPage]] = []
        self._visible_pages: set[int] = set()
        self._requested: set[int] = set()
        self._geometry: tuple[float, ...] = ()
        self._rects: list[Rectangle] = []
        self._cell_of_rect: list[int] = []
        self._slot_rows: list[int] = []
        self._rows_in_pool = 0
        self._slot_cuts: list[tuple[float, float]] = []
        self._left = 0.0
        self._first_row = -1
        self._heading = 1
        self._touch = None
        super().__init__(**kwargs)

        self._effect = DampedScrollEffect(min=0, max=0, round_value=True, friction=self.friction)
        self.bind(friction=self._effect.setter("friction"))
        self._effect.bind(scroll=self._on_effect_scroll)
        self._placeholder = Texture.create(size=(1, 1), colorfmt="rgba")
        self._paint_placeholder()
        with self.canvas:
            self._background_color = Color(*self.background_color)
            self._background = Rectangle(pos=self.pos, size=self.size)
            Color(1, 1, 1, 1)
            PushMatrix()
            self._shift = Translate(0, 0)
            self._cells = InstructionGroup()
            PopMatrix()

        self._relayout = Clock.create_trigger(self._layout, -1)
        self._redraw = Clock.create_trigger(self._update_view, -1)
        self._upload = Clock.create_trigger(self._upload_arrived, -1)
        self._names_later = Clock.create_trigger(self._draw_waiting_names, 0)
        self.bind(
            pos=self._relayout,
            size=self._relayout,
            cell_width=self._relayout,
            cell_height=self._relayout,
            spacing=self._relayout,
            padding=self._relayout,
            background_color=self._on_background_color,
            placeholder_color=lambda *_: self._paint_placeholder(),
            name_color=lambda *_: self.restyle(),
        )
        self._loader = _PageLoader(index, read_page, self._page_decoded)
        self._touch_key = f"portrait-grid-{self.uid}"

    @classmethod
    def for_collection(cls, collection, cache: Path, **kwargs) -> PortraitGrid:
        """A grid of the whole collection in list order, its thumbnails built if needed.

        The first start after a collection change draws the pages (seconds, on every
        core); later starts only check them.
        """
        grid = cls(require_thumbs(collection, cache), **kwargs)
        grid.show([person.person_id for person in collection.persons])
        return grid

    def restyle(self) -> None:
        """Draw the names again (a new colour, or a new text size for the visit)."""
        self._geometry = ()
        self._relayout()

    def on_showing(self, _grid, showing: bool) -> None:
        if showing:  # the pages in view are asked for now
            self._first_row = -1
            self._redraw()

    def close(self) -> None:
        """Stop the page thread; the grid draws nothing new afterwards."""
        self._loader.close()

    # -- what is shown -------------------------------------------------------------------

    def show(self, person_ids: Sequence[str]) -> None:
        """Show these persons in this order, from the top. Unknown ids raise LookupError."""
        tiles = self._index.tiles
        missing = [person_id for person_id in person_ids if person_id not in tiles]
        if missing:
            raise LookupError(f"{len(missing)} persons have no thumbnail (first: {missing[0]}): rebuild the thumbnails")
        self.person_ids = list(person_ids)
        self._tiles = [tiles.code(person_id) for person_id in person_ids]
        self._pages_of = array("I", map(code_page, self._tiles))
        self._position = None
        self._effect.reset(0)
        self.scroll = 0.0
        self._slot_rows = [-1] * self._rows_in_pool  # every row shows someone else now
        self._layout()

    def index_of(self, person_id: str) -> int:
        """Position of PERSON_ID in the shown list (its first, if given twice)."""
        if self._position is None:
            position: dict[str, int] = {}
            for i, shown in enumerate(self.person_ids):
                position.setdefault(shown, i)
            self._position = position
        try:
            return self._position[person_id]
        except KeyError:
            raise LookupError(f"{person_id} is not shown") from None

    def cell_at(self, index: int) -> tuple[float, float, float, float]:
        """(x, y, width, height) of cell INDEX in window coordinates, shown or not."""
        if not 0 <= index < len(self._tiles):
            raise IndexError(f"cell {index} of {len(self._tiles)}")
        row, column = divmod(index, int(self.columns))
        x = self.x + self._left + column * self._pitch_x
        y = self.top + self.scroll - self.padding - row * self._pitch_y - self.cell_height
        window_x, window_y = self.to_window(x, y)
        return window_x, window_y, self.cell_width, self.cell_height

    def index_at(self, x: float, y: float) -> int | None:
        """The cell under (x, y) in the parent's coordinates (a touch's), or None."""
        if not self.collide_point(x, y):
            return None
        column, across = divmod(x - self.x - self._left, self._pitch_x)
        row, down = divmod(self.top + self.scroll - self.padding - y, self._pitch_y)
        if column < 0 or column >= self.columns or row < 0 or across > self.cell_width or down > self.cell_height + self.name_height:
            return None
        index = int(row) * int(self.columns) + int(column)
        return index if index < len(self._tiles) else None

    def scroll_to(self, index: int) -> None:
        """Bring the row of cell INDEX to the top of the view (or as near as the end allows)."""
        if not 0 <= index < len(self._tiles):
            raise IndexError(f"cell {index} of {len(self._tiles)}")
        self._move_to(index // int(self.columns) * self._pitch_y)

    def scroll_by(self, pixels: float) -> None:
        """Move the view PIXELS further down the list (negative: back up), stopping any fling."""
        self._move_to(self.scroll + pixels)

    def fling(self, velocity: float) -> None:
        """Set the wall flying at VELOCITY pixels per second (positive: down the list)."""
        self._effect.velocity = velocity
        self._effect.trigger_velocity_update()

    @property
    def velocity(self) -> float:
        """Pixels per second the wall flies at now (positive: down the list)."""
        return self._effect.velocity

    @property
    def is_moving(self) -> bool:
        return self._effect.velocity != 0 or self._effect.overscroll != 0 or self._touch is not None

    def tile_loaded(self, index: int) -> bool:
        """Whether cell INDEX is on screen and shows its face (not the placeholder)."""
        for rect, cell in zip(self._rects, self._cell_of_rect):
            if cell == index:
                return rect.size[1] > 0 and rect.texture is not self._placeholder
        return False

    @property
    def pages_in_view(self) -> frozenset[int]:
        """Pages of the rows on screen and the row kept ready: never evicted."""
        return frozenset(self._visible_pages)

    @property
    def loaded_pages(self) -> tuple[int, ...]:
        """Page textures in memory, least recently used first."""
        return tuple(self._textures)

    def on_select(self, person_id: str) -> None:
        """A visitor tapped PERSON_ID's face."""

    # -- touch -------------------------------------------------------------------------

    def on_touch_down(self, touch) -> bool:
        if not self.collide_point(*touch.pos) or self.disabled:
            return False
        if touch.is_mouse_scrolling:
            step = self._pitch_y * (1 if touch.button in ("scrollup", "scrollright") else -1)
            self.scroll_by(step)
            return True
        if self._touch is not None:
            return True  # one finger steers the wall; a second one is ignored
        self._touch = touch
        touch.grab(self)
        touch.ud[self._touch_key] = {"tap": abs(self._effect.velocity) < CATCH_SPEED, "dragging": False, "start": touch.pos}
        self._effect.start(touch.y)
        return True

    def on_touch_move(self, touch) -> bool:
        if touch.grab_current is not self:
            return touch is self._touch
        state = touch.ud[self._touch_key]
        if not state["dragging"]:
            start_x, start_y = state["start"]
            if math.hypot(touch.x - start_x, touch.y - start_y) <= self.drag_threshold:
                return True
            state["dragging"] = True
            state["tap"] = False
        self._effect.update(touch.y)
        return True

    def on_touch_up(self, touch) -> bool:
        if touch.grab_current is not self:
            return touch is self._touch
        touch.ungrab(self)
        self._touch = None
        state = touch.ud[self._touch_key]
        if state["dragging"]:
            self._effect.stop(touch.y)
            return True
        self._effect.cancel()  # back inside the ends, if it was pulled past one
        if state["tap"]:
            index = self.index_at(*state["start"])
            if index is not None:
                self.dispatch("on_select", self.person_ids[index])
        return True

    # -- layout and drawing ------------------------------------------------------------

    @property
    def _pitch_x(self) -> float:
        return self.cell_width + self.spacing

    @property
    def _pitch_y(self) -> float:
        return self.cell_height + self.name_height + self.spacing

    def _move_to(self, target: float) -> None:
        target = min(max(target, 0.0), self.max_scroll)
        self._effect.reset(target)
        self._effect.overscroll = 0
        self.scroll = target
        self._redraw()  # once per frame, however many moves the frame brings

    def _on_effect_scroll(self, _effect, value: float) -> None:
        self.scroll = value
        self._redraw()

    def _on_background_color(self, _grid, color) -> None:
        self._background_color.rgba = color

    def _paint_placeholder(self) -> None:
        rgba = bytes(round(channel * 255) for channel in self.placeholder_color)
        self._placeholder.blit_buffer(rgba, colorfmt="rgba", bufferfmt="ubyte")

    def _layout(self, *_args) -> None:
        """Columns, content height and the pool of rectangles, after a change of size or list."""
        self._background.pos = self.pos
        self._background.size = self.size
        usable = self.width - 2 * self.padding + self.spacing
        columns = max(1, int(usable // self._pitch_x))
        self.columns = columns
        self._left = round((self.width - (columns * self._pitch_x - self.spacing)) / 2)
        rows = -(-len(self._tiles) // columns)
        content = 2 * self.padding + rows * self._pitch_y - self.spacing if rows else 0
        self.max_scroll = max(0.0, content - self.height)
        self._effect.min, self._effect.max = 0, self.max_scroll
        if self.scroll > self.max_scroll:
            self._effect.reset(self.max_scroll)
            self.scroll = self.max_scroll

        rows_in_pool = math.ceil(self.height / self._pitch_y) + 1
        geometry = (columns, rows_in_pool, self._left, self.cell_width, self.cell_height, self.spacing, self.padding, self.name_height)
        if geometry != self._geometry:
            # A moved widget needs only the Translate; a new shape needs a new pool.
            self._geometry = geometry
            self._cells.clear()
            self._names.clear()  # drawn for the old width
            self._rects = [Rectangle(texture=self._placeholder, size=(0, 0)) for _ in range(rows_in_pool * columns)]
            for rect in self._rects:
                self._cells.add(rect)
            self._name_rects = [Rectangle(size=(0, 0)) for _ in range(rows_in_pool * columns)] if self._shows_names else []
            for rect in self._name_rects:
                self._cells.add(rect)
            self._cell_of_rect = [-1] * len(self._rects)
            self._slot_rows = [-1] * rows_in_pool
            self._slot_cuts = [_HIDDEN] * rows_in_pool
            self._rows_in_pool = rows_in_pool
        self._first_row = -1
        # A new list or shape is drawn whole, names too: what stands still is complete.
        self._names_bounded = False
        try:
            self._update_view()
        finally:
            self._names_bounded = True

    def _update_view(self, *_args) -> None:
        """Per frame while moving: one Translate, and the rows whose part in view changed.

        Those are the rows that came into view and the two the view's edges cut through:
        rows are drawn cut to the view, so the grid needs no stencil (two extra fills of
        its area per frame on a software renderer) and no scissor (window coordinates,
        wrong inside a screen transition's Fbo).
        """
        if not self._geometry:
            return  # not laid out yet
        self._shift.xy = (self.x, self.top + self.scroll)
        pool = self._rows_in_pool
        first_row = max(0, int((self.scroll - self.padding) // self._pitch_y))
        for row in range(first_row, first_row + pool):
            slot = row % pool
            if self._slot_rows[slot] != row:
                self._slot_rows[slot] = row
                self._draw_row(slot)
            elif self._slot_cuts[slot] != self._row_cuts(row):
                self._draw_row(slot)
        if first_row != self._first_row:
            self._heading = 1 if first_row > self._first_row else -1
            self._first_row = first_row
            self._want_pages()

    def _cuts(self, row: int, below: float = 0.0, height: float | None = None) -> tuple[float, float]:
        """How much of ROW's cells the view's top and bottom edges hide; HIDDEN for all.

        BELOW and HEIGHT: a band under the face instead (the name), BELOW from the face's top.
        """
        height = self.cell_height if height is None else height
        top = self.padding + row * self._pitch_y + below  # content y, down from the content's top
        cut_top = max(0.0, self.scroll - top)
        cut_bottom = max(0.0, top + height - self.scroll - self.height)
        return _HIDDEN if cut_top + cut_bottom >= height else (cut_top, cut_bottom)

    def _row_cuts(self, row: int):
        if not self._shows_names:
            return self._cuts(row)
        return (self._cuts(row), self._cuts(row, self.cell_height, self.name_height))

    def _draw_row(self, slot: int) -> None:
        """Place, cut to the view and texture the rectangles of the row in SLOT."""
        row = self._slot_rows[slot]
        columns = self._geometry[0]
        cuts = self._cuts(row)
        self._slot_cuts[slot] = self._row_cuts(row)
        if self._shows_names:
            self._draw_names(slot, row, columns)
        width, height = self.cell_width, self.cell_height
        cut_top, cut_bottom = cuts if cuts is not _HIDDEN else (height, 0.0)
        shown = height - cut_top - cut_bottom
        first_cut, last_cut = cut_top / height, 1.0 - cut_bottom / height
        tiles, rects, textures = self._tiles, self._rects, self._textures
        unpack = self._index.tiles.unpack
        placeholder = self._placeholder
        x = self._left
        y = -(self.padding + row * self._pitch_y + height - cut_bottom)
        for at in range(slot * columns, slot * columns + columns):
            rect = rects[at]
            index = row * columns + (at - slot * columns)
            if index >= len(tiles):
                self._cell_of_rect[at] = -1
                rect.size = (0, 0)
                rect.texture = placeholder
                continue
            self._cell_of_rect[at] = index
            if shown <= 0:
                rect.size = (0, 0)
                x += self._pitch_x
                continue
            rect.pos = (x, y)
            rect.size = (width, shown)
            x += self._pitch_x
            tile = unpack(tiles[index])
            page = textures.get(tile.page)
            if page is None:
                rect.texture = placeholder
                continue
            textures.move_to_end(tile.page)
            # Half a texel in from each edge: filtering never reaches the neighbouring
            # face. Page rows were uploaded top row first: v grows downwards.
            u0 = (tile.x + 0.5) * page.u_scale
            u1 = (tile.x + tile.width - 0.5) * page.u_scale
            v_span = tile.height - 1.0
            v_top = (tile.y + 0.5 + first_cut * v_span) * page.v_scale
            v_bottom = (tile.y + 0.5 + last_cut * v_span) * page.v_scale
            rect.texture = page.texture
            rect.tex_coords = (u0, v_bottom, u1, v_bottom, u1, v_top, u0, v_top)

    # -- names under the faces ---------------------------------------------------------

    @property
    def _shows_names(self) -> bool:
        return self._name_of is not None and self.name_height > 0

    def _extents(self, text: str, size: float) -> tuple[float, float]:
        from kivy.core.text import Label as CoreLabel

        measurer = self._measurers.get(size)
        if measurer is None:
            measurer = self._measurers[size] = CoreLabel(font_name=self.name_font, font_size=size)
        return measurer.get_extents(text)

    def _measure(self, text: str, size: float) -> float:
        return self._extents(text, size)[0]

    def name_caption(self, person_id: str):
        """How PERSON_ID's name is drawn under the face (exhibits.wall.captions.Caption)."""
        return self._name_texture(person_id)[1]

    def _may_draw_name(self) -> bool:
        frame, drawn = self._name_budget
        if frame != Clock.frames:
            frame, drawn = Clock.frames, 0
        self._name_budget = (frame, drawn + 1)
        return drawn < NAMES_PER_FRAME

    def _draw_waiting_names(self, *_args) -> None:
        columns = self._geometry[0] if self._geometry else 0
        for slot, row in enumerate(self._slot_rows):
            if row >= 0:
                self._draw_names(slot, row, columns)

    def _name_texture(self, person_id: str):
        """The name drawn once into a texture of the name band's size; the last few kept."""
        from kivy.core.text import Label as CoreLabel
        from kivy.metrics import sp

        from exhibits.wall.captions import caption

        known = self._names.get(person_id)
        if known is not None:
            self._names.move_to_end(person_id)
            return known
        sizes = [sp(size) for size in self.name_sizes]
        lines_held = lambda size: int((self.name_height - _NAME_TOP) // self._extents("Ág", size)[1])  # noqa: E731
        shaped = caption(self._name_of(person_id), self.cell_width - 4, sizes, lines_held, self._measure)
        core = CoreLabel(
            text=shaped.text,
            font_name=self.name_font,
            font_size=shaped.size,
            color=tuple(self.name_color),
            halign="center",
            valign="top",
            text_size=(self.cell_width, self.name_height),
            padding=(0, _NAME_TOP, 0, 0),
        )
        core.refresh()
        known = self._names[person_id] = (core.texture, shaped)
        while len(self._names) > 3 * max(1, len(self._name_rects)):
            self._names.popitem(last=False)
        return known

    def _draw_names(self, slot: int, row: int, columns: int) -> None:
        height = self.name_height
        cuts = self._cuts(row, self.cell_height, height)
        cut_top, cut_bottom = cuts if cuts is not _HIDDEN else (height, 0.0)
        shown = height - cut_top - cut_bottom
        y = -(self.padding + row * self._pitch_y + self.cell_height + height - cut_bottom)
        x = self._left
        for at in range(slot * columns, slot * columns + columns):
            rect = self._name_rects[at]
            index = row * columns + (at - slot * columns)
            if index >= len(self._tiles) or shown <= 0:
                rect.size = (0, 0)
                x += self._pitch_x
                continue
            person_id = self.person_ids[index]
            if person_id not in self._names and self._names_bounded and not self._may_draw_name():
                rect.size = (0, 0)  # drawn on a coming frame
                self._names_later()
                x += self._pitch_x
                continue
            texture, _shaped = self._name_texture(person_id)
            u0, v_bottom, u1, _, _, v_top, _, _ = texture.tex_coords
            first, last = cut_top / height, 1.0 - cut_bottom / height
            top_v = v_top + (v_bottom - v_top) * first
            bottom_v = v_top + (v_bottom - v_top) * last
            rect.texture = texture
            rect.tex_coords = (u0, bottom_v, u1, bottom_v, u1, top_v, u0, top_v)
            rect.pos = (x, y)
            rect.size = (self.cell_width, shown)
            x += self._pitch_x

    def faces_in_view(self) -> list[int]:
        """Indexes of the faces wholly in view, in reading order (a face cut by the view's
        edge is seen in part, not yet to be read or pressed)."""
        columns = int(self.columns)
        first_row = max(0, int((self.scroll - self.padding) // self._pitch_y))
        shown = []
        for row in range(first_row, first_row + self._rows_in_pool):
            if self._cuts(row) != (0.0, 0.0):
                continue
            shown.extend(index for index in range(row * columns, (row + 1) * columns) if index < len(self._tiles))
        return shown

    def layout_items(self, to_item) -> list:
        """For the layout audit: the grid (one touch surface), and each face wholly in view
        with its name, as a visitor sees them now."""
        from kivy.core.window import Window

        def box(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
            wx, wy = self.to_window(x, y)
            return (wx, Window.height - (wy + h), w, h)

        spoken = self.spoken_names() if self.spoken_names is not None else {}
        items = [to_item("portrait-grid", "other", box(self.x, self.y, self.width, self.height), touch=True, spoken=spoken.get("portrait-grid"))]
        columns = int(self.columns)
        for index in self.faces_in_view():
            row, column = divmod(index, columns)
            person_id = self.person_ids[index]
            x = self.x + self._left + column * self._pitch_x
            face_top = self.top + self.scroll - self.padding - row * self._pitch_y
            name = f"face-{person_id}"
            items.append(to_item(name, "image", box(x, face_top - self.cell_height, self.cell_width, self.cell_height), touch=True, spoken=spoken.get(name)))
            if self._shows_names and self._cuts(row, self.cell_height, self.name_height) == (0.0, 0.0):
                shaped = self.name_caption(person_id)
                widths = [self._measure(line, shaped.size) for line in shaped.lines]
                line_height = self._extents("Ág", shaped.size)[1]
                needs = (max(widths, default=0.0), _NAME_TOP + line_height * len(shaped.lines))
                name_box = box(x, face_top - self.cell_height - self.name_height, self.cell_width, self.name_height)
                items.append(
                    to_item(
                        f"name-{person_id}",
                        "text",
                        name_box,
                        text=" ".join(shaped.lines).replace("- ", "-"),
                        needs=needs,
                        colour=tuple(c * 255 for c in self.name_color[:3]),
                        alpha=self.name_color[3],
                        text_px=shaped.size,
                    )
                )
        return items

    def _want_pages(self) -> None:
        """Tell the loader which pages to decode: in view first, then where the wall heads."""
        if self.height <= 0 or not self.showing:
            return  # nothing in view, or on a screen not shown: no page is held for it
        columns = int(self.columns)
        first = self._first_row * columns
        shown = self._rows_in_pool * columns
        ahead = first + shown * 3 if self._heading > 0 else first - shown * 2
        behind = first - shown if self._heading > 0 else first + shown * 2
        pages_of = self._pages_of
        visible = dict.fromkeys(pages_of[first : first + shown])
        self._visible_pages = set(visible)
        order = list(visible)
        if self._heading > 0:
            order += pages_of[first + shown : ahead] + pages_of[max(0, behind) : first][::-1]
        else:
            order += pages_of[max(0, ahead) : first][::-1] + pages_of[first + shown : behind]
        loaded = self._textures
        arriving = {page for page, _decoded in self._arrived}
        missing = [page for page in dict.fromkeys([SILHOUETTE_PAGE, *order]) if page not in loaded and page not in arriving and page not in self._failed]
        # Pages in view always; beyond them only what the cache can hold without
        # evicting pages that were just read for rows about to come.
        room = max(0, int(self.cached_pages) - len(visible))
        in_view = [page for page in missing if page in visible or page == SILHOUETTE_PAGE]
        ahead_pages = [page for page in missing if page not in visible and page != SILHOUETTE_PAGE][:room]
        self._requested = set(in_view) | set(ahead_pages)
        self._loader.want(in_view + ahead_pages)

    # -- page textures -----------------------------------------------------------------

    def _page_decoded(self, page: int, decoded: DecodedPage | None) -> None:
        """On the main thread: a page the loader read; uploaded a few per frame."""
        if decoded is None:
            self._failed.add(page)
            return
        if page not in self._requested and page not in self._visible_pages:
            return  # read for rows the wall has already flown past
        self._arrived.append((page, decoded))
        self._upload()

    def _upload_arrived(self, *_args) -> None:
        uploaded: set[int] = set()
        while self._arrived and len(uploaded) < UPLOADS_PER_FRAME:
            page, decoded = self._arrived.pop(0)
            if page in self._textures:
                continue
            size = (decoded.width, decoded.height)
            texture = self._make_room(size) or Texture.create(size=size, colorfmt="rgba", mipmap=False)
            texture.blit_buffer(decoded.pixels, colorfmt="rgba", bufferfmt="ubyte")
            u_size, v_size = texture.uvsize
            self._textures[page] = _PageTexture(texture, abs(u_size) / decoded.width, abs(v_size) / decoded.height)
            uploaded.add(page)
        if self._arrived:
            self._upload()
        if not uploaded:
            return
        columns = self._geometry[0]
        slots = {at // columns for at, index in enumerate(self._cell_of_rect) if index >= 0 and self._pages_of[index] in uploaded}
        for slot in slots:
            self._draw_row(slot)

    def _make_room(self, size: tuple[int, int]) -> Texture | None:
        """Evict the least recently used pages beyond `cached_pages`, never one in view.

        Returns an evicted texture of SIZE to upload into: the GL driver allocates a
        texture's storage on its first upload (3 ms for 960x960 under Mesa's llvmpipe),
        and an upload into a texture that has it takes 0.4 ms.
        """
        capacity = max(int(self.cached_pages), len(self._visible_pages) + 1)
        reusable: Texture | None = None
        for page in list(self._textures):
            if len(self._textures) < capacity:
                break
            if page in self._visible_pages or page == SILHOUETTE_PAGE:
                continue
            evicted = self._textures.pop(page)
            if reusable is None and evicted.texture.size == size:
                reusable = evicted.texture
        return reusable
