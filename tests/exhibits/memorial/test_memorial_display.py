"""The memorial's screen counts only approved voices, and waits soberly for the first."""

from __future__ import annotations

from exhibits.memorial.app import approved_names
from exhibits.memorial.display import MemorialScreen, MemorialView, foot_line, memorial_layout
from exhibits.memorial.library import Snapshot
from exhibits.memorial.playlist import Entry
from kiosk.audit import audit


def entry(person_id: str, sha: str) -> Entry:
    return Entry(person_id, sha * 64, 100, "Kac", "Ester", "I", 1, 1)


def test_only_the_approved_voices_on_the_store_s_list_are_counted():
    # The store's own figure (5) also counts recordings nobody has listened to yet.
    snapshot = Snapshot(persons=40, names_with_voice=5, entries=(entry("p1", "a"), entry("p2", "b")), fetched_at="2026-12-04T20:00:00Z")
    assert approved_names(snapshot) == 2
    assert approved_names(None) == 0


def test_without_names_or_a_store_it_waits_for_names_instead_of_0_of_0():
    for persons, voiced in ((0, 0), (40, 0)):
        view = MemorialView(languages=("fr", "nl", "en"), names_with_voice=voiced, persons=persons)
        assert foot_line("fr", view) == "Le mémorial attend les premiers noms."
        assert "0" not in foot_line("nl", view) and "0" not in foot_line("en", view)
    counted = MemorialView(languages=("en",), names_with_voice=2, persons=40)
    assert foot_line("en", counted) == "2 of the 40 names have a voice"


def test_the_drawn_screen_passes_the_layout_audit(monkeypatch):
    # Headless pygame for this test only: SDL's dummy video driver left in this process's
    # environment would reach every Kivy window the later tests start as children.
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    import pygame

    pygame.display.init()
    try:
        surface = pygame.Surface((1280, 720))
        screen = MemorialScreen((1280, 720))
        view = MemorialView(languages=("fr", "nl", "en"), names_with_voice=0, persons=0, name="Chaja Sura Rywka Ruchla Mindla Szpigielman-Goldsztejnowicz", transport="I", fictional=True)
        screen.draw(surface, view)
        layout = memorial_layout(screen, surface, "memorial", "fr")
    finally:
        pygame.display.quit()
    assert any(item.text == "Le mémorial attend les premiers noms." for item in layout.items)
    assert audit(layout) == []
