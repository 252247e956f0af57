"""The fictional demo collection: invented persons on the real transports.

Stations, search and the memorial need a full-size collection to be built and tried
without the museum's data. Every person here is invented (random combinations of name
parts, dates and places) and marked so: a `fictional` column with "yes" on every row, a
README.txt in Dutch, French and English, and a mark on every portrait. Only the transports
are real, with the dates and sizes of `kiosk.collection.sources`.

The same seed gives the same folder, byte for byte: everything random comes from one
`random.Random(seed)`, and portraits are decided here before any worker renders them.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

from kiosk.collection.layout import (
    DEFAULT_COUNT,
    DEFAULT_SEED,
    FICTIONAL_COLUMN,
    FICTIONAL_YES,
    PERSON_COLUMNS,
    PERSONS_FILE,
    PORTRAITS_DIR,
    README_FILE,
    TRANSPORT_COLUMNS,
    TRANSPORTS_FILE,
    write_csv_atomically,
)
from kiosk.collection.model import AgeBand, PartialDate, age_band
from kiosk.collection.names import BELGIAN_PLACES, JEWISH_CULTURES, ROMANI, Culture, is_avoided_name
from kiosk.collection.portraits import PortraitRecipe, write_portraits
from kiosk.collection.sources import TRANSPORTS, SourcedTransport, survival_rate, transports_csv_note, weights
from kiosk.errors import KioskError
from kiosk.files import fsync_directory, write_durably

README_MARK = "FICTIONAL DEMO COLLECTION"
"""First line of the demo's README.txt: how `demo` knows a folder it may write over."""
PORTRAIT_SHARE = 0.8
EARLIEST_BIRTH = date(1850, 1, 1)
PERSON_ID_PREFIX = "demo-"
SOURCE_COLUMN = "source"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DemoReport:
    out: Path
    persons: int
    transports: int
    portraits: int
    seed: int

    def to_json(self) -> dict[str, object]:
        return {
            "out": str(self.out),
            "persons": self.persons,
            "transports": self.transports,
            "portraits": self.portraits,
            "seed": self.seed,
            "fictional": True,
        }


@dataclass(slots=True)
class _Draft:
    surname: str
    given_names: str
    birth: date
    place: str
    sex: str
    survivable: bool = False


def split_count(count: int, weight: dict[str, int]) -> dict[str, int]:
    """Persons per transport in proportion to `weight`, summing to `count` exactly.

    Largest remainders, so rounding never adds or loses a person; with at least one
    person per transport when there are enough persons to go round.
    """
    total = sum(weight.values())
    exact = {code: count * w / total for code, w in weight.items()}
    sizes = {code: int(share) for code, share in exact.items()}
    for code in sorted(exact, key=lambda c: exact[c] - sizes[c], reverse=True)[: count - sum(sizes.values())]:
        sizes[code] += 1
    if count >= len(weight):
        for code in [c for c, n in sizes.items() if n == 0]:
            donor = max(sizes, key=lambda c: sizes[c])
            sizes[donor] -= 1
            sizes[code] = 1
    return sizes


def write_demo(
    out: Path | str, count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED, workers: int | None = None
) -> DemoReport:
    """Write the fictional collection into `out`; refuse a folder holding anything else."""
    out = Path(out)
    if count < 1:
        raise KioskError(
            f"--count must be at least 1, not {count}", "give the number of invented persons to write, e.g. --count 300"
        )
    _claim_folder(out)
    rng = random.Random(seed)
    sizes = split_count(count, weights())
    rows: list[list[str]] = []
    recipes: list[PortraitRecipe] = []
    for transport in TRANSPORTS:
        drafts = _transport_list(rng, transport, sizes[transport.code])
        fates = _fates(rng, transport, drafts)
        for number, (draft, fate) in enumerate(zip(drafts, fates, strict=True), start=1):
            person_id = f"{PERSON_ID_PREFIX}{len(rows) + 1:05d}"
            birth = _as_listed(rng, draft.birth)
            portrait = ""
            if rng.random() < PORTRAIT_SHARE:
                portrait = f"{person_id}.jpg"
                band: AgeBand = age_band(
                    PartialDate(draft.birth.year, draft.birth.month, draft.birth.day), transport.departed
                )
                recipes.append(PortraitRecipe.choose(rng, portrait, band, draft.sex))
            rows.append(
                [
                    person_id,
                    draft.surname,
                    draft.given_names,
                    str(birth),
                    draft.place,
                    draft.sex,
                    transport.code,
                    str(number),
                    fate,
                    portrait,
                    FICTIONAL_YES,
                ]
            )

    # persons.csv goes last: until it is there, the folder does not look like a collection.
    _write_readme(out, seed, count)
    write_csv_atomically(
        out / TRANSPORTS_FILE,
        (*TRANSPORT_COLUMNS, SOURCE_COLUMN),
        [
            [
                t.code,
                t.departed.isoformat() if t.departed else "",
                t.destination,
                transports_csv_note(t),
                " ".join(t.sources),
            ]
            for t in TRANSPORTS
        ],
    )
    portraits = out / PORTRAITS_DIR
    _remove_stale_portraits(portraits, {r.file_name for r in recipes})
    write_portraits(recipes, portraits, seed, workers)
    fsync_directory(portraits)
    write_csv_atomically(out / PERSONS_FILE, (*PERSON_COLUMNS, FICTIONAL_COLUMN), rows)
    return DemoReport(out, len(rows), len(TRANSPORTS), len(recipes), seed)


# -- the folder ----------------------------------------------------------------------------


def is_demo_folder(folder: Path) -> bool:
    try:
        with open(folder / README_FILE, encoding="utf-8") as handle:
            return handle.readline().strip() == README_MARK
    except (OSError, UnicodeDecodeError):
        return False


def _claim_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise KioskError(f"{out} is a file, not a folder", "give --out a new or empty folder")
    if out.is_dir() and any(out.iterdir()):
        if not is_demo_folder(out):
            raise KioskError(
                f"{out} is not empty and is not a demo collection: refusing to write invented persons into it",
                "give --out a new or empty folder (a folder with an earlier demo collection is rewritten)",
            )
        # An earlier demo: take its persons.csv away first, so an interrupted rewrite never
        # leaves a list that points at half-written portraits.
        (out / PERSONS_FILE).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def _remove_stale_portraits(folder: Path, keep: set[str]) -> None:
    """Portraits of an earlier, larger demo; only files the demo itself names are removed."""
    if not folder.is_dir():
        return
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(PERSON_ID_PREFIX) and entry.name.endswith(".jpg") and entry.name not in keep:
                os.unlink(entry.path)


def _write_readme(out: Path, seed: int, count: int) -> None:
    command = f"kiosk collection demo --out DIR --count {count} --seed {seed}"
    text = f"""{README_MARK}
FICTIEVE DEMOCOLLECTIE - COLLECTION DE DÉMONSTRATION FICTIVE

NL  Deze collectie is verzonnen. Geen enkele persoon erin heeft bestaan: namen, geboortedata,
    geboorteplaatsen, lotgevallen en portretten zijn willekeurig samengesteld om de stations
    van Kazerne Dossin te testen. Alleen de transporten (data en aantallen) volgen publieke
    bronnen, vermeld in transports.csv. Gemaakt met: {command}

FR  Cette collection est inventée. Aucune des personnes qu'elle contient n'a existé : noms,
    dates et lieux de naissance, destins et portraits sont assemblés au hasard pour tester
    les stations de la Kazerne Dossin. Seuls les convois (dates et effectifs) suivent des
    sources publiques, citées dans transports.csv. Créée par : {command}

EN  This collection is invented. None of the persons in it ever lived: names, dates and
    places of birth, fates and portraits are put together at random to test the stations of
    Kazerne Dossin. Only the transports (dates and sizes) follow public sources, cited in
    transports.csv. Made with: {command}

Every row of persons.csv has fictional=yes; every portrait says "fictief · fictif · fictional".
Seed {seed}, {count} persons.
"""
    write_durably(out / README_FILE, text.encode("utf-8"), partial=out / f".{README_FILE}.partial", mode=0o644)


# -- the persons ---------------------------------------------------------------------------


def _transport_list(rng: random.Random, transport: SourcedTransport, size: int) -> list[_Draft]:
    """The persons of one transport, family by family: relatives stand together on a list."""
    drafts: list[_Draft] = []
    departed = transport.departed or date(1943, 1, 1)
    while len(drafts) < size:
        drafts.extend(_family(rng, transport.code, departed, size - len(drafts)))
    return drafts


def _family(rng: random.Random, code: str, departed: date, room: int) -> list[_Draft]:
    roma = code == "Z"
    culture = ROMANI if roma else _weighted(rng, JEWISH_CULTURES)
    group = rng.choice(culture.surnames)
    surname = _weighted(rng, [(variant, len(group) - i + 1) for i, variant in enumerate(group)])
    home = rng.choice(culture.places)
    belgian = code == "XXIIB" and rng.random() < 0.7  # XXIIB: Jews of Belgian nationality
    if belgian:
        home = rng.choice(BELGIAN_PLACES)
    settled = rng.randint(1900, 1939)  # the year the family came to Belgium; later children were born there
    belgian_home = rng.choice(BELGIAN_PLACES)

    if code in ("XV", "XVI", "XVII"):  # mostly men sent back from forced labour in northern France
        kinds = [("single_man", 75), ("single", 10), ("couple", 5), ("parents", 10)]
    elif roma:
        kinds = [("parents", 55), ("three_generations", 25), ("parent", 10), ("couple", 5), ("single", 5)]
    else:
        kinds = [
            ("single", 28),
            ("single_man", 4),
            ("couple", 14),
            ("parents", 30),
            ("parent", 12),
            ("three_generations", 6),
            ("siblings", 6),
        ]
    kind = _weighted(rng, kinds)

    taken: set[str] = set()  # no two relatives with the same given names

    def person(sex: str, age: float) -> _Draft:
        birth = _birth(rng, departed, age)
        place = home if roma or belgian or birth.year < settled else belgian_home
        given = _given(rng, culture, sex, surname, taken)
        taken.add(given)
        return _Draft(surname, given, birth, place, _recorded_sex(rng, sex), survivable=15 <= age <= 50)

    members: list[_Draft] = []
    if kind in ("single", "single_man"):
        sex = "m" if kind == "single_man" or rng.random() < 0.5 else "f"
        members.append(person(sex, _adult_age(rng)))
    else:
        father_age = rng.uniform(24, 58)
        mother_age = max(19.0, min(50.0, father_age - rng.uniform(-2, 8)))
        if kind == "three_generations":
            members.append(person(rng.choice("fm"), max(mother_age, father_age) + rng.uniform(22, 32)))
        if kind in ("couple", "parents", "three_generations"):
            members.append(person("m", father_age))
            members.append(person("f", mother_age))
        elif kind == "parent":
            members.append(person("f", mother_age) if rng.random() < 0.7 else person("m", father_age))
        if kind in ("parents", "parent", "three_generations", "siblings"):
            children = rng.randint(2, 8) if roma else rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 5))
            oldest = min(mother_age - 18, 24.0) if kind != "siblings" else rng.uniform(12, 22)
            age = rng.uniform(max(oldest - 4, 0.05), max(oldest, 0.1))
            for _ in range(children):
                if age < 0.03:
                    break
                members.append(person(rng.choice("fm"), age))
                age -= rng.uniform(1.2, 3.5)
    return members[:room]


def _adult_age(rng: random.Random) -> float:
    return min(rng.gauss(38, 14), 86.0) if rng.random() < 0.9 else rng.uniform(16, 22)


def _birth(rng: random.Random, departed: date, age: float) -> date:
    """A birthday `age` years before the departure, never on or after it."""
    days = max(int(age * 365.25) + rng.randint(-150, 150), rng.randint(20, 300))
    return max(departed - timedelta(days=days), EARLIEST_BIRTH)


def _as_listed(rng: random.Random, birth: date) -> PartialDate:
    """About one date in twenty is listed only as a month or a year, as on the real lists."""
    roll = rng.random()
    if roll < 0.02:
        return PartialDate(birth.year)
    if roll < 0.05:
        return PartialDate(birth.year, birth.month)
    return PartialDate(birth.year, birth.month, birth.day)


def _given(rng: random.Random, culture: Culture, sex: str, surname: str, taken: set[str]) -> str:
    pool = culture.female if sex == "f" else culture.male
    for _ in range(8):
        names = rng.choice(pool)
        if rng.random() < 0.15:
            second = rng.choice(pool)
            if second != names:
                names = f"{names} {second}"
        if names not in taken and not is_avoided_name(names, surname):
            return names
    return names


def _recorded_sex(rng: random.Random, sex: str) -> str:
    """Sex as a list records it: now and then not at all."""
    return "" if rng.random() < 0.01 else sex


def _fates(rng: random.Random, transport: SourcedTransport, drafts: list[_Draft]) -> list[str]:
    """Most were murdered; the transport's sourced share survived, drawn from those of an age
    to be selected for labour; a few fates are unknown."""
    fates = ["murdered"] * len(drafts)
    candidates = [i for i, d in enumerate(drafts) if d.survivable]
    survivors = min(len(candidates), round(survival_rate(transport) * len(drafts)))
    for i in rng.sample(candidates, survivors):
        fates[i] = "survived"
    for i, fate in enumerate(fates):
        if fate == "murdered" and rng.random() < 0.01:
            fates[i] = "unknown"
    return fates


def _weighted(rng: random.Random, choices: Sequence[tuple[T, int]]) -> T:
    items, weight = zip(*choices, strict=True)
    return rng.choices(items, weights=weight)[0]
