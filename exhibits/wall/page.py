"""A person's page on the wall, in words: grammar that follows the person, places in the
visitor's language. Plain Python, so it is tested without a screen.

French agrees with the person (née, partie, assassinée); where the lists do not give
the sex, the page says it without agreeing (naissance, départ, cette personne). Dutch and
English need no agreement on this page, but keep the three forms too, so a translator
sees where one would be needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from exhibits.wall.browse import PersonFacts
from kiosk import i18n
from kiosk.i18n import gendered
from kiosk.collection.places import place_name

GENDERED = ("person.born", "person.born_in", "person.born_at", "person.departed", "person.fate_murdered", "person.fate_survived", "person.fate_unknown")


@dataclass(frozen=True)
class PageText:
    born: str
    age: str
    transport: str
    departed: str
    fate: str


def page_text(person: PersonFacts, language: str) -> PageText:
    """Every line of PERSON's page in LANGUAGE; a line with nothing known is empty."""
    sex = person.sex
    born = ""
    if person.birth_date:
        date = i18n.partial_date(language, person.birth_date)
        if person.birth_place:
            born = gendered(language, "person.born_in", sex, date=date, place=place_name(person.birth_place, language))
        else:
            born = gendered(language, "person.born", sex, date=date)
    elif person.birth_place:
        born = gendered(language, "person.born_at", sex, place=place_name(person.birth_place, language))
    age = ""
    if person.age_at_deportation is not None:
        age = i18n.text(language, "person.age_baby") if person.age_at_deportation == 0 else i18n.text(language, "person.age", age=person.age_at_deportation)
    departed = ""
    if person.departed:
        departed = gendered(language, "person.departed", sex, date=i18n.long_date(language, person.departed), destination=person.destination)
    return PageText(
        born=born,
        age=age,
        transport=i18n.text(language, "person.transport", transport=person.transport, number=person.list_number),
        departed=departed,
        fate=gendered(language, f"person.fate_{person.fate}", sex),
    )
