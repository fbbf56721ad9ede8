"""The httpx connection pools behind a client and its `with_options` copies.

httpx's async pools belong to the event loop that opened their connections,
so the SDK keeps one pool per event loop: an async program normally has one;
the blocking client runs each calling thread on a loop of its own (see
`_sync/bridge.py`). Pools are created on first use (building an SSL context is
not free) and forgotten after `os.fork()`, since a child must never reuse its
parent's sockets. A client passed in by the user is used as is, for every call.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from .errors import BaxCloudError

# Keep-alive for as many connections as may be open: bulk jobs then never churn sockets.
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)


def running_loop() -> Any:
    """The running asyncio loop, or None (no loop, or another async library)."""
    asyncio = sys.modules.get("asyncio")
    return None if asyncio is None else asyncio._get_running_loop()


class HTTPPools:
    def __init__(self, client: httpx.AsyncClient | None) -> None:
        self._user_client = client
        self.owned = client is None
        self.closed = False
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._by_loop: dict[Any, httpx.AsyncClient] = {}
        self._last: tuple[Any, httpx.AsyncClient] | None = None
        # Loops that run one blocking call at a time (the blocking client's
        # per-thread loops): their pools do their I/O with httpx's sync transport.
        self.blocking_loops: weakref.WeakSet[Any] = weakref.WeakSet()

    def get(self) -> httpx.AsyncClient:
        """The pool for the running event loop."""
        if self.closed:
            raise BaxCloudError("this BaxCloud client has been closed")
        if self._user_client is not None:
            return self._user_client
        loop = running_loop()
        last = self._last
        if last is not None and last[0] is loop and self._pid == os.getpid():
            return last[1]
        return self._pool_for(loop)

    def _pool_for(self, loop: Any) -> httpx.AsyncClient:
        if self._pid != os.getpid():
            self._lock = threading.Lock()
            self._by_loop, self._last, self._pid = {}, None, os.getpid()
            self.blocking_loops = weakref.WeakSet()
        with self._lock:
            client = self._by_loop.get(loop)
            if client is None:
                # Pools of loops that were closed without closing us cannot be
                # closed any more; drop them so they do not pile up.
                for stale in [k for k in self._by_loop if _is_closed(k)]:
                    del self._by_loop[stale]
                transport = BlockingTransport() if loop in self.blocking_loops else None
                client = httpx.AsyncClient(
                    limits=DEFAULT_LIMITS, follow_redirects=False, transport=transport
                )
                self._by_loop[loop] = client
            self._last = (loop, client)
            return client

    async def aclose_running_loop_pool(self) -> None:
        """Close the pool of the running loop (if it has one)."""
        loop = running_loop()
        with self._lock:
            client = self._by_loop.pop(loop, None)
            if self._last is not None and self._last[0] is loop:
                self._last = None
        if client is not None and self._pid == os.getpid():
            await client.aclose()

    async def aclose(self) -> None:
        """Close this loop's pool and refuse further calls.

        Pools opened on other event loops are dropped; the blocking client
        closes its own per-thread pools on their loops before calling this.
        """
        if self.closed:
            return
        self.closed = True
        await self.aclose_running_loop_pool()
        with self._lock:
            self._by_loop.clear()
            self._last = None


def _is_closed(loop: Any) -> bool:
    is_closed = getattr(loop, "is_closed", None)
    return bool(is_closed()) if is_closed is not None else False


class BlockingTransport(httpx.AsyncBaseTransport):
    """An async transport that does its I/O with a blocking `httpx.Client`.

    Only for a loop that runs a single call at a time on behalf of a blocking
    caller: there, waiting in a socket call is the same as awaiting it, and
    skipping the async I/O machinery makes the blocking client as fast as
    plain `httpx.Client`. Proxies from the environment, pool limits, timeouts
    and errors are that client's own.

    Such a loop never regains control while a socket call waits, so the cancel
    scope that bounds an attempt cannot fire here: the transport enforces the
    attempt's deadline (the `DEADLINE` request extension) itself.
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
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_AsyncBody(response, deadline),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        self._client.close()


# A request extension: the `time.monotonic()` by which the attempt must be over.
DEADLINE = "baxcloud.deadline"


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
    def __init__(self, response: httpx.Response, deadline: float | None) -> None:
        self._response = response
        self._deadline = deadline

    async def __aiter__(self) -> AsyncIterator[bytes]:
        deadline = self._deadline
        for chunk in self._response.iter_raw():
            if deadline is not None and time.monotonic() > deadline:
                raise httpx.ReadTimeout("the attempt's deadline passed while reading the body")
            yield chunk

    async def aclose(self) -> None:
        self._response.close()


def reclaim_orphaned_connections(client: httpx.AsyncClient) -> None:
    """Give back pool slots held by connections that no request will ever use.

    httpcore (1.0.9) creates a connection for a queued request when a slot frees
    up; if that request then times out or is cancelled before it starts using the
    connection, the connection stays in the pool unopened, never reusable and
    never closed, and holds its slot for good: enough of them and every later call
    fails with PoolTimeout (encode/httpcore#1093). Called after a failed send, this
    marks such connections failed, so the pool drops them at its next request.
    It reads httpcore's internals defensively and does nothing if they change.
    """
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        connections = getattr(pool, "_connections", None)
        requests = getattr(pool, "_requests", None)
        if not isinstance(connections, list) or not isinstance(requests, list):
            continue
        in_use = {id(getattr(request, "connection", None)) for request in requests}
        for connection in connections:
            if (
                id(connection) not in in_use
                and getattr(connection, "_connection", True) is None
                and getattr(connection, "_connect_failed", None) is False
            ):
                connection._connect_failed = True
