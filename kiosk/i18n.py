"""Every text a visitor reads comes from the catalogues in media/i18n, one per language.

The catalogues are gettext .po files, the format translators and their tools (Poedit,
Weblate) already know. Message ids are stable keys (`attract.touch`), so a change of
English wording does not orphan the Dutch and French texts. A key missing from a
catalogue is an error at start-up, never an English fallback on a French screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from typing import TYPE_CHECKING

from babel.messages.pofile import read_po

from kiosk.errors import KioskError
from kiosk.paths import CATALOGUES

if TYPE_CHECKING:
    from babel import Locale

LANGUAGES = ("nl", "fr", "en")
# The name of each language in that language: how a visitor recognises their own.
LANGUAGE_NAMES = {"nl": "Nederlands", "fr": "Français", "en": "English"}
# Babel locales for numbers and dates: Belgian Dutch and French, British English.
LOCALES = {"nl": "nl_BE", "fr": "fr_BE", "en": "en_GB"}

# Whole numbers and dates as babel writes them in these locales (CLDR; compared with
# babel in tests/kiosk/test_i18n.py), written here: babel's locale data for the three
# languages holds 7 MB of a station's memory all day, for a count and a few dates.
_GROUPING = {"nl": ".", "fr": "\u202f", "en": ","}
_MONTHS = {
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"),
}


@dataclass(frozen=True)
class Catalogue:
    language: str
    texts: dict[str, str]

    def text(self, key: str, **values: object) -> str:
        try:
            template = self.texts[key]
        except KeyError:
            raise KioskError(
                f"no text '{key}' in the {self.language} catalogue",
                f"add it to media/i18n/{self.language}.po",
            ) from None
        return template.format(**values) if values else template


def _read_catalogue(path: Path, language: str) -> Catalogue:
    try:
        with path.open("rb") as handle:
            po = read_po(handle, locale=language, abort_invalid=True)
    except FileNotFoundError:
        raise KioskError(f"{path}: catalogue missing", "restore media/i18n from the release") from None
    except Exception as error:  # babel raises its own PoFileError and plain ValueErrors
        raise KioskError(f"{path}: cannot be read: {error}", "fix the .po file (msgfmt --check shows the line)") from None
    texts: dict[str, str] = {}
    for message in po:
        if not message.id:
            continue  # the header
        if message.fuzzy or not message.string:
            raise KioskError(
                f"{path}: '{message.id}' has no finished translation",
                "translate it and remove the fuzzy flag",
            )
        texts[str(message.id)] = str(message.string)
    return Catalogue(language, texts)


@lru_cache(maxsize=None)
def catalogue(language: str, folder: Path = CATALOGUES) -> Catalogue:
    if language not in LANGUAGES:
        raise KioskError(f"language '{language}' is not offered", f"use one of {', '.join(LANGUAGES)}")
    return _read_catalogue(folder / f"{language}.po", language)


def text(language: str, key: str, **values: object) -> str:
    return catalogue(language).text(key, **values)


def sex_form(sex: str) -> str:
    """The catalogue's form for a person: f, m, or x (the lists do not say)."""
    return sex if sex in ("f", "m") else "x"


def gendered(language: str, key: str, sex: str, **values: object) -> str:
    """The text KEY in the form that agrees with the person (née, partie; neutral for x)."""
    return text(language, f"{key}.{sex_form(sex)}", **values)


def number(language: str, value: int | float) -> str:
    """A count as that language writes it: 25.843 in Dutch, 25 843 in French, 25,843 in English."""
    if type(value) is int and language in _GROUPING:
        grouped = f"{abs(value):,}".replace(",", _GROUPING[language])
        return f"-{grouped}" if value < 0 else grouped
    from babel.numbers import format_decimal

    return format_decimal(value, locale=LOCALES[language])


def locale(language: str) -> Locale:
    from babel import Locale

    return Locale.parse(LOCALES[language])


def long_date(language: str, value) -> str:
    """A date as that language writes it in full: 4 augustus 1942, 4 août 1942, 4 August 1942."""
    if language not in _MONTHS:
        raise KioskError(f"language '{language}' is not offered", f"use one of {', '.join(LANGUAGES)}")
    day = "1er" if language == "fr" and value.day == 1 else str(value.day)  # French writes the first as an ordinal
    return f"{day} {_MONTHS[language][value.month - 1]} {value.year}"


def partial_date(language: str, text: str) -> str:
    """A date as it stands on a list, complete or not: 12 mei 1923, mei 1923, 1923."""
    from datetime import date

    parts = [int(p) for p in text.split("-")]
    if len(parts) == 3:
        return long_date(language, date(*parts))
    if len(parts) == 2:
        date(parts[0], parts[1], 1)  # a month that does not exist is refused, as babel did
        return f"{month_name(language, parts[1])} {parts[0]}"
    return str(parts[0])


def month_name(language: str, month: int) -> str:
    """The month as a word, for pickers: mei, mai, May."""
    if language not in _MONTHS:
        raise KioskError(f"language '{language}' is not offered", f"use one of {', '.join(LANGUAGES)}")
    if not 1 <= month <= 12:
        raise KeyError(month)
    return _MONTHS[language][month - 1]
