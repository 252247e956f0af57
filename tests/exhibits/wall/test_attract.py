"""The attract screen's places for faces: two side columns, never over each other or the
invitation in the middle."""

from __future__ import annotations

import pytest

from kiosk.audit import overlap_area

pytestmark = pytest.mark.gui  # exhibits.wall.attract imports Kivy widgets


@pytest.mark.parametrize(("width", "height"), [(1280, 632), (1920, 912), (3840, 1944)])
def test_faces_have_places_of_their_own_beside_the_invitation(display, width, height):
    from exhibits.wall.attract import slots

    side, slot_height, gap = 300, 284, 24
    places = slots(width, height, side, slot_height, gap)
    assert places and len(places) % 2 == 0
    for i, a in enumerate(places):
        x, y, w, h = a
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
        assert x + w <= side or x >= width - side, "in a side column, clear of the middle"
        assert all(overlap_area(a, b) == 0 for b in places[i + 1 :])


def test_no_places_where_the_screen_is_too_narrow_for_columns(display):
    from exhibits.wall.attract import slots

    assert slots(800, 600, 300, 284, 24) == []


def test_faces_change_only_when_the_station_s_clock_says(display):
    """On a clock that stands still (kiosk screenshot) no face fades; when it moves on, one does."""
    from pathlib import Path

    from kivy.clock import Clock

    import kiosk.shell.app  # noqa: F401  (registers the station's fonts)
    from exhibits.wall.attract import FADE_S, STAY_S, SlotPortraits
    from kiosk.clock import ManualClock

    portraits = Path(__file__).resolve().parents[1] / "hardcases" / "portraits"
    people = [(path.stem, str(path)) for path in sorted(portraits.glob("*.jpg"))]
    clock = ManualClock(100.0)
    backdrop = SlotPortraits(people, seed=1, clock=clock, size=(1280, 632))
    try:
        backdrop._reset()
        faces = dict(backdrop._faces)
        assert faces and all(face.opacity == 1 for face in faces.values())
        for _ in range(3):
            Clock.tick()
            backdrop._tick(0)
        assert backdrop._faces == faces and all(face.opacity == 1 for face in faces.values()), "the clock stood still"
        assert len(backdrop._due) == len(faces), "every face waits for its moment"
        clock.advance(2 * FADE_S + STAY_S)
        backdrop._tick(0)
        assert not backdrop._due, "the clock moved on: every face has begun to fade"

    finally:
        backdrop.stop()
