"""Building an API call's `httpx.Request`, as `httpx.AsyncClient.build_request` would.

`build_request` merges the client's default headers, cookies and query
parameters into every request; merging headers is most of what it costs (more
than the rest of the SDK's own work on a call). The SDK's calls always use an
absolute URL and the same base headers, so while the client has no cookies and
no default query parameters, the merge gives the same headers every time: they
are merged once per client and pool, and checked against the pool's current
headers on each call (a user's client may change them at any time).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx


class RequestBuilder:
    """Builds requests for one set of base headers; caches the merge for the last pool."""

    __slots__ = ("_base", "_cache")

    def __init__(self, base: Mapping[str, str]) -> None:
        self._base = base
        # (pool, the pool's headers when merged, the merged headers): one tuple, so
        # that threads sharing the client never see one pool with another's merge.
        self._cache: tuple[httpx.AsyncClient, list[tuple[bytes, bytes]], httpx.Headers] | None
        self._cache = None

    def build(
        self,
        pool: httpx.AsyncClient,
        method: str,
        url: str,
        *,
        extra: Mapping[str, str] | None,
        content: bytes | None,
        params: Mapping[str, Any] | None,
        timeout: httpx.Timeout,
        extensions: dict[str, Any],
    ) -> httpx.Request:
        """The request `pool.build_request` would make with the base headers plus `extra`."""
        if pool.cookies or pool.params:
            headers = {**self._base, **extra} if extra else self._base
            return pool.build_request(
                method,
                url,
                content=content,
                params=params,
                headers=headers,
                timeout=timeout,
                extensions=extensions,
            )
        pool_headers = pool.headers.raw
        cache = self._cache
        if cache is None or cache[0] is not pool or cache[1] != pool_headers:
            merged = httpx.Headers(pool.headers)
            merged.update(self._base)
            cache = self._cache = (pool, pool_headers, merged)
        headers = cache[2]
        if extra:
            headers = headers.copy()
            headers.update(extra)
        extensions["timeout"] = timeout.as_dict()
        return httpx.Request(
            method, url, content=content, params=params, headers=headers, extensions=extensions
        )
