"""Staff withdraw a recording; within a minute every copy is gone: on the central store, in
the booth that made it, in the portrait wall's cache and in the memorial's. Each in its own
real process, as in the gallery: `kiosk central serve`, `kiosk sync run` for the booth, the
wall's voices, `kiosk run` for the memorial (on its simulated card); the staff action is
`kiosk central withdraw`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sync_support import ADULT, QUALITY, free_port, tone, write_small_collection

from exhibits.booth.take_store import TakeStore
from kiosk.central.config import load_central_config, write_central_config
from kiosk.central.db import open_database
from kiosk.central.importer import import_collection
from kiosk.central.moderation import approve
from kiosk.central.schema import recordings
from kiosk.central.stations import enroll
from kiosk.config import load_station_config, write_station_config

pytestmark = pytest.mark.slow

KIOSK = str(Path(sys.executable).parent / "kiosk")
HERE = Path(__file__).resolve().parent
MINUTE = 60.0


def station(folder: Path, exhibit: str, station_id: str, url: str, database, collection: Path, **settings) -> Path:
    token = folder / "token"
    folder.mkdir(parents=True)
    token.write_text(enroll(database, station_id) + "\n")
    token.chmod(0o600)
    toml = write_station_config(folder, exhibit=exhibit, station_id=station_id, central_url=url, token_file=str(token),
                                collection=str(collection), fullscreen=False, audio="simulated")
    lines = []
    for line in toml.read_text().splitlines():
        key = line.split("=")[0].strip()
        lines.append(f"{key} = {json.dumps(settings[key])}" if key in settings and "=" in line else line)
    toml.write_text("\n".join(lines) + "\n")
    return toml


def wait_for(condition, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.2)


def test_every_copy_is_gone_within_a_minute_of_the_staff_action(tmp_path):
    collection = write_small_collection(tmp_path / "collection", count=40)
    port = free_port()
    central_toml = write_central_config(tmp_path / "central", port=port)
    config = load_central_config(central_toml)
    database = open_database(config)
    import_collection(database, collection)
    url = f"http://127.0.0.1:{port}"
    booth = station(tmp_path / "booth", "booth", "booth-1", url, database, collection, heartbeat_s=5, retry_first_s=0.2)
    wall = station(tmp_path / "wall", "wall", "wall-1", url, database, collection, voices_refresh_s=10)
    memorial = station(tmp_path / "memorial", "memorial", "memorial-1", url, database, collection, refresh_s=10,
                       channels=2, pause_s=0.5, hours_file="hours.conf")
    # Open all day, every day: the gallery's hours file as the playbook writes it.
    (tmp_path / "memorial" / "hours.conf").write_text("".join(f"DAY_{day}=0000-2400\n" for day in range(1, 8)))
    takes = TakeStore(load_station_config(booth).data_dir / "takes", "booth-1")
    withdrawn = takes.keep(tone(1.0, seed=1), 48_000, person_id="p-0003", consent=ADULT, quality=QUALITY)
    stays = takes.keep(tone(1.0, seed=2), 48_000, person_id="p-0004", consent=ADULT, quality=QUALITY)

    environment = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    environment.pop("DISPLAY", None)
    processes: dict[str, subprocess.Popen] = {}
    outputs_extra = ""

    def start(name: str, *command: str) -> None:
        processes[name] = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                           env=environment)

    try:
        start("store", KIOSK, "central", "serve", "--config", str(central_toml))
        wait_for(lambda: _answers(f"{url}/api/v1/health"), "the store to answer")
        start("booth", KIOSK, "sync", "run", str(booth))
        wait_for(lambda: len(_recordings(database)) == 2, "the booth's two takes to reach the store")
        for recording_id in _recordings(database):
            approve(database, recording_id, by="anna")
        start("wall", sys.executable, str(HERE / "wall_voices_child.py"), str(wall))
        start("memorial", KIOSK, "run", str(memorial), "--windowed")

        sha, other = withdrawn.metadata["sha256"], stays.metadata["sha256"]
        copies = {
            "store": config.audio_dir / sha[:2] / f"{sha}.flac",
            "booth audio": takes.root / "audio" / f"{withdrawn.recording_id}.flac",
            "booth sidecar": takes.root / "takes" / f"{withdrawn.recording_id}.json",
            "wall": load_station_config(wall).data_dir / "voices" / "audio" / sha[:2] / f"{sha}.flac",
            "memorial": load_station_config(memorial).data_dir / "memorial" / "audio" / sha[:2] / f"{sha}.flac",
        }
        kept = [path.with_name(f"{other}.flac").parent.parent / other[:2] / f"{other}.flac"
                for name, path in copies.items() if name in ("store", "wall", "memorial")]
        def all_held() -> bool:
            for name, process in processes.items():
                assert process.poll() is None, f"{name} stopped: {process.stdout.read()[-3000:]}"
            return all(path.exists() for path in [*copies.values(), *kept])

        wait_for(all_held, "every station to hold its copies")

        staff_action = time.monotonic()
        done = subprocess.run([KIOSK, "central", "withdraw", "--config", str(central_toml),
                               withdrawn.metadata["withdrawal_code"], "--yes"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        outputs_extra = done.stderr
        left = dict(copies)
        gone_after = {}
        while left and time.monotonic() - staff_action < MINUTE:
            for name, path in list(left.items()):
                if not path.exists():
                    gone_after[name] = round(time.monotonic() - staff_action, 1)
                    del left[name]
            time.sleep(0.2)
        print("gone after (s):", gone_after)
        assert not left, f"still there a minute after the staff action: {sorted(left)}"
        assert all(path.exists() for path in kept), "only the withdrawn recording goes"
        assert (takes.root / "takes" / f"{stays.recording_id}.json").exists()
    finally:
        outputs = {}
        for name, process in processes.items():
            process.send_signal(signal.SIGTERM)
        for name, process in processes.items():
            try:
                outputs[name], _ = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                outputs[name], _ = process.communicate()
        database.dispose()
    # Every process logged that copies were withdrawn or deleted, none of them whose.
    secrets = (withdrawn.recording_id, "p-0003", "Testowa3", withdrawn.metadata["withdrawal_code"], sha)
    outputs["staff"] = outputs_extra
    lines = [line for output in outputs.values() for line in output.splitlines()]
    about = [line for line in lines if "withdrawn" in line.lower() or "deleted" in line.lower()]
    assert any("recording withdrawn" in line for line in about), outputs["staff"][-2000:]
    assert any("withdrawn takes deleted" in line for line in about), outputs["booth"][-2000:]
    assert sum("no longer approved deleted" in line for line in about) >= 2, about
    for line in about:
        for secret in secrets:
            assert secret not in line, line


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _recordings(database) -> list:
    from sqlalchemy import select

    with database.read() as connection:
        return list(connection.execute(select(recordings.c.id)).scalars())
