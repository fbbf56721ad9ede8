"""Reading an API response body whole, under a cap on its decoded size.

The SDK asks for gzip or deflate and decodes them itself, a bounded amount at a
time, so that neither an endless body nor a compression bomb can grow memory
past the cap: the read stops as soon as the decoded size passes it.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Protocol, cast

import httpx

ACCEPT_ENCODING = "gzip, deflate"
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024


def closing(chunks: AsyncIterator[bytes]) -> contextlib.aclosing[AsyncGenerator[bytes, None]]:
    """`async with closing(response.aiter_raw()) as chunks:` closes httpx's generator
    (httpx types it an iterator) when the read stops early, rather than leaving it to
    the garbage collector: trio reports an async generator collected unfinished."""
    return contextlib.aclosing(cast("AsyncGenerator[bytes, None]", chunks))


class BodyError(Exception):
    """The body cannot be read as sent (too large, or in an encoding not asked for)."""


class _Decoder(Protocol):
    def decode(self, data: bytes, room: int) -> bytes: ...

    def flush(self, room: int) -> bytes: ...


class _Identity:
    def decode(self, data: bytes, room: int) -> bytes:
        return data

    def flush(self, room: int) -> bytes:
        return b""


class _Zlib:
    """gzip, or deflate (zlib-wrapped, or raw as some servers send it)."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._started = False
        self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)

    def decode(self, data: bytes, room: int) -> bytes:
        if not self._started and not self._gzip and data:
            self._started = True
            try:
                return self._inflate(data, room)
            except zlib.error:
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self._started = True
        return self._inflate(data, room)

    def _inflate(self, data: bytes, room: int) -> bytes:
        # Never more than `room` + 1 bytes at once: one byte over is enough to know.
        out = self._inflater.decompress(data, room + 1)
        if self._inflater.unconsumed_tail:
            raise BodyError("too large")
        return out

    def flush(self, room: int) -> bytes:
        return self._inflater.flush(room + 1)


def _decoder(content_encoding: str) -> _Decoder:
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return _Identity()
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return _Zlib(gzip=codings[0] != "deflate")
    raise BodyError(f"unsupported Content-Encoding {content_encoding[:40]!r}")


async def read_limited(response: httpx.Response, limit: int) -> bytes:
    """The decoded body of a streamed `response`, or `BodyError` past `limit` bytes."""
    if response.is_stream_consumed:
        # Built whole in memory by the transport (httpx.MockTransport, for one).
        if len(response.content) > limit:
            raise BodyError("too large")
        return response.content
    decoder = _decoder(response.headers.get("content-encoding", ""))
    length = response.headers.get("content-length", "")
    if isinstance(decoder, _Identity) and length.isdigit() and int(length) > limit:
        raise BodyError("too large")
    chunks: list[bytes] = []
    size = 0
    body = response.aiter_raw()
    try:
        try:
            async for raw in body:
                data = decoder.decode(raw, limit - size)
                size += len(data)
                if size > limit:
                    raise BodyError("too large")
                chunks.append(data)
        except BaseException:
            # As `closing` does; a body read to its end needs no close (the common case).
            await cast("AsyncGenerator[bytes, None]", body).aclose()
            raise
        tail = decoder.flush(limit - size)
    except zlib.error as exc:
        raise BodyError(f"body does not decode as {response.headers['content-encoding']}") from exc
    size += len(tail)
    if size > limit:
        raise BodyError("too large")
    chunks.append(tail)
    return b"".join(chunks)
