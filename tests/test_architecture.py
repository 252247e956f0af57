"""The architecture README.md draws ("Architecture"), read from the code's imports with ast.

Fails on an arrow against the documented direction, an import circle, Kivy outside the
screen modules, and a function longer than 120 lines. What is known to break a rule
today is listed below, each with why, so the list can only shrink: an entry that no
longer matches anything fails too, and a new violation is never silently allowed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kiosk", "exhibits", "hardware")
MAX_FUNCTION_LINES = 120

# Layers, each with the layers it may import (its own always). An arrow points down:
# nothing imports a layer above it. The order here is the order of README's drawing.
LAYERS: dict[str, set[str]] = {
    "cli": {"station tools", "exhibits", "shell", "central", "link", "station config", "collection", "hardware", "common"},
    "station tools": {"exhibits", "shell", "link", "station config", "collection", "hardware", "common"},
    "exhibits": {"shell", "link", "station config", "collection", "hardware", "common"},
    "shell": {"station config", "collection", "hardware", "common"},
    "central": {"collection", "common"},
    "link": {"station config", "common"},
    "station config": {"common"},
    "collection": {"common"},
    "hardware": set(),
    "common": set(),
}

# Which layer a module is in: the longest matching prefix wins.
PLACES: dict[str, str] = {
    "kiosk.cli": "cli",
    "kiosk.__main__": "cli",
    "kiosk.doctor": "station tools",  # checks a station's devices, link and config
    "kiosk.display": "shell",  # a virtual screen for `kiosk demo` and screenshots
    "exhibits": "exhibits",
    "kiosk.shell": "shell",
    "kiosk.station": "shell",  # what a station shows, loaded for the shell
    "kiosk.session": "shell",  # a visitor's session at a touchscreen (Kivy-free)
    "kiosk.speech": "shell",  # audio mode's voice, through a speaker of hardware.audio.api
    "kiosk.central": "central",
    "kiosk.link": "link",
    "kiosk.collection": "collection",
    "kiosk.config": "station config",  # the store has its own (kiosk.central.config); both stand on kiosk.configbase
    "hardware": "hardware",
    "kiosk": "common",  # errors, files, clock, configbase, contract, i18n, paths, logs, watchdog, deploy
}

# Modules that may import Kivy: the screens and their widgets.
SCREEN_MODULES = (
    "kiosk.shell",
    "exhibits.booth.screens",
    "exhibits.wall.screens",
    "exhibits.wall.grid",
    "exhibits.wall.attract",
)

# Known arrows against the direction, (importer, imported), each with why it is still there.
ALLOWED_ARROWS: dict[tuple[str, str], str] = {}

# Known functions over MAX_FUNCTION_LINES, each with why.
ALLOWED_LONG_FUNCTIONS: dict[str, str] = {
    "kiosk.central.migrations.versions.0001_initial.upgrade": "a migration is one step by nature: the "
    "whole first schema, never edited after release",
}

# Known import circles (as sorted tuples of their modules), each with why.
ALLOWED_CIRCLES: dict[tuple[str, ...], str] = {}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    runs: bool  # runs at all (anything but a TYPE_CHECKING block), at import or in a function


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> dict[str, Path]:
    files = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            files[module_name(path)] = path
    return files


FILES = source_files()
MODULES = set(FILES)


def resolve(name: str) -> str | None:
    """The project module an import names (the longest existing prefix), or None if not ours."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str) -> Iterator[Import]:
    tree = ast.parse(FILES[module].read_text(encoding="utf-8"))
    package = module if FILES[module].name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST, runs: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(module, alias.name, child.lineno, runs)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in child.names:
                    # `from hardware import audio` imports the module hardware.audio.
                    yield Import(module, f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base,
                                 child.lineno, runs)
            elif isinstance(child, ast.If) and _is_type_checking(child):
                yield from visit(child, False)
            else:
                yield from visit(child, runs)

    yield from visit(tree, True)


ALL_IMPORTS = [found for module in sorted(MODULES) for found in imports_of(module)]


def layer_of(module: str) -> str:
    best = max((prefix for prefix in PLACES if module == prefix or module.startswith(prefix + ".")), key=len)
    return PLACES[best]


def exhibit_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "exhibits" and len(parts) > 1 else None


def wrong_arrows() -> dict[tuple[str, str], str]:
    found = {}
    for item in ALL_IMPORTS:
        target = resolve(item.imported)
        if target is None or target == item.importer:
            continue
        source_layer, target_layer = layer_of(item.importer), layer_of(target)
        if source_layer == target_layer:
            # One exhibit does not reach into another: each stands on the layers below.
            if source_layer == "exhibits" and exhibit_of(item.importer) != exhibit_of(target):
                found[(item.importer, target)] = f"line {item.line}: exhibit {exhibit_of(item.importer)} imports exhibit {exhibit_of(target)}"
            continue
        if target_layer not in LAYERS[source_layer]:
            found[(item.importer, target)] = f"line {item.line}: {source_layer} may not import {target_layer}"
    return found


def test_every_arrow_points_down():
    found = wrong_arrows()
    unexpected = {arrow: why for arrow, why in found.items() if arrow not in ALLOWED_ARROWS}
    assert not unexpected, "imports against README's Architecture:\n" + "\n".join(
        f"  {a} -> {b} ({why})" for (a, b), why in sorted(unexpected.items())
    )


def test_the_allowed_arrows_are_still_needed():
    stale = set(ALLOWED_ARROWS) - set(wrong_arrows())
    assert not stale, f"remove these from ALLOWED_ARROWS, they are fixed: {sorted(stale)}"


def circles() -> list[tuple[str, ...]]:
    """Strongly connected groups of modules importing each other (Tarjan).

    An import inside a function counts: a circle closed at call time (as a module-level
    `__getattr__` re-export closes one) is still two modules that cannot be read apart.
    """
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for item in ALL_IMPORTS:
        target = resolve(item.imported)
        if item.runs and target is not None and target != item.importer:
            graph[item.importer].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[tuple[str, ...]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(tuple(sorted(group)))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return groups


def test_no_import_circles():
    found = circles()
    unexpected = [group for group in found if group not in ALLOWED_CIRCLES]
    assert not unexpected, "import circles:\n" + "\n".join(f"  {' <-> '.join(group)}" for group in unexpected)
    stale = set(ALLOWED_CIRCLES) - set(found)
    assert not stale, f"remove these from ALLOWED_CIRCLES, they are gone: {sorted(stale)}"


def test_kivy_only_in_screen_modules():
    found = sorted(
        f"{item.importer} line {item.line}"
        for item in ALL_IMPORTS
        if item.imported.split(".")[0] == "kivy"
        and not any(item.importer == screen or item.importer.startswith(screen + ".") for screen in SCREEN_MODULES)
    )
    assert not found, "Kivy imported outside the screen modules (move the logic out, keep screens thin):\n  " + "\n  ".join(found)


def long_functions() -> dict[str, int]:
    found = {}
    for module, path in FILES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    found[f"{module}.{node.name}"] = lines
    return found


def test_no_function_over_120_lines():
    found = long_functions()
    unexpected = {name: lines for name, lines in found.items() if name not in ALLOWED_LONG_FUNCTIONS}
    assert not unexpected, f"functions over {MAX_FUNCTION_LINES} lines: {unexpected}"
    stale = set(ALLOWED_LONG_FUNCTIONS) - set(found)
    assert not stale, f"remove these from ALLOWED_LONG_FUNCTIONS, they are short now: {sorted(stale)}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import kivy.app\n", ["kivy.app"]),
        ("from hardware.audio import api\n", ["hardware.audio.api"]),
        ("def f():\n    from kiosk import errors\n", ["kiosk.errors"]),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import exhibits.booth.flow\n", ["typing", "exhibits.booth.flow"]),
    ],
)
def test_the_reader_sees_every_kind_of_import(tmp_path, monkeypatch, source, expected):
    # The checks above are only as good as this reader: it must see imports in functions
    # and under TYPE_CHECKING too (they are arrows of design even if not circles).
    module = "kiosk.architecture_probe"
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    monkeypatch.setitem(FILES, module, path)
    assert [found.imported for found in imports_of(module)] == expected
