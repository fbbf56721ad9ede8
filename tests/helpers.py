"""Helpers shared by the tests (import as `from helpers import ...`)."""

from __future__ import annotations

import contextlib
import inspect
import itertools
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Literal

import pytest

_names = itertools.count()


async def resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def close_with_users_client(client: Any, http: Any) -> None:
    """Close `client` (a `BaxCloud` or `AsyncBaxCloud` given `http_client=http`, a
    user's async httpx or httpx2 client), then `http`, on the loop that used it.

    The SDK never closes a client it did not create. `AsyncBaxCloud` used `http` on the
    caller's loop; `BaxCloud` on its portal's, which ends with it. `BaxCloud.close()`
    closes the connections of httpx's and httpx2's own pools there, but many tests
    wrap a transport of their own around one, which it cannot see into: `http` is
    closed on the portal first.
    """
    from baxcloud import BaxCloud

    if isinstance(client, BaxCloud):
        close_blocking_with_users_client(client, http)
    else:
        await client.aclose()
        await http.aclose()


def close_blocking_with_users_client(client: Any, http: Any) -> None:
    """`close_with_users_client` for a `BaxCloud`, from code that is not async."""
    client._bridge.run(http.aclose())  # on the portal: the loop `http` was used on
    client.close()


async def collect(pager: Any) -> list[Any]:
    """Every item of every page, through the client's own iteration."""
    if hasattr(pager, "__aiter__"):
        return [item async for item in pager]
    return list(pager)


def unique(prefix: str = "room") -> str:
    return f"{prefix}-{next(_names)}"


# How fast the media fixtures' recording files grow (bytes per second of server clock).
MEDIA_BYTES_PER_SECOND = 32 * 1024


@contextlib.asynccontextmanager
async def either_client(server: Any, kind: str) -> AsyncIterator[Any]:
    """A blocking (`kind="sync"`) or async client for `server`, closed afterwards."""
    if kind == "sync":
        with server.client() as client:
            yield client
    else:
        async with server.async_client() as client:
            yield client


WAIT = 60.0  # a hang guard for polling loops, never a performance assertion


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Poll `predicate` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
    return value


@contextlib.contextmanager
def serve_asgi(
    app: Any, *, path: str = "", port: int = 0, lifespan: Literal["auto", "on", "off"] = "off"
) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 in a thread; yields its URL (+ `path`)."""
    import uvicorn

    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan=lifespan, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-asgi-app", daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), "the app to start")
    assert server.started, "the app failed to start"
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{bound}{path}"
    finally:
        server.should_exit = True
        thread.join(WAIT)
        assert not thread.is_alive()


def asgi_client(app: Any, api_key: str | None) -> Any:
    """An `httpx.AsyncClient` talking to an ASGI app in-process, as `api_key` (or anonymous)."""
    import httpx

    headers = {} if api_key is None else {"Authorization": f"Bearer {api_key}"}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://local", headers=headers
    )


# Forking a process that has threads is what these tests check the SDK survives;
# Python 3.12+ warns about it on principle.
FORKS_WITH_THREADS = pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded, use of fork:DeprecationWarning"
)


async def asgi_body(receive: Any) -> bytes:
    """The whole body of an ASGI request, read from its `receive` channel."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return bytes(body)
