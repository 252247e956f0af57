"""A USB keypad's keys and the booth controller's inputs as the station's actions (no Kivy)."""

import pytest

from kiosk.shell import navigation
from kiosk.shell.navigation import AUDIO, BACK, NEXT, PREVIOUS, REPEAT, SELECT, action_for_key, action_named


def code(name: str) -> int:
    return navigation.KEYCODES[name]


def test_arrows_tab_and_enter_move_and_press():
    assert [action_for_key(code(k)) for k in ("up", "left", "down", "right", "tab", "enter", "numpadenter")] == [
        PREVIOUS, PREVIOUS, NEXT, NEXT, NEXT, SELECT, SELECT,
    ]  # fmt: skip
    assert action_for_key(code("tab"), ["shift"]) == PREVIOUS


def test_a_numeric_keypad_works_with_num_lock_on_or_off():
    # Num Lock on: digits; off: the same keys send arrows (read above).
    assert [action_for_key(code(k)) for k in ("numpad8", "numpad4", "numpad2", "numpad6", "numpad5")] == [PREVIOUS, PREVIOUS, NEXT, NEXT, SELECT]
    assert action_for_key(code("numpadmul")) == AUDIO and action_for_key(code("f1")) == AUDIO
    assert action_for_key(code("numpad0")) == REPEAT
    assert action_for_key(code("escape")) == action_for_key(code("numpadsubstract")) == action_for_key(code("backspace")) == BACK


@pytest.mark.gui  # kivy.core.window opens a window when imported
def test_the_codes_are_kivy_s():
    from kivy.core.window import Keyboard

    for name, value in navigation.KEYCODES.items():
        assert Keyboard.keycodes[name] == value, name


def test_other_keys_are_left_alone_and_unknown_actions_say_the_known_ones():
    assert action_for_key(ord("a")) is None and action_for_key(code("f2") + 5) is None
    assert action_named("prev") == PREVIOUS and action_named("select") == SELECT
    with pytest.raises(ValueError, match="previous, next, select, back, audio, repeat"):
        action_named("jump")
