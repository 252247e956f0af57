"""The six silhouettes shown where no photograph of a person exists.

Drawn once and kept as PNG files in media/images/silhouettes/; run
`python -m kiosk.collection.silhouettes` to draw them again after changing a shape in
`kiosk.collection.figures`. Sober on purpose: one mid grey on a light neutral ground, no
face, no outline effects, so a wall of silhouettes reads as absence, not as decoration.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

from kiosk.collection.figures import FIGURES, draw_figure
from kiosk.collection.model import AGE_BANDS, SILHOUETTES, AgeBand

SIZE = (600, 800)
BACKGROUND = (236, 234, 230)
FIGURE = (150, 147, 142)
_SUPERSAMPLE = 4  # ImageDraw does not smooth edges; drawing large and shrinking does


def draw_silhouette(band: AgeBand, size: tuple[int, int] = SIZE) -> Image.Image:
    width, height = size[0] * _SUPERSAMPLE, size[1] * _SUPERSAMPLE
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw_figure(ImageDraw.Draw(image), FIGURES[band], width, height, FIGURE)
    return image.resize(size, Image.Resampling.LANCZOS)


def write_silhouettes(folder: Path = SILHOUETTES) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for band in AGE_BANDS:
        path = folder / f"{band}.png"
        draw_silhouette(band).save(path, optimize=True)
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_silhouettes(Path(sys.argv[1]) if len(sys.argv) > 1 else SILHOUETTES):
        print(written_path)
