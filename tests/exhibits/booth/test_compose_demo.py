"""A booth that `kiosk demo` made: its simulated participant reads the name the booth assigned,
and the take passes the quality check, from the first touch to the kept take (no screen).

The booth is composed exactly as `kiosk run` composes it (`exhibits.booth.compose.make_flow`),
on the real clock; espeak-ng speaks. A booth on simulated devices that is not a demo (the
tests' own booths) keeps hearing room tone only.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "kiosk" / "link"))

from sync_support import write_small_collection  # noqa: E402

from exhibits.booth.compose import make_flow  # noqa: E402
from exhibits.booth.flow import Step  # noqa: E402
from hardware.audio.simulated import SimulatedMicrophone  # noqa: E402
from hardware.audio.reader import ReadingMicrophone  # noqa: E402
from kiosk.config import load_station_config, write_station_config  # noqa: E402


def booth(tmp_path: Path, *, demo: bool):
    collection = write_small_collection(tmp_path / "collection", count=10)
    toml = write_station_config(tmp_path / "booth", exhibit="booth", station_id="booth-1", collection=str(collection),
                                audio="simulated", controller="none", demo=demo)
    return make_flow(load_station_config(toml), time.monotonic)


def read_a_name(flow, language: str) -> None:
    flow.start()
    flow.begin(language)
    flow.choose_age("18+")  # the age first, then consent (under 13, a guardian's first)
    flow.agree()
    flow.choose_way("next")
    flow.accept_name()
    flow.ready()
    deadline = time.monotonic() + 120
    while flow.step is not Step.REVIEW and time.monotonic() < deadline:
        flow.tick()
        time.sleep(0.02)
    assert flow.step is Step.REVIEW, f"the take did not end by itself (step {flow.step.value})"


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_the_demo_booths_take_of_its_name_passes_and_is_kept(tmp_path, language):
    flow = booth(tmp_path, demo=True)
    assert isinstance(flow.microphone, ReadingMicrophone)
    try:
        read_a_name(flow, language)
        assert flow.review.report.verdict == "ok", flow.review.report.to_json()
        flow.keep()
        assert flow.step is Step.THANKS and flow.kept.metadata["quality"]["verdict"] == "ok"
    finally:
        flow.microphone.close()


def test_a_test_booth_on_simulated_devices_hears_room_tone_only(tmp_path):
    flow = booth(tmp_path, demo=False)
    assert type(flow.microphone) is SimulatedMicrophone
    try:
        flow.start()
    finally:
        flow.microphone.close()
