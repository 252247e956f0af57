from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kiosk.collection import (
    AGE_BANDS,
    Collection,
    PartialDate,
    Person,
    Transport,
    age_band,
    load_collection,
    silhouette_path,
)
from kiosk.collection.model import SILHOUETTES


@pytest.mark.parametrize("text", ["1921-02-14", "1921-02", "1921", "1944-02-29"])
def test_partial_date_round_trips(text: str) -> None:
    assert str(PartialDate.parse(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "1921-02-30",
        "1923-02-29",
        "1921-13",
        "1921-00",
        "21-02-14",
        "1921-2-14",
        "1921/02/14",
        "",
        "abcd",
        "1921-02-14-01",
        "１９２１",
    ],
)
def test_partial_date_refuses_what_is_not_a_date(text: str) -> None:
    with pytest.raises(ValueError):
        PartialDate.parse(text)


def test_partial_date_ranges() -> None:
    year = PartialDate.parse("1921")
    assert (year.earliest, year.middle, year.latest) == (date(1921, 1, 1), date(1921, 7, 1), date(1921, 12, 31))
    month = PartialDate.parse("1924-02")
    assert (month.earliest, month.middle, month.latest) == (date(1924, 2, 1), date(1924, 2, 15), date(1924, 2, 29))
    assert not month.is_complete and PartialDate.parse("1924-02-03").is_complete


def test_age_on_counts_completed_years() -> None:
    born = PartialDate(1930, 8, 4)
    assert born.age_on(date(1942, 8, 3)) == 11
    assert born.age_on(date(1942, 8, 4)) == 12
    assert PartialDate(1943, 1, 1).age_on(date(1942, 8, 4)) == 0  # never negative


@pytest.mark.parametrize(
    ("born", "on", "band"),
    [
        ("1942-08-05", "1944-08-04", "baby"),  # one day short of 2
        ("1942-08-04", "1944-08-04", "toddler"),
        ("1939-08-05", "1944-08-04", "toddler"),  # one day short of 5
        ("1939-08-04", "1944-08-04", "child"),
        ("1931-08-05", "1944-08-04", "child"),  # one day short of 13
        ("1931-08-04", "1944-08-04", "teenager"),
        ("1926-08-05", "1944-08-04", "teenager"),
        ("1926-08-04", "1944-08-04", "adult"),
        ("1884-08-05", "1944-08-04", "adult"),  # one day short of 60
        ("1884-08-04", "1944-08-04", "older"),
        # Partial dates count from the middle of their range: 1 July for a year, the 15th for a month.
        ("1940", "1942-06-30", "baby"),
        ("1940", "1942-07-01", "toddler"),
        ("1940-08", "1942-08-14", "baby"),
        ("1940-08", "1942-08-15", "toddler"),
        ("1929", "1942-07-01", "teenager"),
        ("1882", "1942-07-01", "older"),
    ],
)
def test_age_band_edges(born: str, on: str, band: str) -> None:
    assert age_band(PartialDate.parse(born), date.fromisoformat(on)) == band


def test_age_band_defaults_to_adult_when_unknown() -> None:
    assert age_band(None, date(1942, 8, 4)) == "adult"
    assert age_band(PartialDate(1930), None) == "adult"


def test_a_silhouette_exists_for_every_band() -> None:
    assert tuple(AGE_BANDS) == ("baby", "toddler", "child", "teenager", "adult", "older")
    for band in AGE_BANDS:
        path = silhouette_path(band)
        assert path == SILHOUETTES / f"{band}.png" and path.is_file()
    with pytest.raises(ValueError):
        silhouette_path("elderly")  # type: ignore[arg-type]


def _person(person_id: str, surname: str, given: str, transport: str = "I", number: int = 1, **kw: object) -> Person:
    fields: dict[str, object] = {"birth_date": None, "birth_place": "", "sex": "", "fate": "murdered", "portrait": None}
    fields.update(kw)
    return Person(person_id, surname, given, transport=transport, list_number=number, **fields)  # type: ignore


def test_display_and_sort_names() -> None:
    assert _person("1", "Goldsztajn", "Chaja").display_name == "Chaja Goldsztajn"
    assert _person("2", "", "Tinka").display_name == "Tinka"
    assert _person("3", "Lévy", "").display_name == "Lévy"
    names = ["Łaja", "Laja", "Lazar", "Ödön"]
    people = [_person(str(i), "Weisz", given) for i, given in enumerate(names)]
    ordered = [p.given_names for p in sorted(people, key=lambda p: p.sort_name)]
    assert ordered[:2] == ["Łaja", "Laja"] or ordered[:2] == ["Laja", "Łaja"]
    assert ordered[2:] == ["Lazar", "Ödön"]
    assert _person("4", "van Praag", "Sara").sort_name < _person("5", "Weisz", "Sara").sort_name


def test_collection_indexes(tmp_path: Path) -> None:
    transports = (
        Transport("I", date(1942, 8, 4), "Auschwitz-Birkenau", ""),
        Transport("Z", None, "Auschwitz-Birkenau", ""),
    )
    persons = (
        _person("a", "Weisz", "Ilona", "I", 2, birth_date=PartialDate(1941, 3, 1), portrait="a.jpg"),
        _person("b", "Weisz", "Sándor", "I", 1),
        _person("c", "Hanstein", "Tinka", "Z", 1, birth_date=PartialDate(1938)),
    )
    collection = Collection(tmp_path, transports, persons)
    assert [p.person_id for p in collection.persons_of("I")] == ["b", "a"]
    assert collection.persons_of("XXVII") == ()
    assert collection.counts() == {"I": 2, "Z": 1}
    assert collection.by_id["c"].given_names == "Tinka"
    assert collection.transport("Z").departed is None
    assert collection.portrait_path(persons[0]) == tmp_path / "portraits" / "a.jpg"
    assert collection.portrait_path(persons[1]) is None
    assert collection.image_path(persons[0]) == tmp_path / "portraits" / "a.jpg"
    assert collection.age_band_of(persons[0]) == "baby"
    assert collection.image_path(persons[1]) == silhouette_path("adult")  # no birth date
    assert collection.age_band_of(persons[2]) == "adult"  # Z has no departure date here
    assert not collection.fictional


def test_the_alphabetical_order_is_that_of_sort_names_made_once(tmp_path: Path, demo_dir: Path) -> None:
    transports = (Transport("I", date(1942, 8, 4), "Auschwitz-Birkenau", ""),)
    names = [("Weisz", "Łaja"), ("Weisz", "Laja"), ("van Praag", "Sara"), ("Lévy", ""), ("", "Tinka"), ("Weisz", "Ödön"), ("Weisz", "Laja")]
    persons = tuple(_person(f"p{i}", surname, given, number=i + 1) for i, (surname, given) in enumerate(names))
    collection = Collection(tmp_path, transports, persons)
    assert collection.alphabetical() == tuple(sorted(persons, key=lambda p: p.sort_name))
    assert collection.alphabetical() is collection.alphabetical()  # sorted once, shared
    demo = load_collection(demo_dir)
    assert demo.alphabetical() == tuple(sorted(demo.persons, key=lambda p: p.sort_name))


def test_portrait_signatures_can_be_let_go(demo_dir: Path) -> None:
    collection = load_collection(demo_dir)
    assert collection.portrait_signatures
    collection.forget_portrait_signatures()
    assert dict(collection.portrait_signatures) == {}


def test_loaded_demo_model(demo_dir: Path) -> None:
    collection = load_collection(demo_dir)
    assert collection.fictional
    assert [t.code for t in collection.transports][:3] == ["I", "II", "III"]
    for code in collection.counts():
        numbers = [p.list_number for p in collection.persons_of(code)]
        assert numbers == sorted(numbers)
    with_portrait = next(p for p in collection.persons if p.portrait)
    assert collection.image_path(with_portrait).is_file()
    without = next(p for p in collection.persons if not p.portrait)
    assert collection.image_path(without).parent == SILHOUETTES
