"""What the wall's grid shows, and a person's facts: Kivy-free."""

from datetime import date

import pytest

from exhibits.wall.browse import Filter, Wall
from kiosk.collection import load_collection, write_demo


@pytest.fixture(scope="module")
def wall(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wall-collection")
    write_demo(folder, count=400, seed=9)
    return Wall(load_collection(folder))


def test_everyone_in_the_order_of_the_lists(wall):
    ids = wall.person_ids()
    assert len(ids) == 400
    people = [wall.collection.by_id[i] for i in ids]
    codes = [t.code for t in wall.collection.transports]
    keys = [(codes.index(p.transport), p.list_number) for p in people]
    assert keys == sorted(keys)


def test_one_transport_in_list_order(wall):
    ids = wall.person_ids(Filter(transport="XXVI"))
    numbers = [wall.collection.by_id[i].list_number for i in ids]
    assert ids and numbers == sorted(numbers)
    assert all(wall.collection.by_id[i].transport == "XXVI" for i in ids)


def test_a_letter_gives_family_names_alphabetically(wall):
    letter = wall.letters()[0]
    ids = wall.person_ids(Filter(letter=letter))
    people = [wall.collection.by_id[i] for i in ids]
    assert people and [p.sort_name for p in people] == sorted(p.sort_name for p in people)
    assert set(wall.letters()) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def test_filters_combine(wall):
    both = wall.person_ids(Filter(transport="I", decade=1920))
    assert all(wall.collection.by_id[i].transport == "I" and 1920 <= wall.collection.by_id[i].birth_date.year < 1930 for i in both)
    assert set(both) <= set(wall.person_ids(Filter(transport="I")))


def test_facts_say_what_is_known(wall):
    person = next(p for p in wall.in_list_order if p.birth_date and p.birth_date.is_complete)
    facts = wall.facts(person.person_id)
    departed = wall.collection.transport(person.transport).departed
    assert facts.departed == departed and isinstance(departed, date)
    assert facts.age_at_deportation == person.birth_date.age_on(departed)
    assert facts.fate in ("murdered", "survived", "unknown") and facts.fictional
    assert facts.image_path.endswith((".jpg", ".png"))
