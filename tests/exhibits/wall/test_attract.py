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
    """On a clock that stands still (kiosk screenshot) no face fades; when it moves on, each
    place changes at its own moment, then waits a whole fade and stay again."""
    from exhibits.wall.attract import FADE_S, STAY_S, FaceTimes
    from kiosk.clock import ManualClock

    clock = ManualClock(100.0)
    times = FaceTimes(clock)
    times.start(4)
    assert times.due() == [] and times.waiting == 4, "the clock stood still"
    clock.advance((2 * FADE_S + STAY_S) / 5)
    assert times.due() == [0] and times.due() == [], "the first place, once"
    clock.advance(3 * (2 * FADE_S + STAY_S) / 5)
    assert times.due() == [1, 2, 3]
    times.shown(0)
    clock.advance(FADE_S + STAY_S - 0.1)
    assert times.due() == []
    clock.advance(0.2)
    assert times.due() == [0]
