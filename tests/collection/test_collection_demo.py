from __future__ import annotations

import csv
import hashlib
import itertools
import random
import threading
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from kiosk.collection import check_collection, load_collection
from kiosk.collection.demo import README_MARK, split_count, write_demo
from kiosk.collection.model import AGE_BANDS
from kiosk.collection.names import ROMANI, is_avoided_name
from kiosk.collection.portraits import PortraitRecipe, write_portraits
from kiosk.collection.sources import TRANSPORTS, weights
from kiosk.errors import KioskError

# The 28 transports that left Mechelen (DOMAIN.md); XXVII never left.
LEFT_MECHELEN = [
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV",
    "XV", "XVI", "XVII", "XVIII", "XIX", "XX", "XXI", "XXIIA", "XXIIB", "XXIII", "XXIV", "XXV", "XXVI", "Z",
]  # fmt: skip


def _rows(folder: Path, name: str = "persons.csv") -> list[dict[str, str]]:
    with open(folder / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in ("persons.csv", "transports.csv", "README.txt"):
        digest.update((folder / name).read_bytes())
    for portrait in sorted((folder / "portraits").iterdir())[:25]:
        digest.update(portrait.name.encode() + portrait.read_bytes())
    return digest.hexdigest()


def test_the_small_demo_is_a_valid_collection(demo_dir: Path, demo_count: int) -> None:
    report = check_collection(demo_dir)
    assert report.valid, report.problem_lines()
    assert (report.persons, report.transports, report.fictional) == (demo_count, 28, True)


def test_every_transport_that_left_mechelen_is_used_and_sizes_sum_to_count(demo_dir: Path, demo_count: int) -> None:
    # In order of departure: Z left on 15 January 1944 with XXIII.
    assert [t.code for t in TRANSPORTS] == LEFT_MECHELEN[:24] + ["Z"] + LEFT_MECHELEN[24:27]
    assert "XXVII" not in {t.code for t in TRANSPORTS}
    collection = load_collection(demo_dir)
    counts = collection.counts()
    assert set(counts) == set(LEFT_MECHELEN)
    assert sum(counts.values()) == demo_count
    assert all(n >= 1 for n in counts.values())
    assert counts["XI"] == max(counts.values())  # the largest convoy stays the largest


@pytest.mark.parametrize("count", [1, 27, 28, 29, 300, 1001, 25_843, 100_000])
def test_split_count_is_exact(count: int) -> None:
    sizes = split_count(count, weights())
    assert sum(sizes.values()) == count
    if count >= len(sizes):
        assert min(sizes.values()) >= 1


def test_same_seed_same_collection_other_seed_other_collection(
    demo_dir: Path, tmp_path: Path, demo_count: int, demo_seed: int
) -> None:
    again = tmp_path / "again"
    write_demo(again, count=demo_count, seed=demo_seed, workers=1)
    assert _digest(again) == _digest(demo_dir)
    other = tmp_path / "other"
    write_demo(other, count=demo_count, seed=demo_seed + 1, workers=1)
    assert _rows(other) != _rows(demo_dir)


def test_about_four_in_five_have_a_portrait_and_all_are_images(demo_dir: Path) -> None:
    rows = _rows(demo_dir)
    named = [r["portrait"] for r in rows if r["portrait"]]
    assert 0.72 <= len(named) / len(rows) <= 0.88
    assert sorted(named) == sorted(p.name for p in (demo_dir / "portraits").iterdir())
    with Image.open(demo_dir / "portraits" / named[0]) as image:
        assert image.size == (240, 320) and image.format == "JPEG"


def test_the_fictional_mark(demo_dir: Path, demo_count: int, demo_seed: int) -> None:
    rows = _rows(demo_dir)
    assert {r["fictional"] for r in rows} == {"yes"}
    assert all(r["person_id"].startswith("demo-") for r in rows)
    readme = (demo_dir / "README.txt").read_text(encoding="utf-8")
    assert readme.startswith(README_MARK)
    for words in ("verzonnen", "inventée", "invented", f"--seed {demo_seed}", f"--count {demo_count}"):
        assert words in readme


def test_portraits_carry_the_mark_in_a_corner(demo_dir: Path) -> None:
    """The mark's letters make the bottom-right corner busier than the same strip on the left."""
    name = next(r["portrait"] for r in _rows(demo_dir) if r["portrait"])
    with Image.open(demo_dir / "portraits" / name) as image:
        grey = image.convert("L")
    right, left = grey.crop((120, 305, 236, 318)), grey.crop((4, 305, 120, 318))
    assert _spread(right) > _spread(left) + 40


def _spread(strip: Image.Image) -> int:
    low, high = strip.getextrema()
    return high - low


def test_transports_cite_their_sources(demo_dir: Path) -> None:
    rows = _rows(demo_dir, "transports.csv")
    assert [r["code"] for r in rows] == [t.code for t in TRANSPORTS]
    for row in rows:
        assert row["source"].startswith("https://")
        assert row["destination"] == "Auschwitz-Birkenau"
    by_code = {r["code"]: r for r in rows}
    assert by_code["I"]["departed"] == "1942-08-04"
    assert by_code["XXVI"]["departed"] == "1944-07-31"
    assert by_code["XXIIA"]["departed"] == by_code["XXIIB"]["departed"] == "1943-09-20"
    assert by_code["Z"]["departed"] == "1944-01-15" and "352" in by_code["Z"]["note"]


def test_the_invented_persons_look_like_the_lists(demo_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bigger"
    write_demo(folder, count=3000, seed=3, workers=1)
    collection = load_collection(folder)
    persons = collection.persons
    # Dates: all before their transport left, from the 1850s to babies, ~5 % partial.
    for person in persons:
        departed = collection.transport(person.transport).departed
        assert person.birth_date is not None and departed is not None
        assert date(1850, 1, 1) <= person.birth_date.earliest < departed
    partial = sum(1 for p in persons if p.birth_date and not p.birth_date.is_complete)
    assert 0.02 <= partial / len(persons) <= 0.09
    assert min(p.birth_date.year for p in persons if p.birth_date) < 1870
    assert any(collection.age_band_of(p) == "baby" for p in persons)
    # Fates and sexes.
    fates = Counter(p.fate for p in persons)
    assert fates["murdered"] > 0.85 * len(persons) and fates["survived"] > 0 and fates["unknown"] > 0
    assert {p.sex for p in persons} == {"f", "m", ""}
    # Families: consecutive list numbers sharing a surname and, for the parents, a birthplace.
    runs = sum(1 for a, b in itertools.pairwise(persons) if a.transport == b.transport and a.surname == b.surname)
    assert runs > 0.4 * len(persons)
    # Diacritics and spelling variants of one name.
    assert any(not name.isascii() for p in persons for name in (p.surname, p.given_names))
    surnames = {p.surname for p in persons}
    assert len(surnames & {"Goldsztajn", "Goldstein", "Goldsteyn", "Goldsztejn", "Goldshteyn"}) >= 2
    # Transport Z: Roma and Sinti family names.
    romani = {variant for group in ROMANI.surnames for variant in group}
    assert all(p.surname in romani for p in collection.persons_of("Z"))
    assert not any(is_avoided_name(p.given_names, p.surname) for p in persons)


def test_refuses_a_folder_that_is_not_a_demo(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(KioskError, match="not empty and is not a demo collection"):
        write_demo(tmp_path, count=10, workers=1)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_rewrites_an_earlier_demo_and_drops_its_stale_portraits(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    write_demo(folder, count=120, seed=1, workers=1)
    report = write_demo(folder, count=40, seed=2, workers=1)
    check = check_collection(folder)
    assert check.valid and check.persons == 40
    assert len(list((folder / "portraits").iterdir())) == report.portraits


def test_portraits_on_several_processes_match_one_process(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write_demo(one, count=600, seed=11, workers=1)
    write_demo(two, count=600, seed=11, workers=2)
    assert _digest(one) == _digest(two)


def test_portraits_from_a_threaded_caller_use_fresh_processes(tmp_path: Path) -> None:
    """With another thread alive, workers are spawned (not forked) and draw the same images."""
    rng = random.Random(5)
    recipes = [PortraitRecipe.choose(rng, f"demo-{i:05d}.jpg", AGE_BANDS[i % 6], "fm"[i % 2]) for i in range(420)]
    write_portraits(recipes, tmp_path / "alone", seed=5, workers=1)
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        write_portraits(recipes, tmp_path / "threaded", seed=5, workers=2)
    finally:
        release.set()
        other.join()
    for recipe in recipes[::40]:
        assert (tmp_path / "alone" / recipe.file_name).read_bytes() == (
            tmp_path / "threaded" / recipe.file_name
        ).read_bytes()


def test_an_interrupted_rewrite_never_looks_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "demo"
    write_demo(folder, count=60, seed=1, workers=1)

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("kiosk.collection.demo.write_portraits", killed)
    with pytest.raises(KeyboardInterrupt):
        write_demo(folder, count=80, seed=2, workers=1)
    assert not (folder / "persons.csv").exists()
    assert not check_collection(folder).valid
    monkeypatch.undo()
    assert write_demo(folder, count=80, seed=2, workers=1).persons == 80
    assert check_collection(folder).valid
