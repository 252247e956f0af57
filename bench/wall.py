"""The portrait wall flung end to end: Python work per frame, ours against a RecycleView.

    python bench/wall.py [--collection DIR] [--cache DIR] [--step PX] [--baselines image,async]

1. Thumbnails: builds the atlas pages of the collection (default: the full demo in
   var/demo/collection, else a new one in a temporary folder) into --cache (default: a
   new temporary folder, so the time is a full build on every core), then times the
   up-to-date check a station makes at every start.
2. In a 1280x800 window (a private Xvfb when DISPLAY is unset), flings through every
   person of the collection, top to bottom:
   - `PortraitGrid` moved by --step pixels per frame (default 96: about 5,800 px/s at
     60 frames per second, a brisk fling);
   - `PortraitGrid` flying on its own kinetic effect, kicked back to 6,000 px/s whenever
     it slows down (the frames then travel unequal distances: that is what a fling is);
   - `PortraitGrid` with each person's name under the face, as the station shows it
     (larger cells, a name texture drawn for each face that scrolls in), by the same step;
   - a plain RecycleView (RecycleGridLayout, cells of the same size, columns and gaps)
     whose viewclass is Kivy's `Image` (`source` = the person's image file), moved by
     the same step per frame; and the same with `AsyncImage`.
   The moving itself is a Clock callback, so it counts as part of the frame.

What is measured, per frame: the time of `EventLoop.idle()` minus the time of the
window's `on_draw` (the canvas tree handed to OpenGL: Mesa's software rasteriser here)
and `on_flip` (the buffer swap, where llvmpipe rasterises). What remains is the frame's
Python work: the Clock's callbacks (the effect, the grid's update, page uploads,
RecycleView refreshes, image loads and their caching), input and Builder sync. It is
given twice: as wall time (what delays the frame, including waits for a core when other
processes or this one's page thread have it) and as the main thread's CPU time
(`time.thread_time`, the work itself). Kivy's frame limiter is off (maxfps 0) so no
sleep is counted. The draw and swap are shown apart as "GL"; "faces" is the share of
the cells in view showing their face rather than the placeholder, averaged over frames.
Targets: ours at least ten times less Python work per frame than the RecycleView, and
no frame of ours over 16 ms of Python work.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exhibits.wall.thumbs import prepare_thumbs  # noqa: E402
from kiosk.collection import load_collection, write_demo  # noqa: E402
from kiosk.display import VirtualDisplay  # noqa: E402

WIDTH, HEIGHT = 1280, 800
FRAME_BUDGET_MS = 16.0
KINETIC_SPEED = 6000.0


@dataclass
class Run:
    name: str
    python_ms: list[float] = field(default_factory=list)
    """Wall time of the frame's Python work."""
    cpu_ms: list[float] = field(default_factory=list)
    """The main thread's CPU time for the same work: without the waits when another
    process (or this one's page thread) has the core."""
    gl_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    faces_shown: list[float] = field(default_factory=list)
    """Share of the cells in view showing their face (not a placeholder), per frame."""

    def row(self) -> str:
        python, cpu, gl = sorted(self.python_ms), sorted(self.cpu_ms), sorted(self.gl_ms)
        over = sum(1 for value in python if value > FRAME_BUDGET_MS)
        shown = f"{100 * statistics.mean(self.faces_shown):5.1f}%" if self.faces_shown else "    -"
        return (
            f"{self.name:<40} {len(python):>6} {percentile(python, 50):7.3f} {percentile(python, 95):7.3f} "
            f"{python[-1]:7.2f} {over:>5} {percentile(cpu, 50):7.3f} {percentile(cpu, 95):7.3f} {cpu[-1]:7.2f} "
            f"{percentile(gl, 50):6.1f} {self.seconds:6.0f} {shown:>6}"
        )


LEGEND = (
    "Python work per frame in ms: EventLoop.idle() minus the window's draw and swap; wall time\n"
    "(p50, p95, max, frames over 16 ms) and the main thread's CPU time; GL = draw + swap, wall time"
)
HEADER = (
    f"{'':<40} {'frames':>6} {'p50':>7} {'p95':>7} {'max':>7} {'>16ms':>5} {'cpu p50':>7} {'cpu p95':>7} {'cpu max':>7} "
    f"{'GL p50':>6} {'wall s':>6} {'faces':>6}"
)


def percentile(ordered: list[float], percent: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(percent / 100 * (len(ordered) - 1))))]


class FrameTimer:
    """Times each frame's EventLoop.idle(), and the window's draw and swap inside it."""

    def __init__(self, window) -> None:
        self.gl_wall = 0.0
        self.gl_cpu = 0.0
        for event in ("on_draw", "on_flip"):
            original = getattr(window, event)
            setattr(window, event, self._timed(original))

    def _timed(self, handler: Callable[[], None]) -> Callable[[], None]:
        def timed() -> None:
            wall, cpu = time.perf_counter(), time.thread_time()
            handler()
            self.gl_wall += time.perf_counter() - wall
            self.gl_cpu += time.thread_time() - cpu

        return timed

    def frame(self, event_loop, window) -> tuple[float, float, float]:
        """One frame; (Python wall ms, Python CPU ms, GL wall ms)."""
        self.gl_wall = self.gl_cpu = 0.0
        wall, cpu = time.perf_counter(), time.thread_time()
        event_loop.idle()
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        window.mainloop()  # SDL events read for the next frame, as StationDriver does
        return (wall - self.gl_wall) * 1000, (cpu - self.gl_cpu) * 1000, self.gl_wall * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", type=Path, default=ROOT / "var" / "demo" / "collection")
    parser.add_argument("--cache", type=Path, help="thumbnail folder (default: a new temporary one, removed)")
    parser.add_argument("--step", type=float, default=96.0, help="pixels per frame for the stepped flings")
    parser.add_argument("--baselines", default="image,async", help="RecycleView viewclasses: image, async, or none")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-wall-") as scratch:
        scratch_dir = Path(scratch)
        folder = args.collection
        if not (folder / "persons.csv").is_file():
            folder = scratch_dir / "collection"
            print(f"no collection in {args.collection}: writing the demo into {folder}")
            write_demo(folder, workers=args.workers)
        collection = load_collection(folder)
        cache = args.cache or scratch_dir / "thumbs"
        print(f"cores: {os.cpu_count()}, persons: {len(collection.persons)}, collection: {folder}, thumbnails: {cache}")

        report = prepare_thumbs(collection, cache, workers=args.workers)
        size = sum(path.stat().st_size for path in cache.glob("page-*.jpg"))
        print(
            f"thumbnails: {report.seconds:6.2f} s  ({report.pages_drawn} pages drawn, {report.pages_reused} reused, "
            f"{report.tiles_drawn} tiles, {len(report.index.pages)} pages, {size / 2**20:.0f} MiB)"
        )
        again = prepare_thumbs(collection, cache, workers=args.workers)
        print(f"up-to-date check: {again.seconds * 1000:6.0f} ms  (written: {again.index_written})")

        print(LEGEND)
        print(HEADER, flush=True)
        with VirtualDisplay(WIDTH, HEIGHT):
            runs = fling_all(collection, report.index, args.step, [b for b in args.baselines.split(",") if b and b != "none"], scratch_dir)

    print()
    print(LEGEND)
    print(HEADER)
    for run in runs:
        print(run.row())
    ours = runs[0]
    for run in runs[2:]:
        ratios = [
            percentile(sorted(getattr(run, kind)), p) / percentile(sorted(getattr(ours, kind)), p)
            for kind in ("python_ms", "cpu_ms")
            for p in (50, 95)
        ]
        print(f"{run.name} / ours: wall p50 {ratios[0]:.0f}x, p95 {ratios[1]:.0f}x; cpu p50 {ratios[2]:.0f}x, p95 {ratios[3]:.0f}x")


def fling_all(collection, index, step: float, baselines: list[str], scratch: Path) -> list[Run]:
    from kiosk.shell import prepare_kivy

    prepare_kivy(width=WIDTH, height=HEIGHT, fullscreen=False, kivy_home=scratch / "kivy", title="bench wall")
    from kivy.config import Config

    Config.set("graphics", "maxfps", "0")  # before kivy.clock exists: no sleep inside a frame
    from kivy.app import App
    from kivy.base import EventLoop, runTouchApp
    from kivy.core.window import Window
    from kivy.uix.floatlayout import FloatLayout

    from exhibits.wall.grid import PortraitGrid

    class BenchApp(App):
        def build(self):
            return FloatLayout()

    app = BenchApp()
    app._run_prepare()
    runTouchApp(embedded=True)
    timer = FrameTimer(Window)
    root = app.root
    person_ids = [person.person_id for person in collection.persons]
    images = [str(collection.image_path(person)) for person in collection.persons]

    def frames(count: int) -> None:
        for _ in range(count):
            timer.frame(EventLoop, Window)

    runs = []
    grid = PortraitGrid(index)
    root.add_widget(grid)
    grid.show(person_ids)
    frames(30)
    runs.append(fling(grid_stepped(grid, step), f"PortraitGrid, {step:g} px/frame", timer, EventLoop, Window, grid))
    grid.scroll_to(0)
    frames(30)
    runs.append(fling(grid_kinetic(grid), f"PortraitGrid, fling {KINETIC_SPEED:g} px/s", timer, EventLoop, Window, grid))
    root.remove_widget(grid)
    grid.close()

    # The wall as a station shows it: each face with its name beneath (exhibits.wall.screens).
    names = {person.person_id: person.display_name for person in collection.persons}
    named = PortraitGrid(index, name_of=names.__getitem__, cell_width=150, cell_height=200, name_height=62, spacing=8)
    root.add_widget(named)
    named.show(person_ids)
    frames(30)
    runs.append(fling(grid_stepped(named, step), f"PortraitGrid + names, {step:g} px/frame", timer, EventLoop, Window, named))
    root.remove_widget(named)
    named.close()

    for baseline in baselines:
        view, name = recycle_view(baseline, images, grid.columns, grid)
        root.add_widget(view)
        frames(30)
        cells = view.children[0].children
        assert len(cells) >= 36 and any(cell.texture for cell in cells), "the RecycleView shows its images"
        runs.append(fling(recycle_stepped(view, step), f"RecycleView + {name}, {step:g} px/frame", timer, EventLoop, Window))
        root.remove_widget(view)
    app.stop()
    return runs


def fling(mover, name: str, timer: FrameTimer, event_loop, window, grid=None) -> Run:
    """Frames until MOVER says the end is reached; MOVER runs as a Clock callback."""
    from kivy.clock import Clock

    run = Run(name)
    state = {"done": False}

    def move(_dt):
        state["done"] = mover()

    event = Clock.schedule_interval(move, 0)
    started = time.perf_counter()
    while not state["done"]:
        if event_loop.quit:  # SDL turns SIGTERM and SIGINT into a request to close
            raise SystemExit("the window was closed")
        python, cpu, gl = timer.frame(event_loop, window)
        run.python_ms.append(python)
        run.cpu_ms.append(cpu)
        run.gl_ms.append(gl)
        if grid is not None:
            run.faces_shown.append(faces_shown(grid))
    event.cancel()
    run.seconds = time.perf_counter() - started
    print(run.row(), flush=True)
    return run


def faces_shown(grid) -> float:
    cells = [grid.tile_loaded(i) for i in visible_cells(grid)]
    return sum(cells) / len(cells) if cells else 1.0


def visible_cells(grid) -> range:
    columns = int(grid.columns)
    pitch = grid.cell_height + grid.name_height + grid.spacing  # a name under each face, when shown
    first = max(0, int((grid.scroll - grid.padding) // pitch)) * columns
    last = min(len(grid.person_ids), (int((grid.scroll + grid.height - grid.padding) // pitch) + 1) * columns)
    return range(first, last)


def grid_stepped(grid, step: float) -> Callable[[], bool]:
    def move() -> bool:
        grid.scroll_by(step)
        return grid.scroll >= grid.max_scroll

    return move


def grid_kinetic(grid) -> Callable[[], bool]:
    def move() -> bool:
        if grid.scroll >= grid.max_scroll:
            return True
        if grid.velocity < KINETIC_SPEED / 2:
            grid.fling(KINETIC_SPEED)
        return False

    return move


def recycle_view(viewclass: str, images: list[str], columns: int, grid) -> tuple[object, str]:
    from kivy.uix.recyclegridlayout import RecycleGridLayout
    from kivy.uix.recycleview import RecycleView

    name = {"image": "Image", "async": "AsyncImage"}[viewclass]
    view = RecycleView(size_hint=(1, 1), do_scroll_x=False, bar_width=0)
    layout = RecycleGridLayout(
        cols=columns,
        default_size=(grid.cell_width, grid.cell_height),
        default_size_hint=(None, None),
        spacing=grid.spacing,
        padding=grid.padding,
        size_hint=(None, None),
        width=columns * (grid.cell_width + grid.spacing) - grid.spacing + 2 * grid.padding,
    )
    layout.bind(minimum_height=layout.setter("height"))
    view.add_widget(layout)
    view.viewclass = name  # kept by the layout manager: set once it is there
    view.data = [{"source": image, "fit_mode": "cover"} for image in images]
    return view, name


def recycle_stepped(view, step: float) -> Callable[[], bool]:
    def move() -> bool:
        travel = view.children[0].height - view.height
        view.scroll_y = max(0.0, view.scroll_y - step / travel)
        return view.scroll_y <= 0.0

    return move


if __name__ == "__main__":
    main()
