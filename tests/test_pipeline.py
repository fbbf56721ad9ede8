"""The request pipeline: retries, idempotency, errors, headers, options.

Faults are injected by a transport that sits in front of the real local
server, so every request that does get through is handled for real.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from helpers import close_with_users_client, resolve, unique

from baxcloud import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncBaxCloud,
    AuthenticationError,
    BaxCloud,
    BaxCloudError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    Room,
)
from baxcloud._core import retry as _retry
from baxcloud.testing import LocalServer


class FaultyTransport(httpx.AsyncBaseTransport):
    """Plays a script of faults, then forwards to the real server.

    Script entries: an HTTP status (answered without reaching the server,
    optionally "429:<retry-after>" or "409:<code>"), "timeout", "drop", or
    "lost" (the server handles the request, then the response is lost).
    """

    def __init__(self, *script: str) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        action = self.script.pop(0) if self.script else "ok"
        if action == "timeout":
            raise httpx.ReadTimeout("injected timeout", request=request)
        if action == "drop":
            raise httpx.RemoteProtocolError("injected disconnect", request=request)
        if action not in ("ok", "lost"):
            status, _, extra = action.partition(":")
            headers = {"X-Request-Id": "req_injected"}
            code = {"429": "rate_limited", "409": extra}.get(status, "unavailable")
            if status == "429" and extra:
                headers["Retry-After"] = extra
            body = {"error": {"code": code, "message": "injected", "requestId": "req_injected"}}
            return httpx.Response(int(status), headers=headers, json=body)
        response = await self.inner.handle_async_request(request)
        if action == "lost":
            await response.aread()
            await response.aclose()
            raise httpx.ReadTimeout("injected lost response", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_retry, "INITIAL_DELAY", 0.001)


@pytest.fixture(params=["sync", "async"])
async def make_client(
    request: pytest.FixtureRequest, server: LocalServer, fast_backoff: None
) -> AsyncIterator[Any]:
    made: list[tuple[Any, httpx.AsyncClient]] = []

    def make(transport: FaultyTransport, **kwargs: Any) -> Any:
        http = httpx.AsyncClient(transport=transport)
        factory = server.client if request.param == "sync" else server.async_client
        client = factory(http_client=http, **kwargs)
        made.append((client, http))
        return client

    yield make
    for client, http in made:
        await close_with_users_client(client, http)


def idempotency_keys(transport: FaultyTransport) -> set[str | None]:
    return {r.headers.get("idempotency-key") for r in transport.requests}


async def test_5xx_is_retried_with_one_idempotency_key(make_client: Any) -> None:
    transport = FaultyTransport("503", "500")
    client = make_client(transport)
    name = unique()
    room = await resolve(client.rooms.create(name=name))
    assert room.name == name
    assert len(transport.requests) == 3
    keys = idempotency_keys(transport)
    assert len(keys) == 1 and None not in keys


async def test_lost_response_is_replayed_not_duplicated(
    make_client: Any, server: LocalServer
) -> None:
    transport = FaultyTransport("lost")
    client = make_client(transport)
    name = unique()
    room = await resolve(client.rooms.create(name=name))
    assert room.name == name
    assert len(transport.requests) == 2
    assert len(idempotency_keys(transport)) == 1
    with server.client() as plain:
        assert plain.rooms.get(name).sid == room.sid


async def test_lost_delete_does_not_turn_into_not_found(
    make_client: Any, server: LocalServer
) -> None:
    with server.client() as plain:
        name = plain.rooms.create(name=unique()).name
    client = make_client(FaultyTransport("lost"))
    assert await resolve(client.rooms.delete(name)) is None


async def test_rate_limit_waits_for_retry_after(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="baxcloud")
    transport = FaultyTransport("429:0.05")
    client = make_client(transport)
    await resolve(client.rooms.get((await resolve(client.rooms.create(name=unique()))).name))
    assert any("in 0.05s after 429 rate_limited" in r.getMessage() for r in caplog.records)


async def test_rate_limit_error_carries_retry_after(make_client: Any) -> None:
    client = make_client(FaultyTransport("429:7", "429:7", "429:7"))
    with pytest.raises(RateLimitError) as info:
        await resolve(client.rooms.get("x", max_retries=0))
    assert info.value.retry_after == 7.0
    assert info.value.code == "rate_limited"
    assert info.value.request_id == "req_injected"


async def test_timeouts_end_in_api_timeout_error(make_client: Any) -> None:
    transport = FaultyTransport("timeout", "timeout", "timeout", "timeout")
    client = make_client(transport, max_retries=3)
    with pytest.raises(APITimeoutError):
        await resolve(client.rooms.get("x"))
    assert len(transport.requests) == 4


async def test_dropped_connections_end_in_api_connection_error(make_client: Any) -> None:
    transport = FaultyTransport("drop", "drop")
    client = make_client(transport, max_retries=1)
    with pytest.raises(APIConnectionError) as info:
        await resolve(client.rooms.get("x"))
    assert not isinstance(info.value, APITimeoutError)
    assert len(transport.requests) == 2


async def test_per_call_max_retries(make_client: Any) -> None:
    transport = FaultyTransport("503")
    client = make_client(transport)
    with pytest.raises(InternalServerError) as info:
        await resolve(client.rooms.create(name=unique(), max_retries=0))
    assert info.value.status_code == 503 and info.value.code == "unavailable"
    assert len(transport.requests) == 1


async def test_idempotency_key_in_use_is_retried(make_client: Any) -> None:
    transport = FaultyTransport("409:idempotency_key_in_use")
    client = make_client(transport)
    await resolve(client.rooms.create(name=unique()))
    assert len(transport.requests) == 2


async def test_other_4xx_are_not_retried(make_client: Any) -> None:
    transport = FaultyTransport()
    client = make_client(transport)
    name = unique()
    await resolve(client.rooms.create(name=name))
    with pytest.raises(ConflictError):
        await resolve(client.rooms.create(name=name))
    with pytest.raises(NotFoundError):
        await resolve(client.rooms.get(unique("missing")))
    assert len(transport.requests) == 3


async def test_gets_carry_no_idempotency_key_and_mutations_a_fresh_one_each(
    make_client: Any,
) -> None:
    transport = FaultyTransport()
    client = make_client(transport)
    first = await resolve(client.rooms.create(name=unique()))
    await resolve(client.rooms.create(name=unique()))
    await resolve(client.rooms.get(first.name))
    keys = [r.headers.get("idempotency-key") for r in transport.requests]
    assert keys[2] is None
    assert keys[0] and keys[1] and keys[0] != keys[1]


async def test_explicit_idempotency_key_replays_and_detects_reuse(bx: Any) -> None:
    key = f"order-{unique()}"
    name = unique()
    first = await resolve(bx.rooms.create(name=name, idempotency_key=key))
    again = await resolve(bx.rooms.create(name=name, idempotency_key=key))
    assert again == first
    with pytest.raises(ConflictError) as info:
        await resolve(bx.rooms.create(name=unique(), idempotency_key=key))
    assert info.value.code == "idempotency_key_reused"


async def test_headers(make_client: Any, server: LocalServer) -> None:
    transport = FaultyTransport()
    client = make_client(transport, default_headers={"X-Team": "video"})
    await resolve(
        client.rooms.create(
            name=unique(),
            extra_headers={"X-Trace": "abc", "Authorization": "Bearer stolen"},
        )
    )
    request = transport.requests[0]
    assert request.headers["x-team"] == "video"
    assert request.headers["x-trace"] == "abc"
    assert request.headers["authorization"] == f"Bearer {server.api_key}"
    assert request.headers["user-agent"].startswith("baxcloud-python/")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"


async def test_the_users_client_defaults_apply_as_they_change(
    server: LocalServer, kind: str
) -> None:
    """Headers, cookies and query parameters set on the user's client reach every call,
    including changes made to them between calls (the SDK caches its header merge)."""
    transport = FaultyTransport()
    http = httpx.AsyncClient(transport=transport, headers={"X-App": "one"})
    factory = server.client if kind == "sync" else server.async_client
    client = factory(http_client=http)
    try:
        await resolve(client.rooms.create(name=unique()))
        http.headers["X-App"] = "two"
        await resolve(client.rooms.list())
        http.cookies.set("session", "s1")
        http.params = httpx.QueryParams({"trace": "t1"})
        await resolve(client.rooms.list())
        del http.headers["X-App"]
        http.cookies.clear()
        http.params = httpx.QueryParams()
        copy = client.with_options(default_headers={"X-Copy": "yes"})
        await resolve(copy.rooms.list())
        await resolve(client.rooms.list())
    finally:
        await close_with_users_client(client, http)
    first, second, third, fourth, fifth = transport.requests
    assert [r.headers.get("x-app") for r in transport.requests] == ["one", "two", "two", None, None]
    assert third.headers["cookie"] == "session=s1"
    assert third.url.params["trace"] == "t1"
    assert "cookie" not in fourth.headers and "trace" not in fourth.url.params
    assert fourth.headers["x-copy"] == "yes" and "x-copy" not in fifth.headers
    for request in transport.requests:
        assert request.headers["authorization"] == f"Bearer {server.api_key}"
        assert request.headers["accept"] == "application/json"
    assert first.headers["idempotency-key"] and "idempotency-key" not in second.headers


async def test_a_callers_idempotency_key_header_is_kept_in_any_spelling(
    make_client: Any,
) -> None:
    transport = FaultyTransport()
    client = make_client(transport)
    key = unique()
    await resolve(client.rooms.create(name=unique(), extra_headers={"idempotency-key": key}))
    await resolve(
        client.rooms.create(name=unique(), extra_headers={"content-type": "application/json"})
    )
    first, second = transport.requests
    assert first.headers.get_list("idempotency-key") == [key]
    assert second.headers.get_list("content-type") == ["application/json"]
    assert len(second.headers.get_list("idempotency-key")) == 1


async def test_per_call_timeout_reaches_the_transport(make_client: Any) -> None:
    transport = FaultyTransport()
    client = make_client(transport, timeout=12.0)
    await resolve(client.rooms.create(name=unique()))
    await resolve(client.rooms.create(name=unique(), timeout=3.5))
    timeouts = [r.extensions["timeout"]["read"] for r in transport.requests]
    assert timeouts == [12.0, 3.5]


async def test_with_options_shares_the_pool(bx: Any) -> None:
    fast = bx.with_options(timeout=2.0, max_retries=0)
    assert fast.timeout == 2.0 and fast.max_retries == 0
    assert bx.max_retries == 2 and bx.timeout == 30.0

    def inner(client: Any) -> AsyncBaxCloud:
        return client if isinstance(client, AsyncBaxCloud) else client._async

    assert inner(fast)._http is inner(bx)._http
    room = await resolve(fast.rooms.create(name=unique()))
    assert (await resolve(bx.rooms.get(room.name))).sid == room.sid


async def test_authentication_and_permission_errors(server: LocalServer) -> None:
    unknown = "bax_sk_nobody_" + "x" * 40
    async with AsyncBaxCloud(api_key=unknown, base_url=server.base_url) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.rooms.list()
        assert info.value.code == "unauthenticated" and info.value.status_code == 401
        assert "x" * 40 not in str(info.value) and "x" * 40 not in repr(info.value)
    key_id = server.api_key.split("_")[2]
    public = f"bax_pk_{key_id}_" + "y" * 40
    with BaxCloud(api_key=public, base_url=server.base_url) as client:
        with pytest.raises(PermissionDeniedError) as denied:
            client.rooms.list()
        assert denied.value.code == "permission_denied"


async def test_unknown_path_and_oversized_body(sync_client: BaxCloud) -> None:
    with pytest.raises(NotFoundError) as info:
        sync_client._request("GET", "/v1/nowhere", cast_to=dict)
    assert info.value.code == "not_found"
    with pytest.raises(APIStatusError) as big:
        sync_client._request("POST", "/v1/rooms", cast_to=Room, body={"name": "x" * (2 << 20)})
    assert (big.value.status_code, big.value.code) == (413, "payload_too_large")


async def test_malformed_json_is_invalid_request(server: LocalServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post(
            "/v1/rooms",
            content=b"{not json",
            headers={
                "Authorization": f"Bearer {server.api_key}",
                "Content-Type": "application/json",
            },
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert response.headers["x-request-id"].startswith("req_")


def test_configuration_from_environment(
    monkeypatch: pytest.MonkeyPatch, server: LocalServer
) -> None:
    monkeypatch.setenv("BAXCLOUD_API_KEY", server.api_key)
    monkeypatch.setenv("BAXCLOUD_BASE_URL", server.base_url)
    monkeypatch.setenv("BAXCLOUD_WEBHOOK_SECRET", "whsec_from_env")
    with BaxCloud() as client:
        assert client.base_url == server.base_url
        assert client.webhook_secret == "whsec_from_env"
        assert client.rooms.create(name=unique()).sid.startswith("RM_")
    monkeypatch.delenv("BAXCLOUD_API_KEY")
    with pytest.raises(BaxCloudError, match="BAXCLOUD_API_KEY"):
        AsyncBaxCloud()
    monkeypatch.delenv("BAXCLOUD_BASE_URL")
    assert AsyncBaxCloud(api_key=server.api_key).base_url == "https://api.baxcloud.io"


@pytest.mark.parametrize(
    "bad",
    ["", "sk_live_123", "bax_sk_ab_" + "s" * 40, "bax_sk_abcd_short", "bax_xx_abcd_" + "s" * 40],
)
def test_malformed_api_keys_are_refused_without_echoing_them(bad: str) -> None:
    with pytest.raises(BaxCloudError) as info:
        AsyncBaxCloud(api_key=bad)
    if bad:
        assert bad not in str(info.value)


def test_invalid_settings_are_refused() -> None:
    key = "bax_sk_abcd_" + "s" * 40
    with pytest.raises(ValueError, match="max_retries"):
        AsyncBaxCloud(api_key=key, max_retries=-1)
    with pytest.raises(TypeError, match="timeout"):
        AsyncBaxCloud(api_key=key, timeout="30")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="base_url"):
        AsyncBaxCloud(api_key=key, base_url="api.baxcloud.io")
    with pytest.raises(TypeError, match="http_client"):
        AsyncBaxCloud(api_key=key, http_client=httpx.Client())  # type: ignore[arg-type]


def test_retry_after_parsing() -> None:
    def parse(value: str) -> float | None:
        return _retry.parse_retry_after(httpx.Response(429, headers={"Retry-After": value}))

    assert parse("2") == 2.0
    assert parse("0.25") == 0.25
    assert parse("3600") == 60.0
    assert parse("-5") == 0.0
    assert parse("garbage") is None
    assert parse("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert _retry.parse_retry_after(httpx.Response(429)) is None


def test_backoff_doubles_with_jitter_and_caps() -> None:
    for attempt, nominal in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [_retry.backoff_delay(attempt) for _ in range(50)]
        assert all(0.75 * nominal <= d <= nominal for d in delays)
        assert len(set(delays)) > 1
    assert _retry.backoff_delay(5, retry_after=1.5) == 1.5
