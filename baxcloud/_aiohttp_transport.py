"""`aiohttp_http_client()`: an `httpx.AsyncClient` that sends over aiohttp.

At high concurrency (64 to 256 calls in flight) `AsyncBaxCloud` completes its
calls several times faster over aiohttp's connection pool than over httpx's
default one (benchmarks/run.py, `bench_aiohttp_transport`; the numbers are in
docs/http-clients.md). The transport is the httpx-aiohttp package's, installed
by the `baxcloud[aiohttp-transport]` extra; it is imported only when called.

httpx-aiohttp (0.2) reports every aiohttp connection error as
`httpx.ConnectTimeout`: a refused connection or a server that hung up would
be an `APITimeoutError`. The client made here reports those as httpx's
`ConnectError` and `ReadError`, and only real timeouts as timeouts.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from ._core.pools import DEFAULT_LIMITS

__all__ = ["aiohttp_http_client"]


def aiohttp_http_client(**settings: Any) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` over aiohttp, for `AsyncBaxCloud(http_client=...)`.

    Args:
        settings: keyword arguments of `httpx.AsyncClient` (`proxy`, `verify`,
            `headers`, ...); `limits` and `follow_redirects` default to the SDK's
            own (100 connections, all kept alive; no redirects followed).

    Like any client passed as `http_client`, it is yours to close
    (`async with aiohttp_http_client() as http: ...`), and it belongs to the
    event loop that first uses it.
    """
    try:
        from httpx_aiohttp import HttpxAiohttpClient
    except ImportError:
        raise ImportError(
            "aiohttp_http_client() needs the httpx-aiohttp package: "
            "pip install 'baxcloud[aiohttp-transport]'"
        ) from None

    class Client(HttpxAiohttpClient):
        # httpx-aiohttp's own extension points: the transports, one per proxy.
        def _init_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
            return _TrueErrors(super()._init_transport(*args, **kwargs))

        def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
            return _TrueErrors(super()._init_proxy_transport(*args, **kwargs))

    settings.setdefault("limits", DEFAULT_LIMITS)
    settings.setdefault("follow_redirects", False)
    return Client(**settings)


@contextlib.contextmanager
def _true_errors() -> Iterator[None]:
    try:
        yield
    except httpx.ConnectTimeout as exc:
        cause = exc.__cause__
        if cause is None or isinstance(cause, TimeoutError):
            raise
        import aiohttp

        connecting = isinstance(cause, aiohttp.ClientConnectorError)
        error = httpx.ConnectError if connecting else httpx.ReadError
        raise error(str(exc) or type(cause).__name__, request=exc._request) from cause


class _TrueErrors(httpx.AsyncBaseTransport):
    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with _true_errors():
            response = await self._transport.handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _TrueErrorsBody(response.stream)
        return response

    async def aclose(self) -> None:
        await self._transport.aclose()


class _TrueErrorsBody(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _true_errors():
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        with _true_errors():
            await self._stream.aclose()
