"""The portrait wall's search: a name as a visitor remembers it, answered at every keystroke.

Kivy-free, so the wall's screen, `kiosk search` and the tests share one behaviour.

Visitors type on a touchscreen, letter by letter, a name as they heard it at home or
read it elsewhere: Goldstein for the Goldsztajn of the list, without the accents, the
surname first or last, with a slip of the finger. The lists themselves spell one name
in Polish, Yiddish, German, French or Dutch ways. So a query is cut into words and each
word is matched, forgivingly, against the words of every person's names (and, with less
weight, the place and year of birth):

==========================  =========  =================================================
how a query word matches    quality    example (query word -> word on the list)
==========================  =========  =================================================
the same word               1.00       lodz -> Łódź, goldsztajn -> Goldsztajn
the start of the word       0.80-0.95  golds -> Goldsztajn (more typed, higher)
the same sound (D-M code)   0.70-0.78  goldstein -> Goldsztajn (closer spelling, higher)
one typing error            0.64       goldsztjan -> Goldsztajn (from 4 letters on)
same sound while typing     0.60       goldszt -> Goldstein (first 4-5 code digits)
two typing errors           0.56       from 8 letters on
a typing error while typing 0.52       goldzs -> Goldsztajn (first letter right)
==========================  =========  =================================================

"The same sound" is Daitch–Mokotoff Soundex (`exhibits.wall.dmsoundex`); typing errors are
the optimal-string-alignment distance (a swap of two letters is one error), computed by
rapidfuzz over the distinct words of the collection, never over every person. A match
on the place of birth, or a four-digit word equal to the year of birth, counts 0.8 times:
less than the same match on a name, but "Lodz" lists the persons born in Łódź before a
Louis whose name only sounds like it.

A person's score is the mean, over the query's words, of the best quality each word finds
in that person's record (0 when it finds nothing), less 0.01 for each name word the
person has beyond the number of query words (at most 0.05), within 0..1. So both name
parts matching beats one ("Chaja Gol" narrows to the Chajas whose surname starts with
Gol), the order of the words does not matter, and of two equally good matches the
shorter name (the closer one) comes first. Equal scores are ordered by surname, given
names and person id, so the same query always shows the same wall.

A query that is exactly a transport code as written on the lists ("XXIIA", "Z"), or the
word transport, convoi, konvooi or convoy followed by a code in any case, lists that
transport's persons in list order, with score 1.

Speed: every keystroke re-runs the search, so the work per keystroke is bounded by the
number of distinct words (about 700 in the demo, tens of thousands at worst), not of
persons. The index keeps the sorted distinct words (a prefix is a contiguous range found
by bisection), their D-M codes, the words by length (a typing error changes the length by
at most the errors allowed), the distinct word beginnings per length (a word still being
typed is compared with those of its first letter), and for each word the persons it
belongs to (as arrays, expanded with numpy). The persons matched by each query word are
cached, so while a visitor types the last word, the earlier words cost nothing.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import process
from rapidfuzz.distance import OSA, Indel

from exhibits.wall.dmsoundex import CODE_LENGTH, digit_strings
from kiosk.collection import Collection, Person
from kiosk.collection.folding import APOSTROPHES, WORD, fold

MAX_QUERY_CHARS = 80
"""Longer input is cut: no name on the lists is longer, and the work stays bounded."""
MAX_QUERY_WORDS = 6
MAX_WORD_CHARS = 40

EXACT = 1.0
PREFIX_LOW, PREFIX_HIGH = 0.80, 0.95
SOUND_LOW, SOUND_HIGH = 0.70, 0.78
ONE_TYPO, TWO_TYPOS = 0.64, 0.56
SOUND_WHILE_TYPING = 0.60
TYPO_WHILE_TYPING = 0.52
PLACE_WEIGHT = 0.8
YEAR_QUALITY = PLACE_WEIGHT * EXACT
EXTRA_WORD_PENALTY, MAX_EXTRA_WORD_PENALTY = 0.01, 0.05

MIN_TYPO_LETTERS, MIN_TWO_TYPOS_LETTERS = 4, 8
"""Typing errors are looked for from 4 letters on (two errors from 8): a shorter word is one
error away from too many names."""
MIN_SOUND_LETTERS = 3
"""Shorter words have codes so short that they sound like too many names."""
SOUND_PREFIX_DIGITS = (4, 5)
"""A word being typed is compared by its first 4 or 5 code digits with complete words."""
TRANSPORT_WORDS = frozenset({"transport", "convoi", "konvooi", "convoy"})

_CACHED_WORDS = 32
"""Query words whose matches are kept: a visitor's earlier words, and other visitors'."""

_APOSTROPHES = APOSTROPHES
_WORD = WORD
"""Letters NFKD does not reduce to a base letter (ß becomes ss by case folding)."""

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Hit:
    """One person found: what the wall shows in the result list, and how well it matched.

    `score` is in 0..1 (see the module's documentation): 1 when the query's words are
    exactly the words of the person's name, or for a transport listing.
    """

    person_id: str
    name: str
    transport: str
    list_number: int
    score: float

    def to_json(self) -> dict[str, str | int | float]:
        """The shape of `kiosk search --json` (CONTRACT.md)."""
        return {
            "person_id": self.person_id,
            "name": self.name,
            "transport": self.transport,
            "list_number": self.list_number,
            "score": self.score,
        }


def words_of(text: str) -> list[tuple[str, str]]:
    """The words of `text` as (folded, as written in lower case) pairs.

    Apostrophes join (d'Ancona is one word, as a visitor types it without one); any other
    sign separates. The written form is kept because the sound code reads ą and ę.
    """
    words = []
    for written in _WORD.findall(_APOSTROPHES.sub("", text.lower())):
        folded = "".join(_WORD.findall(fold(written)))
        if folded:
            words.append((folded[:MAX_WORD_CHARS], written[:MAX_WORD_CHARS]))
    return words


@dataclass(frozen=True, slots=True)
class _Postings:
    """For each distinct word (by its place in the sorted vocabulary), the persons having it.

    Compressed rows: the persons of word i are `persons[starts[i]:starts[i + 1]]`.
    """

    starts: IntArray
    persons: IntArray

    @classmethod
    def build(cls, vocabulary_size: int, pairs: Iterable[tuple[int, int]]) -> _Postings:
        rows: list[set[int]] = [set() for _ in range(vocabulary_size)]
        for word, person in pairs:
            rows[word].add(person)
        counts = np.fromiter((len(row) for row in rows), dtype=np.int64, count=vocabulary_size)
        starts = np.zeros(vocabulary_size + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        persons = np.fromiter((p for row in rows for p in sorted(row)), dtype=np.int64, count=int(starts[-1]))
        return cls(starts, persons)

    def expand(self, words: IntArray, qualities: FloatArray) -> tuple[IntArray, FloatArray]:
        """The persons of `words`, each with the quality of the word that brought it."""
        starts = self.starts[words]
        counts = self.starts[words + 1] - starts
        total = int(counts.sum())
        if total == 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        before = np.cumsum(counts) - counts
        positions = np.repeat(starts - before, counts) + np.arange(total)
        return self.persons[positions], np.repeat(qualities, counts)


@dataclass(frozen=True, slots=True)
class _Beginnings:
    """The distinct beginnings of one length, sorted, each with its range in the vocabulary.

    Words sharing a beginning are neighbours in the sorted vocabulary, so one range each.
    """

    texts: list[str]
    first: IntArray
    end: IntArray

    @staticmethod
    def of(vocabulary: Sequence[str], shortest: int) -> dict[int, _Beginnings]:
        texts: dict[int, list[str]] = defaultdict(list)
        first: dict[int, list[int]] = defaultdict(list)
        end: dict[int, list[int]] = defaultdict(list)
        for i, word in enumerate(vocabulary):
            for length in range(shortest, len(word) + 1):
                beginning = word[:length]
                if texts[length] and texts[length][-1] == beginning:
                    end[length][-1] = i + 1
                else:
                    texts[length].append(beginning)
                    first[length].append(i)
                    end[length].append(i + 1)
        return {
            length: _Beginnings(
                texts[length], np.array(first[length], dtype=np.int64), np.array(end[length], dtype=np.int64)
            )
            for length in texts
        }

    def starting_with(self, letter: str) -> tuple[int, int]:
        """The range of `texts` that begin with `letter`."""
        low = bisect_left(self.texts, letter)
        return low, bisect_left(self.texts, letter + "\U0010ffff", lo=low)


class SearchIndex:
    """Everything a keystroke needs, computed once when the wall loads its collection.

    Build with `SearchIndex.build(collection)` (the constructor takes the words already
    cut); then `search(query)` from any thread: the index is only read, and the cache of
    query words is thread-safe.
    """

    def __init__(
        self,
        persons: Sequence[Person],
        transport_lists: dict[str, Sequence[int]],
        person_words: Sequence[_PersonWords],
        alphabetical: Sequence[Person] | None = None,
    ):
        self._persons = tuple(persons)
        self._transport_lists = transport_lists
        self._transport_codes = {code.casefold(): code for code in transport_lists}
        count = len(self._persons)

        written_forms: dict[str, set[str]] = defaultdict(set)
        for words in person_words:
            for folded, written in (*words.names, *words.places):
                written_forms[folded].add(written)
        self._vocabulary: list[str] = sorted(written_forms)
        position = {word: i for i, word in enumerate(self._vocabulary)}
        self._word_lengths = np.fromiter(map(len, self._vocabulary), dtype=np.float64, count=len(self._vocabulary))

        self._names = _Postings.build(
            len(self._vocabulary),
            ((position[folded], p) for p, words in enumerate(person_words) for folded, _ in words.names),
        )
        self._places = _Postings.build(
            len(self._vocabulary),
            ((position[folded], p) for p, words in enumerate(person_words) for folded, _ in words.places),
        )
        self._name_word_counts = np.fromiter((words.name_count for words in person_words), dtype=np.int64, count=count)

        years: dict[str, list[int]] = defaultdict(list)
        for p, person in enumerate(self._persons):
            if person.birth_date is not None:
                years[f"{person.birth_date.year:04d}"].append(p)
        self._years = {year: np.array(members, dtype=np.int64) for year, members in years.items()}

        sounds: dict[str, list[int]] = defaultdict(list)
        sound_beginnings: dict[str, set[int]] = defaultdict(set)
        for i, word in enumerate(self._vocabulary):
            digits = {d for written in written_forms[word] for d in digit_strings(written)}
            for code in {d.ljust(CODE_LENGTH, "0") for d in digits}:
                sounds[code].append(i)
            for d in digits:
                for length in SOUND_PREFIX_DIGITS:
                    if len(d) >= length:
                        sound_beginnings[d[:length]].add(i)
        self._sounds = {code: np.array(words, dtype=np.int64) for code, words in sounds.items()}
        self._sound_beginnings = {d: np.array(sorted(words), dtype=np.int64) for d, words in sound_beginnings.items()}

        lengths: dict[int, list[int]] = defaultdict(list)
        for i, word in enumerate(self._vocabulary):
            lengths[len(word)].append(i)
        self._words_of_length = {
            length: ([self._vocabulary[i] for i in words], np.array(words, dtype=np.int64))
            for length, words in lengths.items()
        }
        self._beginnings = _Beginnings.of(self._vocabulary, shortest=MIN_TYPO_LETTERS)

        if alphabetical is None:
            order = sorted(range(count), key=lambda p: self._persons[p].sort_name)
        else:  # the same order, sorted once for the whole wall (Collection.alphabetical)
            place = {person.person_id: p for p, person in enumerate(self._persons)}
            order = [place[person.person_id] for person in alphabetical]
        self._rank = np.empty(count, dtype=np.int64)
        self._rank[order] = np.arange(count)

        self._word_scores = lru_cache(maxsize=_CACHED_WORDS)(self._compute_word_scores)

    @classmethod
    def build(cls, collection: Collection) -> SearchIndex:
        """The index of every person of `collection`: names, places and years of birth."""
        persons = collection.persons
        index_of = {person.person_id: p for p, person in enumerate(persons)}
        transport_lists = {  # arrays: 25,843 positions as int objects would take 0.9 MB
            t.code: array("i", [index_of[person.person_id] for person in collection.persons_of(t.code)])
            for t in collection.transports
        }
        known: dict[str, list[tuple[str, str]]] = {}

        def cached_words_of(text: str) -> list[tuple[str, str]]:
            # Surnames, given names and places repeat across families and towns.
            words = known.get(text)
            if words is None:
                words = known[text] = words_of(text)
            return words

        return cls(
            persons,
            transport_lists,
            [_PersonWords.of(person, cached_words_of) for person in persons],
            alphabetical=collection.alphabetical(),
        )

    def __len__(self) -> int:
        return len(self._persons)

    @property
    def vocabulary_size(self) -> int:
        """Distinct words of names and places: what a keystroke's typo search runs over."""
        return len(self._vocabulary)

    def cache_clear(self) -> None:
        """Forget the cached matches of query words (to measure a keystroke without them)."""
        self._word_scores.cache_clear()

    def search(self, query: str, limit: int = 50) -> list[Hit]:
        """The persons best matching `query`, best first, at most `limit` of them.

        Empty or blank queries, and queries whose words match nothing, give no hits.
        """
        if limit <= 0:
            return []
        text = query[:MAX_QUERY_CHARS]
        code = self._transport_code(text)
        if code is not None:
            return [self._hit(p, 1.0) for p in self._transport_lists[code][:limit]]
        words = words_of(text)[:MAX_QUERY_WORDS]
        if not words:
            return []
        total = np.zeros(len(self._persons))
        for folded, written in words:
            total += self._word_scores(folded, written)
        candidates = np.flatnonzero(total)
        if candidates.size == 0:
            return []
        extra_words = np.maximum(self._name_word_counts[candidates] - len(words), 0)
        penalty = np.minimum(extra_words * EXTRA_WORD_PENALTY, MAX_EXTRA_WORD_PENALTY)
        scores = np.clip(total[candidates] / len(words) - penalty, 0.0, 1.0)
        if candidates.size > limit:
            cut = np.partition(scores, candidates.size - limit)[candidates.size - limit]
            kept = scores >= cut
            candidates, scores = candidates[kept], scores[kept]
        order = np.lexsort((self._rank[candidates], -scores))[:limit]
        return [self._hit(int(candidates[i]), float(scores[i])) for i in order]

    def _hit(self, p: int, score: float) -> Hit:
        person = self._persons[p]
        return Hit(person.person_id, person.display_name, person.transport, person.list_number, round(score, 4))

    def _transport_code(self, text: str) -> str | None:
        words = text.split()
        if len(words) == 1 and words[0] in self._transport_lists:
            return words[0]
        if len(words) == 2 and fold(words[0]) in TRANSPORT_WORDS:
            return self._transport_codes.get(words[1].casefold())
        return None

    def _compute_word_scores(self, folded: str, written: str) -> FloatArray:
        """For one query word, each person's best match quality (0 for no match).

        Cached by the word: the same word in a later keystroke costs nothing.
        """
        scores = np.zeros(len(self._persons))
        for words, qualities in self._matching_words(folded, written):
            for postings, weight in ((self._names, 1.0), (self._places, PLACE_WEIGHT)):
                persons, person_qualities = postings.expand(words, qualities * weight)
                np.maximum.at(scores, persons, person_qualities)
        born = self._years.get(folded)
        if born is not None:
            np.maximum.at(scores, born, YEAR_QUALITY)
        scores.setflags(write=False)
        return scores

    def _matching_words(self, folded: str, written: str) -> list[tuple[IntArray, FloatArray]]:
        """Words of the vocabulary that `folded` may stand for, with each match's quality.

        A word can appear several times with different qualities; the best one counts.
        """
        matches: list[tuple[IntArray, FloatArray]] = []
        vocabulary = self._vocabulary
        first = bisect_left(vocabulary, folded)
        end = bisect_left(vocabulary, folded + "\U0010ffff", lo=first)
        if end > first:
            words = np.arange(first, end, dtype=np.int64)
            completed = len(folded) / self._word_lengths[first:end]
            qualities = np.where(completed >= 1.0, EXACT, PREFIX_LOW + (PREFIX_HIGH - PREFIX_LOW) * completed)
            matches.append((words, qualities))

        if len(folded) >= MIN_SOUND_LETTERS and not folded.isdigit():
            digits = digit_strings(written)
            sounding = {i for d in digits for i in self._sounds.get(d.ljust(CODE_LENGTH, "0"), ())}
            if sounding:
                words = np.array(sorted(sounding), dtype=np.int64)
                likeness = process.cdist([folded], [vocabulary[i] for i in words], scorer=Indel.normalized_similarity)[
                    0
                ]
                matches.append((words, SOUND_LOW + (SOUND_HIGH - SOUND_LOW) * likeness))
            sound_beginnings = [
                self._sound_beginnings[d]
                for d in digits
                if len(d) in SOUND_PREFIX_DIGITS and d in self._sound_beginnings
            ]
            if sound_beginnings:
                words = np.unique(np.concatenate(sound_beginnings))
                matches.append((words, np.full(words.size, SOUND_WHILE_TYPING)))

        allowed = 0 if len(folded) < MIN_TYPO_LETTERS else 1 if len(folded) < MIN_TWO_TYPOS_LETTERS else 2
        if allowed:
            for length in range(len(folded) - allowed, len(folded) + allowed + 1):
                of_length = self._words_of_length.get(length)
                if of_length is None:
                    continue
                texts, words = of_length
                distances = process.cdist([folded], texts, scorer=OSA.distance, score_cutoff=allowed, dtype=np.int32)[0]
                near = np.flatnonzero(distances <= allowed)
                if near.size:
                    matches.append((words[near], np.where(distances[near] <= 1, ONE_TYPO, TWO_TYPOS)))
            typed = []
            for length in (len(folded), len(folded) + 1):
                beginnings = self._beginnings.get(length)
                if beginnings is None:
                    continue
                low, high = beginnings.starting_with(folded[0])
                distances = process.cdist(
                    [folded], beginnings.texts[low:high], scorer=OSA.distance, score_cutoff=1, dtype=np.int32
                )[0]
                for b in np.flatnonzero(distances <= 1) + low:
                    typed.append(np.arange(beginnings.first[b], beginnings.end[b], dtype=np.int64))
            if typed:
                words = np.unique(np.concatenate(typed))
                matches.append((words, np.full(words.size, TYPO_WHILE_TYPING)))
        return matches


@dataclass(frozen=True, slots=True)
class _PersonWords:
    """A person's words as the index keeps them: (folded, written) pairs."""

    names: list[tuple[str, str]]
    places: list[tuple[str, str]]
    name_count: int
    """Words of the name as the list writes it (the joined surname not counted)."""

    @classmethod
    def of(cls, person: Person, words: Callable[[str], list[tuple[str, str]]] = words_of) -> _PersonWords:
        """A person's name words and birth-place words.

        A surname of several words is also one word written together (van den Berg is
        found as vandenberg, as a visitor may type it).
        """
        surname = words(person.surname)
        names = surname + words(person.given_names)
        count = len(names)
        if len(surname) > 1:
            joined = ("".join(f for f, _ in surname)[:MAX_WORD_CHARS], "".join(w for _, w in surname)[:MAX_WORD_CHARS])
            names = [*names, joined]
        return cls(names, words(person.birth_place), count)
