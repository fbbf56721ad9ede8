"""The blocking client's connection pool: the async pipeline over blocking I/O.

A call on the calling thread's own event loop (see `loops.py`) is the only
thing that loop runs, so waiting in a socket call is the same as awaiting it:
an `httpx.AsyncClient` whose transport does its I/O with a blocking
`httpx.Client` makes the blocking client as fast as plain `httpx.Client`
(its `send` hands the pipeline's requests straight to that transport). It is
not tied to any event loop, so every calling thread shares one.

With a user's blocking client (`BaxCloud(http_client=httpx.Client(...))`) the
transport sends through that client instead (`http_backend.send_blocking`).
On the portal's loop, which serves the calls made from inside running event
loops, the blocking I/O runs on worker threads (`offload`): the portal's loop
keeps serving other calls meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx

from .._core.http_backend import send_blocking, shell
from .._core.pools import DEADLINE, DEFAULT_LIMITS, SELF_TIMED


class BlockingPool:
    """An `httpx.AsyncClient` over a `BlockingTransport`, closed without an event loop."""

    def __init__(
        self, proxy: httpx.Proxy | None = None, user_client: Any = None, offload: bool = False
    ) -> None:
        self._transport = BlockingTransport(proxy, user_client, offload)
        if user_client is None:
            client_class = httpx.AsyncClient if offload else _DirectClient
            self.client = client_class(
                limits=DEFAULT_LIMITS, follow_redirects=False, transport=self._transport
            )
        else:
            self.client = shell(user_client, self._transport)
        if not offload:
            SELF_TIMED.add(self.client)

    def close(self) -> None:
        self._transport.close()


_httpx_log = logging.getLogger("httpx")


class _DirectClient(httpx.AsyncClient):
    """The SDK's own blocking pool: the pipeline's requests go straight to its transport.

    Nothing stands between them (no auth, event hooks or redirects to follow), and
    httpx's layers around a send cost about as much as the SDK's whole pipeline on
    a call. The response is what `AsyncClient.send` gives: its request, cookies
    kept, `elapsed` set once it is closed. Any other use of `send` (a download's,
    options, httpx's own request log wanted) takes httpx's path.
    """

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        transport = self._transport
        if (
            stream
            and auth is httpx.USE_CLIENT_DEFAULT
            and follow_redirects is httpx.USE_CLIENT_DEFAULT
            and "timeout" in request.extensions
            and not self.is_closed
            and isinstance(transport, BlockingTransport)
            and not _httpx_log.isEnabledFor(logging.INFO)
        ):
            response = transport.send_now(request)
            if "set-cookie" in response.headers:
                self.cookies.extract_cookies(response)
            return response
        return await super().send(
            request, stream=stream, auth=auth, follow_redirects=follow_redirects
        )


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
            self._client = client
            # The transport httpx.Client picks for a URL (a proxy's or the default):
            # sending through it directly skips a second pass of cookie and auth
            # handling, which the outer client does already.
            transport_for_url = client._transport_for_url
            self._send = lambda request: transport_for_url(request.url).handle_request(request)
        else:
            self._send = lambda request: send_blocking(user_client, request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self._offload:
            return self.send_now(request)
        deadline = _deadline(request)
        response = await self._send_offloaded(request)
        return _with_async_body(response, deadline, offload=True)

    def send_now(self, request: httpx.Request) -> httpx.Response:
        """The response, its head read on this thread; its body is read asynchronously."""
        deadline = _deadline(request)
        start = time.perf_counter()
        try:
            response = self._send(request)
        except httpx.RequestError as exc:
            exc.request = request  # as httpx's clients do
            raise
        response.request = request
        return _with_async_body(response, deadline, offload=False, start=start)

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


def _deadline(request: httpx.Request) -> float | None:
    deadline: float | None = request.extensions.get(DEADLINE)
    if deadline is not None:
        _clamp_timeouts(request, deadline)
    return deadline


def _with_async_body(
    response: httpx.Response, deadline: float | None, *, offload: bool, start: float | None = None
) -> httpx.Response:
    """The same response, its body read through the async interface."""
    assert isinstance(response.stream, httpx.SyncByteStream)  # as httpx.Client checks
    response.stream = _AsyncBody(response, deadline, offload, start)
    return response


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
    """A blocking response body as an async iterator (not a generator: no event-loop hooks).

    With `start` (the `perf_counter()` when the request went out), closing it sets
    the response's `elapsed`, as httpx's clients do.
    """

    def __init__(
        self, response: httpx.Response, deadline: float | None, offload: bool, start: float | None
    ) -> None:
        stream = response.stream
        assert isinstance(stream, httpx.SyncByteStream)
        self._stream = stream
        self._chunks = iter(stream)
        self._deadline = deadline
        self._offload = offload
        self._timed = None if start is None else (response, start)

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
        if self._timed is not None:
            response, start = self._timed
            response.elapsed = timedelta(seconds=time.perf_counter() - start)
