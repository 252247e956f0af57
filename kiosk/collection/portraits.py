"""Synthetic portraits for the fictional demo collection.

Every invented person with a "photograph" gets one of these: a soft, faceless
head-and-shoulders figure in grey or sepia, like an out-of-focus studio photograph of the
1930s, so the portrait wall can be tried with 20,000 images and nobody can mistake one for
a real person. Each carries a small mark in a corner: "fictief · fictif · fictional".

Speed matters (the whole demo must be written in well under a minute on two cores), so a
`PortraitStudio` draws a bank of backgrounds, figures and grain once, and each portrait is
only a composite of bank layers, a tone curve and a JPEG encode. What each person gets is
decided up front as a `PortraitRecipe` from the demo's seeded random generator, so the
images are the same whichever worker renders them.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from kiosk.collection.figures import FIGURES, Figure, draw_figure
from kiosk.collection.model import AGE_BANDS, AgeBand
from kiosk.paths import FONTS

SIZE = (240, 320)
MARK = "fictief · fictif · fictional"
BACKGROUNDS = 12
FIGURES_PER_GROUP = 8
TONES = 6
_SUPERSAMPLE = 2
_ZOOM = 1.2
_GRAIN_MARGIN = 64


@dataclass(frozen=True, slots=True)
class PortraitRecipe:
    """Everything random about one portrait, chosen by the demo's generator."""

    file_name: str
    band: AgeBand
    sex: str
    """"f" or "m": the figure's clothes and hair (a person of unknown sex gets either)."""
    figure: int
    background: int
    flip: bool
    dx: int
    dy: int
    grain_x: int
    grain_y: int
    tone: int
    sepia: bool

    @classmethod
    def choose(cls, rng: random.Random, file_name: str, band: AgeBand, sex: str) -> PortraitRecipe:
        return cls(
            file_name=file_name,
            band=band,
            sex=sex if sex in ("f", "m") else rng.choice("fm"),
            figure=rng.randrange(FIGURES_PER_GROUP),
            background=rng.randrange(BACKGROUNDS),
            flip=rng.random() < 0.5,
            dx=rng.randint(-8, 8),
            dy=rng.randint(-6, 10),
            grain_x=rng.randrange(_GRAIN_MARGIN),
            grain_y=rng.randrange(_GRAIN_MARGIN),
            tone=rng.randrange(TONES),
            sepia=rng.random() < 0.6,
        )


class PortraitStudio:
    """The bank of pre-drawn layers and the compositing of one portrait from them."""

    def __init__(self, seed: int = 1942):
        rng = random.Random(f"portrait-bank-{seed}")
        self.backgrounds = [_background(rng) for _ in range(BACKGROUNDS)]
        self.figures: dict[tuple[str, str], list[tuple[Image.Image, Image.Image]]] = {}
        for band in AGE_BANDS:
            for sex in ("f", "m"):
                self.figures[band, sex] = [_figure(rng, band, sex) for _ in range(FIGURES_PER_GROUP)]
        self.grain = _grain(rng)
        self.tones = [_tone_curve(rng) for _ in range(TONES)]
        self.sepia = _sepia_curves()
        self.mark_dark, self.mark_light, self.mark_at = _mark()

    def render(self, recipe: PortraitRecipe) -> Image.Image:
        image = self.backgrounds[recipe.background].copy()
        figure, mask = self.figures[recipe.band, recipe.sex][recipe.figure]
        if recipe.flip:
            figure, mask = (
                figure.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
                mask.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
            )
        image.paste(figure, (recipe.dx, recipe.dy), mask)
        grain = self.grain.crop((recipe.grain_x, recipe.grain_y, recipe.grain_x + SIZE[0], recipe.grain_y + SIZE[1]))
        image = ImageChops.add(image, grain, 1.0, -128).point(self.tones[recipe.tone])
        image.paste(20, self.mark_at, self.mark_dark)
        image.paste(232, self.mark_at, self.mark_light)
        if recipe.sepia:
            image = Image.merge("RGB", [image.point(curve) for curve in self.sepia])
        return image

    def write(self, recipe: PortraitRecipe, folder: Path) -> None:
        self.render(recipe).save(folder / recipe.file_name, "JPEG", quality=82)


def write_portraits(recipes: Sequence[PortraitRecipe], folder: Path, seed: int, workers: int | None = None) -> None:
    """Render all recipes into `folder`, on every core when there are enough of them."""
    global _worker_studio
    folder.mkdir(parents=True, exist_ok=True)
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(recipes) < 400:
        studio = PortraitStudio(seed)
        for recipe in recipes:
            studio.write(recipe, folder)
        return
    chunk = max(50, len(recipes) // (workers * 8))
    batches = [recipes[i : i + chunk] for i in range(0, len(recipes), chunk)]
    # fork lets the workers share the bank drawn here and needs no import of the caller's
    # main module, but copies only this thread: with other threads running (a station's
    # own), their locks could be copied held, so then spawn and draw the bank per worker.
    forking = threading.active_count() == 1 and "fork" in get_all_start_methods()
    if forking:
        _worker_studio = PortraitStudio(seed)
        pool = ProcessPoolExecutor(workers, mp_context=get_context("fork"))
    else:
        pool = ProcessPoolExecutor(
            workers, mp_context=get_context("spawn"), initializer=_start_worker, initargs=(seed,)
        )
    try:
        with pool:
            for _ in pool.map(_render_batch, batches, [folder] * len(batches)):
                pass
    finally:
        _worker_studio = None


_worker_studio: PortraitStudio | None = None
"""The bank in a worker process: inherited through fork, or drawn by `_start_worker`."""


def _start_worker(seed: int) -> None:
    global _worker_studio
    _worker_studio = PortraitStudio(seed)


def _render_batch(recipes: Sequence[PortraitRecipe], folder: Path) -> int:
    assert _worker_studio is not None, "worker started without its studio"
    for recipe in recipes:
        _worker_studio.write(recipe, folder)
    return len(recipes)


# -- the bank ----------------------------------------------------------------------------


def _background(rng: random.Random) -> Image.Image:
    """A studio backdrop: light falling from one side, darker towards the corners."""
    width, height = SIZE
    light, dark = rng.randint(175, 225), rng.randint(110, 160)
    # Rotate a ramp larger than the portrait and keep its middle, so no corner is left empty.
    side = int((width**2 + height**2) ** 0.5) + 2
    ramp = Image.linear_gradient("L").resize((side, side)).rotate(rng.choice((90, -90)) + rng.uniform(-25, 25))
    ramp = ramp.crop(((side - width) // 2, (side - height) // 2, (side + width) // 2, (side + height) // 2))
    ramp = ramp.point(lambda v: dark + (light - dark) * (255 - v) // 255)
    vignette = Image.radial_gradient("L").resize((int(width * 1.5), int(height * 1.4)))
    vignette = vignette.crop(
        (
            (vignette.width - width) // 2,
            (vignette.height - height) // 2,
            (vignette.width + width) // 2,
            (vignette.height + height) // 2,
        )
    )
    vignette = vignette.point(lambda v: 255 - v * 60 // 255)
    return ImageChops.multiply(ramp, vignette)


def _figure(rng: random.Random, band: AgeBand, sex: str) -> tuple[Image.Image, Image.Image]:
    """One figure in grey values, and its mask, drawn large and shrunk for soft edges."""
    # Drawn on a canvas larger than the portrait and cropped: a photograph frames a head
    # closer than a silhouette does.
    width, height = round(SIZE[0] * _SUPERSAMPLE * _ZOOM), round(SIZE[1] * _SUPERSAMPLE * _ZOOM)
    figure = FIGURES[band].varied(
        dx=rng.uniform(-0.02, 0.02),
        dy=rng.uniform(-0.015, 0.03),
        head=rng.uniform(0.93, 1.07),
        ratio=rng.uniform(0.95, 1.05),
        shoulders=rng.uniform(0.9, 1.08),
    )
    skin = rng.randint(140, 190)
    hair = rng.randint(25, 85) if band != "older" else rng.randint(110, 190)
    cloth = rng.choice((rng.randint(25, 60), rng.randint(60, 100), rng.randint(100, 135)))
    shirt = rng.randint(190, 235)

    tone = Image.new("L", (width, height), 0)
    mask = Image.new("L", (width, height), 0)
    draw, draw_mask = ImageDraw.Draw(tone), ImageDraw.Draw(mask)
    x0, y0, x1, y1 = figure.head_box(width, height)
    head_w, head_h = x1 - x0, y1 - y0

    style = _hair_style(rng, band, sex)
    if style == "long":
        # Hair falling behind the shoulders, drawn first so the clothes cover its ends.
        back = (x0 - head_w * 0.2, y0 - head_h * 0.06, x1 + head_w * 0.2, y1 + head_h * 0.4)
        draw.rounded_rectangle(back, radius=head_w * 0.45, fill=hair)
        draw_mask.rounded_rectangle(back, radius=head_w * 0.45, fill=255)

    draw_figure(draw, figure, width, height, body=cloth, head=skin)
    draw_figure(draw_mask, figure, width, height, body=255)
    _neck_and_neckline(draw, figure, width, height, rng, band, sex, skin, shirt, cloth)
    _hair(draw, draw_mask, (x0, y0, x1, y1), rng, style, hair, skin, band)

    # Light from one side: a gentle ramp over the whole figure, then blur for an old lens.
    ramp = Image.linear_gradient("L").rotate(90).resize((width, height)).point(lambda v: 165 + v * 90 // 255)
    left, top = (width - SIZE[0] * _SUPERSAMPLE) // 2, round((height - SIZE[1] * _SUPERSAMPLE) * 0.45)
    crop = (left, top, left + SIZE[0] * _SUPERSAMPLE, top + SIZE[1] * _SUPERSAMPLE)
    tone = ImageChops.multiply(tone, ramp).crop(crop).reduce(_SUPERSAMPLE)
    mask = mask.crop(crop).reduce(_SUPERSAMPLE)
    # Spread the edge colours outwards before blurring, so the blur does not pull in the
    # empty canvas and draw a dark ring round the figure.
    tone = Image.composite(tone, tone.filter(ImageFilter.MaxFilter(5)), mask.point(lambda v: 255 if v > 250 else 0))
    return tone.filter(ImageFilter.GaussianBlur(2.2)), mask.filter(ImageFilter.GaussianBlur(1.0))


def _hair_style(rng: random.Random, band: AgeBand, sex: str) -> str:
    if band == "baby":
        return rng.choice(("none", "wisp", "bonnet" if sex == "f" else "wisp"))
    if sex == "f":
        if band == "older":
            return rng.choice(("bun", "scarf", "short", "bun"))
        if band in ("toddler", "child"):
            return rng.choice(("bob", "long", "bob"))
        return rng.choice(("bun", "long", "bob", "bob"))
    if band == "older":
        return rng.choice(("receding", "hat", "short", "receding"))
    if band in ("adult", "teenager"):
        return rng.choice(("short", "short", "parted", "hat" if band == "adult" else "parted"))
    return rng.choice(("short", "parted"))


def _hair(
    draw: ImageDraw.ImageDraw,
    draw_mask: ImageDraw.ImageDraw,
    head: tuple[float, float, float, float],
    rng: random.Random,
    style: str,
    hair: int,
    skin: int,
    band: AgeBand,
) -> None:
    """Hair over the head, then the face uncovered below a hairline."""
    x0, y0, x1, y1 = head
    w, h = x1 - x0, y1 - y0
    if style == "none":
        return
    if style == "hat":
        brim = (x0 - w * 0.22, y0 + h * 0.12, x1 + w * 0.22, y0 + h * 0.30)
        crown = (x0 + w * 0.02, y0 - h * 0.18, x1 - w * 0.02, y0 + h * 0.24)
        shade = max(hair - 10, 20)
        for d, fill in ((draw, shade), (draw_mask, 255)):
            d.rounded_rectangle(crown, radius=w * 0.2, fill=fill)
            d.ellipse(brim, fill=fill)
        return
    if style in ("scarf", "bonnet"):
        cloth = rng.randint(90, 200)
        wrap = (x0 - w * 0.10, y0 - h * 0.08, x1 + w * 0.10, y1 + h * 0.02)
        for d, fill in ((draw, cloth), (draw_mask, 255)):
            d.ellipse(wrap, fill=fill)
        draw.ellipse((x0 + w * 0.12, y0 + h * 0.22, x1 - w * 0.12, y1 - h * 0.02), fill=skin)
        return
    pad = {"wisp": 0.0, "receding": 0.01, "short": 0.025, "parted": 0.03, "bob": 0.07, "long": 0.06, "bun": 0.04}[style]
    hairline = {"wisp": 0.12, "receding": 0.10, "short": 0.2, "parted": 0.22, "bob": 0.26, "long": 0.26, "bun": 0.24}[
        style
    ]
    value = hair if style != "wisp" else min(skin + 25, 240)
    cap = (x0 - w * pad, y0 - h * pad * 0.8, x1 + w * pad, y1 - h * (0.35 if style in ("bob", "long") else 0.45))
    for d, fill in ((draw, value), (draw_mask, 255)):
        d.ellipse(cap, fill=fill)
        if style == "bun":
            d.ellipse((x0 + w * 0.28, y0 - h * 0.20, x1 - w * 0.28, y0 + h * 0.14), fill=fill)
    # The face: the head ellipse with its top pulled down to the hairline, a side parting
    # shown by an uneven hairline.
    tilt = h * 0.05 if style == "parted" else 0.0
    face = (x0 + w * 0.04, y0 + h * hairline - tilt, x1 - w * 0.04, y1)
    draw.ellipse(face, fill=skin)
    if style == "parted":
        draw.ellipse((x0 + w * 0.04, y0 + h * hairline, x0 + w * 0.6, y1), fill=skin)


def _neck_and_neckline(
    draw: ImageDraw.ImageDraw,
    figure: Figure,
    width: int,
    height: int,
    rng: random.Random,
    band: AgeBand,
    sex: str,
    skin: int,
    shirt: int,
    cloth: int,
) -> None:
    """Bare neck down to the collar, then a collar and lapels or a round neckline."""
    x0, y0, x1, y1 = figure.head_box(width, height)
    head_cx, cx, base_y = (x0 + x1) / 2, width / 2, figure.shoulder_y * height
    neck = figure.neck_w * (x1 - x0) / 2 * 0.92
    collar_y = base_y + figure.slope * width * 0.3
    # The neck runs from under the head (which may sit off-centre) to the body's centre.
    draw.polygon(
        (
            (head_cx - neck, (y0 + y1) / 2),
            (head_cx + neck, (y0 + y1) / 2),
            (cx + neck, collar_y),
            (cx - neck, collar_y),
        ),
        fill=skin,
    )
    if sex == "m" and band in ("teenager", "adult", "older"):
        # Shirt in a V under the jacket lapels; sometimes a dark tie.
        depth = height * rng.uniform(0.13, 0.2)
        draw.polygon(
            (
                (cx - neck * 1.25, collar_y - neck * 0.3),
                (cx + neck * 1.25, collar_y - neck * 0.3),
                (cx, collar_y + depth),
            ),
            fill=shirt,
        )
        if rng.random() < 0.6:
            draw.polygon(
                (
                    (cx - neck * 0.22, collar_y),
                    (cx + neck * 0.22, collar_y),
                    (cx + neck * 0.3, collar_y + depth * 0.9),
                    (cx - neck * 0.3, collar_y + depth * 0.9),
                ),
                fill=max(cloth - 15, 15),
            )
    elif band in ("baby", "toddler"):
        draw.ellipse((cx - neck * 1.7, collar_y - neck * 0.5, cx + neck * 1.7, collar_y + neck * 0.6), fill=shirt)
        draw.ellipse((cx - neck * 1.15, collar_y - neck * 0.6, cx + neck * 1.15, collar_y + neck * 0.3), fill=skin)
    else:
        # A round neckline, with a light collar on half of them.
        if rng.random() < 0.5:
            collar = (shirt + cloth) // 2
            draw.ellipse((cx - neck * 1.9, collar_y - neck * 0.6, cx + neck * 1.9, collar_y + neck * 1.1), fill=collar)
        draw.ellipse((cx - neck * 1.3, collar_y - neck * 0.7, cx + neck * 1.3, collar_y + neck * 0.7), fill=skin)


def _grain(rng: random.Random) -> Image.Image:
    """Film grain around 128, larger than a portrait so each takes a different window.

    From the seeded generator, not Image.effect_noise (C's rand(): not the same twice).
    """
    size = (SIZE[0] + _GRAIN_MARGIN, SIZE[1] + _GRAIN_MARGIN)
    noise = Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))
    return noise.filter(ImageFilter.GaussianBlur(0.5)).point(lambda v: 128 + (v - 128) * 22 // 128)


def _tone_curve(rng: random.Random) -> list[int]:
    """A print's exposure and contrast: lifted blacks, slightly dimmed whites."""
    low, high = rng.randint(18, 40), rng.randint(215, 242)
    gamma = rng.uniform(0.85, 1.15)
    return [round(low + (high - low) * (v / 255) ** gamma) for v in range(256)]


def _sepia_curves() -> list[list[int]]:
    """Grey to warm brown: red lifted, blue held back."""
    return [
        [min(255, round(v * 1.07 + 10)) for v in range(256)],
        [round(v * 0.94 + 6) for v in range(256)],
        [round(v * 0.76) for v in range(256)],
    ]


def _mark() -> tuple[Image.Image, Image.Image, tuple[int, int]]:
    """The fictional mark as two masks (a soft shadow and the letters) and where it goes."""
    font = ImageFont.truetype(str(FONTS / "NotoSans-Regular.ttf"), 10)
    left, top, right, bottom = (round(edge) for edge in font.getbbox(MARK))
    box = (right - left + 4, bottom - top + 4)
    letters = Image.new("L", box, 0)
    ImageDraw.Draw(letters).text((2 - left, 2 - top), MARK, font=font, fill=200)
    shadow = letters.filter(ImageFilter.MaxFilter(3)).point(lambda v: v * 2 // 5)
    return shadow, letters, (SIZE[0] - box[0] - 4, SIZE[1] - box[1] - 3)
