"""What the station's and the central store's configuration files have in common.

Both are TOML files a technician edits by hand, validated with pydantic before anything
starts; a mistake is reported with the file, the key and what to write instead. This
module sits below `kiosk.config` (a station) and `kiosk.central.config` (the store), so
the store never loads the station's settings to read its own.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

LANGUAGES = ("nl", "fr", "en")
STATION_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"


class Section(BaseModel):
    """A table of a configuration file: unknown keys are mistakes, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class FileConfig(Section):
    """A configuration read from a file: relative paths are taken from that file's folder,
    so a station's or a central store's folder can be moved or copied whole."""

    # Filled in by the loader, not read from the file.
    source: Path | None = Field(default=None, exclude=True)

    @property
    def folder(self) -> Path:
        return self.source.parent if self.source else Path.cwd()

    def resolve(self, relative: str) -> Path:
        path = Path(relative).expanduser()
        return path if path.is_absolute() else (self.folder / path)


def problem_location(loc: tuple) -> str:
    """Where in a TOML file a pydantic error points: `[section] key`."""
    parts = [str(p) for p in loc]
    if len(parts) >= 2:
        return f"[{parts[0]}] {'.'.join(parts[1:])}"
    return f"[{parts[0]}]" if parts else "(top level)"


def explain_problem(error: dict) -> str:
    """A pydantic error in words a technician can act on."""
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown setting: check its spelling, or remove it"
    if kind == "missing":
        return "is required"
    if kind == "literal_error":
        allowed = error.get("ctx", {}).get("expected", "")
        return f"must be one of {allowed} (found {error.get('input')!r})"
    if kind == "string_pattern_mismatch":
        return f"must be lowercase letters, digits and dashes, at most 40 (found {error.get('input')!r})"
    message = error.get("msg", "is not valid")
    message = message.removeprefix("Value error, ")
    return f"{message} (found {error.get('input')!r})"
