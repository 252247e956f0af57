"""What the gallery's on-screen keyboard offers and how typing works, without Kivy
(the widget: kiosk.shell.keyboard)."""

from __future__ import annotations

import string

LETTERS = string.ascii_uppercase
# Letters with diacritics in the names of the deportation lists (French, Polish, German,
# Dutch, Czech spellings); the wall's search folds them, a first name keeps them. Two rows
# of 13, like A-Z, so the keyboard keeps its shape on either layer.
ACCENTED = "ÀÁÂÄÇĆČÈÉÊËÎÏŁÑÓÔÖØŚŠÚÜŹŻŽ"
BACKSPACE, CLEAR, SPACE, HYPHEN, APOSTROPHE = "⌫", "clear", " ", "-", "'"
COLUMNS = 13  # names: A-Z in two rows
CODE_COLUMNS = 15  # codes: their 30 symbols in two rows


def typed(text: str, key: str, max_length: int) -> str:
    """TEXT after KEY: no leading or double space, never longer than MAX_LENGTH."""
    if key == BACKSPACE:
        return text[:-1]
    if key == CLEAR:
        return ""
    if key == SPACE and (not text or text.endswith(SPACE)):
        return text
    if len(text) >= max_length:
        return text
    return text + key


def left_out(alphabet: str) -> tuple[str, str]:
    """The letters and digits a code alphabet leaves out, to say so on the keyboard."""
    letters = "".join(c for c in LETTERS if c not in alphabet)
    digits = "".join(c for c in string.digits if c not in alphabet)
    return letters, digits
