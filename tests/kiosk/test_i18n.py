"""Every text in every language: the catalogues are complete and every key used exists."""

import re
from datetime import date
from pathlib import Path

import pytest

from kiosk import i18n
from kiosk.errors import KioskError
from kiosk.paths import ROOT

# t("key") in Python, app.t(app.lang, "key") in kv rules.
KEY_IN_CODE = re.compile(r"""\bt\(\s*(?:[\w.]+\s*,\s*)?["']([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)["'](?!\s*\+)""")
# Keys put together in code per exhibit, e.g. "station.title." + app.exhibit
KEY_PREFIX_IN_CODE = re.compile(r"""\bt\(\s*[\w.]+\s*,\s*["']([a-z][a-z0-9_.]*\.)["']\s*\+\s*app\.exhibit""")
SOURCES = [p for folder in ("kiosk", "exhibits") for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".kv")]


def _keys(language: str) -> set[str]:
    return set(i18n.catalogue(language).texts)


def test_the_three_catalogues_hold_the_same_keys():
    assert _keys("nl") == _keys("fr") == _keys("en")


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_key_used_in_code_is_translated(language):
    used = {key for path in SOURCES for key in KEY_IN_CODE.findall(path.read_text(encoding="utf-8"))}
    assert used, "the pattern must find the keys the screens use"
    missing = used - _keys(language)
    assert not missing, f"missing from {language}.po: {sorted(missing)}"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_composed_keys_exist_for_every_exhibit(language):
    prefixes = {p for path in SOURCES for p in KEY_PREFIX_IN_CODE.findall(path.read_text(encoding="utf-8"))}
    assert "station.title." in prefixes
    for prefix in prefixes:
        for exhibit in ("booth", "wall", "memorial"):
            assert prefix + exhibit in _keys(language), f"{prefix}{exhibit} missing from {language}.po"


def test_placeholders_match_across_languages():
    field = re.compile(r"\{(\w+)\}")
    for key in _keys("en"):
        fields = {lang: set(field.findall(i18n.catalogue(lang).texts[key])) for lang in i18n.LANGUAGES}
        assert fields["nl"] == fields["fr"] == fields["en"], f"{key}: {fields}"


def test_no_text_is_left_in_english_in_the_other_catalogues():
    same = [k for k in _keys("en") if i18n.text("en", k) == i18n.text("nl", k) == i18n.text("fr", k)]
    # Names and the word "transport" are the same in the three languages (so is audio mode's
    # "Transport {code}, {departed}, {people}"), and so are the
    # top bar's "Audio" and "A+" (one sign for every visitor); nothing else.
    assert set(same) <= {"station.museum", "transports.code", "wall.filter_transport", "wall.say.transport", "shell.audio", "shell.large_text"}, same


def test_numbers_and_dates_are_written_as_each_language_does():
    assert i18n.number("nl", 25843) == "25.843"
    assert i18n.number("en", 25843) == "25,843"
    assert i18n.number("fr", 25843).replace("\u202f", " ").replace("\xa0", " ") == "25 843"
    assert i18n.long_date("nl", date(1942, 8, 4)) == "4 augustus 1942"
    assert i18n.long_date("fr", date(1942, 8, 4)) == "4 août 1942"
    assert i18n.long_date("en", date(1942, 8, 4)) == "4 August 1942"
    assert i18n.long_date("fr", date(1942, 9, 1)) == "1er septembre 1942"
    assert i18n.long_date("nl", date(1942, 9, 1)) == "1 september 1942"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_counts_dates_and_months_are_written_as_babel_writes_them(language):
    """The station writes them itself (babel's locale data is 7 MB of a wall's memory); babel,
    which the staff pages still use, is the reference."""
    from babel.dates import format_date, get_month_names
    from babel.numbers import format_decimal

    locale = i18n.LOCALES[language]
    for value in (0, 7, 999, 1000, 1942, 25843, 123456, 1234567, -1, -25843):
        assert i18n.number(language, value) == format_decimal(value, locale=locale), value
    assert i18n.number(language, 2.5) == format_decimal(2.5, locale=locale)  # not a count: babel's own
    for month in range(1, 13):
        assert i18n.month_name(language, month) == get_month_names("wide", context="stand-alone", locale=locale)[month]
        assert i18n.partial_date(language, f"1923-{month:02d}") == format_date(date(1923, month, 1), format="LLLL y", locale=locale)
        for day in (1, 4, 28):
            expected = format_date(date(1942, month, day), format="long", locale=locale)
            if language == "fr" and day == 1:
                expected = "1er" + expected[1:]
            assert i18n.long_date(language, date(1942, month, day)) == expected
    assert i18n.partial_date(language, "1923") == "1923"


def test_a_missing_key_is_an_error_not_a_fallback():
    with pytest.raises(KioskError, match="no text 'nope.nothing' in the fr catalogue"):
        i18n.text("fr", "nope.nothing")


def test_an_unfinished_translation_is_refused(tmp_path: Path):
    for language in i18n.LANGUAGES:
        (tmp_path / f"{language}.po").write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\nmsgid "a.b"\nmsgstr ""\n', encoding="utf-8")
    with pytest.raises(KioskError, match="'a.b' has no finished translation"):
        i18n.catalogue("nl", tmp_path)


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_the_booth_has_a_text_for_every_advice_notice_and_check_result(language):
    from exhibits.booth.quality import SEVERITY

    keys = _keys(language)
    for advice in ("speak", "closer", "further", "good"):
        assert f"advice.{advice}" in keys
    for notice in ("code_unknown", "no_match", "no_names"):
        assert f"notice.{notice}" in keys
    for verdict in ("ok", *SEVERITY):
        assert f"review.{verdict}" in keys
    for fate in ("murdered", "survived", "unknown"):
        assert f"person.fate_{fate}" in keys
