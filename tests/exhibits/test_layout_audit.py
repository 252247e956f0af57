"""The layout audit over every screen of the wall, the booth and the memorial, in Dutch,
French and English, on the hard-case collection (tests/exhibits/hardcases: fictional
persons with the longest names, particles, apostrophes, hyphens, partial dates, unknown
sex, places spelled as the lists spell them).

Each station is rendered by the real command (`kiosk screenshot --screen all --layout`),
in its own process on its own virtual screen, as a technician would run it; the JSON
files it writes are then read back and audited (kiosk.audit). The same files show what
a visitor reads: French grammar that follows the person, places in the visitor's
language, names under the faces, the complete A-Z, decades as decades.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.audit import Layout, audit, report

# Rendering every screen of three stations, plus the wall and the booth as a visitor with
# large text and high contrast sees them, takes minutes on a loaded machine.
pytestmark = [pytest.mark.gui, pytest.mark.slow, pytest.mark.timeout(1500)]

HARDCASES = Path(__file__).with_name("hardcases")
SIZE = (1280, 800)  # the smallest screen the stations are made for: the hardest to fit
LANGUAGES = ("nl", "fr", "en")
# A visitor's settings (issue 17): screen "grid+settings" is the grid with large text and
# high contrast both on (the one checks sizes, the other colours: together they cost one run).
VARIANTS = {"settings": ("--large-text", "--high-contrast")}


def _station(folder: Path, exhibit: str) -> Path:
    from kiosk.config import write_station_config

    return write_station_config(
        folder / exhibit, exhibit=exhibit, station_id=f"{exhibit}-1", fullscreen=False, size=SIZE, audio="simulated", collection=str(HARDCASES)
    )


def _screenshot(station: Path, out: Path, *options: str) -> None:
    environment = dict(os.environ, KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1")
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", "screenshot", str(station), "--layout", "--out", str(out), *options],
        capture_output=True,
        text=True,
        timeout=900,
        env=environment,
    )
    assert result.returncode == 0, f"kiosk screenshot {' '.join(options)} failed:\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr, result.stderr[-3000:]


@pytest.fixture(scope="module")
def layouts(tmp_path_factory) -> dict[tuple[str, str, str], Layout]:
    """(station, screen, lang) -> layout, plus ("wall", "person:ID", lang) for more persons."""
    root = tmp_path_factory.mktemp("audit")
    wall, booth, memorial = (_station(root, exhibit) for exhibit in ("wall", "booth", "memorial"))
    _screenshot(wall, root / "wall-shots", "--screen", "all", "--person", "hard-01")
    for person, language in (("hard-05", "fr"), ("hard-07", "fr"), ("hard-13", "fr"), ("hard-12", "nl"), ("hard-08", "en")):
        _screenshot(wall, root / "persons" / f"{person}-{language}.png", "--screen", "person", "--person", person, "--lang", language)
    _screenshot(booth, root / "booth-shots", "--screen", "all")
    for language in LANGUAGES:
        _screenshot(memorial, root / "memorial-shots", "--screen", "all", "--lang", language)
    # As a visitor who switched large text or high contrast on sees them (issue 17).
    for station, name in ((wall, "wall"), (booth, "booth")):
        for variant, options in VARIANTS.items():
            _screenshot(station, root / f"{name}-{variant}", "--screen", "all", *options, *(("--person", "hard-01") if name == "wall" else ()))
    found = {}
    for path in sorted(root.glob("*/*.json")):
        layout = Layout.read(path)
        screen = f"person:{path.stem.rsplit('-', 1)[0]}" if path.parent.name == "persons" else layout.screen
        variant = path.parent.name.rsplit("-", 1)[-1]
        if variant in VARIANTS:
            screen = f"{screen}+{variant}"
        found[(layout.station, screen, layout.lang)] = layout
    return found


def _findings(layouts, station: str) -> str:
    reports = [report(layout, findings) for (name, _screen, _lang), layout in sorted(layouts.items()) if name == station and (findings := audit(layout))]
    return "\n".join(reports)


def _texts(layout: Layout) -> list[str]:
    return [item.text for item in layout.items if item.text]


def test_every_screen_of_every_station_was_audited_in_three_languages(layouts):
    for station, screens in (
        ("wall", {"attract", "grid", "search", "person", "transports", "idle"}),
        ("booth", {"attract", "welcome", "consent", "age", "name", "review", "thanks", "idle"}),
        ("memorial", {"memorial", "closed"}),
    ):
        for language in LANGUAGES:
            shown = {screen for (name, screen, lang) in layouts if name == station and lang == language}
            assert screens <= shown, f"{station} in {language}: no layout of {sorted(screens - shown)}"
    for layout in layouts.values():
        assert layout.size == SIZE and layout.items, f"{layout.station} {layout.screen}: an empty layout"


def test_the_shell_s_own_screens_pass_with_every_setting_and_speak(layouts):
    """The attract screen and the idle warning are the shell's (the exhibits' screens are
    in the next test): with large text and high contrast and without, in three languages."""
    shell = {key: layout for key, layout in layouts.items() if key[1].split("+")[0] in ("attract", "idle") and key[0] != "memorial"}
    assert len(shell) == 2 * 2 * 3 * (1 + len(VARIANTS)), sorted(shell)  # the attract screen has no visit: shown as it is
    findings = "\n".join(report(layout, found) for layout in shell.values() if (found := audit(layout)))
    assert not findings, f"the layout audit found:\n{findings}"
    for layout in shell.values():
        assert layout.spoken and all(item.spoken for item in layout.items if item.touch), f"{layout.screen} {layout.lang}"


@pytest.mark.parametrize("station", ["wall", "booth", "memorial"])
def test_no_screen_breaks_the_layout_rules(layouts, station):
    findings = _findings(layouts, station)
    assert not findings, f"the layout audit found:\n{findings}"


def test_a_woman_born_in_brussels_reads_in_her_grammar_and_in_the_visitor_s_place_names(layouts):
    french, dutch, english = (_texts(layouts["wall", "person", lang]) for lang in LANGUAGES[1:2] + LANGUAGES[:1] + LANGUAGES[2:])
    assert "Née : 12 mai 1923 à Bruxelles" in french
    assert "Partie le 4 août 1942 pour Auschwitz-Birkenau" in french and "Assassinée" in french
    assert "Geboren: 12 mei 1923 in Brussel" in dutch
    assert "Born: 12 May 1923 in Brussels" in english


def test_a_man_and_a_person_whose_sex_is_not_given_read_right_in_french(layouts):
    man = _texts(layouts["wall", "person:hard-07", "fr"])
    assert "Né : août 1911 à La Haye" in man and any(text.startswith("Parti le ") for text in man) and "Assassiné" in man
    unknown = _texts(layouts["wall", "person:hard-05", "fr"])
    assert "Naissance : 1er novembre 1899 à Vienne" in unknown
    assert any(text.startswith("Départ le ") for text in unknown) and "Sort inconnu" in unknown
    little_known = _texts(layouts["wall", "person:hard-13", "fr"])  # a year, no place, no sex
    assert "Naissance : 1936" in little_known and "Sort inconnu" in little_known
    assert not any(text.startswith(("Né ", "Née ")) for text in little_known)


def test_the_grid_names_every_face_and_shows_the_whole_alphabet_and_decades(layouts):
    for language, decade in (("nl", "jaren 1920"), ("fr", "années 1920"), ("en", "1920s")):
        grid = layouts["wall", "grid", language]
        by_name = {item.name: item for item in grid.items if item.name}
        faces = [name for name in by_name if name.startswith("face-")]
        assert faces and all(f"name-{name[5:]}" in by_name for name in faces), "a name under every face"
        assert by_name["name-hard-01"].text == "Chaja Sura Rywka Ruchla Mindla Szpigielman-Goldsztejnowicz"
        letters = {name[7:]: item for name, item in by_name.items() if name.startswith("letter-")}
        assert sorted(letters) == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
        assert not letters["Q"].enabled and letters["S"].enabled, "no family name starts with Q: shown, disabled"
        assert by_name["decade-1920"].text == decade
        assert by_name["scroll-cue"].text, "a cue that the grid goes on"
    transports = _texts(layouts["wall", "transports", "fr"])
    assert {"Transport", "Départ", "Personnes"} <= set(transports), "column headers"


def test_the_memorial_without_a_store_waits_for_names(layouts):
    for language, line in (("nl", "Het memoriaal wacht"), ("fr", "Le mémorial attend"), ("en", "The memorial is waiting")):
        texts = _texts(layouts["memorial", "memorial", language])
        assert any(text.startswith(line) for text in texts)
        assert not any(" 0 " in f" {text} " for text in texts), "no '0 of 0'"
