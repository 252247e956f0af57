"""The wall's search index, made when a visitor first goes to search, not at the wall's start.

The index (`exhibits.wall.search.SearchIndex`) and the libraries it computes with, numpy
and rapidfuzz, hold about 25 MB that a wall showing its attract screen, or a visitor
only scrolling the faces, never uses (issue 18: memory after the attract screen). They
are made on a background thread when the search screen opens (`prepare`): a visitor
reads the screen before the first key, and the making (0.4 s of CPU for 25,843 persons)
is done by then. A search asked earlier waits for it (or makes it, if nothing has
started it): never a wrong or empty answer.

Kivy-free, no numpy at import: this module is what the wall holds until then.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from exhibits.wall.search import Hit, SearchIndex
    from kiosk.collection import Collection

log = logging.getLogger(__name__)


def _build(collection: Collection) -> SearchIndex:
    from exhibits.wall.search import SearchIndex

    index = SearchIndex.build(collection)
    index.search("warm up")  # rapidfuzz's and numpy's first calls: not in front of a visitor
    return index


class SearchOnDemand:
    """The `SearchIndex` of COLLECTION, made once, on first need, on whichever thread asks
    first; the others wait for it. `search` is `SearchIndex.search` (the wall's flow
    needs only that)."""

    def __init__(self, collection: Collection, build: Callable[[Collection], SearchIndex] = _build):
        self._collection = collection
        self._build = build
        self._index: SearchIndex | None = None
        self._making = threading.Lock()  # held while the index is made
        self._asked = threading.Lock()  # guards _started only: `prepare` never waits on the making
        self._started = False

    @property
    def ready(self) -> bool:
        """The index is made (the libraries it needs are loaded)."""
        return self._index is not None

    def prepare(self) -> None:
        """Start making the index on a background thread, unless it is made or being made."""
        with self._asked:
            if self._index is not None or self._started:
                return
            self._started = True
        threading.Thread(target=self._prepared, name="search-index", daemon=True).start()

    def index(self) -> SearchIndex:
        """The index, made now if no one has made it (waits while another thread makes it)."""
        index = self._index
        if index is not None:
            return index
        with self._making:
            if self._index is None:
                self._index = self._build(self._collection)
            return self._index

    def search(self, query: str, limit: int = 50) -> list[Hit]:
        return self.index().search(query, limit)

    def _prepared(self) -> None:
        try:
            self.index()
        except Exception:  # the first search makes it again, and says why in front of no one
            log.exception("search index not made in the background")
            with self._asked:
                self._started = False
