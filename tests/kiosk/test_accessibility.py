"""Audio mode's guide without a screen: arrival words, first touch speaks, second
presses, the three keys walk the controls in reading order, a disabled control says why."""

from __future__ import annotations

import pytest

from kiosk.accessibility import AudioGuide, Control, ScreenWords, Touch


class Voice:
    def __init__(self):
        self.said: list[str] = []
        self.silenced = 0

    def say(self, text: str) -> None:
        self.said.append(text)

    def silence(self) -> None:
        self.silenced += 1


SEARCH = ScreenWords(
    "search",
    "Search. Type a name with the keyboard; results appear below.",
    (
        Control("field", "Name, text field"),
        Control("go", "Show results, button", enabled=False, why_not="Type at least one letter first."),
        Control("back", "Back, button"),
    ),
)


@pytest.fixture
def voice() -> Voice:
    return Voice()


@pytest.fixture
def guide(voice) -> AudioGuide:
    guide = AudioGuide(voice.say, voice.silence)
    guide.arrive(SEARCH)
    return guide


def test_arriving_says_what_the_screen_is(guide, voice):
    assert voice.said == [SEARCH.spoken] and guide.focus is None


def test_a_first_touch_speaks_and_a_second_presses(guide, voice):
    assert guide.touch("back") is Touch.SPOKEN
    assert voice.said[-1] == "Back, button" and guide.focus == "back"
    assert guide.touch("back") is Touch.PRESS and voice.silenced == 1


def test_touching_another_control_moves_the_focus_without_pressing(guide, voice):
    guide.touch("field")
    assert guide.touch("back") is Touch.SPOKEN and guide.focus == "back"


def test_a_disabled_control_says_why_and_is_not_pressed(guide, voice):
    assert guide.touch("go") is Touch.SPOKEN
    assert voice.said[-1] == "Show results, button. Type at least one letter first."
    assert guide.touch("go") is Touch.REFUSED and voice.silenced == 0


def test_the_keys_walk_in_reading_order_and_wrap(guide, voice):
    guide.next()
    guide.next()
    guide.next()
    guide.next()
    assert voice.said[1:] == ["Name, text field", "Show results, button. Type at least one letter first.", "Back, button", "Name, text field"]
    guide.previous()
    assert guide.focus == "back"
    assert guide.select() is Touch.PRESS


def test_previous_from_nowhere_starts_at_the_end(guide):
    guide.previous()
    assert guide.focus == "back"


def test_select_without_focus_says_the_screen_again(guide, voice):
    assert guide.select() is Touch.SPOKEN and voice.said == [SEARCH.spoken, SEARCH.spoken]


def test_a_new_screen_resets_the_focus_and_an_update_keeps_it(guide, voice):
    guide.touch("back")
    enabled = ScreenWords(SEARCH.screen, SEARCH.spoken, (SEARCH.controls[0], Control("go", "Show results, button"), SEARCH.controls[2]))
    guide.update(enabled)
    assert guide.focus == "back" and voice.said[-1] == "Back, button"
    guide.update(ScreenWords(SEARCH.screen, SEARCH.spoken, (SEARCH.controls[0],)))
    assert guide.focus is None
    guide.arrive(ScreenWords("grid", "Portraits."))
    assert guide.focus is None and voice.said[-1] == "Portraits."
    guide.next()  # a screen without controls: the keys say where one is
    assert voice.said[-1] == "Portraits."


def test_a_control_without_words_is_a_bug_caught_at_once(guide):
    with pytest.raises(ValueError, match="no spoken name"):
        Control("mute", " ")
    with pytest.raises(ValueError, match="nothing to say"):
        ScreenWords("grid", "")
    with pytest.raises(ValueError, match="names a control twice"):
        ScreenWords("grid", "Portraits.", (Control("a", "A"), Control("a", "A")))
    with pytest.raises(KeyError, match="not on search"):
        guide.touch("nowhere")
