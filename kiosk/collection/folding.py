"""How a name is folded for comparison: the portrait wall's search and the store's matches.

One fold for both, so that a participant whose first name the wall's search finds under
a person is matched to that person by the store too: lower case, without marks, with the
letters NFKD does not split (ł, ø, æ ...) written out, apostrophes dropped (d'Ancona is
one word, as a visitor types it without one) and any other sign separating words.
Kivy- and numpy-free, so the central store imports it without the wall's code.
"""

from __future__ import annotations

import re
import unicodedata

APOSTROPHES = re.compile(r"['’ʼ`´]")
WORD = re.compile(r"[^\W_]+")
_UNDECOMPOSED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "ı": "i", "þ": "th", "ħ": "h"})
"""Letters NFKD does not reduce to a base letter (ß becomes ss by case folding)."""


def fold(text: str) -> str:
    """Lower case without marks: Łódź is lodz, Straße strasse, Ödön odon."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_UNDECOMPOSED))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def folded_words(text: str) -> list[str]:
    """The words of `text` as the wall's search compares them."""
    words = []
    for written in WORD.findall(APOSTROPHES.sub("", text.lower())):
        folded = "".join(WORD.findall(fold(written)))
        if folded:
            words.append(folded)
    return words


def first_name_key(given_names: str) -> str:
    """The first given name, folded: what a participant's first name is matched against.

    "Marie-Anne" is matched by "Marie", "Łaja" by "laja"; empty when there is no name.
    """
    words = folded_words(given_names)
    return words[0] if words else ""
