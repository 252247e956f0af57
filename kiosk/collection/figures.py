"""Head-and-shoulders shapes whose proportions tell an age, drawn with Pillow.

Shared by the silhouettes (one per age band, shown where no photograph exists) and by the
demo's synthetic portraits, so that a silhouette and a demo portrait of the same age read
alike on the wall. Proportions follow the usual drawing canon: a baby's head is round and
nearly as wide as its shoulders; with age the head grows longer and the shoulders wider,
to about two and a half head widths for an adult; an older person's head sits lower,
between raised, rounded shoulders.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from PIL import ImageDraw

from kiosk.collection.model import AgeBand


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure on a canvas of any size: positions in fractions of the canvas height,
    sizes in fractions of its width, so one figure draws right at 600x800 or 240x320."""

    head_y: float
    """Centre of the head, fraction of the height."""
    head_w: float
    """Head width, fraction of the canvas width."""
    head_ratio: float
    """Head height over head width: round for a baby, long for an adult."""
    neck_w: float
    """Neck width over head width."""
    shoulder_y: float
    """Base of the neck, where the shoulder line starts, fraction of the height."""
    shoulder_w: float
    """Full shoulder width, fraction of the canvas width."""
    slope: float
    """Drop from the neck base to the shoulder point, fraction of the width."""
    rounding: float
    """Radius of the shoulder's curve, fraction of the width: soft for small children."""
    hunch: float = 0.0
    """Raised upper back around a lowered head, fraction of the width (older persons)."""
    head_x: float = 0.5

    def varied(
        self, dx: float = 0.0, dy: float = 0.0, head: float = 1.0, ratio: float = 1.0, shoulders: float = 1.0
    ) -> Figure:
        """A variant: moved and rescaled, for the demo portraits' variety."""
        return replace(
            self,
            head_x=self.head_x + dx,
            head_y=self.head_y + dy,
            shoulder_y=self.shoulder_y + dy,
            head_w=self.head_w * head,
            head_ratio=self.head_ratio * ratio,
            shoulder_w=self.shoulder_w * shoulders,
        )

    def head_box(self, width: int, height: int) -> tuple[float, float, float, float]:
        hw = self.head_w * width
        hh = hw * self.head_ratio
        cx, cy = self.head_x * width, self.head_y * height
        return (cx - hw / 2, cy - hh / 2, cx + hw / 2, cy + hh / 2)


FIGURES: dict[AgeBand, Figure] = {
    "baby": Figure(
        head_y=0.47,
        head_w=0.38,
        head_ratio=0.98,
        neck_w=0.36,
        shoulder_y=0.625,
        shoulder_w=0.60,
        slope=0.10,
        rounding=0.12,
    ),
    "toddler": Figure(
        head_y=0.43,
        head_w=0.34,
        head_ratio=1.06,
        neck_w=0.42,
        shoulder_y=0.60,
        shoulder_w=0.62,
        slope=0.08,
        rounding=0.12,
    ),
    "child": Figure(
        head_y=0.40,
        head_w=0.29,
        head_ratio=1.16,
        neck_w=0.50,
        shoulder_y=0.58,
        shoulder_w=0.66,
        slope=0.06,
        rounding=0.11,
    ),
    "teenager": Figure(
        head_y=0.37,
        head_w=0.26,
        head_ratio=1.25,
        neck_w=0.52,
        shoulder_y=0.57,
        shoulder_w=0.72,
        slope=0.07,
        rounding=0.10,
    ),
    "adult": Figure(
        head_y=0.36,
        head_w=0.25,
        head_ratio=1.30,
        neck_w=0.56,
        shoulder_y=0.56,
        shoulder_w=0.80,
        slope=0.08,
        rounding=0.10,
    ),
    "older": Figure(
        head_y=0.41,
        head_w=0.245,
        head_ratio=1.27,
        neck_w=0.58,
        shoulder_y=0.555,
        shoulder_w=0.76,
        slope=0.10,
        rounding=0.13,
        hunch=0.06,
    ),
}


def _curve(
    start: tuple[float, float], control: tuple[float, float], end: tuple[float, float], steps: int = 24
) -> list[tuple[float, float]]:
    """Points of a quadratic Bézier curve (ImageDraw only draws straight lines)."""
    (x0, y0), (xc, yc), (x1, y1) = start, control, end
    points = []
    for i in range(1, steps + 1):
        t = i / steps
        a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t * t
        points.append((a * x0 + b * xc + c * x1, a * y0 + b * yc + c * y1))
    return points


def figure_outline(figure: Figure, width: int, height: int) -> list[tuple[float, float]]:
    """Outline of neck and shoulders, left side then mirrored, as one smooth polygon."""
    cx = 0.5 * width
    base_y = figure.shoulder_y * height
    half = figure.shoulder_w * width / 2
    drop = figure.slope * width
    radius = figure.rounding * width
    hunch = figure.hunch * width
    hx0, hy0, hx1, hy1 = figure.head_box(width, height)
    head_cx, head_cy = (hx0 + hx1) / 2, (hy0 + hy1) / 2
    neck = figure.neck_w * (hx1 - hx0) / 2
    fillet = neck * 0.9

    # Left side, from the jaw (hidden by the head) down and out to the arm.
    jaw = (head_cx - neck, head_cy)
    neck_low = (cx - neck, base_y - fillet * 0.8 - hunch)
    slope_start = (cx - neck - fillet, base_y + drop * 0.12 - hunch)
    arm = (cx - half, base_y + drop + radius)
    left = [jaw, neck_low]
    left += _curve(neck_low, (cx - neck, base_y - hunch), slope_start)
    # One curve over the trapezius into the deltoid: its corner control point sets how
    # square the shoulder is; an older person's rises into a rounded upper back.
    corner = (cx - half * 0.97, base_y + drop * 0.35 - hunch * 0.5)
    left += _curve(slope_start, corner, arm, steps=48)
    left.append((cx - half, height + 1))
    right = [(2 * cx - x, y) for x, y in reversed(left)]
    right[-1] = (head_cx + neck, head_cy)
    return left + right


def draw_figure(
    draw: ImageDraw.ImageDraw,
    figure: Figure,
    width: int,
    height: int,
    body: int | tuple[int, ...],
    head: int | tuple[int, ...] | None = None,
) -> None:
    """Shoulders, neck and head of `figure` filled with `body` (and `head` for the head)."""
    draw.polygon(figure_outline(figure, width, height), fill=body)
    draw.ellipse(figure.head_box(width, height), fill=head if head is not None else body)
