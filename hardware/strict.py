"""Simulated devices that fail loudly, as Anthias' fake_docker does.

A simulation offers exactly its interface and its fault triggers; a call the station
starts making without a counterpart fails in the tests instead of being quietly faked.
"""

from __future__ import annotations

from typing import Any, ClassVar


class FailsLoudly:
    """Refuses attributes a class does not define, when read and when set after __init__."""

    _offers: ClassVar[tuple[str, ...]] = ()
    _sealed = False

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup failed: say what there is instead.
        if name.startswith("__") or not self._sealed:
            raise AttributeError(name)
        raise AttributeError(
            f"{type(self).__name__} has no {name!r}: it offers only {', '.join(self._offers)}"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        known = name.startswith("_") or name in self.__dict__ or hasattr(type(self), name)
        if self._sealed and not known:
            raise AttributeError(
                f"{type(self).__name__} has no {name!r} to set: "
                f"it offers only {', '.join(self._offers)}"
            )
        object.__setattr__(self, name, value)
