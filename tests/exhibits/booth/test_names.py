"""Which name a participant gets: booking, match, next; never one with a voice or in hand."""

import pytest

from exhibits.booth.names import LocalNameSource, born_line, read_bookings
from kiosk.collection.model import fold
from kiosk.collection import load_collection, write_demo
from kiosk.errors import KioskError


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    folder = tmp_path_factory.mktemp("names-collection")
    write_demo(folder, count=300, seed=11)
    return load_collection(folder)


def test_next_waiting_follows_transport_order_and_skips_voiced_and_held(collection):
    first, second, third = [p for t in collection.transports for p in collection.persons_of(t.code)][:3]
    names = LocalNameSource(collection, voiced={first.person_id})
    a = names.next_waiting()
    assert a.person_id == second.person_id and a.how == "next"
    b = names.next_waiting()
    assert b.person_id == third.person_id, "a name in hand is not handed out twice"
    names.give_back(a.person_id)
    assert names.next_waiting().person_id == second.person_id


def test_a_voiced_name_is_not_offered_again(collection):
    names = LocalNameSource(collection, voiced=set())
    a = names.next_waiting()
    names.voiced(a.person_id)
    names.give_back(a.person_id)
    assert names.next_waiting().person_id != a.person_id


def test_match_on_first_name_ignores_case_and_accents(collection):
    person = next(p for p in collection.persons if any(ord(c) > 127 for c in p.given_names.split()[0]))
    typed = fold(person.given_names.split()[0]).upper()  # as typed on the keypad: no accents
    match = LocalNameSource(collection, voiced=set(), seed=1).matching(first_name=typed, birthday=None)
    assert match is not None and match.how == "match"
    assert fold(collection.by_id[match.person_id].given_names.split()[0]) == fold(typed)


def test_match_on_birthday(collection):
    person = next(p for p in collection.persons if p.birth_date and p.birth_date.day)
    day = (person.birth_date.month, person.birth_date.day)
    match = LocalNameSource(collection, voiced=set(), seed=1).matching(first_name=None, birthday=day)
    found = collection.by_id[match.person_id].birth_date
    assert (found.month, found.day) == day


def test_no_match_returns_none(collection):
    assert LocalNameSource(collection, voiced=set()).matching(first_name="Zzyzx", birthday=None) is None


def test_booking_codes_ignore_case_spaces_and_dashes(collection, tmp_path):
    person = collection.persons[5]
    (tmp_path / "bookings.csv").write_text(f"code,person_id\nABCD-EFGH,{person.person_id}\n", encoding="utf-8")
    names = LocalNameSource(collection, voiced=set(), bookings=read_bookings(tmp_path / "bookings.csv"))
    assert names.by_booking("abcd efgh").person_id == person.person_id
    assert names.by_booking("XXXX-XXXX") is None


def test_a_broken_bookings_file_names_the_line(tmp_path):
    (tmp_path / "bookings.csv").write_text("code,person_id\nABCD,\n", encoding="utf-8")
    with pytest.raises(KioskError, match="line 2"):
        read_bookings(tmp_path / "bookings.csv")


def test_an_assignment_carries_what_the_screens_show(collection):
    a = LocalNameSource(collection, voiced=set()).next_waiting()
    assert a.display_name and a.transport and a.list_number >= 1
    assert a.image_path.exists() and a.fictional


@pytest.mark.parametrize(
    ("language", "sex", "expected"),
    [
        ("fr", "f", "Née : 12 mai 1923 à Bruxelles"),
        ("fr", "m", "Né : 12 mai 1923 à Bruxelles"),
        ("nl", "f", "Geboren: 12 mei 1923 in Brussel"),
        ("en", "", "Born: 12 May 1923 in Brussels"),
    ],
)
def test_the_booths_birth_line_agrees_with_the_person_and_names_the_place_in_the_visitors_language(language, sex, expected):
    assert born_line(language, "1923-05-12", "Bruxelles", sex) == expected


def test_without_a_date_the_booth_says_nothing_of_the_birth():
    assert born_line("fr", "", "Bruxelles", "f") == ""
