"""The blocking client's connection pool: the async pipeline over blocking I/O.

A call on the calling thread's own event loop (see `loops.py`) is the only
thing that loop runs, so waiting in a socket call is the same as awaiting it:
an `httpx.AsyncClient` whose transport does its I/O with a blocking
`httpx.Client` makes the blocking client as fast as plain `httpx.Client`. It
is not tied to any event loop, so every calling thread shares one.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import httpx

from .._core.pools import DEADLINE, DEFAULT_LIMITS


class BlockingPool:
    """An `httpx.AsyncClient` over a `BlockingTransport`, closed without an event loop."""

    def __init__(self) -> None:
        self._transport = BlockingTransport()
        self.client = httpx.AsyncClient(
            limits=DEFAULT_LIMITS, follow_redirects=False, transport=self._transport
        )

    def close(self) -> None:
        self._transport.close()


class BlockingTransport(httpx.AsyncBaseTransport):
    """An async transport that does its I/O with a blocking `httpx.Client`.

    Proxies from the environment, pool limits, timeouts and errors are that
    client's own. Its loop never regains control while a socket call waits,
    so the cancel scope that bounds an attempt cannot fire: the transport
    enforces the attempt's deadline (the `DEADLINE` request extension) itself.
    """

    def __init__(self) -> None:
        self._client = httpx.Client(limits=DEFAULT_LIMITS, follow_redirects=False)
        # The transport httpx.Client picks for a URL (a proxy's, from the environment,
        # or the default): sending through it directly skips a second pass of cookie
        # and auth handling, which the outer client does already.
        self._transport_for_url: Callable[[httpx.URL], httpx.BaseTransport] = (
            self._client._transport_for_url
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        deadline: float | None = request.extensions.get(DEADLINE)
        if deadline is not None:
            _clamp_timeouts(request, deadline)
        response = self._transport_for_url(request.url).handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)  # as httpx.Client checks
        # The same response, its body read through the async interface.
        response.stream = _AsyncBody(response.stream, deadline)
        return response

    def close(self) -> None:
        self._client.close()

    async def aclose(self) -> None:
        self.close()


def _clamp_timeouts(request: httpx.Request, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise httpx.PoolTimeout("the attempt's deadline passed", request=request)
    timeouts = dict(request.extensions.get("timeout", {}))
    for phase in ("connect", "read", "write", "pool"):
        current = timeouts.get(phase)
        timeouts[phase] = remaining if current is None else min(current, remaining)
    request.extensions["timeout"] = timeouts


class _AsyncBody(httpx.AsyncByteStream):
    """A blocking response body as an async iterator (not a generator: no event-loop hooks)."""

    def __init__(self, stream: httpx.SyncByteStream, deadline: float | None) -> None:
        self._stream = stream
        self._chunks = iter(stream)
        self._deadline = deadline

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = next(self._chunks)
        except StopIteration:
            raise StopAsyncIteration from None
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise httpx.ReadTimeout("the attempt's deadline passed while reading the body")
        return chunk

    async def aclose(self) -> None:
        self._stream.close()
