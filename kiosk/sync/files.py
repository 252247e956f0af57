"""Small JSON files the sync side keeps next to the takes, replaced whole or not at all.

A station loses power without warning, so a state file is never rewritten in place: it
is written under a temporary name in the same folder and renamed over the old one (an
atomic step on one file system), as rclone and Syncthing do. `durable=True` also fsyncs
the file and its folder, for state whose loss would cost more than a little repeated
work; a status file rewritten every few seconds skips that, so as not to wear the disk.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

_FILE_MODE = 0o640


def write_json_atomically(path: Path, document: Any, *, durable: bool = True) -> None:
    """Replace `path` by `document` as JSON: readers see the old file or the new, never half."""
    path = Path(path)
    data = (json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()
    # One temporary name per process and thread, so two writers never share one.
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if durable:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        partial.unlink(missing_ok=True)
        raise
    os.close(fd)
    try:
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if durable:
        fsync_directory(path.parent)


def read_json(path: Path) -> Any | None:
    """The JSON in `path`, or None when it is missing or unreadable (the caller starts afresh)."""
    try:
        return json.loads(Path(path).read_bytes())
    except (OSError, ValueError):
        return None


def fsync_directory(directory: Path) -> None:
    """Make a rename or unlink in `directory` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
