"""The portrait wall's search, as visitors use it, and `kiosk search` as scripts read it.

A small hand-made collection (real loader, real files) holds the cases: one family in
several spellings, names with Polish and German letters, persons sharing a given name or
a surname, places of birth, three transports.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from exhibits.wall.search import MAX_QUERY_CHARS, Hit, SearchIndex, fold, words_of
from kiosk.cli import KioskGroup
from kiosk.cli.search import search as search_command
from kiosk.collection import Collection, load_collection

TRANSPORTS = [
    ("XXIIA", "1943-09-20", "Auschwitz-Birkenau", ""),
    ("XXIIB", "1943-09-20", "Auschwitz-Birkenau", ""),
    ("Z", "1944-01-15", "Auschwitz-Birkenau", ""),
]

# person_id, surname, given_names, birth_date, birth_place, transport, list_number
PERSONS = [
    ("p01", "Goldsztajn", "Chaja", "1921-03-04", "Łódź", "XXIIA", 4),
    ("p02", "Goldsztajn", "Abram", "1890-01", "Warszawa", "XXIIA", 2),
    ("p03", "Goldstein", "Salomon", "1899", "Antwerpen", "XXIIA", 3),
    ("p04", "Kowalska", "Chaja", "1920", "Kraków", "XXIIA", 1),
    ("p05", "Szapiro", "Mindla", "1911", "Białystok", "XXIIA", 5),
    ("p06", "Wajsbrot", "Icek", "1905", "Mechelen", "XXIIB", 1),
    ("p07", "Rozenberg", "Sura", "1930-12-24", "Bruxelles", "XXIIB", 2),
    ("p08", "Ślązak", "Łaja", "1915", "Częstochowa", "XXIIB", 3),
    ("p09", "Grünberg", "Hans", "1901", "Nürnberg", "XXIIB", 4),
    ("p10", "van den Berg", "Sara", "1925", "Amsterdam", "XXIIB", 5),
    ("p11", "Strauß", "Else", "1888", "Köln", "Z", 3),
    ("p12", "Frydman", "Golda", "1922", "Antwerpen", "Z", 1),
    ("p13", "Goldberg", "Moszek", "1919", "Lublin", "Z", 2),
    ("p14", "Antwerpen", "Louis", "1900", "Gent", "Z", 4),
    ("p15", "Goldsztajn", "Chaja Ruchla", "1923", "Łódź", "Z", 5),
]


def write_collection(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "portraits").mkdir()
    lines = ["code,departed,destination,note", *(",".join(row) for row in TRANSPORTS)]
    (folder / "transports.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    header = "person_id,surname,given_names,birth_date,birth_place,sex,transport,list_number,fate,portrait"
    rows = [
        f"{pid},{surname},{given},{born},{place},,{transport},{number},unknown,"
        for pid, surname, given, born, place, transport, number in PERSONS
    ]
    (folder / "persons.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def collection_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_collection(tmp_path_factory.mktemp("search") / "collection")


@pytest.fixture(scope="module")
def collection(collection_dir: Path) -> Collection:
    return load_collection(collection_dir)


@pytest.fixture(scope="module")
def index(collection: Collection) -> SearchIndex:
    return SearchIndex.build(collection)


def ids(hits: list[Hit]) -> list[str]:
    return [hit.person_id for hit in hits]


def score_of(hits: list[Hit], person_id: str) -> float:
    return next(hit.score for hit in hits if hit.person_id == person_id)


# --- folding -------------------------------------------------------------------------


def test_fold() -> None:
    assert fold("Łódź") == "lodz"
    assert fold("Straße") == "strasse"
    assert fold("ŚLĄZAK") == "slazak"
    assert fold("Ødegård Ærø") == "odegard aero"


@pytest.mark.parametrize("query", ["Slazak Laja", "ślązak łaja", "SLAZAK", "Łaja Ślązak"])
def test_diacritics_and_case_do_not_matter(index: SearchIndex, query: str) -> None:
    assert ids(index.search(query))[0] == "p08"


def test_eszett_is_ss(index: SearchIndex) -> None:
    assert ids(index.search("Strauss"))[0] == "p11"
    assert ids(index.search("Strauß"))[0] == "p11"


def test_umlaut_typed_as_e_sounds_the_same(index: SearchIndex) -> None:
    assert ids(index.search("Gruenberg"))[0] == "p09"
    assert ids(index.search("grunberg hans"))[0] == "p09"


# --- order of the words ----------------------------------------------------------------


def test_surname_first_or_last(index: SearchIndex) -> None:
    given_first = index.search("Chaja Goldsztajn")
    surname_first = index.search("Goldsztajn Chaja")
    assert given_first == surname_first
    assert given_first[0] == Hit("p01", "Chaja Goldsztajn", "XXIIA", 4, given_first[0].score)
    assert given_first[0].score > 0.95


def test_both_name_parts_beat_one(index: SearchIndex) -> None:
    hits = index.search("Chaja Goldsztajn")
    assert ids(hits)[:2] == ["p01", "p15"]  # the shorter name is the closer match
    for one_part in ("p02", "p04"):  # Abram Goldsztajn, Chaja Kowalska
        assert score_of(hits, one_part) < score_of(hits, "p15")


def test_particles_and_joined_surname(index: SearchIndex) -> None:
    assert ids(index.search("van den Berg"))[0] == "p10"
    assert ids(index.search("vandenberg"))[0] == "p10"
    assert ids(index.search("Sara Berg"))[0] == "p10"


# --- spelling variants and typing errors -----------------------------------------------


@pytest.mark.parametrize("spelling", ["Goldstein", "Goldsteyn", "Goldsztejn", "Goldshteyn", "goldsztajn"])
def test_same_sound_finds_the_family(index: SearchIndex, spelling: str) -> None:
    found = ids(index.search(f"Chaja {spelling}"))
    assert found[0] == "p01"
    assert {"p02", "p03", "p15"} <= set(found)


def test_exact_spelling_before_same_sound(index: SearchIndex) -> None:
    hits = index.search("Goldstein")
    assert ids(hits)[0] == "p03"
    assert hits[0].score > score_of(hits, "p02")


@pytest.mark.parametrize(("query", "expected"), [("Shapiro", "p05"), ("Weisbrot", "p06"), ("Rosenberg", "p07")])
def test_other_transliterations(index: SearchIndex, query: str, expected: str) -> None:
    assert ids(index.search(query))[0] == expected


@pytest.mark.parametrize(("query", "expected"), [("Rozneberg", "p07"), ("Kowlaska", "p04"), ("Mnidla", "p05")])
def test_one_typing_error(index: SearchIndex, query: str, expected: str) -> None:
    hits = index.search(query)
    assert ids(hits)[0] == expected
    assert hits[0].score < 0.8  # below an exact or prefix match


def test_two_typing_errors_in_a_long_name(index: SearchIndex) -> None:
    assert ids(index.search("Rozembreg"))[0] == "p07"


def test_short_words_are_not_guessed(index: SearchIndex) -> None:
    """Three letters have too many neighbours: no typo or sound match under four letters."""
    assert index.search("Xur") == []


# --- typing letter by letter --------------------------------------------------------------


def test_prefix_while_typing(index: SearchIndex) -> None:
    assert ids(index.search("Golds"))[:4] == ["p03", "p02", "p01", "p15"]  # Goldstein is nearer completion
    query = "Chaja Goldsztajn"
    for end in range(len("Chaja Go"), len(query) + 1):
        assert ids(index.search(query[:end]))[0] == "p01", query[:end]


def test_second_word_narrows(index: SearchIndex) -> None:
    chaja = ids(index.search("Chaja "))
    assert set(chaja[:3]) == {"p01", "p04", "p15"}
    narrowed = index.search("Chaja Gol")
    assert ids(narrowed)[:2] == ["p01", "p15"]
    assert score_of(narrowed, "p04") < score_of(narrowed, "p15")  # Chaja, but not Gol…
    assert score_of(narrowed, "p13") < score_of(narrowed, "p15")  # Gol…, but not Chaja


def test_every_keystroke_answers(index: SearchIndex) -> None:
    query = "Łaja Ślązak"
    for end in range(1, len(query) + 1):
        hits = index.search(query[:end])
        assert all(0.0 <= hit.score <= 1.0 for hit in hits)
    assert ids(index.search(query))[0] == "p08"


def test_a_typing_error_while_typing(index: SearchIndex) -> None:
    assert "p07" in ids(index.search("Rozne"))


# --- places, years, transports ------------------------------------------------------------


def test_place_of_birth(index: SearchIndex) -> None:
    hits = index.search("Lodz")
    assert set(ids(hits)[:2]) == {"p01", "p15"}
    assert ids(hits)[2:] == ["p14"]  # Louis only sounds like Lodz: below those born there
    hits = index.search("Chaja Łódź")
    assert ids(hits)[:2] == ["p01", "p15"]


def test_a_name_weighs_more_than_a_place(index: SearchIndex) -> None:
    hits = index.search("Antwerpen")
    assert ids(hits)[0] == "p14"  # Louis Antwerpen
    assert {"p03", "p12"} <= set(ids(hits))  # born in Antwerpen
    assert score_of(hits, "p03") < hits[0].score


def test_year_of_birth(index: SearchIndex) -> None:
    assert ids(index.search("Chaja 1921"))[0] == "p01"
    assert set(ids(index.search("1919"))) == {"p13"}


def test_transport_code_lists_in_list_order(index: SearchIndex) -> None:
    hits = index.search("XXIIA")
    assert ids(hits) == ["p04", "p02", "p03", "p01", "p05"]
    assert [hit.list_number for hit in hits] == [1, 2, 3, 4, 5]
    assert all(hit.score == 1.0 for hit in hits)
    assert ids(index.search("transport xxiib")) == ["p06", "p07", "p08", "p09", "p10"]
    assert ids(index.search("convoi Z", limit=2)) == ["p12", "p13"]


def test_lower_case_code_alone_is_a_name(index: SearchIndex) -> None:
    """ "z" as the first letter of a name is not the transport Z; "Z" as on the lists is."""
    assert ids(index.search("Z")) == ["p12", "p13", "p11", "p14", "p15"]
    assert "p12" not in ids(index.search("z"))


# --- odd input --------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", " ", "   \t\n ", "\u00a0\u2003"])
def test_empty_queries(index: SearchIndex, query: str) -> None:
    assert index.search(query) == []


@pytest.mark.parametrize("query", ["!!!", "12345", "-- ''", "\x00\x01", "🕯️", "שלום", "%_*"])
def test_odd_input_finds_nothing_and_does_not_fail(index: SearchIndex, query: str) -> None:
    assert index.search(query) == []


def test_punctuation_separates_words(index: SearchIndex) -> None:
    assert ids(index.search("Goldsztajn, Chaja."))[0] == "p01"
    assert ids(index.search("(Chaja)-Goldsztajn"))[0] == "p01"


def test_very_long_input_is_cut(index: SearchIndex) -> None:
    query = "Chaja Goldsztajn " + "x" * 100_000
    started = time.perf_counter()
    hits = index.search(query)
    assert time.perf_counter() - started < 1.0
    assert hits == index.search(query[:MAX_QUERY_CHARS])
    assert ids(hits)[0] == "p01"
    assert len(words_of("a " * 10_000)) == 10_000  # words_of itself does not cut: search does


def test_limit(index: SearchIndex) -> None:
    assert len(index.search("Gold", limit=2)) == 2
    assert index.search("Gold", limit=0) == []
    assert len(index.search("XXIIA", limit=3)) == 3


# --- ranking ------------------------------------------------------------------------------


def test_best_first_scores_within_0_and_1(index: SearchIndex) -> None:
    for query in ("Gol", "Chaja Goldstein", "Lodz", "Rozneberg", "a", "Sura Rozenberg 1930 Bruxelles"):
        scores = [hit.score for hit in index.search(query)]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)


def test_ties_by_surname_given_names_then_id(index: SearchIndex) -> None:
    hits = index.search("Antwerpen")
    born_there = [hit for hit in hits if hit.person_id in ("p03", "p12")]
    assert born_there[0].score == born_there[1].score
    assert ids(born_there) == ["p12", "p03"]  # Frydman before Goldstein


def test_deterministic(collection: Collection, collection_dir: Path) -> None:
    queries = ["Chaja", "Gold", "Goldstein", "Antwerpen", "z", "Rozneberg", "a b c"]
    first = SearchIndex.build(collection)
    second = SearchIndex.build(load_collection(collection_dir))
    for query in queries:
        expected = first.search(query)
        assert first.search(query) == expected  # from the cache of query words
        first.cache_clear()
        assert first.search(query) == expected
        assert second.search(query) == expected


def test_order_of_the_file_does_not_matter(collection: Collection, index: SearchIndex) -> None:
    reversed_collection = Collection(collection.root, collection.transports, tuple(reversed(collection.persons)))
    other = SearchIndex.build(reversed_collection)
    for query in ("Chaja", "Gold", "Antwerpen", "XXIIB"):
        assert other.search(query) == index.search(query)


def test_an_empty_collection(collection: Collection) -> None:
    empty = SearchIndex.build(Collection(collection.root, collection.transports, ()))
    assert empty.search("Chaja") == []
    assert empty.search("XXIIA") == []


# --- kiosk search --------------------------------------------------------------------------


@pytest.fixture
def kiosk() -> click.Group:
    """The `kiosk` entry point with only this command, as kiosk.cli registers it."""
    group = KioskGroup(name="kiosk")
    group.add_command(search_command)
    return group


def run(kiosk: click.Group, *args: str) -> click.testing.Result:
    return CliRunner().invoke(kiosk, list(args), catch_exceptions=False)


def test_cli_json_shape(kiosk: click.Group, collection_dir: Path) -> None:
    result = run(kiosk, "search", "Goldstein Chaja", "--collection", str(collection_dir), "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["query", "results"]
    assert document["query"] == "Goldstein Chaja"
    assert document["results"][0] == {
        "person_id": "p01",
        "name": "Chaja Goldsztajn",
        "transport": "XXIIA",
        "list_number": 4,
        "score": document["results"][0]["score"],
    }
    for row in document["results"]:
        assert list(row) == ["person_id", "name", "transport", "list_number", "score"]
        assert isinstance(row["person_id"], str) and isinstance(row["name"], str)
        assert isinstance(row["transport"], str) and type(row["list_number"]) is int
        assert isinstance(row["score"], float) and 0.0 <= row["score"] <= 1.0
    scores = [row["score"] for row in document["results"]]
    assert scores == sorted(scores, reverse=True)


def test_cli_limit_and_no_results(kiosk: click.Group, collection_dir: Path) -> None:
    result = run(kiosk, "search", "Gold", "--collection", str(collection_dir), "--limit", "2", "--json")
    assert len(json.loads(result.stdout)["results"]) == 2
    result = run(kiosk, "search", "   ", "--collection", str(collection_dir), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"query": "   ", "results": []}
    result = run(kiosk, "search", "Gold", "--collection", str(collection_dir), "--limit", "0")
    assert result.exit_code == 2  # click's usage error: a limit of at least 1


def test_cli_human_table(kiosk: click.Group, collection_dir: Path) -> None:
    result = run(kiosk, "search", "Chaja", "--collection", str(collection_dir))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["#", "score", "name", "transport", "list", "person", "born", "in"]
    assert "Chaja Goldsztajn" in lines[1] and "XXIIA" in lines[1] and "Łódź" in lines[1]
    assert "nobody found" in run(kiosk, "search", "Qqqq", "--collection", str(collection_dir)).stdout


def test_cli_missing_collection(kiosk: click.Group, tmp_path: Path) -> None:
    result = run(kiosk, "search", "Chaja", "--collection", str(tmp_path / "nowhere"), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no collection folder at" in result.stderr and str(tmp_path / "nowhere") in result.stderr
    assert "what to do:" in result.stderr and "kiosk collection demo" in result.stderr


def test_cli_invalid_collection(kiosk: click.Group, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run(kiosk, "search", "Chaja", "--collection", str(tmp_path / "empty"))
    assert result.exit_code == 2
    assert "not a valid collection" in result.stderr and "what to do:" in result.stderr
