from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from helpers import MEDIA_BYTES_PER_SECOND, either_client
from http_library import HTTP_LIBRARY, use_httpx2_clients

from baxcloud import AsyncBaxCloud, BaxCloud
from baxcloud.testing import LocalServer


@pytest.fixture(autouse=True)
def _http_library(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """BAXCLOUD_TEST_HTTP=httpx2 (`nox -s tests_httpx2`): the clients send through httpx2."""
    if HTTP_LIBRARY == "httpx2" and request.node.get_closest_marker("sdk_pool") is None:
        use_httpx2_clients(monkeypatch)


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
def kind(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once for `BaxCloud` ("sync") and once for `AsyncBaxCloud`."""
    return str(request.param)


@pytest.fixture(params=["sync", "async"])
async def bx(request: pytest.FixtureRequest, server: LocalServer) -> AsyncIterator[Any]:
    """Each test using this runs once with `BaxCloud` and once with `AsyncBaxCloud`.

    Tests call methods through `resolve(...)`, which awaits what the async
    client returns and passes the blocking client's results through.
    """
    async with either_client(server, request.param) as client:
        yield client


@pytest.fixture
def media_server() -> Iterator[LocalServer]:
    """A manual-clock server whose egress take one (advanced) second to start and stop."""
    with LocalServer(
        manual_clock=True,
        egress_start_delay=1,
        egress_stop_delay=1,
        recording_bytes_per_second=MEDIA_BYTES_PER_SECOND,
    ) as srv:
        yield srv


@pytest.fixture(params=["sync", "async"])
async def media(request: pytest.FixtureRequest, media_server: LocalServer) -> AsyncIterator[Any]:
    """Both clients (like `bx`) for `media_server`."""
    async with either_client(media_server, request.param) as client:
        yield client
