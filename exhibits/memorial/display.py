"""The memorial's screen (pygame): the name that sounds, its transport, how many have a voice.

Sober: dark ground, the name large in a serif, the transport and its date beneath it, and
at the foot the count of names with a voice in each of the station's languages at once
(visitors of the memorial do not touch the screen, so no language is chosen). Nothing
moves but the name, when the next one sounds. A fictional (demo) collection says so at the
top, in every language.

Headless (`kiosk screenshot`, tests) it draws on SDL's "dummy" video driver.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from babel.dates import format_date

from kiosk import i18n
from kiosk.paths import FONTS

BACKGROUND = (14, 14, 16)
NAME_COLOUR = (236, 233, 226)
DETAIL_COLOUR = (160, 156, 148)
FOOT_COLOUR = (140, 136, 129)  # 5.4:1 on the ground (was 4.3:1: below WCAG for its size)
MARK_COLOUR = (176, 164, 132)

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame must not print on stdout: the log is there

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def _font_file(preferred: str, fallback: str) -> Path:
    path = FONTS / preferred
    return path if path.is_file() else _DEJAVU / fallback


SERIF = _font_file("NotoSerif-Regular.ttf", "DejaVuSerif.ttf")
SANS = _font_file("NotoSans-Regular.ttf", "DejaVuSans.ttf")


@dataclass(frozen=True)
class MemorialView:
    """What the screen shows; built by the app from the player and the library."""

    languages: tuple[str, ...]
    names_with_voice: int
    persons: int
    name: str | None = None
    transport: str | None = None
    departed: date | None = None
    open: bool = True
    fictional: bool = False


def prepare_headless() -> None:
    """Let pygame draw without a screen (before pygame.display is initialised)."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")  # pygame must never take the sound card


@dataclass(frozen=True)
class Drawn:
    """One text as drawn, for the layout audit (`kiosk screenshot --layout`)."""

    text: str
    box: tuple[int, int, int, int]  # x, y, w, h; origin top left
    needs: tuple[int, int]
    colour: tuple[int, int, int]
    px: int


class MemorialScreen:
    def __init__(self, size: tuple[int, int]):
        import pygame

        pygame.font.init()
        self.size = size
        self.drawn: list[Drawn] = []  # what the last draw() showed
        self._px: dict[int, int] = {}  # font (by id) -> its size in pixels
        width, height = size
        self._name_px = max(24, int(height * 0.085))
        self._fonts: dict[tuple[Path, int], pygame.font.Font] = {}
        self._detail = self._font(SANS, max(14, int(height * 0.034)))
        self._foot = self._font(SANS, max(12, int(height * 0.024)))
        self._mark = self._font(SANS, max(11, int(height * 0.02)))
        self._max_width = int(width * 0.88)

    def _font(self, path: Path, px: int):
        import pygame

        key = (path, px)
        if key not in self._fonts:
            self._fonts[key] = pygame.font.Font(str(path), px)
            self._px[id(self._fonts[key])] = px
        return self._fonts[key]

    def _name_font(self, name: str):
        """The largest size, down to half, at which the name fits the width."""
        px = self._name_px
        while True:
            font = self._font(SERIF, px)
            if font.size(name)[0] <= self._max_width or px <= self._name_px // 2:
                return font
            px = int(px * 0.9)

    def draw(self, surface, view: MemorialView) -> None:
        width, height = self.size
        self.drawn = []
        surface.fill(BACKGROUND)
        if view.fictional:
            y = int(height * 0.03)
            for language in view.languages:
                y = self._centred(surface, self._mark, i18n.text(language, "fictional.mark"), MARK_COLOUR, y) + 4
        first = view.languages[0]
        if view.name and view.open:
            font = self._name_font(view.name)
            bottom = self._centred(surface, font, view.name, NAME_COLOUR, int(height * 0.40) - font.get_height() // 2)
            detail = f"{i18n.text(first, 'transports.code')} {view.transport}" if view.transport else ""
            if view.departed is not None:
                detail += f"  \u00b7  {format_date(view.departed, format='long', locale=i18n.LOCALES[first])}"
            if detail:
                self._centred(surface, self._detail, detail, DETAIL_COLOUR, bottom + int(height * 0.03))
        elif not view.open:
            y = int(height * 0.40) - len(view.languages) * self._detail.get_height() // 2
            for language in view.languages:
                y = self._centred(surface, self._detail, i18n.text(language, "memorial.closed"), DETAIL_COLOUR, y) + 6
        line = self._foot.get_linesize() + 6
        y = height - int(height * 0.06) - line * len(view.languages)
        for language in view.languages:
            self._centred(surface, self._foot, foot_line(language, view), FOOT_COLOUR, y)
            y += line

    def _centred(self, surface, font, text: str, colour: tuple[int, int, int], top: int) -> int:
        """Draw `text` centred at `top`; return the y under it."""
        rendered = font.render(text, True, colour)
        left = (self.size[0] - rendered.get_width()) // 2
        surface.blit(rendered, (left, top))
        self.drawn.append(Drawn(text, (left, top, rendered.get_width(), rendered.get_height()), font.size(text), colour, self._px[id(font)]))
        return top + rendered.get_height()


def foot_line(language: str, view: MemorialView) -> str:
    """How many names have an approved voice; until there is one, that it waits for them."""
    if view.names_with_voice <= 0 or view.persons <= 0:
        return i18n.text(language, "memorial.waiting")
    return i18n.text(
        language,
        "memorial.voices",
        count=i18n.number(language, view.names_with_voice),
        total=i18n.number(language, view.persons),
    )


def render_png(view: MemorialView, size: tuple[int, int], out: Path, layout_of: str | None = None) -> Path:
    """Draw `view` headless and save it as PNG; with LAYOUT_OF (the screen's name) also
    its layout JSON beside it (CONTRACT.md, "Layout JSON")."""
    prepare_headless()
    import pygame

    pygame.display.init()
    try:
        surface = pygame.Surface(size)
        screen = MemorialScreen(size)
        screen.draw(surface, view)
        out.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(surface, str(out))
        if layout_of is not None:
            memorial_layout(screen, surface, layout_of, view.languages[0]).write(out.with_suffix(".json"))
    finally:
        pygame.display.quit()
    return out


def memorial_layout(screen: MemorialScreen, surface, name: str, language: str):
    """The texts SCREEN drew on SURFACE, each with the colour really behind it."""
    from kiosk.audit import Item, Layout, hex_colour

    items = []
    for drawn in screen.drawn:
        x, y, _w, _h = drawn.box
        # Sampled just outside the text's corner: the ground it is drawn on.
        at = (min(max(0, x - 2), screen.size[0] - 1), min(max(0, y), screen.size[1] - 1))
        behind = tuple(surface.get_at(at))[:3]
        items.append(
            Item(
                name=None,
                kind="text",
                box=tuple(float(v) for v in drawn.box),
                text=drawn.text,
                text_needs=tuple(float(v) for v in drawn.needs),
                color=hex_colour(drawn.colour),
                background=hex_colour(behind),
                text_px=float(drawn.px),
            )
        )
    return Layout(station="memorial", screen=name, lang=language, size=screen.size, items=items)
