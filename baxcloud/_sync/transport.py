"""The blocking client's connection pool: the async pipeline over blocking I/O.

A call on the calling thread's own event loop (see `loops.py`) is the only
thing that loop runs, so waiting in a socket call is the same as awaiting it:
an `httpx.AsyncClient` whose transport does its I/O with a blocking
`httpx.Client` (a `DirectClient`, which hands the calls straight to it) makes
the blocking client as fast as plain `httpx.Client`. It is not tied to any
event loop, so every calling thread shares one.

With a user's blocking client (`BaxCloud(http_client=httpx.Client(...))`) the
transport sends through that client instead (`http_backend.send_blocking`).
On the portal's loop, which serves the calls made from inside running event
loops, the blocking I/O runs on worker threads (`offload`): the portal's loop
keeps serving other calls meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from .._core.direct_client import DirectClient
from .._core.http_backend import send_blocking, shell
from .._core.pool_assign import speed_up_client
from .._core.pools import (
    DEADLINE,
    DEFAULT_LIMITS,
    SELF_TIMED,
    closed_client_error,
    reclaim_orphaned_connections,
)


class BlockingPool:
    """An `httpx.AsyncClient` over a `BlockingTransport`, closed without an event loop."""

    def __init__(
        self, proxy: httpx.Proxy | None = None, user_client: Any = None, offload: bool = False
    ) -> None:
        self._transport = BlockingTransport(proxy, user_client, offload)
        self.client: httpx.AsyncClient
        if user_client is None:
            self.client = DirectClient(
                limits=DEFAULT_LIMITS, follow_redirects=False, transport=self._transport
            )
        else:
            self.client = shell(user_client, self._transport)
        if not offload:
            SELF_TIMED.add(self.client)

    def close(self) -> None:
        self._transport.close()


class BlockingTransport(httpx.AsyncBaseTransport):
    """An async transport that does its I/O with a blocking `httpx.Client`.

    Proxies (`proxy=`, else from the environment), pool limits, timeouts and
    errors are that client's own. Its loop never regains control while a socket
    call waits, so the cancel scope that bounds an attempt cannot fire: the
    transport enforces the attempt's deadline (the `DEADLINE` request extension)
    itself.
    """

    def __init__(self, proxy: httpx.Proxy | None, user_client: Any, offload: bool) -> None:
        self._send: Callable[[httpx.Request], httpx.Response]
        self._offload = offload
        self._client = user_client
        self._owned = user_client is None
        if user_client is None:
            client = httpx.Client(limits=DEFAULT_LIMITS, follow_redirects=False, proxy=proxy)
            speed_up_client(client)
            self._client = client
            # The transport httpx.Client picks for a URL (a proxy's or the default):
            # sending through it directly skips a second pass of cookie and auth
            # handling, which the outer client does already.
            transport_for_url = client._transport_for_url

            def send(request: httpx.Request) -> httpx.Response:
                if client.is_closed:
                    raise closed_client_error()
                transport = transport_for_url(request.url)
                try:
                    response = transport.handle_request(request)
                except httpx.TransportError:
                    if client.is_closed:  # its socket closed under it by `close()`
                        raise closed_client_error() from None
                    raise
                if client.is_closed:
                    # Closed by another thread while this call started: the pool it
                    # used may have opened a connection after closing its others.
                    response.close()
                    transport.close()
                    raise closed_client_error()
                return response

            self._send = send
        else:
            self._send = lambda request: send_blocking(user_client, request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        deadline: float | None = request.extensions.get(DEADLINE)
        if deadline is not None:
            _clamp_timeouts(request, deadline)
        try:
            response = await self._send_offloaded(request) if self._offload else self._send(request)
        except BaseException:
            # Blocking pools lose slots to failed tunnels as async ones do (pools.py).
            reclaim_orphaned_connections(self._client)
            raise
        assert isinstance(response.stream, httpx.SyncByteStream)  # as httpx.Client checks
        # The same response, its body read through the async interface.
        response.stream = _AsyncBody(response.stream, deadline, self._offload)
        return response

    async def _send_offloaded(self, request: httpx.Request) -> httpx.Response:
        """`_send` on a worker thread. A blocking socket wait cannot be interrupted: a
        call cancelled meanwhile waits for it, then closes the response it no longer wants.
        """
        import anyio.to_thread  # deferred: only the portal offloads (import time)

        sent: list[httpx.Response] = []

        def send() -> httpx.Response:
            sent.append(self._send(request))
            return sent[0]

        try:
            return await anyio.to_thread.run_sync(send)
        except BaseException:
            if sent:
                sent[0].close()
            raise

    def close(self) -> None:
        if self._owned:  # a user's client stays theirs to close
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

    def __init__(self, stream: httpx.SyncByteStream, deadline: float | None, offload: bool) -> None:
        self._stream = stream
        self._chunks = iter(stream)
        self._deadline = deadline
        self._offload = offload

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self._offload:
            import anyio.to_thread  # deferred: only the portal offloads (import time)

            chunk = await anyio.to_thread.run_sync(next, self._chunks, None)
        else:
            chunk = next(self._chunks, None)
        if chunk is None:
            raise StopAsyncIteration
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise httpx.ReadTimeout("the attempt's deadline passed while reading the body")
        return chunk

    async def aclose(self) -> None:
        self._stream.close()
