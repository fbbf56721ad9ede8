"""The HTTP clients a user may pass as `http_client`, behind the httpx interface.

The pipeline, downloads and the blocking transport speak httpx. Any other client
is used through a transport adapter: the SDK's request is sent by the user's
client (so its default headers, event hooks, proxies, certificates, mounts and
transport apply; not its `auth`: the API key authenticates), and its response
comes back as an `httpx.Response` whose body streams from the user's. The two
libraries' classes differ but their interfaces match, so one adapter serves both:

- `httpx2` (Pydantic's maintained fork of httpx, the `baxcloud[httpx2]` extra):
  its errors become httpx's error of the same name (`httpx2.ReadTimeout` ->
  `httpx.ReadTimeout`, raised from the original), which the pipeline maps to
  `APITimeoutError` and `APIConnectionError` as for httpx;
- a blocking `httpx.Client` or `httpx2.Client`, for the blocking `BaxCloud`
  (`baxcloud/_sync/transport.py` runs it under the async pipeline).

httpx2 is never imported here: a client can only be an httpx2 client if the
user has imported httpx2 already.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator, Iterator
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import ModuleType
from typing import Any

import httpx

from .pools import reclaim_orphaned_connections


def _httpx2() -> ModuleType | None:
    return sys.modules.get("httpx2")


def is_async_client(client: object) -> bool:
    if isinstance(client, httpx.AsyncClient):
        return True
    module = _httpx2()
    return module is not None and isinstance(client, module.AsyncClient)


def is_blocking_client(client: object) -> bool:
    if isinstance(client, httpx.Client):
        return True
    module = _httpx2()
    return module is not None and isinstance(client, module.Client)


def check_http_client(client: object, *, blocking_allowed: bool) -> None:
    """A clear `TypeError` for anything but a client the SDK can use."""
    if client is None or is_async_client(client):
        return
    if blocking_allowed and is_blocking_client(client):
        return
    if is_blocking_client(client):
        raise TypeError(
            "AsyncBaxCloud needs an async http_client (httpx.AsyncClient or "
            "httpx2.AsyncClient); pass a blocking httpx.Client to BaxCloud"
        )
    accepted = "httpx.Client or httpx.AsyncClient" if blocking_allowed else "httpx.AsyncClient"
    raise TypeError(f"http_client must be an {accepted} (or httpx2's), not {type(client).__name__}")


def check_proxy(proxy: object, http_client: object) -> httpx.Proxy | None:
    """`proxy=` as an `httpx.Proxy`, checked before any request.

    Error messages never repeat the URL: it may carry the proxy's password.
    """
    if proxy is None:
        return None
    if http_client is not None:
        raise ValueError(
            "pass either proxy= or http_client=, not both: "
            "configure the proxy on your own client (httpx.Client(proxy=...))"
        )
    if isinstance(proxy, httpx.Proxy):
        return proxy
    if not isinstance(proxy, str | httpx.URL):
        raise TypeError(f"proxy must be a URL (str) or an httpx.Proxy, not {type(proxy).__name__}")
    try:
        return httpx.Proxy(proxy)
    except (ValueError, httpx.InvalidURL):
        raise ValueError(
            "proxy must be an http://, https://, socks5:// or socks5h:// URL"
        ) from None


def adapted_async_client(client: Any) -> httpx.AsyncClient:
    """The client the pipeline uses for a user's async `client`."""
    if isinstance(client, httpx.AsyncClient):
        return client
    return shell(client, AsyncClientTransport(client))


def shell(client: Any, transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` over `transport`, which sends through the user's `client`.

    The shell builds each request as an `httpx.AsyncClient` of the user's would:
    their default headers (copied now) under the SDK's, their choice to
    follow redirects or not. Each hop then goes to the user's client as built:
    a download, which drops `Authorization` and follows no redirect, stays so.
    The user's client keeps the cookies (and they are sent, `_forward`) and reads
    the environment; the shell does neither.
    """
    return httpx.AsyncClient(
        transport=transport,
        headers=client.headers.raw,
        follow_redirects=client.follow_redirects,
        trust_env=False,
        cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),
    )


def _forward(client: Any, request: httpx.Request, content: bytes) -> Any:
    """`request` as a request of the user's library, exactly as the shell built it."""
    library: Any = httpx if isinstance(client, httpx.Client | httpx.AsyncClient) else _httpx2()
    forwarded = library.Request(
        request.method,
        str(request.url),
        headers=request.headers.raw,
        content=content,
        extensions=dict(request.extensions),
    )
    if client.cookies:
        # `send` sends a request as it is: the cookies the user's client holds (a
        # server's, or the user's own) go with it as its `build_request` would add them.
        client.cookies.set_cookie_header(forwarded)
    return forwarded


# The shell has applied the user's settings and follows redirects itself, hop by hop.
_AS_BUILT = {"stream": True, "follow_redirects": False, "auth": None}


@contextlib.contextmanager
def _httpx_errors(request: httpx.Request) -> Iterator[None]:
    """httpx2's request errors raised as httpx's error of the same name, from the original."""
    try:
        yield
    except Exception as exc:
        module = _httpx2()
        if module is None or not isinstance(exc, module.RequestError):
            raise
        for cls in type(exc).__mro__:
            mapped = getattr(httpx, cls.__name__, None)
            if isinstance(mapped, type) and issubclass(mapped, httpx.RequestError):
                raise mapped(str(exc), request=request) from exc
        raise  # pragma: no cover (every httpx2.RequestError has an httpx twin)


def _response(foreign: Any, request: httpx.Request, stream: Any) -> httpx.Response:
    """The user's response as an `httpx.Response`; `stream` yields its raw (encoded) body."""
    if foreign.is_stream_consumed:  # built whole in memory (a mock transport, for one)
        stream = httpx.ByteStream(foreign.content)
    extensions = {
        key: foreign.extensions[key]
        for key in ("http_version", "reason_phrase")
        if key in foreign.extensions
    }
    return httpx.Response(
        foreign.status_code,
        headers=foreign.headers.raw,
        stream=stream,
        extensions=extensions,
        request=request,
    )


class AsyncClientTransport(httpx.AsyncBaseTransport):
    """Sends through a user's async client (httpx2's); it stays theirs to close."""

    def __init__(self, client: Any) -> None:
        self._client = client

    @property
    def users_client(self) -> Any:
        return self._client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = await request.aread()
        try:
            with _httpx_errors(request):
                response = await self._client.send(
                    _forward(self._client, request, content), **_AS_BUILT
                )
        except BaseException:
            reclaim_orphaned_connections(self._client)
            raise
        return _response(response, request, _AsyncBody(response, request))

    async def aclose(self) -> None:
        pass


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, response: Any, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors(self._request):
            async for chunk in self._response.aiter_raw():
                yield chunk

    async def aclose(self) -> None:
        await self._response.aclose()


def send_blocking(client: Any, request: httpx.Request) -> httpx.Response:
    """Send `request` through a user's blocking client; the body streams (`SyncByteStream`)."""
    with _httpx_errors(request):
        response = client.send(_forward(client, request, request.content), **_AS_BUILT)
    return _response(response, request, _SyncBody(response, request))


class _SyncBody(httpx.SyncByteStream):
    def __init__(self, response: Any, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_errors(self._request):
            yield from self._response.iter_raw()

    def close(self) -> None:
        self._response.close()
