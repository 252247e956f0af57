"""What a station knows about each portrait file without opening it again.

Checking a collection opens every portrait's header with Pillow (20,000 files, seconds).
A station starts many times on the same files, so it keeps what that check learnt (width,
height, format) in a small index, keyed by each file's size and modification time: a
start stats every portrait once and opens only those that are new or changed. The same
signatures tell the wall's thumbnails which pages are still current, so nothing stats a
portrait twice.

The index is a cache: missing, unreadable, of another version or damaged, it is rebuilt
(a warning in the log), never a reason not to start. It is written whole or not at all
(`kiosk.files`), and only when something changed.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from PIL import Image, UnidentifiedImageError

from kiosk.files import write_durably

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
INDEX_FILE = "image-facts.json"
MAX_INDEX_BYTES = 64 * 2**20
"""About 60 bytes a portrait: room for a million; anything larger is not read."""


class Signature(NamedTuple):
    """A file as the index recognises it: a change of either means the file changed."""

    size: int
    mtime_ns: int


class ImageFacts(NamedTuple):
    width: int
    height: int
    format: str
    """Pillow's name of the format: "JPEG", "PNG", ..."""


@dataclass(frozen=True)
class FactsReport:
    rows: Mapping[str, list]
    """File name -> [size, mtime_ns, width, height, format], for every file that opened as
    an image (as the index keeps them; `facts` reads one)."""
    signatures: Mapping[str, Signature]
    """File name -> signature, for every file that could be stat'ed (opened or not)."""
    problems: Mapping[str, str]
    """File name -> why it is not an image Pillow can read (or cannot be stat'ed)."""
    opened: int
    """Files whose header was read in this pass (the others came from the index)."""

    def facts(self, name: str) -> ImageFacts | None:
        row = self.rows.get(name)
        return ImageFacts(*row[2:]) if row is not None else None


class ImageFactsIndex:
    """One folder's images, read through an index file at PATH (or none: open them all).

    READ_ONLY: the index is used but never written (a screenshot on a live station).
    """

    def __init__(self, path: Path | None, *, read_only: bool = False):
        self.path = path
        self.read_only = read_only

    def read(self, folder: Path, names: Iterable[str]) -> FactsReport:
        """The facts of each of NAMES in FOLDER; only files new or changed since the index are opened."""
        known = self._load()
        signatures: dict[str, Signature] = {}
        problems: dict[str, str] = {}
        rows: dict[str, list] = {}
        opened = 0
        prefix = f"{folder}{os.sep}"
        for name in names:
            if name in signatures or name in problems:
                continue
            path = prefix + name
            try:
                status = os.stat(path)
            except OSError as error:
                problems[name] = error.strerror or str(error)
                continue
            signature = Signature(status.st_size, status.st_mtime_ns)
            signatures[name] = signature
            row = known.get(name)
            if row is not None and row[0] == signature.size and row[1] == signature.mtime_ns:
                rows[name] = row
                continue
            opened += 1
            try:
                with Image.open(path) as image:
                    rows[name] = [signature.size, signature.mtime_ns, image.width, image.height, image.format or ""]
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
                problems[name] = "not an image Pillow can read" if isinstance(error, UnidentifiedImageError) else str(error)
        if rows != known:
            self._save(rows)
        return FactsReport(MappingProxyType(rows), signatures, problems, opened)

    def _load(self) -> dict[str, list]:
        """The rows of the index file: {name: [size, mtime_ns, width, height, format]}."""
        if self.path is None:
            return {}
        try:
            with self.path.open("rb") as handle:
                text = handle.read(MAX_INDEX_BYTES + 1)
            if len(text) > MAX_INDEX_BYTES:
                raise ValueError(f"larger than {MAX_INDEX_BYTES // 2**20} MiB, not an index this program wrote")
            data = json.loads(text)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            log.warning("image index unreadable, rebuilt", extra={"path": str(self.path), "problem": str(error)})
            return {}
        images = data.get("images") if isinstance(data, dict) and data.get("version") == FORMAT_VERSION else None
        if not isinstance(images, dict):
            log.warning("image index of another version or damaged, rebuilt", extra={"path": str(self.path)})
            return {}
        return {name: row for name, row in images.items() if type(row) is list and len(row) == 5 and _row_usable(row)}

    def _save(self, rows: dict[str, list]) -> None:
        if self.path is None or self.read_only:
            return
        data = json.dumps({"version": FORMAT_VERSION, "images": rows}, separators=(",", ":"), ensure_ascii=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_durably(self.path, data.encode("utf-8"))
        except OSError as error:
            # Only the next start's speed depends on it: say so, and go on.
            log.warning("image index not written", extra={"path": str(self.path), "problem": error.strerror or str(error)})


def _row_usable(row: list) -> bool:
    size, mtime_ns, width, height, image_format = row
    return type(size) is int and type(mtime_ns) is int and type(width) is int and type(height) is int and type(image_format) is str


def index_path(cache_dir: Path) -> Path:
    """Where a station keeps its image index: in its data folder's cache."""
    return cache_dir / INDEX_FILE
