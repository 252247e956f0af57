"""A small demo collection written once per test session, and fresh copies to damage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk.collection.demo import write_demo

SMALL = 300
SEED = 7


@pytest.fixture(scope="session")
def demo_count() -> int:
    return SMALL


@pytest.fixture(scope="session")
def demo_seed() -> int:
    return SEED


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Written once; tests must not change it (use `demo_copy` for that)."""
    folder = tmp_path_factory.mktemp("demo") / "collection"
    write_demo(folder, count=SMALL, seed=SEED, workers=1)
    return folder


@pytest.fixture
def demo_copy(demo_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "collection"
    shutil.copytree(demo_dir, folder)
    return folder
