"""The layout audit: what a screen's layout (CONTRACT.md, "Layout JSON") does wrong.

Plain Python, no Kivy: it reads the layout a station wrote (`kiosk screenshot --layout`)
or the one a test just took, and lists every finding in words a designer can act on.

The rules (issue 15):
- text must fit its box: `text_needs` no larger than the box;
- text contrast at least 4.5:1, or 3:1 for text at least 24 px tall (WCAG 1.4.3);
- a disabled control at least 3:1 (beyond WCAG, which exempts them: a disabled control
  must still be seen, and say why it is disabled when touched);
- meter zones and field borders at least 3:1 against what is around them (WCAG 1.4.11);
  for kind "meter" and "field", `color` is the zone's / border's colour and `background`
  the colour it must stand out from;
- touch targets at least 44 x 44 px, no two overlapping, nothing off the screen;
- nothing drawn over anything else in part (a face over a text, a name running into the
  bar above it); one box wholly inside another (a button's label, a name on its row) is
  a widget and its content, not a collision.

The rule of issue 17 (audio mode):
- a screen a visitor can touch says what it is (`spoken`), and every touch control,
  enabled or not, has its spoken name: the words audio mode says, from the same
  catalogues as the visible text, so a missing one fails in every language.

Colours are "#rrggbb"; contrast is WCAG 2's ratio of relative luminances.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEXT_CONTRAST = 4.5
LARGE_TEXT_CONTRAST = 3.0
LARGE_TEXT_PX = 24.0
DISABLED_CONTRAST = 3.0
GRAPHIC_CONTRAST = 3.0  # meter zones, field borders
MIN_TOUCH_PX = 44.0
SLACK_PX = 1.0  # rounding: a box and what it holds are measured in whole pixels

KINDS = ("button", "text", "image", "field", "meter", "other")


@dataclass(frozen=True)
class Item:
    """One visible widget, as in the layout JSON.

    `text_px` (the text's font size in pixels) is not in the JSON: a layout taken in
    the same process knows it; one read back from a file does not, and its text is then
    held to the stricter 4.5:1.
    """

    name: str | None
    kind: str
    box: tuple[float, float, float, float]  # x, y, w, h; origin top left
    text: str | None = None
    text_needs: tuple[float, float] | None = None
    color: str | None = None
    background: str | None = None
    enabled: bool = True
    touch: bool = False
    spoken: str | None = None
    text_px: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "box": [round(v) for v in self.box],
            "text": self.text,
            "text_needs": [round(v) for v in self.text_needs] if self.text_needs is not None else None,
            "color": self.color,
            "background": self.background,
            "enabled": self.enabled,
            "touch": self.touch,
            "spoken": self.spoken,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Item:
        needs = data.get("text_needs")
        return cls(
            name=data.get("name"),
            kind=data["kind"],
            box=tuple(float(v) for v in data["box"]),  # type: ignore[arg-type]
            text=data.get("text"),
            text_needs=tuple(float(v) for v in needs) if needs is not None else None,  # type: ignore[arg-type]
            color=data.get("color"),
            background=data.get("background"),
            enabled=bool(data.get("enabled", True)),
            touch=bool(data.get("touch", False)),
            spoken=data.get("spoken"),
        )

    @property
    def label(self) -> str:
        """How a finding names this widget: its name, else its kind and text."""
        if self.name:
            return self.name
        text = (self.text or "").replace("\n", " ")
        return f"{self.kind} {text[:40]!r}" if text else self.kind


@dataclass
class Layout:
    station: str
    screen: str
    lang: str
    size: tuple[int, int]
    items: list[Item] = field(default_factory=list)
    spoken: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "station": self.station,
            "screen": self.screen,
            "lang": self.lang,
            "size": list(self.size),
            "spoken": self.spoken,
            "widgets": [item.to_json() for item in self.items],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Layout:
        return cls(
            station=data["station"],
            screen=data["screen"],
            lang=data["lang"],
            size=(int(data["size"][0]), int(data["size"][1])),
            items=[Item.from_json(item) for item in data["widgets"]],
            spoken=data.get("spoken") or "",
        )

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path) -> Layout:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Finding:
    rule: str  # fit | contrast | disabled | graphic | target | overlap | offscreen | collide | spoken
    widget: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.widget}: {self.detail}"


# -- colour ------------------------------------------------------------------------------


def parse_colour(value: str) -> tuple[int, int, int]:
    text = value.strip().lstrip("#")
    if len(text) != 6:
        raise ValueError(f"not a #rrggbb colour: {value!r}")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def hex_colour(rgb: tuple[float, float, float]) -> str:
    """"#rrggbb" of RGB in 0..255 (floats are rounded)."""
    return "#" + "".join(f"{max(0, min(255, round(channel))):02x}" for channel in rgb)


def blend(front: tuple[float, float, float], alpha: float, back: tuple[float, float, float]) -> tuple[float, float, float]:
    """FRONT drawn with ALPHA over BACK (all 0..255)."""
    return tuple(f * alpha + b * (1 - alpha) for f, b in zip(front, back))  # type: ignore[return-value]


def luminance(colour: str | tuple[float, float, float]) -> float:
    rgb = parse_colour(colour) if isinstance(colour, str) else colour

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str | tuple[float, float, float], b: str | tuple[float, float, float]) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# -- boxes -------------------------------------------------------------------------------


def overlap_area(a: tuple[float, ...], b: tuple[float, ...], thinner_than: float = 0.0) -> float:
    """The area A and B share; 0 when the shared strip is no thicker than THINNER_THAN
    (two boxes side by side in whole pixels may share a rounded pixel row)."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    width = min(ax + aw, bx + bw) - max(ax, bx)
    height = min(ay + ah, by + bh) - max(ay, by)
    return width * height if width > thinner_than and height > thinner_than else 0.0


def _contains(outer: tuple[float, ...], inner: tuple[float, ...], slack: float = 0.0) -> bool:
    ox, oy, ow, oh = outer
    ix, iy, iw, ih = inner
    return ix >= ox - slack and iy >= oy - slack and ix + iw <= ox + ow + slack and iy + ih <= oy + oh + slack


# -- the rules ---------------------------------------------------------------------------


def audit(layout: Layout) -> list[Finding]:
    """Every finding on LAYOUT, in the order of its widgets; empty when all is well."""
    findings: list[Finding] = _check_spoken(layout)
    width, height = layout.size
    for item in layout.items:
        findings += _check_fit(item)
        findings += _check_colours(item)
        findings += _check_target(item)
        x, y, w, h = item.box
        if x < -SLACK_PX or y < -SLACK_PX or x + w > width + SLACK_PX or y + h > height + SLACK_PX:
            findings.append(Finding("offscreen", item.label, f"box {_box(item.box)} leaves the {width}x{height} screen"))
    drawn = [item for item in layout.items if item.kind != "other"]
    for i, a in enumerate(drawn):
        for b in drawn[i + 1 :]:
            if overlap_area(a.box, b.box, 2 * SLACK_PX) and not (_contains(a.box, b.box, SLACK_PX) or _contains(b.box, a.box, SLACK_PX)):
                findings.append(Finding("collide", a.label, f"{_box(a.box)} runs into {b.label} {_box(b.box)}"))
    touch = [item for item in layout.items if item.touch]
    for i, a in enumerate(touch):
        for b in touch[i + 1 :]:
            # A target inside another (a row's own button) is one control for the finger.
            if overlap_area(a.box, b.box, SLACK_PX) and not (_contains(a.box, b.box) or _contains(b.box, a.box)):
                findings.append(Finding("overlap", a.label, f"touch target {_box(a.box)} overlaps {b.label} {_box(b.box)}"))
    return findings


def _box(box: tuple[float, ...]) -> str:
    return "[" + ", ".join(str(round(v)) for v in box) + "]"


def _check_fit(item: Item) -> list[Finding]:
    if not item.text or item.text_needs is None:
        return []
    need_w, need_h = item.text_needs
    _x, _y, w, h = item.box
    if need_w > w + SLACK_PX or need_h > h + SLACK_PX:
        return [Finding("fit", item.label, f"text {item.text[:60]!r} needs {round(need_w)}x{round(need_h)} px, its box is {round(w)}x{round(h)}")]
    return []


def _check_colours(item: Item) -> list[Finding]:
    if item.color is None or item.background is None:
        return []
    ratio = contrast(item.color, item.background)
    if item.kind in ("meter", "field"):
        what = "meter zone" if item.kind == "meter" else "field border"
        if ratio < GRAPHIC_CONTRAST:
            return [Finding("graphic", item.label, f"{what} {item.color} on {item.background}: {ratio:.2f}:1, needs {GRAPHIC_CONTRAST}:1")]
        return []
    if not item.text:
        return []
    if not item.enabled:
        if ratio < DISABLED_CONTRAST:
            return [Finding("disabled", item.label, f"disabled control {item.color} on {item.background}: {ratio:.2f}:1, needs {DISABLED_CONTRAST}:1")]
        return []
    large = item.text_px is not None and item.text_px >= LARGE_TEXT_PX
    needed = LARGE_TEXT_CONTRAST if large else TEXT_CONTRAST
    if ratio < needed:
        return [Finding("contrast", item.label, f"text {item.color} on {item.background}: {ratio:.2f}:1, needs {needed}:1")]
    return []


def _check_spoken(layout: Layout) -> list[Finding]:
    touch = [item for item in layout.items if item.touch]
    if not touch:
        return []  # nothing to press (the memorial): no audio mode
    findings = []
    if not layout.spoken.strip():
        findings.append(
            Finding("spoken", layout.screen, "the screen says nothing in audio mode: give it screen_words() (kiosk.shell.guide)")
        )
    for item in touch:
        if not (item.spoken or "").strip():
            findings.append(
                Finding("spoken", item.label, "a touch control without a spoken name: add a Control with its test_name to the screen's screen_words()")
            )
    return findings


def _check_target(item: Item) -> list[Finding]:
    if not item.touch:
        return []
    _x, _y, w, h = item.box
    if w + SLACK_PX < MIN_TOUCH_PX or h + SLACK_PX < MIN_TOUCH_PX:
        return [Finding("target", item.label, f"touch target {round(w)}x{round(h)} px, needs {MIN_TOUCH_PX:.0f}x{MIN_TOUCH_PX:.0f}")]
    return []


def report(layout: Layout, findings: list[Finding]) -> str:
    head = f"{layout.station} {layout.screen} ({layout.lang}): {len(findings)} finding(s)"
    return "\n".join([head, *(f"  {finding}" for finding in findings)])


def main(argv: list[str] | None = None) -> int:
    """`python -m kiosk.audit FILE.json…`: every finding; exit 1 if there is one."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m kiosk.audit", description="Check layout JSON files written by `kiosk screenshot --layout`.")
    parser.add_argument("files", nargs="+", type=Path, help="NAME-LANG.json files")
    arguments = parser.parse_args(argv)
    found = 0
    for path in arguments.files:
        try:
            layout = Layout.read(path)
        except (OSError, ValueError, KeyError, TypeError) as error:
            print(f"{path}: not a layout file ({error}): write it with kiosk screenshot --layout")
            return 2
        findings = audit(layout)
        found += len(findings)
        print(report(layout, findings))
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
