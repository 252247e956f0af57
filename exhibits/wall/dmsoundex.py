"""Daitch–Mokotoff Soundex: the sound code of Jewish genealogy, for spelling variants.

The lists of Mechelen were typed from index cards in whatever transliteration the clerk
knew, so one family appears as Goldsztajn, Goldstein, Goldsteyn and Goldsztejn. Gary
Mokotoff and Randy Daitch (Avotaynu, 1985) designed this code for exactly that: Polish,
Yiddish, German and Russian spellings of one sounded name get the same six digits, and
a letter group that can be said two ways (CH as in "Bach" or as in "church", C, CK, J,
RS, RZ) gives two codes, so a name can carry several.

Implemented from the published coding chart (JewishGen, "Soundex Coding", and Mokotoff,
"Soundexing and Genealogy", avotaynu.com), with its rules:

- at each position the longest letter group of the chart is coded;
- a group has one code at the start of the name, one before a vowel (a, e, i, o, u,
  and the nasal ą, ę) and one anywhere else; "-" means not coded;
- a group whose code repeats the code just before it is coded once (Topf is TO-PF,
  Cherkassy codes its SS once), but a vowel in between separates them; MN and NM are
  two sounds (the chart codes them 66);
- a name of several words is coded as one word ("Ben Aron" as "Benaron"); only letters
  count;
- the code is six digits, cut or padded with zeros.

Letters with marks are coded as their base letter, except the four that the chart names
itself: Polish ą and ę (nasal: coded 6 or not at all) and Romanian ţ and ț (T or TS).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

CODE_LENGTH = 6

_CHART = """
    ai aj ay                                0    1    -
    au                                      0    7    -
    a                                       0    -    -
    ą ę                                     -    -    6|-
    b                                       7    7    7
    chs                                     5    54   54
    ch                                      5|4  5|4  5|4
    ck                                      5|45 5|45 5|45
    cz cs csz czs                           4    4    4
    c                                       5|4  5|4  5|4
    drz drs ds dsh dsz dz dzh dzs           4    4    4
    d dt                                    3    3    3
    ei ej ey                                0    1    -
    eu                                      1    1    -
    e                                       0    -    -
    f fb                                    7    7    7
    g                                       5    5    5
    h                                       5    5    -
    ia ie io iu                             1    -    -
    i                                       0    -    -
    j                                       1|4  -|4  -|4
    ks                                      5    54   54
    k kh                                    5    5    5
    l                                       8    8    8
    mn nm                                   66   66   66
    m n                                     6    6    6
    oi oj oy                                0    1    -
    o                                       0    -    -
    p pf ph                                 7    7    7
    q                                       5    5    5
    rs rz                                   94|4 94|4 94|4
    r                                       9    9    9
    schtsch schtsh schtch shtch shch shtsh  2    4    4
    sch                                     4    4    4
    sht scht schd                           2    43   43
    sh                                      4    4    4
    stch stsch sc strz strs stsh            2    4    4
    st                                      2    43   43
    szcz szcs                               2    4    4
    szt shd szd sd                          2    43   43
    sz s                                    4    4    4
    tch ttch ttsch                          4    4    4
    th                                      3    3    3
    trz trs tsch tsh ts tts ttsz tc tz ttz tzs tsz   4    4    4
    ţ ț                                     3|4  3|4  3|4
    t                                       3    3    3
    ui uj uy                                0    1    -
    u ue                                    0    -    -
    v w                                     7    7    7
    x                                       5    54   54
    y                                       1    -    -
    zdz zdzh zhdzh                          2    4    4
    zd zhd                                  2    43   43
    zh zs zsch zsh z                        4    4    4
"""
"""The coding chart: letter groups, then their code at the start of a name, before a
vowel, and elsewhere; "|" separates the two codes of a group said two ways."""

_VOWELS = frozenset("aeiouąę")
_NOT_LETTERS = re.compile("[^a-z]+")
_KEPT_MARKED = frozenset("ąęţț")
_UNDECOMPOSED = str.maketrans({"ł": "l", "ß": "ss", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "ı": "i", "þ": "th"})
"""Letters that Unicode decomposition does not reduce to a base letter."""

Alternatives = tuple[str, ...]
"""The codes a letter group can take in one position: one, or two for a branching group."""


def _parse_chart(chart: str) -> dict[str, tuple[Alternatives, Alternatives, Alternatives]]:
    rules: dict[str, tuple[Alternatives, Alternatives, Alternatives]] = {}
    for line in chart.strip().splitlines():
        *groups, at_start, before_vowel, elsewhere = line.split()
        codes = (_alternatives(at_start), _alternatives(before_vowel), _alternatives(elsewhere))
        for group in groups:
            if group in rules:
                raise ValueError(f"letter group {group!r} appears twice in the chart")
            rules[group] = codes
    return rules


def _alternatives(cell: str) -> Alternatives:
    return tuple("" if code == "-" else code for code in cell.split("|"))


_RULES = _parse_chart(_CHART)
_LONGEST_GROUP = max(len(group) for group in _RULES)


def letters_of(text: str) -> str:
    """The letters the chart codes: lower case, marks dropped (except ą ę ţ ț), nothing else."""
    lowered = text.lower().translate(_UNDECOMPOSED)
    if lowered.isascii():
        return _NOT_LETTERS.sub("", lowered)
    kept: list[str] = []
    for char in lowered:
        if char in _KEPT_MARKED:
            kept.append(char)
            continue
        for base in unicodedata.normalize("NFKD", char):
            if "a" <= base <= "z":
                kept.append(base)
    return "".join(kept)


def _next_group(letters: str, position: int) -> str:
    """The longest group of the chart at `position` (every kept letter is a group itself)."""
    for length in range(min(_LONGEST_GROUP, len(letters) - position), 1, -1):
        group = letters[position : position + length]
        if group in _RULES:
            return group
    return letters[position]


@lru_cache(maxsize=65536)
def _digit_strings(letters: str) -> frozenset[str]:
    # A branch is (digits so far, code of the previous letter group); the previous code
    # decides whether a repeated sound is coded again, and differs between branches.
    branches: set[tuple[str, str]] = {("", "")}
    position = 0
    while position < len(letters) and any(len(digits) < CODE_LENGTH for digits, _ in branches):
        group = _next_group(letters, position)
        at_start, before_vowel, elsewhere = _RULES[group]
        following = position + len(group)
        if position == 0:
            alternatives = at_start
        elif following < len(letters) and letters[following] in _VOWELS:
            alternatives = before_vowel
        else:
            alternatives = elsewhere
        grown: set[tuple[str, str]] = set()
        for digits, previous in branches:
            for code in alternatives:
                repeated = bool(code) and previous.endswith(code)
                grown.add((digits if repeated else (digits + code)[:CODE_LENGTH], code))
        branches = grown
        position = following
    return frozenset(digits for digits, _ in branches)


def digit_strings(name: str) -> frozenset[str]:
    """The codes of `name` before padding (at most six digits each); empty without letters.

    Search uses these unpadded forms to compare a name still being typed ("Goldszt",
    58343) with the first digits of complete names.
    """
    letters = letters_of(name)
    return _digit_strings(letters) if letters else frozenset()


def dm_codes(name: str) -> frozenset[str]:
    """All Daitch–Mokotoff codes of `name`: six digits each, one per way of saying it.

    >>> sorted(dm_codes("Peters"))
    ['734000', '739400']
    """
    return frozenset(digits.ljust(CODE_LENGTH, "0") for digits in digit_strings(name))


def same_sound(first: str, second: str) -> bool:
    """True when two spellings share a code: the chart's notion of "may be the same name"."""
    return not dm_codes(first).isdisjoint(dm_codes(second))
