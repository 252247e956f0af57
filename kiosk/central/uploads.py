"""Reading an upload's multipart body as it streams in, never all of it in memory.

The body is `metadata` (JSON, small) and `audio` (FLAC, a few MB). The audio part goes
straight to a temporary file in the audio folder's `.incoming/` (so the final rename is
atomic) while it is hashed and counted; the metadata part is held in memory up to 64 KiB.
The whole body is limited: a Content-Length above the limit is refused before anything
is read, and a body that grows past it (chunked, or lying about its length) is cut off
as soon as it does. Parsing and writing run in a worker thread, so a slow disk never
stalls the server's other requests; the chunks go there `FEED_BYTES` at a time.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from kiosk.central.errors import Refusal, TooLarge, Unprocessable
from kiosk.central.recordings import FLAC_MAGIC, METADATA_LIMIT, AudioStore, ReceivedAudio

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

PARTS = ("metadata", "audio")
FEED_BYTES = 512 * 1024
"""The body's chunks (tens of KB each) are gathered up to this size, then parsed, written
and hashed in one hand-over to an upload thread: a hand-over costs the server more than
the work on one chunk (issue 18, bench/central_sync.py). It bounds an upload's memory."""

# An upload's file and database work runs on these threads, handed over with asyncio's
# own executor call, as the lease routes' is (FastAPI's thread pool costs several times
# more per hand-over, and an upload makes about six).
_UPLOAD_THREADS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="kiosk-uploads")


async def in_upload_thread(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` on one of the upload threads.

    A request cancelled meanwhile still waits for its thread to finish (as FastAPI's pool
    does), so what it does next (remove a half-received file) never runs beside it.
    """
    future = asyncio.get_running_loop().run_in_executor(_UPLOAD_THREADS, partial(function, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        while not future.done():
            with suppress(asyncio.CancelledError):
                await asyncio.wait([future])
        raise


@dataclass(frozen=True)
class ReceivedUpload:
    """The two parts of an upload: the metadata's bytes, the audio in a temporary file."""

    metadata: bytes
    audio: ReceivedAudio


def check_declared_length(request: Request, limit: int) -> None:
    """Refuse a body that says it is too large, before reading a byte of it."""
    declared = request.headers.get("content-length")
    if declared is None:
        return
    if not declared.isdigit():
        raise Refusal("Content-Length is not a number", status=400)
    if int(declared) > limit:
        refusal = TooLarge(
            f"the upload is {int(declared)} bytes; this store accepts at most {limit} ([server] max_upload_mb)"
        )
        refusal.close_connection = True
        raise refusal


async def receive_upload(request: Request, audio: AudioStore, limit: int) -> ReceivedUpload:
    """Stream the body into `ReceivedUpload`; Refusal (413, 415, 422) when it is not one."""
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        refusal = Refusal("send multipart/form-data with the parts metadata and audio", status=415)
        refusal.close_connection = True
        raise refusal
    check_declared_length(request, limit)
    parts = _Parts(audio)
    try:
        parser = MultipartParser(boundary, callbacks=parts.callbacks())
    except ValueError as error:
        raise Unprocessable(f"the multipart boundary is not usable: {error}") from None
    received = 0
    streamed = False
    pending: list[bytes] = []
    pending_bytes = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise TooLarge(
                    f"the upload is larger than {limit} bytes, the most this store accepts ([server] max_upload_mb)"
                )
            if chunk:
                pending.append(chunk)
                pending_bytes += len(chunk)
                if pending_bytes >= FEED_BYTES:
                    await in_upload_thread(_feed, parser, pending)
                    pending, pending_bytes = [], 0
        streamed = True
        return await in_upload_thread(_feed_and_finish, parser, pending, parts)
    except BaseException as error:
        await in_upload_thread(parts.discard)
        if isinstance(error, Refusal) and not streamed:
            error.close_connection = True
        raise


def _feed(parser: MultipartParser, chunks: list[bytes]) -> None:
    try:
        for chunk in chunks:
            parser.write(chunk)
    except MultipartParseError as error:
        raise Unprocessable(f"the body is not valid multipart/form-data: {error}") from None


def _feed_and_finish(parser: MultipartParser, chunks: list[bytes], parts: _Parts) -> ReceivedUpload:
    _feed(parser, chunks)
    return parts.finish()


@dataclass
class _Parts:
    """The parser's callbacks: which part is streaming, and where its bytes go."""

    store: AudioStore
    metadata: bytearray = field(default_factory=bytearray)
    seen: set[str] = field(default_factory=set)
    ended: bool = False
    _current: str | None = None
    _header_name: bytearray = field(default_factory=bytearray)
    _header_value: bytearray = field(default_factory=bytearray)
    _headers: dict[bytes, bytes] = field(default_factory=dict)
    _audio_path: Path | None = None
    _audio_fd: int | None = None
    _digest: Any = field(default_factory=hashlib.sha256)
    _size: int = 0
    _head: bytes = b""
    _audio_done: bool = False

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._header_name.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._current = None

    def _header_end(self) -> None:
        self._headers[bytes(self._header_name).strip().lower()] = bytes(self._header_value).strip()
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get(b"content-disposition"))
        name = options.get(b"name", b"").decode("latin-1")
        if disposition != b"form-data" or name not in PARTS:
            raise Unprocessable(f"unexpected part {name!r}: send exactly two parts, metadata and audio")
        if name in self.seen:
            raise Unprocessable(f"the part {name!r} is sent twice")
        self.seen.add(name)
        self._current = name
        if name == "audio":
            self._audio_path, self._audio_fd = self.store.new_incoming()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        piece = data[start:end]
        if self._current == "metadata":
            if len(self.metadata) + len(piece) > METADATA_LIMIT:
                raise Unprocessable(f"the metadata part is larger than {METADATA_LIMIT} bytes")
            self.metadata.extend(piece)
        elif self._current == "audio" and self._audio_fd is not None:
            view = memoryview(piece)
            while view:
                view = view[os.write(self._audio_fd, view) :]
            self._digest.update(piece)
            if len(self._head) < len(FLAC_MAGIC):
                self._head += piece[: len(FLAC_MAGIC) - len(self._head)]
            self._size += len(piece)

    def _part_end(self) -> None:
        if self._current == "audio":
            self._audio_done = True
        self._current = None

    def _end(self) -> None:
        self.ended = True

    def finish(self) -> ReceivedUpload:
        """Check the body was whole, hand both parts over (the audio is made durable where it is kept)."""
        if not self.ended:
            raise Unprocessable("the multipart body ended before its closing boundary")
        missing = [name for name in PARTS if name not in self.seen]
        if missing:
            raise Unprocessable(f"the upload has no {' and no '.join(missing)} part")
        if self._audio_fd is None or self._audio_path is None or not self._audio_done:
            raise Unprocessable("the audio part is not complete")
        os.close(self._audio_fd)
        self._audio_fd = None
        audio = ReceivedAudio(self._audio_path, self._digest.hexdigest(), self._size, self._head == FLAC_MAGIC)
        return ReceivedUpload(bytes(self.metadata), audio)

    def discard(self) -> None:
        """Forget a refused or broken upload: its temporary audio is removed."""
        if self._audio_fd is not None:
            os.close(self._audio_fd)
            self._audio_fd = None
        if self._audio_path is not None:
            self._audio_path.unlink(missing_ok=True)
