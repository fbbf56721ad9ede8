"""`DirectClient`: the pools the SDK makes itself hand API calls straight to their transport.

`httpx.AsyncClient.send` wraps a transport's answer in layers (auth flows,
redirect handling, event hooks, a cookie pass through `http.cookiejar`) that
cost about as much as the SDK's whole pipeline on a call. The SDK's own pools
use none of them: no auth, no hooks, no redirects followed. So an API call's
request (streamed, with the client's defaults) goes to the transport that
`AsyncClient` itself would pick for its URL (a proxy's or the default), and
comes back as `send` would give it: its request set, cookies kept, `elapsed`
set once it is closed, a transport error naming its request. Anything else (a
download's send, options, httpx's own request log switched on) takes httpx's
path. A user's own client is never a `DirectClient`. Its connection pools
assign connections to requests in one pass (`pool_assign.py`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx

from .pool_assign import speed_up_client

__all__ = ["DirectClient"]

_httpx_log = logging.getLogger("httpx")
_DEFAULT = httpx.USE_CLIENT_DEFAULT


class DirectClient(httpx.AsyncClient):
    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        speed_up_client(self)

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = _DEFAULT,
        follow_redirects: Any = _DEFAULT,
    ) -> httpx.Response:
        if not (
            stream
            and auth is _DEFAULT
            and follow_redirects is _DEFAULT
            and "timeout" in request.extensions
            and not self.is_closed
            and not _httpx_log.isEnabledFor(logging.INFO)
        ):
            return await super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        transport = self._transport_for_url(request.url)
        start = time.perf_counter()
        try:
            response = await transport.handle_async_request(request)
        except httpx.RequestError as exc:
            exc.request = request
            raise
        response.request = request
        response.stream = _Timed(response, start)
        if response.has_redirect_location:  # not followed, but named, as httpx does
            try:
                response.next_request = self._build_redirect_request(request, response)
            except BaseException:
                await response.aclose()
                raise
        if "set-cookie" in response.headers:
            self.cookies.extract_cookies(response)
        return response


class _Timed(httpx.AsyncByteStream):
    """A response's body stream that sets its `elapsed` when closed."""

    __slots__ = ("_response", "_start", "_stream")

    def __init__(self, response: httpx.Response, start: float) -> None:
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)  # as httpx.AsyncClient checks
        self._stream = stream
        self._response = response
        self._start = start

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        self._response.elapsed = timedelta(seconds=time.perf_counter() - self._start)
        await self._stream.aclose()
