"""Names under the faces: broken at spaces and after hyphens, smaller only when needed."""

from __future__ import annotations

from exhibits.wall.captions import break_lines, caption


def width(text: str, size: float) -> float:
    return len(text) * size * 0.5  # a monospaced stand-in: half the size per letter


def test_short_names_stay_on_one_line_at_the_largest_size():
    assert caption("Ruth Ben Chaim", 150, (14, 12, 11), 3, width).lines == ("Ruth Ben Chaim",)
    assert caption("Ruth Ben Chaim", 150, (14, 12, 11), 3, width).size == 14


def test_long_names_break_at_spaces_and_after_hyphens_never_inside_a_word():
    name = "Chaja Sura Rywka Ruchla Mindla Szpigielman-Goldsztejnowicz"
    result = caption(name, 150, (14, 12, 11), 3, width)
    assert result.fits and len(result.lines) <= 3
    assert " ".join(result.lines).replace("- ", "-") == name
    assert all(width(line, result.size) <= 150 for line in result.lines)
    assert break_lines("D'Hondt-Lewkowicz", lambda t: len(t) <= 10) == ["D'Hondt-", "Lewkowicz"]


def test_a_name_that_fits_at_no_size_is_given_whole_so_the_audit_sees_it():
    result = caption("Abcdefghijklmnopqrstuvwxyzabcdefghijkl", 150, (14, 11), 3, width)
    assert not result.fits and result.lines == ("Abcdefghijklmnopqrstuvwxyzabcdefghijkl",)
