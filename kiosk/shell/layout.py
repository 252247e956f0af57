"""A Kivy screen's layout as the audit reads it (`kiosk screenshot --layout`).

Walks the widgets a visitor sees now (the current screen and the shell around it) and
describes each with the rules of `kiosk.audit`: box in window pixels from the top left,
the size its text needs (measured again without the box: no wrapping limit in height,
no shortening), its colours as drawn. Backgrounds are read from the rendered frame (the
PNG just saved), not guessed from kv rules: what counts is the colour really behind.

A widget can say more about itself:
- `audit_kind`: "field" or "meter" (or any kind of kiosk.audit.KINDS) where its class
  does not tell;
- `layout_items(to_item)`: a widget that draws its own content (the portrait grid)
  returns the items it shows, built with TO_ITEM(name, kind, box, ...);
- `spoken`: what audio mode says for it.
A screen with `screen_words()` (a kiosk.accessibility.ScreenWords) gives the layout its
`spoken` and each control, matched by `test_name` = `Control.id`, its own; the shell's
controls (top bar, idle warning) have theirs from kiosk.shell.guide.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from kivy.core.window import Window
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.stencilview import StencilView
from kivy.uix.textinput import TextInput
from PIL import Image as PILImage

from kiosk.audit import Item, Layout, blend, hex_colour
from kiosk.shell.guide import window_box

_RING = 3  # pixels outside a field's box where the colour around it is read


class Frame:
    """The saved picture of the window, for the colours really drawn."""

    def __init__(self, png: Path):
        with PILImage.open(png) as image:
            self.image = image.convert("RGB")
        self.width, self.height = self.image.size

    def _clip(self, box) -> tuple[int, int, int, int] | None:
        x, y, w, h = (round(v) for v in box)
        left, top = max(0, x), max(0, y)
        right, bottom = min(self.width, x + w), min(self.height, y + h)
        return (left, top, right, bottom) if right > left and bottom > top else None

    def colours(self, box) -> list[tuple[tuple[int, int, int], int]]:
        """Colours in BOX, most frequent first, with their pixel counts."""
        clipped = self._clip(box)
        if clipped is None:
            return []
        region = self.image.crop(clipped)
        found = region.getcolors(maxcolors=region.width * region.height + 1) or []
        return [(colour, count) for count, colour in sorted(found, key=lambda pair: -pair[0])]

    def dominant(self, box) -> tuple[int, int, int] | None:
        colours = self.colours(box)
        return colours[0][0] if colours else None

    def ring(self, box, inside: bool) -> tuple[int, int, int] | None:
        """The commonest colour of a thin band just inside or just outside BOX's edge."""
        x, y, w, h = box
        d = 1 if inside else -_RING
        t = 2 if inside else _RING - 1
        bands = [(x + d, y + d, w - 2 * d, t), (x + d, y + h - d - t, w - 2 * d, t), (x + d, y + d, t, h - 2 * d), (x + w - d - t, y + d, t, h - 2 * d)]
        counts: Counter = Counter()
        for band in bands:
            for colour, count in self.colours(band):
                counts[colour] += count
        return counts.most_common(1)[0][0] if counts else None


def _effective_opacity(widget) -> float:
    opacity = 1.0
    node = widget
    while node is not None:
        opacity *= getattr(node, "opacity", 1.0)
        if node.parent is node:
            break
        node = node.parent
    return opacity


def _window_box(widget) -> tuple[float, float, float, float]:
    """x, y, w, h in window pixels, origin top left."""
    x, y, w, h = window_box(widget)
    return x, Window.height - y - h, w, h


def _clip_to(box, clip) -> tuple[float, float, float, float] | None:
    x, y, w, h = box
    cx, cy, cw, ch = clip
    left, top = max(x, cx), max(y, cy)
    right, bottom = min(x + w, cx + cw), min(y + h, cy + ch)
    return (left, top, right - left, bottom - top) if right > left and bottom > top else None


def text_needs(label: Label) -> tuple[float, float] | None:
    """The size LABEL's text needs to be drawn whole, padding included.

    Measured again with a fresh core label: wrapped at the label's width when it wraps,
    on one line when it would be shortened, never cut in height. A word longer than
    the width needs its own width (Kivy would break it in the middle).
    """
    from kivy.core.text import Label as CoreLabel

    if not label.text:
        return None
    options = dict(label._label.options)
    for key in ("text", "text_size", "shorten", "max_lines"):
        options.pop(key, None)
    wrap_width = None if label.shorten else label.text_size[0]
    left, top, right, bottom = options.get("padding", (0, 0, 0, 0))

    def measure(text: str, width) -> tuple[float, float]:
        core = CoreLabel(text=text, text_size=(width, None), shorten=False, **options)
        core.render()
        inner_w, inner_h = core._internal_size
        return inner_w, inner_h

    width, height = measure(label.text, wrap_width)
    if wrap_width is not None:
        longest = max(label.text.split(), key=len, default="")
        if longest:
            width = max(width, measure(longest, None)[0])
    # The layout's size holds the padding already (kivy.core.text.text_layout).
    del left, top, right, bottom
    return width, height


def _kind(widget) -> str:
    declared = getattr(widget, "audit_kind", None)
    if declared:
        return declared
    if isinstance(widget, TextInput):
        return "field"
    if type(widget).__name__.endswith("Meter"):
        return "meter"
    if isinstance(widget, ButtonBehavior):
        return "button"
    if isinstance(widget, Label):
        return "text"
    if isinstance(widget, Image):
        return "image"
    return "other"


def _is_touch(widget, kind: str) -> bool:
    return bool(getattr(widget, "audit_touch", kind in ("button", "field") and (isinstance(widget, (ButtonBehavior, TextInput)))))


def visible_widgets(root, current_screen):
    """(widget, clip box or None) of every widget drawn now, parents before children.

    The clip is the view of the nearest scrolling (stencil) view: a widget scrolled out
    of it is not seen. The screen's own edges do not clip: what leaves them is a finding.
    """

    def visit(widget, clip):
        if getattr(widget, "opacity", 1) <= 0.01 or widget.width <= 0 or widget.height <= 0:
            return
        if widget.__class__.__name__.endswith("Screen") and hasattr(widget, "manager") and widget is not current_screen:
            return
        yield widget, clip
        if isinstance(widget, StencilView):
            box = _window_box(widget)
            clip = box if clip is None else _clip_to(box, clip)
            if clip is None:
                return
        if getattr(widget, "layout_items", None) is not None:
            return  # draws its own content; says what through layout_items
        for child in reversed(widget.children):  # drawing order
            yield from visit(child, clip)

    yield from visit(root, None)


def take_layout(app, station: str, screen: str, lang: str, png: Path) -> Layout:
    """The layout of what APP shows now, its colours read from PNG (just saved)."""
    frame = Frame(png)
    size = (int(Window.width), int(Window.height))
    items: list[Item] = []

    def to_item(name, kind, box, *, text=None, needs=None, colour=None, alpha=1.0, text_px=None, enabled=True, touch=False, spoken=None):
        background = frame.dominant(box)
        color = None
        if colour is not None and background is not None:
            color = hex_colour(blend(colour, alpha, background))
        return Item(
            name=name,
            kind=kind,
            box=tuple(box),
            text=text,
            text_needs=needs,
            color=color,
            background=hex_colour(background) if background is not None else None,
            enabled=enabled,
            touch=touch,
            spoken=spoken,
            text_px=text_px,
        )

    # The screen's own words (the idle warning's while it shows) give the layout its
    # `spoken`; the controls' names come with the shell's (kiosk.shell.guide).
    words = app.guide.screen_own_words()
    spoken_by_name = {control.id: control.spoken for control in app.guide.words().controls}
    root = app.root_widget
    overlay = root.ids.get("idle_overlay")
    # While "Are you still there?" shows, what lies under its dark veil is neither read
    # nor touched: the veil and the fictional band (never dimmed) are the screen.
    roots = [overlay, root.ids.fictional_band] if overlay is not None and overlay.shown else [root]
    shown_widgets = [pair for start in roots for pair in visible_widgets(start, app.screens.current_screen)]
    for widget, clip in shown_widgets:
        kind = _kind(widget)
        own = getattr(widget, "layout_items", None)
        if own is not None:
            items.extend(own(to_item))
            continue
        if kind == "other" and not isinstance(widget, ButtonBehavior):
            continue  # a container: it draws nothing a visitor reads or touches
        box = _window_box(widget)
        hidden = 0.0
        if clip is not None:
            shown = _clip_to(box, clip)
            if shown is None:
                continue  # scrolled out of its view
            hidden = box[3] - shown[3]  # a text's rest in a scrolling view is read by scrolling
            box = shown  # cut by a scrolling view: what is seen of it
        name = getattr(widget, "test_name", "") or None
        enabled = not widget.disabled
        spoken = getattr(widget, "spoken", None) or spoken_by_name.get(name) or None
        opacity = _effective_opacity(widget)
        touch = _is_touch(widget, kind)
        if kind in ("field", "meter"):
            items.append(_graphic(frame, widget, name, kind, box, enabled, touch, spoken))
            if isinstance(widget, Label) and widget.text:
                items.append(_text_item(to_item, widget, f"{name}-text" if name else None, "text", box, opacity, enabled, False, spoken))
            continue
        if isinstance(widget, Label) and (widget.text or kind == "button"):
            items.append(_text_item(to_item, widget, name, kind, box, opacity, enabled, touch, spoken, hidden))
        else:
            items.append(to_item(name, kind, box, enabled=enabled, touch=touch, spoken=spoken))
    return Layout(station=station, screen=screen, lang=lang, size=size, items=items, spoken=words.spoken if words is not None else "")


def _text_item(to_item, label: Label, name, kind, box, opacity, enabled, touch, spoken, hidden: float = 0.0) -> Item:
    rgba = label.disabled_color if label.disabled else label.color
    colour = tuple(channel * 255 for channel in rgba[:3])
    needs = text_needs(label)
    if needs is not None and hidden > 0:
        needs = (needs[0], max(0.0, needs[1] - hidden))  # only what is in view must fit it
    return to_item(
        name,
        kind,
        box,
        text=label.text or None,
        needs=needs,
        colour=colour,
        alpha=rgba[3] * opacity,
        text_px=float(label.font_size),
        enabled=enabled,
        touch=touch,
        spoken=spoken,
    )


def _graphic(frame: Frame, widget, name, kind, box, enabled, touch, spoken) -> Item:
    """A field: its border against what is around it. A meter: its zone against its track."""
    if kind == "field":
        colour, background = frame.ring(box, inside=True), frame.ring(box, inside=False)
    else:
        colours = [colour for colour, _count in frame.colours(box)[:2]]
        background, colour = (colours + [None, None])[:2]
    return Item(
        name=name,
        kind=kind,
        box=tuple(box),
        color=hex_colour(colour) if colour else None,
        background=hex_colour(background) if background else None,
        enabled=enabled,
        touch=touch,
        spoken=spoken,
    )
