"""The layout audit's rules, on hand-made layouts (no screen needed)."""

from __future__ import annotations

import json

import pytest

from kiosk.audit import Item, Layout, audit, blend, contrast, hex_colour


def layout(*items: Item, size=(1280, 800), spoken="Les visages. Touchez un visage pour lire qui c’était.") -> Layout:
    return Layout(station="wall", screen="grid", lang="fr", size=size, items=list(items), spoken=spoken)


def text(**values) -> Item:
    base = dict(name="t", kind="text", box=(10, 10, 300, 40), text="Née à Bruxelles", text_needs=(200, 30), color="#f2f0e8", background="#161616")
    return Item(**(base | values))


def rules(findings) -> list[str]:
    return [finding.rule for finding in findings]


def test_wcag_contrast_of_known_pairs():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert hex_colour(blend((255, 255, 255), 0.5, (0, 0, 0))) == "#808080"


def test_a_clean_layout_has_no_findings():
    button = Item(name="b", kind="button", box=(400, 10, 200, 72), text="Terug", text_needs=(80, 30), color="#f2f0e8", background="#242424", touch=True, spoken="bouton")
    assert audit(layout(text(), button)) == []


def test_text_needing_more_room_than_its_box():
    findings = audit(layout(text(text_needs=(320, 30)), text(name="tall", text_needs=(200, 60))))
    assert rules(findings) == ["fit", "fit"]
    assert "needs 320x30 px, its box is 300x40" in str(findings[0])


def test_text_contrast_small_and_large():
    grey = dict(color="#777777", background="#222222")  # about 3.6:1
    assert rules(audit(layout(text(**grey, text_px=20)))) == ["contrast"]
    assert audit(layout(text(**grey, text_px=24))) == [], "24 px text needs only 3:1"
    assert rules(audit(layout(text(**grey)))) == ["contrast"], "unknown size: the stricter rule"
    assert rules(audit(layout(text(color="#3a3a3a", background="#222222", text_px=40)))) == ["contrast"]


def test_disabled_controls_need_three_to_one():
    faint = Item(name="letter-Q", kind="button", box=(0, 100, 52, 56), text="Q", text_needs=(14, 25), color="#2a2a2a", background="#242424", enabled=False, touch=True, spoken="bouton")
    seen = Item(name="letter-X", kind="button", box=(60, 100, 52, 56), text="X", text_needs=(14, 25), color="#8a8a8a", background="#242424", enabled=False, touch=True, spoken="bouton")
    findings = audit(layout(faint, seen))
    assert rules(findings) == ["disabled"] and findings[0].widget == "letter-Q"


def test_meter_zones_and_field_borders():
    zone = Item(name="level-meter", kind="meter", box=(0, 300, 600, 40), color="#4d4d47", background="#242424")
    border = Item(name="search-field", kind="field", box=(0, 400, 600, 72), color="#8a8a88", background="#161616")
    findings = audit(layout(zone, border))
    assert rules(findings) == ["graphic"] and "meter zone" in findings[0].detail


def test_touch_targets_size_overlap_and_screen_edges():
    small = Item(name="small", kind="button", box=(0, 0, 40, 72), touch=True, spoken="bouton")
    a = Item(name="a", kind="button", box=(100, 0, 100, 72), touch=True, spoken="bouton")
    b = Item(name="b", kind="button", box=(190, 0, 100, 72), touch=True, spoken="bouton")
    row = Item(name="row", kind="button", box=(0, 200, 600, 72), touch=True, spoken="bouton")
    inside = Item(name="inside", kind="button", box=(500, 210, 80, 52), touch=True, spoken="bouton")
    off = Item(name="off", kind="image", box=(1250, 700, 100, 150))
    findings = audit(layout(small, a, b, row, inside, off))
    assert sorted(rules(findings)) == ["collide", "offscreen", "overlap", "target"]
    assert next(f for f in findings if f.rule == "overlap").widget == "a"


def test_a_screen_or_a_touch_control_without_spoken_words_is_a_finding():
    named = Item(name="search", kind="button", box=(0, 0, 200, 72), text="Zoek", text_needs=(80, 30), touch=True, spoken="Zoeken, knop")
    silent = Item(name="letter-Q", kind="button", box=(300, 0, 72, 72), text="Q", text_needs=(14, 25), enabled=False, touch=True)
    findings = audit(layout(named, silent))
    assert [(f.rule, f.widget) for f in findings] == [("spoken", "letter-Q")], "a disabled control is named too"
    findings = audit(layout(named, spoken=" "))
    assert [(f.rule, f.widget) for f in findings] == [("spoken", "grid")] and "screen_words()" in findings[0].detail
    assert audit(layout(text(), spoken="")) == [], "a screen nobody touches (the memorial) has no audio mode"


def test_json_round_trip_has_the_contract_shape(tmp_path):
    item = text(text_px=20, spoken=None)
    path = layout(item).write(tmp_path / "grid-fr.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"station", "screen", "lang", "size", "spoken", "widgets"}
    assert set(data["widgets"][0]) == {"name", "kind", "box", "text", "text_needs", "color", "background", "enabled", "touch", "spoken"}
    again = Layout.read(path)
    assert again.items[0].text == "Née à Bruxelles" and again.items[0].text_px is None


def test_a_text_running_into_another_widget_collides_a_label_inside_its_button_does_not():
    bar = Item(name="language-fr", kind="button", box=(860, 16, 190, 72), text="Français", text_needs=(100, 30), touch=True, spoken="bouton")
    name = Item(name="person-name", kind="text", box=(516, 60, 716, 207), text="Chaja", text_needs=(300, 60))
    label = Item(name=None, kind="text", box=(870, 30, 170, 40), text="Français", text_needs=(100, 30))
    next_row = Item(name="below", kind="text", box=(516, 266, 716, 40), text="Née", text_needs=(100, 30))
    findings = audit(layout(bar, name, label, next_row))
    assert [(f.rule, f.widget) for f in findings] == [("collide", "language-fr"), ("collide", "person-name")], "the name runs into the button and its label"
