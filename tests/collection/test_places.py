"""Places in the visitor's language, from the curator's table in media/places/."""

from __future__ import annotations

import pytest

from kiosk.collection.names import BELGIAN_PLACES
from kiosk.collection.places import Exonyms, place_name
from kiosk.errors import KioskError


@pytest.mark.parametrize(
    ("place", "nl", "fr", "en"),
    [
        ("Antwerpen", "Antwerpen", "Anvers", "Antwerp"),
        ("Anvers", "Antwerpen", "Anvers", "Antwerp"),
        ("Bruxelles", "Brussel", "Bruxelles", "Brussels"),
        ("Liège", "Luik", "Liège", "Liège"),
        ("Gent", "Gent", "Gand", "Ghent"),
        ("Mechelen", "Mechelen", "Malines", "Mechelen"),
        ("Den Haag", "Den Haag", "La Haye", "The Hague"),
        ("Warszawa", "Warschau", "Varsovie", "Warsaw"),
        ("Wien", "Wenen", "Vienne", "Vienna"),
        ("Kraków", "Krakau", "Cracovie", "Kraków"),
    ],
)
def test_the_issue_s_places_in_each_language(place, nl, fr, en):
    assert (place_name(place, "nl"), place_name(place, "fr"), place_name(place, "en")) == (nl, fr, en)


def test_a_place_the_table_does_not_know_stays_as_the_list_spells_it():
    assert place_name("Sátoraljaújhely", "fr") == "Sátoraljaújhely"
    assert place_name("", "nl") == ""


def test_every_belgian_place_of_the_demo_collection_is_in_the_table():
    for place in BELGIAN_PLACES:
        if place != "Charleroi":  # the same in all three languages
            assert place_name(place, "en") != place or place in ("Liège", "Mechelen")


def test_a_broken_table_names_the_line(tmp_path):
    table = tmp_path / "exonyms.csv"
    table.write_text("place,nl,fr,en\nGent,Gent,Gand,Ghent\nGent,Gent,Gand,Ghent\n", encoding="utf-8")
    with pytest.raises(KioskError, match="line 3: Gent is given twice"):
        Exonyms.read(table)
    table.write_text("place,nl,fr\n", encoding="utf-8")
    with pytest.raises(KioskError, match="line 1"):
        Exonyms.read(table)
    table.write_text("\ufeffplace,nl,fr,en\nLuik,Luik,,Liège\n", encoding="utf-8")
    assert Exonyms.read(table).name("Luik", "fr") == "Luik", "an empty cell: as the collection spells it"
