"""What audio mode says on the portrait wall's screens, without Kivy.

Each wall screen describes itself as a `kiosk.accessibility.ScreenWords`: on arrival,
what the screen is and what can be done on it; then every control a visitor can press,
in reading order, by the `test_name` of its widget (a face of the grid, which the grid
draws itself, by the name of its layout item: `face-<person_id>`). The words come from
the catalogues (media/i18n, the `wall.say.*` keys), like the visible text; a person is
spoken as their name and year of birth (what tells two persons of the same name apart),
in the grammar that follows them (née, né).

The person page reads out the person as the page shows them (exhibits.wall.page): name,
birth, age, transport, departure, fate; then whether a voice from the booth can be heard.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from exhibits.wall.browse import DECADES, LETTERS, Filter, PersonFacts
from exhibits.wall.flow import Result
from exhibits.wall.page import page_text
from kiosk import i18n
from kiosk.accessibility import Control, ScreenWords
from kiosk.i18n import gendered

HEARING_LOADING = "loading"  # exhibits.wall.voices.Hearing.LOADING.value (voices needs sound libraries)
HEARING_UNAVAILABLE = "unavailable"


def _t(lang: str, key: str, **values: object) -> str:
    return i18n.text(lang, key, **values)


def button(lang: str, label: str, chosen: bool = False) -> str:
    """A button's spoken name: its label and its role ("Back, button"; the shell's words,
    kiosk/shell/guide.py), and whether it is the one chosen now (a letter, a decade)."""
    return _t(lang, "spoken.chosen" if chosen else "spoken.button", name=label.strip())


def sentences(*parts: str) -> str:
    """Lines of a screen as one text to speak: each ends with a full stop, so the voice pauses."""
    said = []
    for part in parts:
        part = part.strip()
        if part:
            said.append(part if part[-1] in ".!?…:" else part + ".")
    return " ".join(said)


def person_name(lang: str, name: str, birth_date: str | None, sex: str) -> str:
    """A person in a list or the grid: the name, and the year of birth when known."""
    year = (birth_date or "")[:4]
    if not year:
        return name
    return gendered(lang, "wall.say.person_born", sex, name=name, year=year)


# -- the grid --------------------------------------------------------------------------


def people(lang: str, count: int) -> str:
    """"25.843 mensen", and "1 persoon" (not "1 mensen")."""
    return _t(lang, "wall.say.one_person") if count == 1 else _t(lang, "wall.count", count=i18n.number(lang, count))


def grid_status(lang: str, count: int, chosen_filter: Filter, separator: str = " · ") -> str:
    """How many people the grid shows and what narrows it: "25.843 mensen · familienaam met G"."""
    parts = [people(lang, count)]
    if chosen_filter.transport:
        parts.append(_t(lang, "wall.filter_transport", code=chosen_filter.transport))
    if chosen_filter.letter:
        parts.append(_t(lang, "wall.filter_letter", letter=chosen_filter.letter))
    if chosen_filter.decade:
        parts.append(_t(lang, "wall.filter_decade", decade=chosen_filter.decade))
    return separator.join(parts)


def grid_words(
    lang: str, *, count: int, chosen_filter: Filter, letters: Iterable[str], faces: Sequence[PersonFacts], more: bool = False
) -> ScreenWords:
    """The grid: search, transports, the letters A-Z (those no family name starts with
    say why), the decades, clear filters when a filter is on, the faces in view, and
    (MORE: the grid goes on below) the next faces, which a keypad cannot swipe to."""
    available = set(letters)
    controls = [
        Control("open-search", button(lang, _t(lang, "wall.search_prompt"))),
        Control("open-transports", button(lang, _t(lang, "wall.transports"))),
    ]
    for letter in LETTERS:
        name = button(lang, _t(lang, "wall.say.letter", letter=letter), chosen_filter.letter == letter)
        if letter in available:
            controls.append(Control(f"letter-{letter}", name))
        else:
            controls.append(Control(f"letter-{letter}", name, enabled=False, why_not=_t(lang, "why.letter", letter=letter)))
    for decade in DECADES:
        controls.append(Control(f"decade-{decade}", button(lang, _t(lang, "wall.say.decade", decade=decade), chosen_filter.decade == decade)))
    if chosen_filter.active:
        controls.append(Control("clear-filters", button(lang, _t(lang, "wall.clear"))))
    for person in faces:
        controls.append(Control(f"face-{person.person_id}", button(lang, person_name(lang, person.display_name, person.birth_date, person.sex))))
    if more:
        controls.append(Control("scroll-cue", button(lang, _t(lang, "wall.say.more"))))
    spoken = sentences(_t(lang, "station.title.wall"), _t(lang, "wall.say.grid", status=grid_status(lang, count, chosen_filter, ", ")))
    return ScreenWords("grid", spoken, tuple(controls))


def faces_shown(lang: str, first: int, last: int, count: int) -> str:
    """After "more faces": which faces are in view now ("Faces 15 to 28 of 25,843")."""
    return sentences(_t(lang, "wall.say.faces_shown", first=i18n.number(lang, first), last=i18n.number(lang, last), count=i18n.number(lang, count)))


def portraits_words(lang: str) -> str:
    """The grid as one surface (a swipe scrolls it, a touch on a face opens the person)."""
    return _t(lang, "wall.say.portraits")


# -- search ----------------------------------------------------------------------------

def result_words(lang: str, result: Result) -> Control:
    return Control(f"result-{result.person_id}", button(lang, person_name(lang, result.name, result.born, result.sex)))


def search_status(lang: str, query: str, found: int) -> str:
    """What was typed and how many were found ("" before anything is typed)."""
    if not query.strip():
        return ""
    return sentences(
        _t(lang, "wall.say.typed", query=query.strip()),
        _t(lang, "wall.say.found", count=i18n.number(lang, found)) if found else _t(lang, "search.no_results"),
    )


def search_words(lang: str, *, query: str, results: Sequence[Control], keys: Sequence[Control]) -> ScreenWords:
    """Search: what was typed and how many were found, then back, the results, the keyboard
    (KEYS: the on-screen keyboard's own controls, kiosk.shell.keyboard)."""
    said = [_t(lang, "wall.say.search"), search_status(lang, query, len(results))]
    controls = [Control("back", button(lang, _t(lang, "shell.back"))), *results, *keys]
    return ScreenWords("search", sentences(*said), tuple(controls))


def after_change(lang: str, screen: str, before: tuple[str, Filter, int], after: tuple[str, Filter, int]) -> str:
    """What audio mode says when a press changed the screen's content but not the screen:
    on search, what is typed now and how many were found (a screen reader echoes typing);
    on the grid, what it shows now. BEFORE and AFTER: (query, filter, count)."""
    query, chosen_filter, count = after
    if screen == "search" and query != before[0]:
        return search_status(lang, query, count) or _t(lang, "wall.say.search")
    if screen == "grid" and chosen_filter != before[1]:
        return sentences(grid_status(lang, count, chosen_filter, ", "))
    return ""


# -- a person --------------------------------------------------------------------------


def reading(person: PersonFacts, lang: str) -> str:
    """The person read out as their page shows them: name, birth, age, transport, departure, fate."""
    page = page_text(person, lang)
    parts = [person.display_name, page.born, page.age, page.transport, page.departed, page.fate]
    if not person.has_portrait:
        parts.append(_t(lang, "person.silhouette"))
    if person.fictional:
        parts.append(_t(lang, "fictional.mark"))
    return sentences(*parts)


def person_words(lang: str, person: PersonFacts | None, *, has_voice: bool, hearing: str) -> ScreenWords:
    """The person page: the reading, then the voice (offered when the booth has one), back."""
    if person is None:  # nobody opened (never reached by a visitor): the page is empty
        return ScreenWords("person", _t(lang, "station.title.wall"), (Control("back", button(lang, _t(lang, "shell.back"))),))
    if has_voice:
        voice = _t(lang, "person.voice_unavailable") if hearing == HEARING_UNAVAILABLE else _t(lang, "wall.say.voice_offered")
    else:
        voice = _t(lang, "person.no_voice")
    controls = [Control("back", button(lang, _t(lang, "shell.back")))]
    if has_voice:
        loading = hearing == HEARING_LOADING
        hear = Control("person-hear", button(lang, _t(lang, "wall.say.hear")), enabled=not loading, why_not=_t(lang, "person.voice_loading") if loading else None)
        controls.insert(0, hear)  # the page's main action first
    return ScreenWords("person", sentences(reading(person, lang), voice), tuple(controls))


# -- transports ------------------------------------------------------------------------


def transport_words(lang: str, code: str, departed, persons: int) -> Control:
    when = _t(lang, "wall.say.left", date=i18n.long_date(lang, departed)) if departed else _t(lang, "transports.date_unknown")
    return Control(f"transport-{code}", button(lang, _t(lang, "wall.say.transport", code=code, departed=when, people=people(lang, persons))))


def transports_words(lang: str, transports: Iterable[tuple[str, object, int]]) -> ScreenWords:
    """The list of transports: (code, departed date or None, persons) each."""
    rows = [transport_words(lang, code, departed, persons) for code, departed, persons in transports]
    spoken = sentences(
        _t(lang, "transports.heading", transports=i18n.number(lang, len(rows))),
        _t(lang, "welcome.wall.body"),
        _t(lang, "wall.say.transports"),
    )
    return ScreenWords("transports", spoken, (Control("back", button(lang, _t(lang, "shell.back"))), *rows))


def unavailable_words(lang: str) -> ScreenWords:
    return ScreenWords("unavailable", _t(lang, "collection.missing"))
