"""The station's colours and text size, for the visit's settings (issue 17), without Kivy.

kv rules read `app.palette.<name>` (RGBA tuples) and the app swaps the whole palette when
a visitor switches high contrast, so every rule bound to it is drawn again. Large text
grows every font given in `sp` through Kivy's `Metrics.fontscale` (the app sets it to
LARGE_TEXT_SCALE); sizes in `dp` (boxes, the top bar) stay, and a box that holds text
grows with `app.text_scale` where the text would otherwise not fit.
"""

from __future__ import annotations

from dataclasses import dataclass

LARGE_TEXT_SCALE = 1.3  # 20 sp body text becomes 26 sp: WCAG's "large" begins at 24 px

RGBA = tuple[float, float, float, float]


@dataclass(frozen=True)
class Palette:
    background: RGBA
    panel: RGBA  # a button's face
    text: RGBA
    muted: RGBA  # secondary text: still at least 4.5:1 on background and panel
    line: RGBA  # a button's edge
    chosen: RGBA  # a primary or chosen button's face
    chosen_text: RGBA
    pressed: RGBA
    disabled_text: RGBA  # at least 3:1 on panel
    fiction: RGBA  # the fictional-data band
    veil: RGBA  # over the screen while "Are you still there?" shows
    focus: RGBA  # the focus ring, drawn on a focus_edge outline: seen on any colour
    focus_edge: RGBA


def _rgb(hex_colour: str, alpha: float = 1.0) -> RGBA:
    value = hex_colour.lstrip("#")
    return (int(value[0:2], 16) / 255, int(value[2:4], 16) / 255, int(value[4:6], 16) / 255, alpha)


NORMAL = Palette(
    background=(0.086, 0.086, 0.086, 1),
    panel=(0.14, 0.14, 0.14, 1),
    text=(0.95, 0.94, 0.91, 1),
    muted=(0.72, 0.71, 0.68, 1),
    line=(0.38, 0.38, 0.37, 1),
    chosen=(0.93, 0.91, 0.87, 1),
    chosen_text=(0.086, 0.086, 0.086, 1),
    pressed=(0.24, 0.24, 0.24, 1),
    disabled_text=(0.62, 0.61, 0.58, 1),
    fiction=(0.40, 0.31, 0.11, 1),
    veil=(0, 0, 0, 0.82),
    focus=_rgb("#ffd400"),
    focus_edge=(0, 0, 0, 1),
)

# Black and white, chosen buttons in yellow: the combination low-vision visitors most
# often ask for. Muted text is no longer muted: every text is white on black.
HIGH_CONTRAST = Palette(
    background=(0, 0, 0, 1),
    panel=(0, 0, 0, 1),
    text=(1, 1, 1, 1),
    muted=(1, 1, 1, 1),
    line=(1, 1, 1, 1),
    chosen=_rgb("#ffd400"),
    chosen_text=(0, 0, 0, 1),
    pressed=(0.2, 0.2, 0.2, 1),
    disabled_text=(0.7, 0.7, 0.7, 1),
    fiction=(0.40, 0.31, 0.11, 1),
    veil=(0, 0, 0, 0.9),
    focus=_rgb("#ffd400"),
    focus_edge=(0, 0, 0, 1),
)


def palette_for(high_contrast: bool) -> Palette:
    return HIGH_CONTRAST if high_contrast else NORMAL
