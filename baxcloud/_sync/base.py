"""Hand-written support for the generated blocking client in `client.py`.

`BaxCloud` wraps an `AsyncBaxCloud` and runs each of its calls through a
`SyncBridge` (see `bridge.py`); its namespaces wrap the async namespaces.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from .._core.errors import BaxCloudError
from .._core.http_backend import check_http_client, check_proxy, is_blocking_client
from .._core.options import NOT_GIVEN, RequestOptions, TimeoutTypes
from .._core.pagination import AsyncPage, AsyncPager
from .._core.response import APIResponse, raw_response
from .bridge import SyncBridge
from .page import SyncPage

if TYPE_CHECKING:
    from typing import Self

    from .._client import AsyncBaxCloud

T = TypeVar("T")
E = TypeVar("E", bound=BaseException)


def _from_here(error: E) -> E:
    """`error` with its traceback cut at the blocking call it ends.

    The frames between the blocking call and the `raise` (the bridge, the event
    loop, the async resource and the request pipeline) say nothing about the
    caller's mistake; without them a traceback ends two frames below the
    caller's line. An error's `__cause__` (the transport error, say) keeps its own.
    """
    return error.with_traceback(None)


class SyncAPIClient:
    """The blocking client's settings and lifetime, over an `AsyncBaxCloud`."""

    _async: AsyncBaxCloud
    _bridge: SyncBridge
    _parent: SyncAPIClient | None
    _finalizer: weakref.finalize[Any, Any] | None

    def _attach(
        self, factory: Callable[..., AsyncBaxCloud], *, http_client: object, **settings: Any
    ) -> None:
        """Build the async client from the settings; a blocking `http_client` is the bridge's."""
        check_http_client(http_client, blocking_allowed=True)
        blocking_client = None
        if is_blocking_client(http_client):
            check_proxy(settings.get("proxy"), http_client)
            blocking_client, http_client = http_client, None
        async_client = factory(**settings, http_client=http_client)
        self._async = async_client
        self._bridge = SyncBridge(async_client._http, blocking_client)
        self._parent = None
        # Closes the pools, loops and portal when the client is closed,
        # garbage-collected, or still open at interpreter exit.
        self._finalizer = weakref.finalize(self, self._bridge.stop)

    def _run(self, awaitable: Awaitable[T]) -> T:
        try:
            return self._bridge.run(awaitable)
        except BaxCloudError as exc:
            raise _from_here(exc)  # noqa: B904 (the same error, traceback trimmed)

    @property
    def base_url(self) -> str:
        return self._async.base_url

    @property
    def timeout(self) -> TimeoutTypes:
        return self._async.timeout

    @property
    def max_retries(self) -> int:
        return self._async.max_retries

    @property
    def max_response_bytes(self) -> int:
        return self._async.max_response_bytes

    @property
    def webhook_secret(self) -> str | None:
        return self._async.webhook_secret

    @property
    def api_key_id(self) -> str:
        return self._async.api_key_id

    def with_options(
        self,
        *,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        max_response_bytes: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        base_url: str | None = None,
    ) -> Self:
        """A copy with some settings changed, sharing this client's connection pools.

        Settings left out keep this client's values; `timeout=None` means no limit.
        Closing the original closes the copies' pool too; closing a copy does nothing.
        """
        clone = object.__new__(type(self))
        clone._async = self._async.with_options(
            timeout=timeout,
            max_retries=max_retries,
            max_response_bytes=max_response_bytes,
            default_headers=default_headers,
            base_url=base_url,
        )
        clone._bridge = self._bridge
        clone._parent = self  # keeps the original (and so the pool) alive
        clone._finalizer = None
        return clone

    def close(self) -> None:
        """Close the connection pools, event loops and portal thread (idempotent)."""
        if self._finalizer is not None:
            self._finalizer()

    def _request(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[T],
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
    ) -> T:
        return self._run(
            self._async._request(
                method, path, cast_to=cast_to, body=body, params=params, options=options
            )
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncBaxCloud", type(self).__name__, 1)


class SyncResource:
    """Base of the generated blocking namespaces (each annotates its `_async` type)."""

    _async: Any

    def __init__(self, client: SyncAPIClient, async_resource: Any) -> None:
        self._client = client
        self._async = async_resource

    def _run(self, awaitable: Awaitable[T]) -> T:
        try:
            return self._client._bridge.run(awaitable)
        except BaxCloudError as exc:
            raise _from_here(exc)  # noqa: B904 (the same error, traceback trimmed)

    def _page(self, pager: AsyncPager[T]) -> SyncPage[T]:
        try:
            return self._sync_page(self._client._bridge.run(pager))
        except BaxCloudError as exc:
            raise _from_here(exc)  # noqa: B904 (the same error, traceback trimmed)

    def _sync_page(self, page: AsyncPage[T]) -> SyncPage[T]:
        return SyncPage(page=page, run=self._client._run)

    def _run_raw(self, call: Awaitable[T]) -> APIResponse[T]:
        return self._run(raw_response(call))

    def _page_raw(self, pager: AsyncPager[T]) -> APIResponse[SyncPage[T]]:
        return self._run_raw(pager)._map(self._sync_page)
