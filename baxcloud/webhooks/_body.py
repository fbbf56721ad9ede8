"""Read a request body chunk by chunk, stopping as soon as it passes the cap.

Every framework helper reads through here, so an oversized body, declared by
Content-Length or sent chunked without one, costs at most the cap plus one chunk
of memory and is rejected without reading the rest.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterable, Iterable, Iterator
from typing import Any, Protocol

from .._core.errors import WebhookVerificationError

__all__ = [
    "CHUNK_SIZE",
    "WebhookPayloadTooLargeError",
    "aread_capped",
    "check_declared_length",
    "file_chunks",
    "read_capped",
]

CHUNK_SIZE = 64 * 1024


class WebhookPayloadTooLargeError(WebhookVerificationError):
    """The body is larger than the receiver accepts; the framework helpers answer 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"payload is larger than {limit} bytes")
        self.limit = limit


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def check_declared_length(content_length: Any, limit: int) -> None:
    """Reject a declared Content-Length above `limit` before reading anything.

    An absent or malformed value is left to the capped read (servers refuse a
    malformed Content-Length before the application sees the request).
    """
    if content_length is None:
        return
    try:
        length = int(content_length)
    except (TypeError, ValueError):
        return
    if length > limit:
        raise WebhookPayloadTooLargeError(limit)


class _Collector:
    __slots__ = ("_limit", "_parts", "_size")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._limit:
            raise WebhookPayloadTooLargeError(self._limit)
        self._parts.append(chunk)

    def body(self) -> bytes:
        return b"".join(self._parts)


def read_capped(chunks: Iterable[bytes], limit: int) -> bytes:
    """The whole body, or WebhookPayloadTooLargeError as soon as it passes `limit`."""
    collector = _Collector(limit)
    for chunk in chunks:
        collector.add(chunk)
    return collector.body()


async def aread_capped(chunks: AsyncIterable[bytes], limit: int) -> bytes:
    """`read_capped` for an async source of chunks."""
    collector = _Collector(limit)
    async for chunk in chunks:
        collector.add(chunk)
    return collector.body()


def file_chunks(stream: _Readable) -> Iterator[bytes]:
    """Chunks of at most CHUNK_SIZE from a binary stream, until it returns b""."""
    return iter(functools.partial(stream.read, CHUNK_SIZE), b"")
