"""`nox -s tests_httpx2`: every client the tests build sends through httpx2.

With BAXCLOUD_TEST_HTTP=httpx2, an `AsyncBaxCloud` built without `http_client`
(and without `proxy`) gets an `httpx2.AsyncClient`, and a `BaxCloud` an
`httpx2.Client`, each with the SDK's own pool settings; they are closed with
the client. Tests about the SDK's own connection pools (marked `sdk_pool`)
keep them.
"""

from __future__ import annotations

import functools
import os
import threading
import weakref
from typing import Any

import pytest

from baxcloud._core.pipeline import AsyncAPIClient
from baxcloud._core.pools import HTTPPools
from baxcloud._sync.base import SyncAPIClient
from baxcloud._sync.bridge import SyncBridge

HTTP_LIBRARY = os.environ.get("BAXCLOUD_TEST_HTTP", "httpx")
if HTTP_LIBRARY not in ("httpx", "httpx2"):
    raise RuntimeError(f"BAXCLOUD_TEST_HTTP must be httpx or httpx2, not {HTTP_LIBRARY!r}")

# Set while a `BaxCloud` builds its `AsyncBaxCloud`: that one gets no client of its own.
_building_blocking = threading.local()


def use_httpx2_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx2

    limits = httpx2.Limits(max_connections=100, max_keepalive_connections=100)
    async_clients: weakref.WeakKeyDictionary[HTTPPools, Any] = weakref.WeakKeyDictionary()
    blocking_clients: weakref.WeakKeyDictionary[SyncBridge, Any] = weakref.WeakKeyDictionary()
    real_init, real_attach = AsyncAPIClient.__init__, SyncAPIClient._attach
    real_aclose, real_stop = HTTPPools.aclose, SyncBridge.stop

    @functools.wraps(real_init)
    def init(self: AsyncAPIClient, **settings: Any) -> None:
        own = None
        if not getattr(_building_blocking, "on", False) and _sdk_would_pool(settings):
            own = settings["http_client"] = httpx2.AsyncClient(limits=limits)
        real_init(self, **settings)
        if own is not None:
            async_clients[self._http] = own

    @functools.wraps(real_attach)
    def attach(self: SyncAPIClient, factory: Any, **settings: Any) -> None:
        own = None
        if _sdk_would_pool(settings):
            own = settings["http_client"] = httpx2.Client(limits=limits)
        _building_blocking.on = True
        try:
            real_attach(self, factory, **settings)
        finally:
            _building_blocking.on = False
        if own is not None:
            blocking_clients[self._bridge] = own

    async def aclose(self: HTTPPools) -> None:
        await real_aclose(self)
        own = async_clients.pop(self, None)
        if own is not None:
            await own.aclose()

    def stop(self: SyncBridge) -> None:
        real_stop(self)
        own = blocking_clients.pop(self, None)
        if own is not None:
            own.close()

    monkeypatch.setattr(AsyncAPIClient, "__init__", init)
    monkeypatch.setattr(SyncAPIClient, "_attach", attach)
    monkeypatch.setattr(HTTPPools, "aclose", aclose)
    monkeypatch.setattr(SyncBridge, "stop", stop)


def _sdk_would_pool(settings: dict[str, Any]) -> bool:
    return settings.get("http_client") is None and settings.get("proxy") is None
