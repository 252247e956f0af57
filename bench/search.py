"""How fast and how well the portrait wall's search answers a visitor typing a name.

    python bench/search.py --collection DIR [--targets N] [--seed S] [--rounds R]

Chooses target persons from the collection (deterministically, by --seed) and, for each,
writes the queries a visitor might type: the name as on the list, lower case without
accents, surname first, the surname in another spelling of the same sound (Szapiro as
Shapiro, Goldsztajn as Goldstein), the surname with one typing error, and the first half
of the surname. Every query is typed letter by letter; each keystroke runs

- our search (`SearchIndex.search`, limit 50 as the wall asks), as typed (the matches of
  finished words cached) and with the cache cleared before every keystroke;
- the baseline: rapidfuzz `process.extract(query, full_names, limit=10)` with its
  default scorer (WRatio) over every person's full name;

and reports the time per keystroke (p50, p95, max over --rounds passes), and for the
complete query whether the target is among the first ten results. Targets: p95 under
5 ms; better recall than the baseline.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import process

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exhibits.wall.dmsoundex import same_sound  # noqa: E402
from exhibits.wall.search import SearchIndex, fold  # noqa: E402
from kiosk.collection import Person, load_collection  # noqa: E402

FORMS = ("exact", "folded", "surname first", "same sound", "one typo", "prefix")

SAME_SOUND_SPELLINGS = (
    ("sztajn", "stein"),
    ("sztejn", "stein"),
    ("shteyn", "stein"),
    ("stein", "sztajn"),
    ("sz", "sh"),
    ("sh", "sz"),
    ("aj", "ei"),
    ("ej", "ey"),
    ("cz", "tsch"),
    ("c", "tz"),
    ("y", "i"),
    ("ss", "s"),
    ("w", "v"),
    ("v", "w"),
)
"""Transliterations between Polish, Yiddish, German and French spellings, tried in order;
the first whose result has the same Daitch–Mokotoff code is the target's variant."""


@dataclass(frozen=True)
class Query:
    target: Person
    form: str
    text: str


def same_sound_spelling(surname: str) -> str | None:
    """Another spelling of `surname` with the same D-M code, or None."""
    lower = surname.lower()
    for written, other in SAME_SOUND_SPELLINGS:
        if written in lower:
            variant = lower.replace(written, other)
            if variant != lower and same_sound(variant, lower):
                return variant[:1].upper() + variant[1:]
    return None


def one_typo(surname: str, rng: random.Random) -> str:
    """`surname` with two neighbouring letters swapped (or one replaced when they match)."""
    inner = [i for i in range(1, len(surname) - 1) if surname[i] != surname[i + 1]]
    if inner:
        i = rng.choice(inner)
        return surname[:i] + surname[i + 1] + surname[i] + surname[i + 2 :]
    i = len(surname) // 2
    return surname[:i] + ("e" if surname[i] != "e" else "a") + surname[i + 1 :]


def choose_targets(persons: tuple[Person, ...], count: int, seed: int) -> list[Person]:
    """Persons whose first given name and surname identify them, half with accented letters.

    A unique name makes "the intended person" well defined for recall; a surname with a
    same-sound spelling lets every form of query be written.
    """
    names = Counter((fold(p.given_names.split()[0]), fold(p.surname)) for p in persons if p.given_names and p.surname)
    eligible = [
        p
        for p in sorted(persons, key=lambda p: p.person_id)
        if p.given_names
        and " " not in p.surname
        and len(p.surname) >= 5
        and names[(fold(p.given_names.split()[0]), fold(p.surname))] == 1
        and same_sound_spelling(p.surname) is not None
    ]
    random.Random(seed).shuffle(eligible)
    accented = [p for p in eligible if not p.display_name.isascii()]
    plain = [p for p in eligible if p.display_name.isascii()]
    chosen: list[Person] = []
    surnames: set[str] = set()
    for pool, wanted in ((accented, count // 2), (plain, count - count // 2)):
        for person in pool[: 0 if wanted <= 0 else len(pool)]:
            if fold(person.surname) in surnames:
                continue
            chosen.append(person)
            surnames.add(fold(person.surname))
            wanted -= 1
            if wanted == 0:
                break
    return chosen


def queries_for(target: Person, rng: random.Random) -> list[Query]:
    given = target.given_names.split()[0]
    surname = target.surname
    variant = same_sound_spelling(surname)
    assert variant is not None
    texts = (
        target.display_name,
        fold(f"{given} {surname}"),
        f"{surname} {given}",
        f"{given} {variant}",
        f"{given} {one_typo(surname, rng)}",
        f"{given} {surname[: max(3, (len(surname) + 1) // 2)]}",
    )
    return [Query(target, form, text) for form, text in zip(FORMS, texts, strict=True)]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def type_out(
    query: str, search: Callable[[str], list[str]], before_each: Callable[[], None] | None = None
) -> tuple[list[float], list[str]]:
    """Seconds per keystroke while typing `query`, and the person ids found for all of it."""
    seconds: list[float] = []
    found: list[str] = []
    for end in range(1, len(query) + 1):
        if before_each is not None:
            before_each()
        started = time.perf_counter()
        found = search(query[:end])
        seconds.append(time.perf_counter() - started)
    return seconds, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--collection", type=Path, required=True, help="collection folder (e.g. from `kiosk collection demo`)"
    )
    parser.add_argument("--targets", type=int, default=5, help="target persons (six queries each)")
    parser.add_argument("--seed", type=int, default=1942)
    parser.add_argument("--rounds", type=int, default=3, help="times each query is typed by each search")
    args = parser.parse_args()

    started = time.perf_counter()
    collection = load_collection(args.collection)
    loaded = time.perf_counter() - started
    gc.collect()
    started = time.perf_counter()
    index = SearchIndex.build(collection)
    built = time.perf_counter() - started
    persons = collection.persons
    print(
        f"{len(persons)} persons, {index.vocabulary_size} distinct words; "
        f"load {loaded:.2f} s, index built in {built * 1000:.0f} ms"
    )

    rng = random.Random(args.seed)
    queries = [q for target in choose_targets(persons, args.targets, args.seed) for q in queries_for(target, rng)]
    full_names = [p.display_name for p in persons]

    def ours(text: str) -> list[str]:
        return [hit.person_id for hit in index.search(text)]

    def baseline(text: str) -> list[str]:
        return [persons[i].person_id for _, _, i in process.extract(text, full_names, limit=10)]

    ours("warm up")  # first calls into numpy and rapidfuzz load code; a wall does this at start
    baseline("warm up")

    timings: dict[str, list[float]] = {"ours, as typed": [], "ours, no word cache": [], "baseline": []}
    hits: dict[str, Counter[str]] = {"ours": Counter(), "baseline": Counter()}
    print()
    print(f"{'form':<14} {'query':<34} {'ours':>5} {'base':>5}")
    for query in queries:
        for _ in range(args.rounds):
            index.cache_clear()  # as a new visitor: only this query's own earlier words cached
            typed, found = type_out(query.text, ours)
            cold, _ = type_out(query.text, ours, index.cache_clear)
            base, base_found = type_out(query.text, baseline)
            timings["ours, as typed"] += typed
            timings["ours, no word cache"] += cold
            timings["baseline"] += base
        ranks = []
        for name, results in (("ours", found[:10]), ("baseline", base_found)):
            rank = results.index(query.target.person_id) + 1 if query.target.person_id in results else None
            hits[name][query.form] += rank is not None
            ranks.append(str(rank) if rank else "-")
        print(f"{query.form:<14} {query.text:<34} {ranks[0]:>5} {ranks[1]:>5}")

    keystrokes = len(timings["baseline"]) // args.rounds
    print()
    print("rank: place of the target among the first ten results, -: not there")
    print(f"{len(queries)} queries, {keystrokes} keystrokes, each typed {args.rounds} times by each search")
    print()
    print(f"{'per keystroke':<22} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}   top-10 recall")
    for name, seconds in timings.items():
        recalled = sum(hits["baseline" if name == "baseline" else "ours"].values())
        print(
            f"{name:<22} {statistics.median(seconds) * 1000:8.2f} {percentile(seconds, 0.95) * 1000:8.2f} "
            f"{max(seconds) * 1000:8.2f}   {recalled}/{len(queries)}"
        )
    print()
    per_target = len(queries) // len(FORMS)
    print(f"{'top-10 recall by form':<22} {'ours':>6} {'base':>6}")
    for form in FORMS:
        print(f"{form:<22} {hits['ours'][form]:>4}/{per_target} {hits['baseline'][form]:>4}/{per_target}")


if __name__ == "__main__":
    main()
