"""Both clients at the edges of their configuration: proxies, timeouts, headers,
errors that cross process boundaries, and secrets in tracebacks."""

from __future__ import annotations

import concurrent.futures
import math
import multiprocessing
import pickle
import subprocess
import sys
import textwrap
import traceback
from typing import Any

import hostile
import httpx
import pytest
from helpers import resolve, unique
from hostile import hostile_server, respond

from baxcloud import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncBaxCloud,
    BaxCloud,
    BaxCloudError,
    NotFoundError,
    RateLimitError,
    TokenVerificationError,
    WebhookVerificationError,
    webhooks,
)
from baxcloud.testing import LocalServer

API_KEY = "bax_sk_edge1_" + "Pr1vate" * 6
SECRET = API_KEY.rsplit("_", 1)[1]
ROOM = b'{"sid":"RM_1","name":"r"}'


def open_client(kind: str, **settings: Any) -> Any:
    return hostile.open_client(kind, **{"api_key": API_KEY, "max_retries": 0, **settings})


def make_client(kind: str, **settings: Any) -> Any:
    return hostile.make_client(kind, **{"api_key": API_KEY, "max_retries": 0, **settings})


# ---- proxies from the environment, as httpx honours them ---------------------------------


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY", "http_proxy"])
async def test_both_clients_go_through_a_proxy_from_the_environment(
    kind: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with hostile_server(respond(200, ROOM)) as proxy:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(name.lower(), raising=False)
        monkeypatch.setenv(variable, proxy.base_url)
        # A host that does not resolve: only the proxy can answer for it.
        async with open_client(kind, base_url="http://api.baxcloud.invalid") as client:
            room = await resolve(client.rooms.get("r"))
    assert room.sid == "RM_1"
    assert [r.target for r in proxy.received] == ["http://api.baxcloud.invalid/v1/rooms/r"]
    assert proxy.received[0].header_values("authorization") == [f"Bearer {API_KEY}"]


async def test_no_proxy_bypasses_the_proxy(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with hostile_server(respond(200, ROOM)) as proxy, hostile_server(respond(200, ROOM)) as api:
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with open_client(kind, base_url=api.base_url) as client:
            await resolve(client.rooms.get("r"))
    assert proxy.received == []
    assert [r.target for r in api.received] == ["/v1/rooms/r"]


# ---- timeouts: one check, one meaning on both clients ------------------------------------

BAD_TIMEOUTS = [
    (-1, ValueError),
    (0, ValueError),
    (math.nan, ValueError),
    (-math.inf, ValueError),
    ("3", TypeError),
    (True, TypeError),
    (httpx.Timeout(-1), ValueError),
    (httpx.Timeout(5, read=math.nan), ValueError),
]


@pytest.mark.parametrize(("bad", "error"), BAD_TIMEOUTS, ids=repr)
async def test_a_bad_timeout_fails_at_once_with_one_message(
    bad: Any, error: type[Exception]
) -> None:
    messages = set()
    for kind in ("sync", "async"):
        with pytest.raises(error, match="timeout") as at_construction:
            make_client(kind, timeout=bad)
        messages.add(str(at_construction.value))
        async with open_client(kind) as client:
            with pytest.raises(error, match="timeout") as in_with_options:
                client.with_options(timeout=bad)
            messages.add(str(in_with_options.value))
    assert len(messages) == 1, messages  # the same words everywhere


@pytest.mark.parametrize(("bad", "error"), BAD_TIMEOUTS, ids=repr)
async def test_a_bad_per_call_timeout_fails_before_sending(
    kind: str, bad: Any, error: type[Exception]
) -> None:
    with hostile_server(respond(200, ROOM)) as server:
        async with open_client(kind, base_url=server.base_url) as client:
            with pytest.raises(error, match="timeout"):
                await resolve(client.rooms.get("r", timeout=bad))
    assert server.received == []


@pytest.mark.parametrize("unlimited", [None, math.inf, httpx.Timeout(None)], ids=repr)
async def test_none_and_inf_mean_no_limit(kind: str, unlimited: Any) -> None:
    with hostile_server(respond(200, ROOM)) as server:
        async with open_client(kind, base_url=server.base_url, timeout=unlimited) as client:
            assert (await resolve(client.rooms.get("r"))).sid == "RM_1"
            assert (await resolve(client.rooms.get("r", timeout=unlimited))).sid == "RM_1"


# ---- headers are case-insensitive --------------------------------------------------------


async def test_a_callers_idempotency_key_is_the_only_one_sent(kind: str) -> None:
    with hostile_server(respond(200, ROOM)) as server:
        async with open_client(kind, base_url=server.base_url) as client:
            await resolve(client.rooms.create(name="a", extra_headers={"idempotency-key": "k1"}))
            await resolve(client.rooms.create(name="b", extra_headers={"IDEMPOTENCY-KEY": "k2"}))
            await resolve(
                client.rooms.create(
                    name="c", idempotency_key="k3", extra_headers={"Idempotency-Key": "other"}
                )
            )
            await resolve(client.rooms.create(name="d"))
    keys = [r.header_values("idempotency-key") for r in server.received]
    assert keys[:3] == [["k1"], ["k2"], ["k3"]]
    assert len(keys[3]) == 1 and keys[3][0] not in ("k1", "k2", "k3")


async def test_default_and_extra_headers_replace_the_sdks_in_any_case(kind: str) -> None:
    with hostile_server(respond(200, ROOM)) as server:
        async with open_client(
            kind,
            base_url=server.base_url,
            default_headers={"user-agent": "mine/1", "AUTHORIZATION": "Bearer stolen", "X-A": "1"},
        ) as client:
            await resolve(
                client.rooms.create(
                    name="a",
                    extra_headers={
                        "content-type": "application/json; charset=utf-8",
                        "x-a": "2",
                        "authorization": "Bearer other",
                    },
                )
            )
    sent = server.received[0]
    assert sent.header_values("user-agent") == ["mine/1"]
    assert sent.header_values("authorization") == [f"Bearer {API_KEY}"]
    assert sent.header_values("content-type") == ["application/json; charset=utf-8"]
    assert sent.header_values("x-a") == ["2"]


def test_a_base_url_with_credentials_is_refused() -> None:
    for cls in (BaxCloud, AsyncBaxCloud):
        with pytest.raises(ValueError, match="credentials") as caught:
            cls(api_key=API_KEY, base_url="https://user:hunter2@api.example.com")
        assert "hunter2" not in str(caught.value)


# ---- errors pickle, without secrets ------------------------------------------------------


async def _errors_of_every_kind(kind: str, server: LocalServer) -> list[BaxCloudError]:
    errors: list[BaxCloudError] = []

    async def capture(call: Any) -> None:
        try:
            await resolve(call())
        except BaxCloudError as exc:
            errors.append(exc)
        else:
            raise AssertionError("expected an error")

    async with open_client(kind, api_key=server.api_key, base_url=server.base_url) as client:
        await capture(lambda: client.rooms.get(unique("missing")))
        await capture(lambda: client.tokens.verify("not-a-token"))
        await capture(lambda: webhooks.verify(b"{}", {}, "whsec_" + "A" * 32))
    with hostile_server(respond(200, b"[]")) as hostile:
        async with open_client(kind, base_url=hostile.base_url) as client:
            await capture(lambda: client.rooms.get("r"))
            hostile.reply = respond(
                429,
                b'{"error":{"code":"rate_limited","message":"slow down"}}',
                headers=[("Retry-After", "7")],
            )
            await capture(lambda: client.rooms.get("r"))
            hostile.reply = lambda conn: __import__("time").sleep(1.0)
            await capture(lambda: client.rooms.get("r", timeout=0.2))
    async with open_client(kind, base_url="http://127.0.0.1:9") as client:
        await capture(lambda: client.rooms.get("r"))
    return errors


async def test_every_error_pickles_without_secrets(kind: str, server: LocalServer) -> None:
    errors = await _errors_of_every_kind(kind, server)
    kinds = [type(e) for e in errors]
    assert kinds == [
        NotFoundError,
        TokenVerificationError,
        WebhookVerificationError,
        APIResponseValidationError,
        RateLimitError,
        APITimeoutError,
        APIConnectionError,
    ]
    server_secret = server.api_key.rsplit("_", 1)[1]
    for error in errors:
        data = pickle.dumps(error)
        assert server_secret.encode() not in data
        assert SECRET.encode() not in data
        copy = pickle.loads(data)  # noqa: S301 (our own bytes)
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert repr(copy) == repr(error)
        for name in ("status_code", "code", "request_id", "details", "retry_after"):
            assert getattr(copy, name, None) == getattr(error, name, None)
        if isinstance(error, APIStatusError | APIResponseValidationError):
            assert isinstance(copy, APIStatusError | APIResponseValidationError)
            assert error.response is not None
            assert copy.response is None
    assert errors[4].retry_after == 7.0  # type: ignore[attr-defined]


def _missing_room_in_child(base_url: str, api_key: str) -> None:
    with BaxCloud(api_key=api_key, base_url=base_url) as client:
        client.rooms.get("no-such-room-in-child")


def test_an_error_crosses_a_process_pool(server: LocalServer) -> None:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        future = pool.submit(_missing_room_in_child, server.base_url, server.api_key)
        with pytest.raises(NotFoundError) as caught:
            future.result(timeout=120)
    assert caught.value.status_code == 404
    assert caught.value.code == "room_not_found"
    assert caught.value.request_id


# ---- the API key stays out of tracebacks printed with locals ---------------------------


async def test_tracebacks_with_locals_hold_no_secret(kind: str, server: LocalServer) -> None:
    errors = await _errors_of_every_kind(kind, server)
    server_secret = server.api_key.rsplit("_", 1)[1]
    for error in errors:
        rendered = "".join(
            traceback.TracebackException.from_exception(error, capture_locals=True).format()
        )
        assert "Traceback" in rendered
        assert server_secret not in rendered, type(error)
        assert SECRET not in rendered, type(error)


# ---- redaction is linear -------------------------------------------------------------------


def test_redacting_a_megabyte_of_adversarial_text_is_linear() -> None:
    """Each input below made the old patterns backtrack quadratically (hours at 1 MB).

    Run in a child with a hang guard: no timing is asserted, only that it ends.
    """
    script = textwrap.dedent(
        """
        from baxcloud._core.log import redact
        inputs = [
            "eyJ" * 350_000, "eyJa." * 200_000, "rtmp://" * 150_000, "rtmp://a/" * 112_000,
            "bearer " * 150_000, "bearer" + " " * 1_000_000, "bax_sk_abcd_" * 90_000,
            "whsec_" * 170_000, "bax_sk_" + "a" * 1_000_000,
        ]
        for text in inputs:
            assert len(text) >= 1_000_000
            redact(text)
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_the_local_servers_api_key_is_the_plain_key(server: LocalServer) -> None:
    """The SDK hides keys from reprs; a caller asking LocalServer for its key gets the key."""
    key = server.api_key
    assert type(key) is str
    assert repr(key) == "'" + key + "'"
    assert key.startswith("bax_sk_") and not key.endswith("****")
