"""Files replaced whole or not at all: the one way this project writes durably.

A station loses power without warning and the store's disk may fill, so a file that
matters is never rewritten in place: it is written under a temporary name in the same
folder, fsynced, renamed over the old one (an atomic step on one file system) and its
folder fsynced, as rclone and Syncthing do. After a crash the file is either the old one
or the new one, whole. `durable=False` skips the fsyncs, for state rewritten every few
seconds whose loss costs only a little repeated work (so as not to wear the disk).

Every writer of the project goes through `replacing()` (a file handle) or
`write_durably()` (bytes); `fsync_directory()` makes a rename or unlink survive.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

FILE_MODE = 0o640  # a voice or a station's state is not for every user of the machine


def fsync_directory(directory: Path) -> None:
    """Make a rename or unlink in `directory` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def partial_name(path: Path) -> Path:
    """A temporary name beside `path`, one per process and thread, so two writers never share one."""
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")


@contextmanager
def replacing(
    path: Path,
    *,
    partial: Path | None = None,
    mode: int = FILE_MODE,
    durable: bool = True,
    fsync_folder: bool = True,
) -> Iterator[BinaryIO]:
    """A binary file to write; when the block ends cleanly it replaces `path` whole.

    `partial` is the temporary name (default: a hidden one beside `path`); it must be on
    the same file system. An error inside the block removes it and leaves `path` as it
    was. `fsync_folder=False` leaves the folder's fsync to the caller, who may rename
    many files before one fsync of their folder.
    """
    path = Path(path)
    partial = Path(partial) if partial is not None else partial_name(path)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if durable and fsync_folder:
        fsync_directory(path.parent)


def write_durably(path: Path, data: bytes, *, partial: Path | None = None, mode: int = FILE_MODE, durable: bool = True) -> None:
    """Replace `path` by `data`: readers see the old file or the new, never half."""
    path = Path(path)
    partial = Path(partial) if partial is not None else partial_name(path)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if durable:
        fsync_directory(path.parent)


def write_json_atomically(path: Path, document: Any, *, durable: bool = True) -> None:
    """Replace `path` by `document` as JSON: readers see the old file or the new, never half."""
    data = (json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()
    write_durably(Path(path), data, durable=durable)


def read_json(path: Path) -> Any | None:
    """The JSON in `path`, or None when it is missing or unreadable (the caller starts afresh)."""
    try:
        return json.loads(Path(path).read_bytes())
    except (OSError, ValueError):
        return None
