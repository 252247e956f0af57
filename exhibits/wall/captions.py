"""The name under a face in the grid: broken into a few short lines, never cut.

Plain Python: the caller gives how wide a text is at a size (`width(text, size)`), so the
rule is tested without a screen. Lines break at spaces and after hyphens (Szpigielman-/
Goldsztejnowicz), never inside a word; the largest size at which the name fits the cell
in MAX_LINES lines wins. Only a name that fits at no size is returned unbroken at the
smallest size, so the layout audit sees it and says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_PIECES = re.compile(r"[^\s-]+-?|-")


@dataclass(frozen=True)
class Caption:
    lines: tuple[str, ...]
    size: float
    fits: bool

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def break_lines(name: str, fits: Callable[[str], bool]) -> list[str] | None:
    """NAME in lines that each fit, greedily; None if one piece alone does not fit."""
    lines: list[str] = []
    current = ""
    for word in name.split():
        for piece in _PIECES.findall(word):
            joined = piece if not current else (current + piece if current.endswith("-") else f"{current} {piece}")
            if fits(joined):
                current = joined
                continue
            if not fits(piece):
                return None
            lines.append(current)
            current = piece
    if current:
        lines.append(current)
    return lines


def caption(
    name: str, box_width: float, sizes: Sequence[float], max_lines: int | Callable[[float], int], width: Callable[[str, float], float]
) -> Caption:
    """NAME broken to fit BOX_WIDTH in MAX_LINES lines (or MAX_LINES(size), as many as the
    box's height holds at that size), at the first of SIZES that allows it."""
    for size in sizes:
        lines = break_lines(name, lambda text, size=size: width(text, size) <= box_width)
        allowed = max_lines(size) if callable(max_lines) else max_lines
        if lines is not None and len(lines) <= allowed:
            return Caption(tuple(lines), size, True)
    return Caption((name,), sizes[-1], False)
