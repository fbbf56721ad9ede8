"""The HTTP layer: users' own clients (httpx, httpx2, blocking or async) and proxies.

Against the local server over loopback; a hostile server where a server must
misbehave on cue, and a loopback forward proxy (`forward_proxy.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from forward_proxy import forward_proxy
from helpers import resolve, unique
from hostile import hostile_server, make_client, open_client, respond, trickle
from reliability.rel_support import client_sockets, server_port

import baxcloud
from baxcloud import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncBaxCloud,
    BaxCloud,
    NotFoundError,
)
from baxcloud.testing import LocalServer

API_KEY = "bax_sk_httplayer_" + "K" * 40
PROXY_PASSWORD = "pr0xy-Pa55word-never-shown"
ROOM_JSON = b'{"name":"r","sid":"RM_1","createdAt":0,"numParticipants":0}'


def user_client(library: str, kind: str, **settings: Any) -> Any:
    """`library`'s blocking (`kind="sync"`) or async client."""
    module: Any = httpx2 if library == "httpx2" else httpx
    return module.Client(**settings) if kind == "sync" else module.AsyncClient(**settings)


async def close_user_client(client: Any) -> None:
    await resolve(client.aclose() if hasattr(client, "aclose") else client.close())


@pytest.fixture(params=["httpx", "httpx2"])
def library(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# ---- the user's own client -------------------------------------------------------


async def test_a_users_client_sends_every_call_with_its_hooks_and_headers(
    server: LocalServer, kind: str, library: str
) -> None:
    """Blocking clients for `BaxCloud`, async ones for `AsyncBaxCloud`; httpx's or httpx2's."""
    seen: list[str] = []

    def hook(request: Any) -> None:
        seen.append(f"{request.method} {request.url.path} {request.headers['x-app']}")

    async def async_hook(request: Any) -> None:
        hook(request)

    hooks = {"request": [hook if kind == "sync" else async_hook]}
    http = user_client(library, kind, event_hooks=hooks, headers={"X-App": "mine"})
    name = unique("users-client")
    async with open_client(kind, **server_settings(server), http_client=http) as client:
        room = await resolve(client.rooms.create(name=name))
        assert room.name == name
        assert name in [r.name async for r in _items(await resolve(client.rooms.list()))]
        missing = unique("missing")
        with pytest.raises(NotFoundError):
            await resolve(client.rooms.get(missing))
    assert seen[0] == "POST /v1/rooms mine"
    assert set(seen[1:-1]) == {"GET /v1/rooms mine"}  # the list's pages
    assert seen[-1] == f"GET /v1/rooms/{missing} mine"
    assert not http.is_closed  # the SDK never closes a client it did not create
    await close_user_client(http)


async def _items(page: Any) -> Any:
    if hasattr(page, "__aiter__"):
        async for item in page:
            yield item
    else:
        for item in page:
            yield item


def server_settings(server: LocalServer) -> dict[str, Any]:
    return {"api_key": server.api_key, "base_url": server.base_url}


@pytest.mark.parametrize("library", ["httpx", "httpx2"])
def test_a_blocking_client_uses_the_users_mounts_and_transport(library: str) -> None:
    """A test transport mounted on the user's client answers the SDK's calls."""
    module: Any = httpx2 if library == "httpx2" else httpx
    answered: list[str] = []

    def handler(request: Any) -> Any:
        answered.append(request.url.path)
        return module.Response(200, content=ROOM_JSON, headers={"X-Request-Id": "req_1"})

    mounts = {"http://mounted.test": module.MockTransport(handler)}
    with (
        module.Client(mounts=mounts) as http,
        BaxCloud(api_key=API_KEY, base_url="http://mounted.test", http_client=http) as client,
    ):
        assert client.rooms.get("r").sid == "RM_1"
    assert answered == ["/v1/rooms/r"]


@pytest.mark.parametrize("library", ["httpx", "httpx2"])
async def test_a_blocking_client_serves_calls_made_inside_a_running_loop(
    server: LocalServer, library: str
) -> None:
    """From inside a running loop the call goes through the portal, still on the user's client."""
    threads: list[str] = []
    http = user_client(library, "sync", event_hooks={"request": [_record_thread(threads)]})
    with BaxCloud(**server_settings(server), http_client=http) as client:
        name = unique("in-loop")
        assert client.rooms.create(name=name).name == name  # this test's loop is running
        results: list[str] = []

        async def get_in_a_thread() -> None:
            results.append((await anyio.to_thread.run_sync(client.rooms.get, name)).name)

        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(get_in_a_thread)
        assert results == [name] * 4
    assert len(threads) == 5
    assert threading.current_thread().name not in threads  # sent off the caller's loop
    http.close()


async def test_the_portals_worker_threads_end_with_the_client(server: LocalServer) -> None:
    before = set(threading.enumerate())
    with httpx.Client() as http:
        with BaxCloud(**server_settings(server), http_client=http) as client:
            client.rooms.list()  # this test's loop is running: through the portal
            started = [t for t in threading.enumerate() if t not in before]
            assert sorted(t.name for t in started) == ["AnyIO worker thread", "baxcloud-portal"]
        for thread in started:
            thread.join(30)
            assert not thread.is_alive()
        assert not http.is_closed


def test_a_users_async_client_outlives_the_blocking_client_that_used_it(
    server: LocalServer, library: str
) -> None:
    # The blocking client runs a user's async client on its portal's loop, which ends
    # with it: its connections are closed there, and the client stays the user's to
    # use and close on any loop afterwards, with no warning about unclosed sockets.
    port = server_port(server)
    before = client_sockets(port)
    http = user_client(library, "async")
    with BaxCloud(**server_settings(server), http_client=http) as client:
        client.rooms.create(name=unique("portal"))
        assert client_sockets(port) == before + 1
    assert client_sockets(port) == before
    assert not http.is_closed

    async def reuse_then_close() -> int:
        async with AsyncBaxCloud(**server_settings(server), http_client=http) as again:
            rooms = await again.rooms.list(limit=1)
        await http.aclose()
        return len(rooms.items)

    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        assert asyncio.run(reuse_then_close()) == 1
        gc.collect()
    assert client_sockets(port) == before


def _record_thread(threads: list[str]) -> Any:
    return lambda request: threads.append(threading.current_thread().name)


def test_async_client_refuses_a_blocking_http_client() -> None:
    for http in (httpx.Client(), httpx2.Client()):
        with pytest.raises(TypeError, match=r"pass a blocking httpx\.Client to BaxCloud"):
            AsyncBaxCloud(api_key=API_KEY, http_client=http)  # type: ignore[arg-type]
        http.close()
    with pytest.raises(TypeError, match="not str"):
        BaxCloud(api_key=API_KEY, http_client="http://x")  # type: ignore[arg-type]


# ---- httpx2: errors, timeouts, retries, limits ----------------------------------------


async def test_httpx2_connection_errors_are_api_connection_errors(kind: str) -> None:
    with socket_closed_port() as port:
        http = user_client("httpx2", kind)
        async with open_client(
            kind,
            api_key=API_KEY,
            base_url=f"http://127.0.0.1:{port}",
            http_client=http,
            max_retries=0,
        ) as client:
            with pytest.raises(APIConnectionError) as caught:
                await resolve(client.rooms.get("r"))
        await close_user_client(http)
    assert not isinstance(caught.value, APITimeoutError)
    assert "connection refused" in str(caught.value)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert isinstance(caught.value.__cause__.__cause__, httpx2.ConnectError)


@contextlib.contextmanager
def socket_closed_port() -> Iterator[int]:
    """A loopback port on which nothing listens."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    yield port


async def test_httpx2_timeouts_are_api_timeout_errors(kind: str) -> None:
    """A body trickled past the timeout: httpx2's ReadTimeout (or the deadline) ends it."""
    with hostile_server(trickle(ROOM_JSON, every=0.1)) as hostile:
        http = user_client("httpx2", kind)
        async with open_client(
            kind,
            api_key=API_KEY,
            base_url=hostile.base_url,
            http_client=http,
            timeout=0.3,
            max_retries=1,
        ) as client:
            with pytest.raises(APITimeoutError, match="request timed out: GET /v1/rooms/r"):
                await resolve(client.rooms.get("r"))
        await close_user_client(http)
    assert len(hostile.received) == 2  # the first attempt and its one retry


async def test_httpx2_retries_and_max_response_bytes(kind: str) -> None:
    big = b'{"name":"' + b"x" * 5000 + b'"}'
    with hostile_server(respond(503, b"{}")) as hostile:
        http = user_client("httpx2", kind)
        settings = {"api_key": API_KEY, "base_url": hostile.base_url, "http_client": http}
        async with open_client(kind, **settings, max_retries=2) as client:
            with pytest.raises(baxcloud.InternalServerError):
                await resolve(client.with_options(max_retries=2).rooms.get("r"))
            assert len(hostile.received) == 3
            hostile.reply = respond(200, big)
            with pytest.raises(APIResponseValidationError, match="max_response_bytes=1000"):
                await resolve(client.with_options(max_response_bytes=1000).rooms.get("r"))
        await close_user_client(http)


# ---- httpx over aiohttp -----------------------------------------------------------


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # aiohttp runs on asyncio only
async def test_aiohttp_http_client_behaves_as_the_default(server: LocalServer) -> None:
    name = unique("aiohttp")
    async with (
        baxcloud.aiohttp_http_client() as http,
        server.async_client(http_client=http) as client,
    ):
        assert http.follow_redirects is False
        assert (await client.rooms.create(name=name)).name == name
        rooms = await asyncio.gather(*(client.rooms.get(name) for _ in range(20)))
        assert {room.name for room in rooms} == {name}
        with pytest.raises(NotFoundError):
            await client.rooms.get(unique("missing"))
    big = b'{"name":"' + b"x" * 5000 + b'"}'
    with hostile_server(trickle(ROOM_JSON, every=0.1)) as hostile:
        async with (
            baxcloud.aiohttp_http_client() as http,
            AsyncBaxCloud(
                api_key=API_KEY, base_url=hostile.base_url, http_client=http, max_retries=0
            ) as client,
        ):
            with pytest.raises(APITimeoutError):
                await client.rooms.get("r", timeout=0.3)
            hostile.reply = respond(200, big)
            with pytest.raises(APIResponseValidationError, match="max_response_bytes=1000"):
                await client.with_options(max_response_bytes=1000).rooms.get("r")
            hostile.reply = lambda conn: None  # hangs up without an answer
            with pytest.raises(APIConnectionError) as hung_up:
                await client.rooms.get("r")
            assert not isinstance(hung_up.value, APITimeoutError)
    with socket_closed_port() as port:
        async with (
            baxcloud.aiohttp_http_client() as http,
            AsyncBaxCloud(
                api_key=API_KEY, base_url=f"http://127.0.0.1:{port}", http_client=http
            ) as client,
        ):
            with pytest.raises(APIConnectionError, match="connection refused"):
                await client.rooms.get("r", max_retries=0)


# ---- proxies -----------------------------------------------------------------------


async def test_proxy_carries_every_call(server: LocalServer, kind: str) -> None:
    with forward_proxy() as proxy:
        async with open_client(kind, **server_settings(server), proxy=proxy.url) as client:
            name = unique("proxied")
            assert (await resolve(client.rooms.create(name=name))).name == name
            assert (await resolve(client.rooms.get(name))).name == name
    targets = [(r.method, r.target) for r in proxy.received]
    assert targets == [
        ("POST", f"{server.base_url}/v1/rooms"),
        ("GET", f"{server.base_url}/v1/rooms/{name}"),
    ]


async def test_proxy_credentials_are_sent_and_never_shown(
    server: LocalServer, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="baxcloud")
    shown: list[str] = []
    with forward_proxy(credentials=("proxyuser", PROXY_PASSWORD)) as proxy:
        for setting in (proxy.url_with_credentials(), httpx.Proxy(proxy.url_with_credentials())):
            async with open_client(kind, **server_settings(server), proxy=setting) as client:
                shown.append(repr(client))
                assert (await resolve(client.rooms.list())) is not None
        wrong = proxy.url_with_credentials().replace(PROXY_PASSWORD, "wrong-" + PROXY_PASSWORD)
        async with open_client(kind, **server_settings(server), proxy=wrong) as client:
            with pytest.raises(baxcloud.APIStatusError) as refused:
                await resolve(client.rooms.list())
        assert refused.value.status_code == 407
        shown += [str(refused.value), repr(refused.value)]
    with socket_closed_port() as port:
        dead = f"http://proxyuser:{PROXY_PASSWORD}@127.0.0.1:{port}"
        async with open_client(kind, **server_settings(server), proxy=dead, max_retries=0) as c:
            with pytest.raises(APIConnectionError) as unreachable:
                await resolve(c.rooms.list())
        shown += [str(unreachable.value), repr(unreachable.value), repr(c)]
    assert f"through the proxy 127.0.0.1:{port} (connection refused)" in str(unreachable.value)
    with pytest.raises(ValueError, match="proxy must be") as bad:
        make_client(kind, api_key=API_KEY, proxy=f"ftp://proxyuser:{PROXY_PASSWORD}@host")
    shown += [str(bad.value), *(record.getMessage() for record in caplog.records)]
    authorizations = {v for r in proxy.received for v in r.header_values("Proxy-Authorization")}
    assert len(authorizations) == 2  # the right credentials, then the wrong ones
    assert len(proxy.received) == 3
    assert len(caplog.records) > 0
    for text in shown:
        assert PROXY_PASSWORD not in text, text


async def test_proxy_from_the_environment(
    server: LocalServer, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with forward_proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        async with open_client(kind, **server_settings(server)) as client:
            await resolve(client.rooms.list())
    assert [r.target.split("?")[0] for r in proxy.received] == [f"{server.base_url}/v1/rooms"]


def test_blocking_calls_on_the_calling_thread_use_the_proxy(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tests above call the blocking client from a running loop (the portal); not here."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    name = unique("blocking-proxied")
    with forward_proxy(credentials=("u", PROXY_PASSWORD)) as proxy:
        with BaxCloud(**server_settings(server), proxy=proxy.url_with_credentials()) as client:
            assert client.rooms.create(name=name).name == name
        monkeypatch.setenv("HTTP_PROXY", proxy.url_with_credentials())
        with BaxCloud(**server_settings(server)) as client:
            assert client.rooms.get(name).name == name
    assert [(r.method, r.target) for r in proxy.received] == [
        ("POST", f"{server.base_url}/v1/rooms"),
        ("GET", f"{server.base_url}/v1/rooms/{name}"),
    ]


def _tunnel_then_not_tls(conn: socket.socket) -> None:
    # A proxy that accepts the CONNECT, then speaks anything but TLS (a misconfigured
    # intercepting proxy, say): the handshake through the tunnel fails.
    conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n" + b"not TLS\r\n" * 8)
    time.sleep(0.3)


async def test_a_failed_tls_handshake_through_a_proxy_gives_its_pool_slot_back(
    kind: str, library: str
) -> None:
    # Each failed tunnel used to keep its pool slot for good (its connection to the proxy
    # stays busy with the CONNECT): with one slot, every call after the first then
    # waited for the pool and timed out instead of failing at once for what it is.
    module: Any = httpx2 if library == "httpx2" else httpx
    with hostile_server(_tunnel_then_not_tls) as proxy:
        limits = module.Limits(max_connections=1)
        http = user_client(library, kind, proxy=proxy.base_url, limits=limits)
        settings = {"api_key": API_KEY, "base_url": "https://api.test", "http_client": http}
        async with open_client(kind, **settings, max_retries=0, timeout=5) as client:
            for _ in range(3):
                with pytest.raises(APIConnectionError) as caught:
                    await resolve(client.rooms.list())
                assert not isinstance(caught.value, APITimeoutError), caught.value
        await close_user_client(http)
    assert [r.method for r in proxy.received] == ["CONNECT"] * 3


def test_proxy_and_http_client_together_are_refused(kind: str) -> None:
    for http in (httpx.Client(), httpx.AsyncClient()):
        if kind == "async" and isinstance(http, httpx.Client):
            continue
        with pytest.raises(ValueError, match="either proxy= or http_client="):
            make_client(kind, api_key=API_KEY, proxy="http://127.0.0.1:1", http_client=http)
    with pytest.raises(TypeError, match="proxy must be a URL"):
        make_client(kind, api_key=API_KEY, proxy=1234)


# ---- import cost -------------------------------------------------------------------


def test_httpx2_is_imported_only_by_the_user(server: LocalServer) -> None:
    code = (
        "import sys, baxcloud\n"
        f"with baxcloud.BaxCloud(api_key={server.api_key!r}, base_url={server.base_url!r}) as c:\n"
        "    c.rooms.list()\n"
        "assert 'httpx2' not in sys.modules, 'httpx2 imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
