"""The collection: transports, the persons on their lists, portraits and silhouettes.

Kivy-free; the portrait wall, the memorial and the command line read collections through
this package only:

- `load_collection(folder) -> Collection` (raises `KioskError` listing the problems) and
  `check_collection(folder) -> CheckReport` (never raises for bad content);
- the model: `Collection`, `Transport`, `Person`, `PartialDate`, `age_band`,
  `silhouette_path`;
- `write_demo(folder, count, seed)` for the fictional demo collection.
"""

from typing import TYPE_CHECKING

from kiosk.collection.check import CheckReport, Problem, check_collection, load_collection
from kiosk.collection.layout import DEFAULT_COUNT, DEFAULT_SEED
from kiosk.collection.model import (
    AGE_BANDS,
    AgeBand,
    Collection,
    PartialDate,
    Person,
    Transport,
    age_band,
    silhouette_path,
)

if TYPE_CHECKING:
    from kiosk.collection.demo import write_demo

__all__ = [
    "AGE_BANDS",
    "DEFAULT_COUNT",
    "DEFAULT_SEED",
    "AgeBand",
    "CheckReport",
    "Collection",
    "PartialDate",
    "Person",
    "Problem",
    "Transport",
    "age_band",
    "check_collection",
    "load_collection",
    "silhouette_path",
    "write_demo",
]


def __getattr__(name: str) -> object:
    # The demo writer pulls in the portrait renderer; stations that only read a
    # collection should not pay for it at import time.
    if name == "write_demo":
        from kiosk.collection.demo import write_demo

        return write_demo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
