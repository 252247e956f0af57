"""Helping a participant read a name they may never have seen written.

Names on the lists are Polish, Yiddish, German, Hungarian, Dutch, French: a nine-year-old
in Mechelen meeting "Goldsztajn" for the first time reads it more surely as
"Gold-sztajn". We split long words into syllables with a plain rule (a consonant
cluster between vowels keeps, as the next syllable's onset, the longest ending that
begins syllables in these languages) and show that beside the name as written.
"""

from __future__ import annotations


VOWELS = set("aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿąęőű")
# Consonant groups that may begin a syllable in the languages of the lists, longest first.
ONSETS = sorted(
    {
        "szcz", "schw", "schl", "schm", "schn", "schr", "sch", "szt", "str", "spr", "chr", "sz", "cz", "rz", "dz",
        "dż", "dź", "ch", "sh", "zh", "st", "sp", "sk", "sl", "sm", "sn", "sw", "tr", "br", "kr", "gr", "pr", "dr",
        "fr", "wr", "bl", "kl", "gl", "pl", "fl", "zl", "ts", "tz", "pf", "th", "ph", "gy", "ny", "ly", "ty", "zs", "cs",
    },
    key=len,
    reverse=True,
)
LONG_WORD = 7  # shorter words read well as they are


def _is_vowel(char: str) -> bool:
    return char.lower() in VOWELS


def _starts_nucleus(word: str, i: int) -> bool:
    # A 'y' right after a vowel closes that vowel's syllable (Drey-fus), like a consonant.
    char = word[i].lower()
    return _is_vowel(char) and not (char == "y" and i > 0 and _is_vowel(word[i - 1]))


def syllables(word: str) -> list[str]:
    """'Goldsztajn' -> ['Gold', 'sztajn']; a word without two vowel groups stays whole."""
    if not word.isalpha():
        return [word]  # hyphenated or odd words are shown as written
    nuclei, i = [], 0
    while i < len(word):
        if not _starts_nucleus(word, i):
            i += 1
            continue
        start, i = i, i + 1
        while i < len(word) and _is_vowel(word[i]) and word[i].lower() != "y":
            i += 1
        nuclei.append((start, i))
    if len(nuclei) < 2:
        return [word]
    cuts = []
    for (_, end), (next_start, _) in zip(nuclei, nuclei[1:]):
        cluster = word[end:next_start].lower()
        if len(cluster) <= 1:
            onset = cluster  # V-CV, or two vowel groups side by side
        else:
            onset = next((o for o in ONSETS if cluster.endswith(o) and len(o) < len(cluster)), cluster[-1])
        cuts.append(next_start - len(onset))
    parts, previous = [], 0
    for cut in cuts:
        parts.append(word[previous:cut])
        previous = cut
    parts.append(word[previous:])
    return parts


def reading_aid(name: str) -> str | None:
    """The name with long words syllabled ('Chaja Gold-sztajn'), or None when it adds nothing."""
    words = name.split()
    aided = ["-".join(syllables(w)) if len(w) >= LONG_WORD else w for w in words]
    result = " ".join(aided)
    return result if result != name else None


