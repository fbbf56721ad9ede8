from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from baxcloud import AsyncBaxCloud, BaxCloud
from baxcloud.testing import LocalServer


@pytest.fixture(scope="session")
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def fresh_server() -> Iterator[LocalServer]:
    """A server of its own, for tests that count everything in it."""
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def clock_server() -> Iterator[LocalServer]:
    with LocalServer(manual_clock=True) as srv:
        yield srv


@pytest.fixture
def sync_client(server: LocalServer) -> Iterator[BaxCloud]:
    with server.client() as client:
        yield client


@pytest.fixture
async def async_client(server: LocalServer) -> AsyncIterator[AsyncBaxCloud]:
    async with server.async_client() as client:
        yield client


@pytest.fixture(params=["sync", "async"])
async def bx(request: pytest.FixtureRequest, server: LocalServer) -> AsyncIterator[Any]:
    """Each test using this runs once with `BaxCloud` and once with `AsyncBaxCloud`.

    Tests call methods through `resolve(...)`, which awaits what the async
    client returns and passes the blocking client's results through.
    """
    if request.param == "sync":
        with server.client() as client:
            yield client
    else:
        async with server.async_client() as aclient:
            yield aclient
