"""What audio mode says on the wall, without a screen: every screen and control has its
words in nl, fr and en; persons are said as their name and year in their grammar; the
person page reads out the person as the page shows them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from exhibits.wall.browse import DECADES, LETTERS, Filter, PersonFacts, Wall
from exhibits.wall.flow import Result
from exhibits.wall.spoken import grid_status, grid_words, person_words, portraits_words, reading, result_words, search_words, transports_words, unavailable_words
from kiosk import i18n
from kiosk.accessibility import AudioGuide, Control, Touch
from kiosk.shell.keys import LETTERS

# The on-screen keyboard's own controls (kiosk.shell.keyboard gives them on the screen).
KEYS = tuple(Control(f"key-{key}", key) for key in LETTERS) + (Control("key-backspace", "Delete the last letter, button"),)

WOMAN = PersonFacts(
    person_id="p1", display_name="Ruth Ben Chaim", surname="Ben Chaim", given_names="Ruth", birth_date="1923-05-12",
    birth_place="Bruxelles", age_at_deportation=19, transport="XXII", list_number=4, departed=date(1942, 8, 4),
    destination="Auschwitz-Birkenau", fate="murdered", sex="f", has_portrait=True, image_path="", fictional=False,
)
MAN = replace(WOMAN, person_id="p2", display_name="Abram Szpigielman-Goldsztejnowicz", sex="m", birth_place="Antwerpen", birth_date="1911-08")


def test_the_person_page_reads_out_a_woman_in_french_with_places_in_french():
    said = reading(WOMAN, "fr")
    assert said == (
        "Ruth Ben Chaim. Née : 12 mai 1923 à Bruxelles. 19 ans lors de la déportation. Transport XXII, numéro 4. "
        "Partie le 4 août 1942 pour Auschwitz-Birkenau. Assassinée."
    )


def test_the_person_page_reads_out_a_man_in_dutch_and_english():
    assert reading(MAN, "nl").startswith("Abram Szpigielman-Goldsztejnowicz. Geboren: augustus 1911 in Antwerpen.")
    english = reading(MAN, "en")
    assert "Born: August 1911 in Antwerp." in english and english.endswith("Murdered.")


def test_a_silhouette_and_a_fictional_person_are_said():
    said = reading(replace(WOMAN, has_portrait=False, fictional=True), "en")
    assert i18n.text("en", "person.silhouette") in said and i18n.text("en", "fictional.mark") in said


def test_what_is_not_known_is_not_said():
    said = reading(replace(WOMAN, birth_date=None, birth_place="", age_at_deportation=None, departed=None, sex="", fate="unknown"), "fr")
    assert said == "Ruth Ben Chaim. Transport XXII, numéro 4. Sort inconnu."


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_a_voice_from_the_booth_is_offered_when_there_is_one(language):
    words = person_words(language, WOMAN, has_voice=True, hearing="ready")
    assert [c.id for c in words.controls] == ["person-hear", "back"]
    assert words.spoken.startswith(reading(WOMAN, language))
    assert i18n.text(language, "wall.say.voice_offered") in words.spoken
    assert words.controls[0].spoken.startswith(i18n.text(language, "wall.say.hear"))
    loading = person_words(language, WOMAN, has_voice=True, hearing="loading").control("person-hear")
    assert not loading.enabled and loading.why_not == i18n.text(language, "person.voice_loading")
    without = person_words(language, WOMAN, has_voice=False, hearing="ready")
    assert [c.id for c in without.controls] == ["back"] and i18n.text(language, "person.no_voice") in without.spoken


def test_persons_are_said_by_name_and_year_in_their_grammar():
    result = Result("p1", "Ruth Ben Chaim", "1923", "Bruxelles", "XXII", "f")
    assert result_words("fr", result).spoken == "Ruth Ben Chaim, née en 1923, bouton"
    assert result_words("fr", replace(result, sex="m")).spoken == "Ruth Ben Chaim, né en 1923, bouton"
    assert result_words("fr", replace(result, sex="")).spoken == "Ruth Ben Chaim, naissance en 1923, bouton"
    assert result_words("nl", replace(result, born="")).spoken == "Ruth Ben Chaim, knop"
    assert result_words("en", result).id == "result-p1"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_the_grid_names_every_letter_decade_and_face(language):
    words = grid_words(language, count=25843, chosen_filter=Filter(letter="G"), letters=[c for c in LETTERS if c != "Q"], faces=[WOMAN, MAN])
    ids = [c.id for c in words.controls]
    assert ids[:2] == ["open-search", "open-transports"]
    assert ids[2:28] == [f"letter-{c}" for c in LETTERS]
    assert ids[28 : 28 + len(DECADES)] == [f"decade-{d}" for d in DECADES]
    assert ids[-3:] == ["clear-filters", "face-p1", "face-p2"]
    q = words.control("letter-Q")
    assert not q.enabled and q.why_not == i18n.text(language, "why.letter", letter="Q")
    assert words.control("letter-G").spoken == i18n.text(language, "spoken.chosen", name=i18n.text(language, "wall.say.letter", letter="G"))
    assert i18n.number(language, 25843) in words.spoken and i18n.text(language, "station.title.wall") in words.spoken
    assert "clear-filters" not in [c.id for c in grid_words(language, count=3, chosen_filter=Filter(), letters="A", faces=[]).controls]
    more = grid_words(language, count=3, chosen_filter=Filter(), letters="A", faces=[WOMAN], more=True)
    assert [c.id for c in more.controls][-2:] == ["face-p1", "scroll-cue"], "more faces after the faces in view"
    assert portraits_words(language)


def test_the_grid_status_is_the_one_shown_and_the_one_said():
    assert grid_status("nl", 25843, Filter(transport="XX", letter="G")) == "25.843 mensen · transport XX · familienaam met G"
    assert grid_status("en", 12, Filter(decade=1920), ", ") == "12 people, born in the 1920s"
    assert grid_status("fr", 1, Filter(letter="K")) == "1 personne · nom de famille en K", "one is not 'personnes'"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_search_says_what_was_typed_and_how_many_were_found(language):
    empty = search_words(language, query="", results=[], keys=KEYS)
    assert empty.spoken == i18n.text(language, "wall.say.search")
    ids = [c.id for c in empty.controls]
    assert ids == ["back", *(key.id for key in KEYS)]
    found = search_words(language, query="gold ", results=[result_words(language, Result("p1", "Ruth Gold", "1923", "", "I", "f"))], keys=KEYS)
    assert [c.id for c in found.controls][:2] == ["back", "result-p1"], "results before the keyboard, as read"
    assert i18n.text(language, "wall.say.typed", query="gold") in found.spoken
    nobody = search_words(language, query="xq", results=[], keys=KEYS)
    assert i18n.text(language, "search.no_results") in nobody.spoken


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_transports_are_said_with_their_day_and_people(language):
    words = transports_words(language, [("I", date(1942, 8, 4), 998), ("Z", None, 352)])
    assert [c.id for c in words.controls] == ["back", "transport-I", "transport-Z"]
    assert i18n.long_date(language, date(1942, 8, 4)) in words.control("transport-I").spoken
    assert i18n.text(language, "transports.date_unknown") in words.control("transport-Z").spoken
    assert i18n.text(language, "transports.heading", transports="2") in words.spoken
    assert unavailable_words(language).spoken == i18n.text(language, "collection.missing")


def test_the_guide_walks_the_search_and_presses_a_result_by_keys():
    said: list[str] = []
    guide = AudioGuide(said.append, lambda: said.append("<silence>"))
    result = result_words("en", Result("p1", "Ruth Gold", "1923", "", "I", "f"))
    guide.arrive(search_words("en", query="gold", results=[result], keys=KEYS))
    guide.next()
    guide.next()
    assert said[-1] == "Ruth Gold, born in 1923, button" and guide.focus == "result-p1"
    assert guide.select() is Touch.PRESS


def test_every_wall_word_is_in_every_catalogue():
    keys = {key for key in i18n.catalogue("en").texts if key.startswith("wall.say.")}
    assert len(keys) > 15
    for language in ("nl", "fr"):
        assert keys == {key for key in i18n.catalogue(language).texts if key.startswith("wall.say.")}


def test_grid_words_from_a_real_collection(tmp_path):
    from kiosk.collection import load_collection, write_demo

    write_demo(tmp_path, count=60, seed=3)
    wall = Wall(load_collection(tmp_path))
    faces = [wall.facts(person_id) for person_id in wall.person_ids()[:12]]
    words = grid_words("fr", count=len(wall.person_ids()), chosen_filter=Filter(), letters=wall.letters(), faces=faces)
    assert len([c for c in words.controls if c.id.startswith("face-")]) == 12
    assert all(c.spoken for c in words.controls)


def test_a_press_that_changes_the_screen_is_answered():
    from exhibits.wall.spoken import after_change

    assert after_change("en", "search", ("go", Filter(), 0), ("gol", Filter(), 3)) == "Typed: gol. People found: 3."
    assert after_change("fr", "search", ("gol", Filter(), 3), ("golx", Filter(), 0)) == "Saisi : golx. Personne n’a été trouvé. Essayez une autre orthographe."
    assert after_change("nl", "search", ("g", Filter(), 1), ("", Filter(), 0)) == i18n.text("nl", "wall.say.search"), "all cleared: how to search"
    assert after_change("nl", "grid", ("", Filter(), 13), ("", Filter(letter="K"), 2)) == "2 mensen, familienaam met K."
    assert after_change("en", "grid", ("", Filter(), 13), ("", Filter(), 13)) == "", "nothing changed: nothing said"


def test_more_faces_says_which_are_shown():
    from exhibits.wall.spoken import faces_shown

    assert faces_shown("en", 15, 28, 25843) == "Faces 15 to 28 of 25,843."
    assert faces_shown("fr", 1, 14, 25843) == "Visages 1 à 14 sur 25\u202f843."
