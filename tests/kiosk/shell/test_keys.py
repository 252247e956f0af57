"""The on-screen keyboard's typing rules and what it says a code leaves out (no Kivy)."""

from kiosk.contract import CODE_ALPHABET
from kiosk.shell.keys import ACCENTED, BACKSPACE, CLEAR, COLUMNS, LETTERS, SPACE, left_out, typed


def test_typing_rules():
    text = ""
    for key in (SPACE, "L", "É", SPACE, SPACE, "-", "'"):
        text = typed(text, key, 10)
    assert text == "LÉ -'", "no leading space, never two in a row"
    assert typed(text, BACKSPACE, 10) == "LÉ -"
    assert typed(text, CLEAR, 10) == ""
    assert typed("ABCDEFGHIJ", "K", 10) == "ABCDEFGHIJ", "the length is bounded"
    assert typed("", BACKSPACE, 10) == ""


def test_both_layers_keep_the_keyboards_shape_and_every_letter_once():
    assert len(LETTERS) == len(ACCENTED) == 2 * COLUMNS
    assert len(set(ACCENTED)) == len(ACCENTED) and not set(ACCENTED) & set(LETTERS)
    assert all(letter.isupper() and letter.lower().upper() == letter for letter in ACCENTED), "title() keeps each letter"


def test_the_code_keyboard_names_what_codes_leave_out():
    assert left_out(CODE_ALPHABET) == ("ILOU", "01")


def test_the_wall_reads_the_keys_the_keyboard_sends():
    from exhibits.wall import flow

    assert (flow.BACKSPACE, flow.CLEAR) == (BACKSPACE, CLEAR)
