"""The layout taken from a real window sees what is wrong: a cut text, a faint one, a
finger-sized target that is too small, a widget off the screen, and a colour behind each
read from the frame itself."""

from __future__ import annotations

import pytest

from kiosk.audit import audit, contrast

pytestmark = pytest.mark.gui


def test_the_layout_of_a_real_window_shows_what_breaks_the_rules(station, tmp_path):
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.label import Label

    from kivy.core.window import Window

    from kiosk.shell.layout import take_layout
    from kiosk.shell.widgets import Named

    class Probe(Named, Label):
        pass

    class Tiny(Named, ButtonBehavior, Label):
        pass

    driver, app, _clock = station("wall")
    fixed = dict(size_hint=(None, None), font_name="Sans", font_size=30)
    probes = [
        Probe(test_name="cut", text="Szpigielman-Goldsztejnowicz", size=(150, 50), pos=(100, 300), text_size=(150, 50), shorten=True, **fixed),
        Probe(test_name="faint", text="faint words", color=(0.25, 0.25, 0.25, 1), size=(300, 50), pos=(100, 400), **fixed),
        Probe(test_name="whole", text="Ruth", size=(300, 50), pos=(500, 400), **fixed),
        Tiny(test_name="tiny", text="x", size=(30, 30), pos=(100, 200), **fixed),
        Probe(test_name="edge", text="edge", size=(100, 50), pos=(Window.width - 40, 400), **fixed),
    ]
    for probe in probes:
        app.root_widget.add_widget(probe)
    driver.settle(0.3)
    layout = take_layout(app, "wall", "attract", "nl", driver.screenshot(tmp_path / "probe.png"))

    items = {item.name: item for item in layout.items if item.name}
    found = {(finding.rule, finding.widget) for finding in audit(layout)}
    assert ("fit", "cut") in found and items["cut"].text_needs[0] > 300, "measured without shortening"
    assert ("contrast", "faint") in found
    assert ("target", "tiny") in found and items["tiny"].touch
    assert ("offscreen", "edge") in found
    assert not {rule for rule, widget in found if widget == "whole"} - {"collide"}, "(it lies over the attract texts)"
    assert items["whole"].background == "#161616", "the station's ground, read from the frame"
    assert contrast(items["whole"].color, items["whole"].background) > 15
    assert layout.size == (Window.width, Window.height)
    assert round(items["whole"].box[1]) == Window.height - 400 - 50, "origin top left"
