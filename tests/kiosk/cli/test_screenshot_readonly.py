"""`kiosk screenshot` on a live wall: it uses the station's own thumbnails and image index
and writes nothing into the station's data folder, except thumbnails it has none of."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from harness.tools import folder_state
from PIL import Image

from kiosk.config import load_station_config, write_station_config

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_a_picture_of_a_live_wall_leaves_its_data_untouched_but_for_missing_thumbnails(kiosk, small_collection, tmp_path):
    station = write_station_config(tmp_path / "wall", exhibit="wall", station_id="wall-1", fullscreen=False, size=(1280, 800), audio="simulated", collection=str(small_collection))
    data = load_station_config(station).data_dir
    (data / "queue").mkdir(parents=True)
    (data / "queue" / "take.json").write_text("{}")  # something of the station's own
    before = folder_state(data)

    first = tmp_path / "grid-nl.png"
    done = kiosk("screenshot", str(station), "--screen", "grid", "--lang", "nl", "--out", str(first), timeout=600)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    after = folder_state(data)
    added = {name for name in after if name not in before}
    assert added and all(name == "thumbs" or name.startswith("thumbs/") for name in added), f"written into the station: {sorted(added)}"
    assert {name: after[name] for name in before if name != "."} == {name: value for name, value in before.items() if name != "."}
    assert (data / "thumbs" / "index.json").is_file(), "the missing thumbnails were built where the station keeps them"

    with_thumbs = folder_state(data)
    again = tmp_path / "all"
    done = kiosk("screenshot", str(station), "--screen", "all", "--lang", "fr", "--out", str(again), timeout=600)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert folder_state(data) == with_thumbs, "the second picture wrote nothing into the station at all"
    with Image.open(again / "grid-fr.png") as picture:
        assert picture.size == (1280, 800)
        # The faces came from the station's thumbnails: the grid is not a field of placeholders.
        colours = picture.crop((100, 400, 1180, 600)).convert("L").getcolors(maxcolors=256 * 256)
        assert colours is None or len(colours) > 40


def test_a_picture_reads_the_stations_image_index_and_never_writes_it(kiosk, small_collection, tmp_path):
    from kiosk.collection import load_collection
    from kiosk.station import image_index

    station = write_station_config(tmp_path / "wall", exhibit="wall", station_id="wall-1", fullscreen=False, size=(1280, 800), audio="simulated", collection=str(small_collection))
    data = load_station_config(station).data_dir
    index = image_index(data)
    load_collection(small_collection, images=index)  # as the station's start leaves it
    # One portrait left out of the index: a station would add it; a picture must not.
    rows = json.loads(index.path.read_bytes())
    rows["images"].pop(sorted(rows["images"])[0])
    index.path.write_text(json.dumps(rows))
    written = index.path.read_bytes()
    before = folder_state(data)

    done = kiosk("screenshot", str(station), "--screen", "attract", "--out", str(tmp_path / "attract.png"), timeout=600)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    after = folder_state(data)
    outside_thumbs = lambda entries: {k: v for k, v in entries.items() if k != "." and not k.startswith("thumbs")}  # noqa: E731
    assert outside_thumbs(after) == outside_thumbs(before)
    assert index.path.read_bytes() == written
