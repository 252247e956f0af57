"""Reading aids: long names in syllables, and folding for matching."""

import pytest

from exhibits.booth.reading import reading_aid, syllables
from kiosk.collection.model import fold


@pytest.mark.parametrize(
    "word, parts",
    [
        ("Goldsztajn", ["Gold", "sztajn"]),
        ("Wajsbrot", ["Wajs", "brot"]),
        ("Rozenberg", ["Ro", "zen", "berg"]),
        ("Löwenstein", ["Lö", "wen", "stein"]),
        ("Erzsébet", ["Er", "zsé", "bet"]),
        ("Dreyfus", ["Drey", "fus"]),
        ("Oppenheimer", ["Op", "pen", "hei", "mer"]),
        ("Schwarcz", ["Schwarcz"]),
        ("Kohn-Lévy", ["Kohn-Lévy"]),
    ],
)
def test_syllables(word, parts):
    assert syllables(word) == parts
    assert "".join(parts) == word, "the letters are never changed"


def test_a_reading_aid_only_when_it_helps():
    assert reading_aid("Chaja Goldsztajn") == "Chaja Gold-sztajn"
    assert reading_aid("Ida Kahn") is None


def test_fold_ignores_case_and_diacritics():
    assert fold("Łaja") == fold("laja") == "laja"
    assert fold("Hélène ") == "helene"
    assert fold("Ödön") == "odon"
