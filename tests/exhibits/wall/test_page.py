"""A person's page in words: French follows the person; places in the visitor's language."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from exhibits.wall.browse import PersonFacts
from exhibits.wall.page import GENDERED, page_text
from kiosk import i18n

WOMAN = PersonFacts(
    person_id="p1", display_name="Ruth Ben Chaim", surname="Ben Chaim", given_names="Ruth", birth_date="1923-05-12",
    birth_place="Bruxelles", age_at_deportation=19, transport="I", list_number=4, departed=date(1942, 8, 4),
    destination="Auschwitz-Birkenau", fate="murdered", sex="f", has_portrait=False, image_path="", fictional=True,
)


def test_a_woman_in_french():
    page = page_text(WOMAN, "fr")
    assert (page.born, page.departed, page.fate) == ("Née : 12 mai 1923 à Bruxelles", "Partie le 4 août 1942 pour Auschwitz-Birkenau", "Assassinée")


def test_a_man_in_french():
    page = page_text(replace(WOMAN, sex="m", birth_place="Antwerpen"), "fr")
    assert (page.born, page.departed, page.fate) == ("Né : 12 mai 1923 à Anvers", "Parti le 4 août 1942 pour Auschwitz-Birkenau", "Assassiné")


def test_sex_not_given_reads_without_agreement():
    page = page_text(replace(WOMAN, sex=""), "fr")
    assert page.born == "Naissance : 12 mai 1923 à Bruxelles"
    assert page.departed == "Départ le 4 août 1942 pour Auschwitz-Birkenau"
    assert page.fate == "Cette personne a été assassinée"


@pytest.mark.parametrize(("language", "born"), [("nl", "Geboren: 12 mei 1923 in Brussel"), ("en", "Born: 12 May 1923 in Brussels")])
def test_places_in_the_visitor_s_language(language, born):
    assert page_text(WOMAN, language).born == born


def test_partial_dates_and_missing_facts():
    page = page_text(replace(WOMAN, birth_date="1923", birth_place="", departed=None, age_at_deportation=None, fate="unknown"), "fr")
    assert (page.born, page.departed, page.age, page.fate) == ("Née : 1923", "", "", "Sort inconnu")
    assert page_text(replace(WOMAN, birth_date=None), "en").born == "Born in Brussels"
    assert page_text(replace(WOMAN, birth_date=None, birth_place=""), "en").born == ""


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_gendered_text_has_three_forms_in_every_language(language):
    for key in GENDERED:
        for form in "fmx":
            assert i18n.text(language, f"{key}.{form}", date="D", place="P", destination="X")
