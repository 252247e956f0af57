"""Keys and tactile inputs as the station's actions, without Kivy.

The wall takes a USB keypad (the Smithsonian's Universal Keypad idea: a few large keys
that need no sight) and the booth its controller's previous / next / select inputs.
Both arrive at `StationApp.navigate(action)` with one of ACTIONS; a keypad arrives as
keyboard events, read here by Kivy's key codes (`kivy.core.window.Keyboard.keycodes`).

A numeric keypad sends its digits with Num Lock on and arrows with it off, so both are
read: 8 and 4 (up, left) go back, 2 and 6 (down, right) go on, 5 and Enter press.
The keypad's "*" (or F1 on a full keyboard) switches audio mode, "0" (or F2) says the
screen again, "-", Backspace or Escape go back.
"""

from __future__ import annotations

PREVIOUS, NEXT, SELECT, BACK, AUDIO, REPEAT = "previous", "next", "select", "back", "audio", "repeat"
ACTIONS = (PREVIOUS, NEXT, SELECT, BACK, AUDIO, REPEAT)
ALIASES = {"prev": PREVIOUS}  # the booth controller's short name

# Kivy's key codes (kivy.core.window.Keyboard.keycodes).
KEYCODES = {
    "backspace": 8, "tab": 9, "enter": 13, "escape": 27, "spacebar": 32,
    "up": 273, "down": 274, "right": 275, "left": 276,
    "numpad0": 256, "numpad2": 258, "numpad4": 260, "numpad5": 261, "numpad6": 262, "numpad8": 264,
    "numpadmul": 268, "numpadsubstract": 269, "numpadenter": 271,
    "f1": 282, "f2": 283,
}  # fmt: skip

KEY_ACTIONS = {
    "up": PREVIOUS, "left": PREVIOUS, "numpad8": PREVIOUS, "numpad4": PREVIOUS,
    "down": NEXT, "right": NEXT, "tab": NEXT, "numpad2": NEXT, "numpad6": NEXT,
    "enter": SELECT, "numpadenter": SELECT, "numpad5": SELECT, "spacebar": SELECT,
    "escape": BACK, "backspace": BACK, "numpadsubstract": BACK,
    "numpadmul": AUDIO, "f1": AUDIO,
    "numpad0": REPEAT, "f2": REPEAT,
}  # fmt: skip
_BY_CODE = {KEYCODES[name]: action for name, action in KEY_ACTIONS.items()}


def action_for_key(keycode: int, modifiers: list[str] | tuple[str, ...] = ()) -> str | None:
    """The action of a key press, or None for a key the station does not use
    (typing is done on the screen's own keyboard, so other keys are ignored)."""
    action = _BY_CODE.get(keycode)
    if action == NEXT and keycode == KEYCODES["tab"] and "shift" in modifiers:
        return PREVIOUS
    return action


def action_named(name: str) -> str:
    """NAME as one of ACTIONS (ValueError, naming them, for anything else)."""
    action = ALIASES.get(name, name)
    if action not in ACTIONS:
        raise ValueError(f"no station action {name!r}: use one of {', '.join(ACTIONS)}")
    return action
