"""`reclaim_orphaned_connections` (`_core/pools.py`) on each kind of pool connection.

A request cancelled just as the pool hands it a connection leaves that
connection unused in the pool (encode/httpcore#1093); reclaiming makes the pool
drop it at its next pass. The race itself is run against the local server in
tests/reliability/test_cancellation.py; here are the states it leaves behind,
built from httpcore's own classes, with and without a proxy: a server cannot
produce them on cue.
"""

from __future__ import annotations

import threading
from typing import Any

import httpcore
import httpx
import pytest
from httpcore._async.connection_pool import AsyncPoolRequest
from httpcore._async.http11 import HTTPConnectionState
from httpcore._backends.mock import AsyncMockStream

from baxcloud._core.pools import reclaim_orphaned_connections

PLAIN = "http://api.test/v1/rooms"
SECURE = "https://api.test/v1/rooms"


def pool_of(client: httpx.AsyncClient, url: str) -> Any:
    transport: Any = client._transport_for_url(httpx.URL(url))
    return transport._pool


def new_connection(client: httpx.AsyncClient, url: str) -> Any:
    """A connection the pool has just created for `url`: in the pool, not yet opened."""
    pool = pool_of(client, url)
    connection = pool.create_connection(httpcore.URL(url).origin)
    pool._connections.append(connection)
    return connection


def opened_http11(url: str) -> Any:
    """An HTTP/1.1 connection that is open and has served no request (state NEW)."""
    return httpcore.AsyncHTTP11Connection(
        origin=httpcore.URL(url).origin, stream=AsyncMockStream([])
    )


def spoken_for(client: httpx.AsyncClient, url: str, connection: Any) -> None:
    request = AsyncPoolRequest(httpcore.Request("GET", url))
    request.assign_to_connection(connection)
    pool_of(client, url)._requests.append(request)


PROXY = "http://127.0.0.1:9"
# The connection class the pool makes in each case: (the client's proxy, the URL asked for).
CONNECTIONS = {
    "AsyncHTTPConnection": (None, PLAIN),
    "AsyncForwardHTTPConnection": (PROXY, PLAIN),
    "AsyncTunnelHTTPConnection": (PROXY, SECURE),
}


@pytest.mark.parametrize("kind", list(CONNECTIONS))
async def test_an_unopened_connection_no_request_holds_is_dropped(kind: str) -> None:
    proxy, url = CONNECTIONS[kind]
    async with httpx.AsyncClient(proxy=proxy) as client:
        connection = new_connection(client, url)
        assert type(connection).__name__ == kind
        assert not connection.has_expired()

        reclaim_orphaned_connections(client)

        assert connection.has_expired()  # the pool's next pass removes it


@pytest.mark.parametrize("kind", list(CONNECTIONS))
async def test_a_connection_a_request_holds_is_left_alone(kind: str) -> None:
    proxy, url = CONNECTIONS[kind]
    async with httpx.AsyncClient(proxy=proxy) as client:
        connection = new_connection(client, url)
        spoken_for(client, url, connection)

        reclaim_orphaned_connections(client)

        assert not connection.has_expired()
        assert "FAILED" not in connection.info()


async def test_an_opened_unused_connection_is_expired_directly_and_through_a_tunnel() -> None:
    async with httpx.AsyncClient() as client:
        connection = new_connection(client, PLAIN)
        connection._connection = opened_http11(PLAIN)
        reclaim_orphaned_connections(client)
        assert connection.has_expired()

    async with httpx.AsyncClient(proxy=PROXY) as client:
        tunnel = new_connection(client, SECURE)
        tunnel._connection = opened_http11(SECURE)  # CONNECT done, TLS up, request not sent
        reclaim_orphaned_connections(client)
        assert tunnel.has_expired()


async def test_a_forward_proxy_connection_that_served_requests_is_kept() -> None:
    async with httpx.AsyncClient(proxy=PROXY) as client:
        forward = new_connection(client, PLAIN)
        to_proxy = opened_http11(PROXY + "/")
        to_proxy._request_count = 1
        forward._connection._connection = to_proxy
        reclaim_orphaned_connections(client)
        assert not forward.has_expired()


async def test_a_tunnel_whose_handshake_failed_is_dropped() -> None:
    # A CONNECT answered, then the TLS handshake through it failed or was cancelled:
    # the connection to the proxy stays ACTIVE and the tunnel is never available again.
    async with httpx.AsyncClient(proxy=PROXY) as client:
        tunnel = new_connection(client, SECURE)
        to_proxy = opened_http11(PROXY + "/")
        to_proxy._state = HTTPConnectionState.ACTIVE
        to_proxy._request_count = 1
        tunnel._connection._connection = to_proxy
        assert not tunnel.is_available() and not tunnel.has_expired()

        reclaim_orphaned_connections(client)

        assert tunnel.has_expired()


async def test_an_established_tunnel_that_served_requests_is_kept() -> None:
    async with httpx.AsyncClient(proxy=PROXY) as client:
        tunnel = new_connection(client, SECURE)
        through = opened_http11(SECURE)
        through._request_count = 1
        through._state = HTTPConnectionState.IDLE
        tunnel._connection = through
        tunnel._connected = True
        reclaim_orphaned_connections(client)
        assert not tunnel.has_expired()


def test_a_blocking_pool_is_read_under_its_lock() -> None:
    # Threads share a blocking pool: reclaiming must not read it while another thread,
    # holding the pool's lock, is between adding a connection and handing it over.
    with httpx.Client() as client:
        pool: Any = client._transport._pool  # type: ignore[attr-defined]
        lock = pool._optional_thread_lock._lock
        lock.acquire()
        try:
            worker = threading.Thread(target=reclaim_orphaned_connections, args=(client,))
            worker.start()
            worker.join(0.2)
            assert worker.is_alive()  # waiting for the lock
        finally:
            lock.release()
        worker.join(10)
        assert not worker.is_alive()
