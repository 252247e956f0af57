"""How fast a portrait wall starts and pictures itself, beside a bare Kivy app.

    python bench/station_start.py [--collection DIR] [--runs N] [--no-cold]

On one private virtual screen (Xvfb, 1280x800), in the same run:

- baseline: a bare Kivy app showing one label, started as a new process, from the
  process's start to its first frame on screen, and its memory (RSS) then;
- the wall: `kiosk run STATION.toml --windowed` of a wall station on the collection
  (default: the full demo in var/demo/collection, else a new one in a temporary folder),
  from the process's start to the first frame that shows the attract screen, and its RSS
  once that screen has shown for ARRIVED_S (the page thread has settled);
  first the very first start (the thumbnails are drawn), then RUNS warm starts, baseline
  and wall taken in turn, the medians kept;
- cold: the same after dropping the page cache (`echo 3 > /proc/sys/vm/drop_caches`,
  needs root; left out otherwise or with --no-cold);
- `kiosk screenshot` of one screen (the grid, nl) and `--screen all` (every screen in the
  station's three languages), each a new process, wall time.

The last line is one JSON object: {"start_s", "baseline_start_s", "rss_mb",
"baseline_rss_mb", "screenshot_s", "screenshot_all_s", ...} with the cold and first
starts, the CPU seconds of each (what a loaded machine cannot blur) and the load average
beside them. Goals (issue 18): start <= baseline + 1.5 s,
cold <= 3 s, RSS <= baseline + 45 MB, one screenshot <= 3 s, all <= 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.collection import load_collection, write_demo  # noqa: E402
from kiosk.config import write_station_config  # noqa: E402
from kiosk.display import VirtualDisplay  # noqa: E402

WIDTH, HEIGHT = 1280, 800
ARRIVED_S = 2.0
"""How long the first screen has shown when the RSS is read."""
TIMEOUT_S = 180

# The child measures itself: the time of the first frame drawn (flipped) with the attract
# screen current, and its RSS ARRIVED_S later; then it stops. It runs the real command.
_REPORTER = r"""
import json, os, sys, time
ARRIVED_S = float(os.environ["BENCH_ARRIVED_S"])

def rss_kb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

def watch(shown):
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    state = {}

    def flipped(*_args):
        if "t" not in state and shown(App.get_running_app()):
            state["t"] = time.time()
            state["cpu"] = time.process_time()
            Clock.schedule_once(done, ARRIVED_S)

    def done(_dt):
        print("BENCH " + json.dumps({"shown_at": state["t"], "cpu_s": state["cpu"], "rss_kb": rss_kb()}), flush=True)
        App.get_running_app().stop()

    Window.bind(on_flip=flipped)
"""

_STATION_CHILD = (
    _REPORTER
    + r"""
import kiosk.shell
prepare = kiosk.shell.prepare_kivy

def prepared(**kwargs):
    prepare(**kwargs)
    def shown(app):
        return app is not None and app.root is not None and app.screens.current == "attract" and not app.screens.transition.is_active
    watch(shown)

if __name__ == "__main__":  # not again in a worker the thumbnails' first build spawns
    kiosk.shell.prepare_kivy = prepared
    from kiosk.cli import main
    sys.argv = [sys.argv[0], "run", sys.argv[1], "--windowed"]
    main()
"""
)

_BASELINE_CHILD = (
    _REPORTER
    + r"""
from pathlib import Path
from kiosk.shell import prepare_kivy
prepare_kivy(width=1280, height=800, fullscreen=False, kivy_home=Path(sys.argv[1]), title="baseline")
from kivy.app import App
from kivy.uix.label import Label

class Bare(App):
    def build(self):
        return Label(text="Kazerne Dossin", font_size=40)

watch(lambda app: app is not None and app.root is not None)
Bare().run()
"""
)


def child(script: Path, argument: str, env: dict[str, str]) -> tuple[float, float, float]:
    """(seconds from spawn to shown, CPU seconds until then, RSS in MB) of one new process
    running SCRIPT. The CPU time tells on a loaded machine what the wall time cannot."""
    started = time.time()
    done = subprocess.run(
        [sys.executable, str(script), argument], capture_output=True, text=True, timeout=TIMEOUT_S, env=env, cwd=ROOT
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"the child failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    report = json.loads(lines[-1][len("BENCH ") :])
    return report["shown_at"] - started, report["cpu_s"], report["rss_kb"] / 1024


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of COMMAND."""
    started, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, env=env, cwd=ROOT)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return elapsed, after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime


def drop_caches() -> bool:
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", type=Path, default=ROOT / "var" / "demo" / "collection")
    parser.add_argument("--runs", type=int, default=5, help="warm starts of each (default 5)")
    parser.add_argument("--no-cold", action="store_true", help="no cold start (dropping the page cache needs root)")
    args = parser.parse_args()
    kiosk = str(Path(sys.executable).with_name("kiosk"))

    with tempfile.TemporaryDirectory(prefix="bench-start-") as scratch:
        scratch_dir = Path(scratch)
        folder = args.collection
        if not (folder / "persons.csv").is_file():
            folder = scratch_dir / "collection"
            print(f"no collection in {args.collection}: writing the demo into {folder}", flush=True)
            write_demo(folder)
        persons = len(load_collection(folder).persons)
        station = write_station_config(
            scratch_dir / "wall", exhibit="wall", station_id="wall-1", fullscreen=False, size=(WIDTH, HEIGHT),
            audio="simulated", collection=str(folder.resolve()),
        )
        print(f"cores: {os.cpu_count()}, persons: {persons}, station: {station}", flush=True)
        env = dict(os.environ, BENCH_ARRIVED_S=str(ARRIVED_S), KIVY_NO_ARGS="1", PYTHONPATH=str(ROOT))
        figures: dict[str, float | str | None] = {}
        # Files, not `python -c`: Kivy's App looks for its class's source file.
        station_child, baseline_child = scratch_dir / "station_child.py", scratch_dir / "baseline_child.py"
        station_child.write_text(_STATION_CHILD)
        baseline_child.write_text(_BASELINE_CHILD)
        with VirtualDisplay(WIDTH, HEIGHT, force=True):
            env["DISPLAY"] = os.environ["DISPLAY"]
            baseline_home = str(scratch_dir / "baseline-kivy")
            child(baseline_child, baseline_home, env)  # Kivy's own first-start work, not counted

            first, _cpu, first_rss = child(station_child, str(station), env)
            print(f"wall, first start (thumbnails drawn): {first:6.2f} s, {first_rss:5.0f} MB", flush=True)
            figures["first_start_s"] = round(first, 2)

            runs: dict[str, list[tuple[float, float, float]]] = {"baseline": [], "wall": []}
            for run in range(args.runs):
                runs["baseline"].append(child(baseline_child, baseline_home, env))
                runs["wall"].append(child(station_child, str(station), env))
                (base, base_cpu, base_mb), (wall, wall_cpu, wall_mb) = runs["baseline"][-1], runs["wall"][-1]
                print(
                    f"run {run + 1}: baseline {base:5.2f} s ({base_cpu:4.2f} s CPU) {base_mb:4.0f} MB   "
                    f"wall {wall:5.2f} s ({wall_cpu:4.2f} s CPU) {wall_mb:4.0f} MB",
                    flush=True,
                )

            def median(who: str, at: int) -> float:
                return statistics.median(figure[at] for figure in runs[who])

            figures |= {
                "start_s": round(median("wall", 0), 2),
                "baseline_start_s": round(median("baseline", 0), 2),
                "rss_mb": round(median("wall", 2), 1),
                "baseline_rss_mb": round(median("baseline", 2), 1),
            }

            shot = scratch_dir / "grid-nl.png"
            one = timed([kiosk, "screenshot", str(station), "--screen", "grid", "--lang", "nl", "--out", str(shot)], env)
            print(f"screenshot, one screen: {one[0]:6.2f} s ({one[1]:4.2f} s CPU)", flush=True)
            every = timed([kiosk, "screenshot", str(station), "--screen", "all", "--out", str(scratch_dir / "all")], env)
            shots = len(list((scratch_dir / "all").glob("*.png")))
            print(f"screenshot, --screen all: {every[0]:6.2f} s ({every[1]:4.2f} s CPU, {shots} pictures)", flush=True)
            figures |= {
                "screenshot_s": round(one[0], 2),
                "screenshot_all_s": round(every[0], 2),
                "start_cpu_s": round(median("wall", 1), 2),
                "baseline_start_cpu_s": round(median("baseline", 1), 2),
                "screenshot_cpu_s": round(one[1], 2),
                "screenshot_all_cpu_s": round(every[1], 2),
            }

            if not args.no_cold:
                if drop_caches():
                    seconds, _cpu, _mb = child(baseline_child, baseline_home, env)
                    figures["cold_baseline_start_s"] = round(seconds, 2)
                    drop_caches()
                    seconds, _cpu, _mb = child(station_child, str(station), env)
                    figures["cold_start_s"] = round(seconds, 2)
                    print(f"cold page cache: baseline {figures['cold_baseline_start_s']:5.2f} s, wall {seconds:5.2f} s", flush=True)
                else:
                    print("cold start left out: dropping the page cache needs root", flush=True)
        figures["load_average"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
