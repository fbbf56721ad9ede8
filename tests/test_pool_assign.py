"""The connection-assignment pass of the SDK's own pools (`_core/pool_assign.py`).

Real requests through real httpcore pools against the local server, plus the
pass itself on states that no server can produce on cue (a connection handed
to a request that has not started on it yet).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import httpcore
import httpx
import pytest
from helpers import unique

from baxcloud import AsyncBaxCloud, BaxCloud
from baxcloud._core import pool_assign
from baxcloud._core.direct_client import DirectClient
from baxcloud.testing import LocalServer


class Counted:
    """Counts a pool's assignment passes and the most connections it held."""

    def __init__(self, pool: Any) -> None:
        self.passes = 0
        self.most_connections = 0
        assign = pool._assign_requests_to_connections
        self._lock = threading.Lock()

        def counted() -> Any:
            closing = assign()
            with self._lock:
                self.passes += 1
                self.most_connections = max(self.most_connections, len(pool._connections))
            return closing

        pool._assign_requests_to_connections = counted


@pytest.mark.sdk_pool
def test_the_sdks_own_pools_get_the_pass_and_a_users_client_does_not(
    server: LocalServer,
) -> None:
    own: Any = DirectClient()
    assert own._transport._pool._assign_requests_to_connections.__func__ is pool_assign._assign
    proxied: Any = DirectClient(proxy="http://127.0.0.1:9")
    (proxy_transport,) = [t for t in proxied._mounts.values() if t is not None]
    assert isinstance(proxy_transport._pool, httpcore.AsyncHTTPProxy)
    assert "_assign_requests_to_connections" in vars(proxy_transport._pool)

    users: Any = httpx.AsyncClient()

    async def main() -> None:
        async with AsyncBaxCloud(
            api_key=server.api_key, base_url=server.base_url, http_client=users
        ) as client:
            await client.rooms.list()
        await users.aclose()

    asyncio.run(main())
    assert "_assign_requests_to_connections" not in vars(users._transport._pool)


def test_http2_pools_and_strangers_keep_their_own_pass() -> None:
    http2 = httpcore.AsyncConnectionPool(http2=True)
    assert pool_assign.speed_up(http2) is False
    assert "_assign_requests_to_connections" not in vars(http2)
    assert pool_assign.speed_up(None) is False
    assert pool_assign.speed_up(object()) is False


@pytest.mark.sdk_pool
def test_many_calls_in_flight_each_get_a_connection_and_no_pass_is_wasted(
    server: LocalServer,
) -> None:
    calls = 200

    async def main() -> tuple[int, Counted]:
        async with server.async_client() as client:
            await client.rooms.list()  # the pool exists
            pool: Any = client._http.get()._transport
            pool = pool._pool
            counted = Counted(pool)
            prefix = unique("inflight")
            limiter = asyncio.Semaphore(48)

            async def one(i: int) -> str:
                async with limiter:
                    return (await client.rooms.create(name=f"{prefix}-{i}")).name

            names = await asyncio.gather(*(one(i) for i in range(calls)))
            assert sorted(names) == sorted(f"{prefix}-{i}" for i in range(calls))
            return len(pool._connections), counted

    connections, counted = asyncio.run(main())
    # One pass when a request joins and one when it is done: no request is handed a
    # connection another one takes, so none queues again.
    assert counted.passes == 2 * calls
    assert 1 <= counted.most_connections <= 48
    assert connections == counted.most_connections  # kept alive for the next burst


@pytest.mark.sdk_pool
def test_blocking_calls_from_many_threads_share_the_pool(server: LocalServer) -> None:
    prefix = unique("threads")
    with BaxCloud(api_key=server.api_key, base_url=server.base_url) as client:
        client.rooms.list()
        runners: Any = client._bridge._runners.get()
        transport = runners._pool._transport
        pool = transport._client._transport._pool
        assert "_assign_requests_to_connections" in vars(pool)
        counted = Counted(pool)
        with ThreadPoolExecutor(8) as threads:
            names = list(
                threads.map(lambda i: client.rooms.create(name=f"{prefix}-{i}").name, range(80))
            )
    assert names == [f"{prefix}-{i}" for i in range(80)]
    assert counted.passes == 2 * 80
    assert 1 <= counted.most_connections <= 8


async def test_the_pool_limits_hold(server: LocalServer) -> None:
    pool = httpcore.AsyncConnectionPool(max_connections=3, max_keepalive_connections=2)
    assert pool_assign.speed_up(pool)
    counted = Counted(pool)
    url = f"{server.base_url}/v1/rooms"
    headers = [(b"Authorization", f"Bearer {server.api_key}".encode())]

    statuses: list[int] = []

    async def one() -> None:
        response = await pool.request("GET", url, headers=headers)
        statuses.append(response.status)

    async with pool:
        async with anyio.create_task_group() as calls:
            for _ in range(30):
                calls.start_soon(one)
        assert statuses == [200] * 30
        assert counted.most_connections == 3
        # Idle beyond max_keepalive_connections are closed at the next pass.
        await one()
        assert len(pool.connections) <= 3
        assert sum(c.is_idle() for c in pool.connections) <= 2


class FakeConnection:
    def __init__(self, origin: Any, *, idle: bool = True, expired: bool = False) -> None:
        self.origin = origin
        self.idle = idle
        self.expired = expired
        self.closed = False

    def is_closed(self) -> bool:
        return self.closed

    def has_expired(self) -> bool:
        return self.expired

    def is_idle(self) -> bool:
        return self.idle

    def can_handle_request(self, origin: Any) -> bool:
        return bool(origin == self.origin)


def queued(url: str) -> Any:
    return httpcore._sync.connection_pool.PoolRequest(httpcore.Request("GET", url))


@pytest.fixture
def origin() -> Any:
    return httpcore.URL("http://a.test/").origin


def test_a_spoken_for_connection_is_neither_shared_nor_closed(origin: Any) -> None:
    pool: Any = httpcore.ConnectionPool(max_connections=2, max_keepalive_connections=0)
    spoken = FakeConnection(origin)  # idle: its request has not started on it yet
    other = FakeConnection(httpcore.URL("http://b.test/").origin)
    first, second, third = (
        queued("http://a.test/x"),
        queued("http://a.test/y"),
        queued("http://a.test/z"),
    )
    first.assign_to_connection(spoken)
    pool._connections = [spoken, other]
    pool._requests = [first, second, third]
    created: list[FakeConnection] = []

    def create_connection(origin: Any) -> FakeConnection:
        created.append(FakeConnection(origin, idle=False))
        return created[-1]

    pool.create_connection = create_connection

    closing = pool_assign._assign(pool)

    # `other` is an idle connection beyond max_keepalive_connections=0: closed; `spoken` is not.
    assert closing == [other]
    assert first.connection is spoken
    assert second.connection is created[0]  # a new one, not `spoken`
    assert third.connection is None  # the pool is full (spoken + created[0]): it waits
    assert pool._connections == [spoken, created[0]]


def test_expired_closed_and_reused_connections(origin: Any) -> None:
    pool: Any = httpcore.ConnectionPool(max_connections=4, max_keepalive_connections=4)
    gone = FakeConnection(origin)
    gone.closed = True
    stale = FakeConnection(origin, expired=True)
    ready = FakeConnection(origin)
    busy = FakeConnection(origin, idle=False)
    request = queued("http://a.test/x")
    pool._connections = [gone, stale, ready, busy]
    pool._requests = [request]

    closing = pool_assign._assign(pool)

    assert closing == [stale]
    assert request.connection is ready
    assert pool._connections == [ready, busy]


def test_a_full_pool_makes_room_by_closing_an_idle_connection_to_another_origin(
    origin: Any,
) -> None:
    pool: Any = httpcore.ConnectionPool(max_connections=1, max_keepalive_connections=1)
    elsewhere = FakeConnection(httpcore.URL("http://b.test/").origin)
    request = queued("http://a.test/x")
    pool._connections = [elsewhere]
    pool._requests = [request]
    pool.create_connection = lambda o: FakeConnection(o, idle=False)

    closing = pool_assign._assign(pool)

    assert closing == [elsewhere]
    assert request.connection is not None and request.connection.origin == origin
    assert pool._connections == [request.connection]


@pytest.mark.sdk_pool
def test_an_async_client_made_by_the_sdk_uses_it(server: LocalServer) -> None:
    async def main() -> bool:
        async with AsyncBaxCloud(api_key=server.api_key, base_url=server.base_url) as client:
            await client.rooms.list()
            pool: Any = client._http.get()._transport
            pool = pool._pool
            return "_assign_requests_to_connections" in vars(pool)

    assert asyncio.run(main())
