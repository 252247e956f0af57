"""Audio mode's words on the wall's real screens: every control a visitor can touch has
a spoken name under the name of its widget, and every control said is on the screen,
in nl, fr and en, on the hard-case collection (tests/exhibits/hardcases)."""

from __future__ import annotations

import pytest
from wall_support import running_wall

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def wall(display, tmp_path):
    with running_wall(tmp_path, title="kiosk wall words test") as running:
        yield running


SHELL = {"start-over", "language-nl", "language-fr", "language-en", "attract"}


def drawn(app, buttons_only: bool = True) -> set[str]:
    """test_names of the widgets (the buttons) a visitor sees on the current wall screen."""
    from kivy.uix.behaviors import ButtonBehavior

    screen = app.screens.current_screen
    named = set()
    for widget in screen.walk(restrict=True):
        name = getattr(widget, "test_name", "")
        if name and (isinstance(widget, ButtonBehavior) or not buttons_only) and _drawn(widget, screen):
            named.add(name)
    return named


def _drawn(widget, screen) -> bool:
    """Drawn on SCREEN (enabled or not): nothing between it and the screen is transparent."""
    node = widget
    while node is not None and node is not screen:
        if getattr(node, "opacity", 1) == 0:
            return False
        node = node.parent
    return node is screen


def check(driver, app, *, may_be_out_of_view: str = "") -> set[str]:
    words = app.screens.current_screen.screen_words()
    said = {control.id for control in words.controls}
    assert words.spoken and all(control.spoken for control in words.controls)
    shown = drawn(app) - SHELL
    assert shown <= said, f"{app.screens.current} in {app.lang}: buttons without words: {sorted(shown - said)}"
    faces = {f"face-{app.wall.grid.person_ids[i]}" for i in app.wall.grid.faces_in_view()} if app.screens.current == "grid" else set()
    unseen = {c for c in said - drawn(app, buttons_only=False) - faces if not (may_be_out_of_view and c.startswith(may_be_out_of_view))}
    assert not unseen, f"{app.screens.current} in {app.lang}: words for what is not on the screen: {sorted(unseen)}"
    return shown


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_every_wall_screen_names_what_can_be_touched(wall, language):
    driver, app = wall
    driver.tap(f"language-{language}")
    driver.wait_until(lambda: app.screens.current == "grid", 20, "the grid")
    driver.settle(0.5)
    assert {"open-search", "letter-Q", "decade-1920"} <= check(driver, app)
    words = app.screens.current_screen.screen_words()
    assert any(control.id.startswith("face-") for control in words.controls), "the faces in view are said"

    app.wall.choose_letter("K")
    driver.settle(0.3)
    check(driver, app)  # clear-filters appears, and is said

    app.wall.go("search")
    driver.wait_until(lambda: app.screens.current == "search", 20, "search")
    for key in "KAC":
        driver.tap(f"key-{key}", settle=0.05)
    driver.wait_until(lambda: app.wall.view.query == "kac", 20, "the query")
    driver.settle(0.3)
    assert {"back", "key-K", "key-backspace", "result-hard-06"} <= check(driver, app, may_be_out_of_view="result-")
    assert "result-hard-06" in {c.id for c in app.screens.current_screen.screen_words().controls}

    app.wall.open_person("hard-06")
    driver.wait_until(lambda: app.screens.current == "person", 20, "the person page")
    assert check(driver, app) == {"back"}, "Ester Kac has no voice yet: only back"
    assert app.screens.current_screen.screen_words().spoken.startswith("Ester Kac.")

    app.wall.go("transports")
    driver.wait_until(lambda: app.screens.current == "transports", 20, "the transports")
    assert {"back", "transport-XXIIA"} <= check(driver, app)


@pytest.fixture
def demo_wall(display, tmp_path):
    from kiosk.collection import write_demo

    write_demo(tmp_path / "collection", count=300, seed=4)
    with running_wall(tmp_path, tmp_path / "collection", title="kiosk wall words test") as running:
        yield running


def test_audio_mode_reaches_what_is_not_a_widget_or_not_in_view(demo_wall):
    """A result scrolled out of the list comes into view when the focus reaches it, and
    opens by its id; a face (drawn by the grid) has a box for the ring and opens by its id."""
    driver, app = demo_wall
    driver.tap("language-en")
    driver.wait_until(lambda: app.screens.current == "grid", 20, "the grid")
    grid_screen = app.screens.current_screen
    face = next(c.id for c in grid_screen.screen_words().controls if c.id.startswith("face-"))
    x, y, w, h = grid_screen.control_box(face)
    gx, gy = app.wall.grid.to_window(*app.wall.grid.pos)
    assert w > 50 and gx <= x and gy <= y and y + h <= gy + app.wall.grid.height
    assert grid_screen.control_box("open-search") is None and not grid_screen.press("open-search")
    # A keypad cannot swipe: "more faces" brings the next ones into view.
    first_view = app.wall.grid.faces_in_view()
    assert grid_screen.screen_words().controls[-1].id == "scroll-cue"
    assert grid_screen.press("scroll-cue")
    driver.settle(0.2)
    assert app.wall.grid.faces_in_view()[0] == first_view[-1] + 1
    assert f"face-{app.wall.grid.person_ids[first_view[-1] + 1]}" in {c.id for c in grid_screen.screen_words().controls}

    app.wall.go("search")
    driver.wait_until(lambda: app.screens.current == "search", 20, "search")
    app.wall.search("gold")
    driver.settle(0.3)
    search = app.screens.current_screen
    results = [c.id for c in search.screen_words().controls if c.id.startswith("result-")]
    assert len(results) >= 5, "more results than the list shows at once"
    last = results[-1]
    assert not _row_in_view(search, last)
    search.reveal(last)
    driver.wait_until(lambda: _row_in_view(search, last), 10, "the last result to come into view")
    search.reveal(results[0])
    driver.wait_until(lambda: _row_in_view(search, results[0]), 10, "the first result to come back into view")
    assert search.press(last)
    driver.wait_until(lambda: app.screens.current == "person", 20, "the person page")
    assert f"result-{app.wall.view.person.person_id}" == last
    assert app.screens.current_screen.back() and app.screens.current == "grid"
    assert not app.screens.current_screen.back(), "on the grid, back is the shell's (start over)"


def _row_in_view(search, control_id: str) -> bool:
    view = search.ids.results
    for row in view.children[0].children:
        if row.test_name == control_id:
            _x, y = view.children[0].to_window(*row.pos)
            _vx, vy = view.to_window(*view.pos)
            return vy - 1 <= y and y + row.height <= vy + view.height + 1
    return False
