"""Answers the SDK does not expect, from a hostile loopback server, on both clients.

Every call ends in its result or a `BaxCloudError`; a 2xx body that is not what
the call expects is an `APIResponseValidationError`; each attempt is bounded as
a whole by `timeout`, and a body by `max_response_bytes`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import gzip
import socket
import struct
import time
import tracemalloc
import warnings
import zlib
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from helpers import resolve
from hostile import (
    HostileServer,
    Reply,
    compression_bomb,
    endless,
    hostile_server,
    open_client,
    respond,
    trickle,
)

from baxcloud import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncBaxCloud,
    BaxCloud,
    BaxCloudError,
    InternalServerError,
    RateLimitError,
    Room,
)

API_KEY = "bax_sk_hostile1_" + "S3cr3t" * 6
SECRET = API_KEY.rsplit("_", 1)[1]
ROOM = b'{"sid":"RM_1","name":"r"}'
HANG_GUARD = 20.0  # seconds; without the fixes these calls run for minutes or forever


def client_for(kind: str, server: HostileServer, **settings: Any) -> Any:
    settings = {"max_retries": 0, "timeout": 5.0, **settings}
    return open_client(kind, api_key=API_KEY, base_url=server.base_url, **settings)


CALLS: dict[str, Callable[[Any], Any]] = {
    "rooms.get": lambda c: c.rooms.get("r"),
    "rooms.create": lambda c: c.rooms.create(name="r"),
    "rooms.list": lambda c: c.rooms.list(),
    "recordings.list_active": lambda c: c.recordings.list_active(),
}

WRONG_SHAPES = {
    "null": b"null",
    "list": b"[]",
    "string": b'"room"',
    "number": b"42",
    "empty object": b"{}",
    "missing required field": b'{"sid":"RM_1"}',
    "wrong field type": b'{"sid":"RM_1","name":"r","maxParticipants":"many"}',
    "null for a required string": b'{"sid":null,"name":"r"}',
    "object for a string": b'{"sid":"RM_1","name":{"first":"r"}}',
    "fraction for an integer": b'{"sid":"RM_1","name":"r","maxParticipants":2.5}',
    "string for a boolean": b'{"sid":"RM_1","name":"r","activeRecording":"false"}',
    "timestamp out of range": b'{"sid":"RM_1","name":"r","createdAt":1e300}',
    "items not a list": b'{"items":{"sid":"RM_1"},"page":1}',
    "items of the wrong type": b'{"items":[42],"page":"one","hasMore":"no"}',
    "not json": b"<html>502 Bad Gateway</html>",
    "truncated json": b'{"sid":"RM_1","na',
    "empty body": b"",
    "deeply nested": b"[" * 100_000,
    "invalid utf-8": b'{"sid":"\xff\xfe"}',
}


@pytest.mark.parametrize("shape", list(WRONG_SHAPES))
@pytest.mark.parametrize("call", list(CALLS))
async def test_a_2xx_of_the_wrong_shape_is_a_validation_error(
    kind: str, shape: str, call: str
) -> None:
    body = WRONG_SHAPES[shape]
    with hostile_server(respond(200, body)) as server:
        async with client_for(kind, server) as client:
            with pytest.raises(APIResponseValidationError) as caught:
                await resolve(CALLS[call](client))
    error = caught.value
    assert error.status_code == 200
    assert error.request_id == "req_hostile"
    assert error.body_excerpt == body[:200].decode("utf-8", "replace") + (
        "..." if len(body) > 200 else ""
    )
    assert "req_hostile" in str(error)
    assert error.__cause__ is None  # no raw cattrs / json error chained for users to parse


async def test_a_204_where_a_body_is_due_is_a_validation_error(kind: str) -> None:
    with hostile_server(respond(204, b"", headers=())) as server:
        async with client_for(kind, server) as client:
            with pytest.raises(APIResponseValidationError, match="empty 204"):
                await resolve(client.rooms.get("r"))
            assert await resolve(client.rooms.delete("r")) is None  # where none is due: fine


async def test_optional_fields_missing_or_null_are_tolerated(kind: str) -> None:
    body = (
        b'{"sid":"RM_1","name":"r","maxParticipants":null,"metadata":null,'
        b'"createdAt":null,"numParticipants":null,"someFutureField":{"x":1}}'
    )
    page = b'{"items":[' + body + b'],"page":null,"limit":null,"total":null,"hasMore":null}'
    with hostile_server(respond(200, body)) as server:
        async with client_for(kind, server) as client:
            room = await resolve(client.rooms.get("r"))
            server.reply = respond(200, page)
            listed = await resolve(client.rooms.list())
    # Nulls mean the defaults; the unknown field is kept, as sent.
    assert room.extra_fields == {"someFutureField": {"x": 1}}
    assert room.to_dict() == {**Room(sid="RM_1", name="r").to_dict(), "someFutureField": {"x": 1}}
    assert listed.items == [room]
    assert (listed.page, listed.limit, listed.total, listed.has_more) == (1, 0, 0, False)


async def test_the_excerpt_never_shows_a_secret(kind: str) -> None:
    body = b'{"echo":"Authorization: Bearer ' + API_KEY.encode() + b'"}'
    with hostile_server(respond(200, body)) as server:
        async with client_for(kind, server) as client:
            with pytest.raises(APIResponseValidationError) as caught:
                await resolve(client.rooms.get("r"))
    for text in (str(caught.value), repr(caught.value), caught.value.body_excerpt):
        assert SECRET not in text


# ---- one deadline per attempt -----------------------------------------------------------


@pytest.mark.parametrize("headers_first", [True, False], ids=["body", "whole response"])
async def test_timeout_bounds_the_whole_attempt_against_a_trickling_server(
    kind: str, headers_first: bool
) -> None:
    body = ROOM + b" " * 200  # 1 byte every 0.1 s: 20+ s in all, each read well under 1 s
    with hostile_server(trickle(body, every=0.1, headers_first=headers_first)) as server:
        async with client_for(kind, server, timeout=1.0) as client:
            started = time.monotonic()
            with pytest.raises(APITimeoutError):
                await resolve(client.rooms.get("r"))
            elapsed = time.monotonic() - started
    assert elapsed < HANG_GUARD, "the call outlived its timeout by far"


async def test_per_call_timeout_bounds_the_attempt_too(kind: str) -> None:
    with hostile_server(trickle(ROOM + b" " * 200, every=0.1)) as server:
        async with client_for(kind, server, timeout=None) as client:
            started = time.monotonic()
            with pytest.raises(APITimeoutError):
                await resolve(client.rooms.get("r", timeout=1.0))
    assert time.monotonic() - started < HANG_GUARD


async def test_the_attempt_deadline_nests_inside_the_callers_own(anyio_backend: str) -> None:
    # The SDK's deadline and a caller's, each firing first in turn: the one that fires
    # is the one that reports it, and no cancellation is left over for the task.
    with hostile_server(trickle(ROOM + b" " * 200, every=0.1)) as server:
        async with client_for("async", server, timeout=0.5) as client:
            with anyio.CancelScope(deadline=anyio.current_time() + 30) as later:
                with pytest.raises(APITimeoutError):
                    await client.rooms.get("r")
                await anyio.sleep(0.01)
            assert not later.cancelled_caught
            with anyio.move_on_after(0.2) as sooner:
                await client.rooms.get("r")
            assert sooner.cancelled_caught
            if anyio_backend != "asyncio":
                return
            async with asyncio.timeout(30):
                with pytest.raises(APITimeoutError):
                    await client.rooms.get("r")
                task = asyncio.current_task()
                assert task is not None and task.cancelling() == 0
                await asyncio.sleep(0.01)
            with pytest.raises(TimeoutError) as caught:
                async with asyncio.timeout(0.2):
                    await client.rooms.get("r")
            assert not isinstance(caught.value, APITimeoutError)


def _slow(delay: float) -> Callable[[Any], None]:
    def reply(conn: Any) -> None:
        time.sleep(delay)
        respond(200, ROOM)(conn)

    return reply


async def test_no_timeout_means_no_limit(kind: str) -> None:
    with hostile_server(_slow(1.0)) as server:
        async with client_for(kind, server, timeout=0.5) as client:
            with pytest.raises(APITimeoutError):
                await resolve(client.rooms.get("r"))
            unlimited = client.with_options(timeout=None)
            assert unlimited.timeout is None
            assert client.timeout == 0.5
            assert (await resolve(unlimited.rooms.get("r"))).sid == "RM_1"
            forever = client.with_options(timeout=float("inf"))
            assert (await resolve(forever.rooms.get("r"))).sid == "RM_1"
            assert (await resolve(client.rooms.get("r", timeout=None))).sid == "RM_1"


# ---- bounded bodies ---------------------------------------------------------------------


@contextlib.contextmanager
def peak_traced_memory() -> Any:
    tracemalloc.start()
    result: dict[str, int] = {}
    try:
        yield result
    finally:
        result["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


MIB = 1024 * 1024
CHUNKED = ("Transfer-Encoding", "chunked")
CHUNK = b"8000\r\n" + b"[" * 0x8000 + b"\r\n"


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(endless(), id="endless body"),
        pytest.param(
            endless(
                headers=[("Transfer-Encoding", "chunked")],
                chunk=b"8000\r\n" + b"[" * 0x8000 + b"\r\n",
            ),
            id="endless chunked",
        ),
        pytest.param(respond(200, b"[" * (3 * MIB)), id="too long"),
        pytest.param(
            respond(200, b"[" * (3 * MIB), content_length=False), id="too long, no length"
        ),
    ],
)
async def test_max_response_bytes_caps_a_body(kind: str, reply: Any) -> None:
    with hostile_server(reply) as server:
        async with client_for(kind, server, max_response_bytes=MIB) as client:
            assert client.max_response_bytes == MIB
            with (
                peak_traced_memory() as memory,
                pytest.raises(APIResponseValidationError, match="max_response_bytes=1048576"),
            ):
                await resolve(client.rooms.get("r"))
    assert memory["peak"] < 8 * MIB


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_compression_bomb_stops_at_the_default_cap(kind: str, encoding: str) -> None:
    bomb = compression_bomb(1024 * MIB, gzip=encoding == "gzip")  # ~1 MiB sent, 1 GiB decoded
    assert len(bomb) < 2 * MIB
    headers = [("Content-Type", "application/json"), ("Content-Encoding", encoding)]
    with hostile_server(respond(200, bomb, headers=headers)) as server:
        async with client_for(kind, server) as client:
            assert client.max_response_bytes == 16 * MIB
            with peak_traced_memory() as memory, pytest.raises(APIResponseValidationError):
                await resolve(client.rooms.get("r"))
    assert memory["peak"] < 64 * MIB


async def test_compressed_bodies_within_the_cap_decode(kind: str) -> None:
    headers = [("Content-Type", "application/json"), ("Content-Encoding", "gzip")]
    with hostile_server(respond(200, gzip.compress(ROOM), headers=headers)) as server:
        async with client_for(kind, server) as client:
            assert (await resolve(client.rooms.get("r"))).sid == "RM_1"
            raw_deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            body = raw_deflate.compress(ROOM) + raw_deflate.flush()
            server.reply = respond(200, body, headers=[("Content-Encoding", "deflate")])
            assert (await resolve(client.rooms.get("r"))).sid == "RM_1"
            server.reply = respond(
                200, zlib.compress(ROOM), headers=[("Content-Encoding", "deflate")]
            )
            assert (await resolve(client.rooms.get("r"))).sid == "RM_1"
    accept = server.received[0].header_values("accept-encoding")
    assert accept == ["gzip, deflate"]


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip, gzip", "compress"])
async def test_an_encoding_not_asked_for_is_a_validation_error(kind: str, encoding: str) -> None:
    headers = [("Content-Encoding", encoding)]
    with hostile_server(respond(200, b"\x00garbage", headers=headers)) as server:
        async with client_for(kind, server) as client:
            with pytest.raises(APIResponseValidationError, match="Content-Encoding"):
                await resolve(client.rooms.get("r"))


async def test_a_corrupt_compressed_body_is_a_validation_error(kind: str) -> None:
    headers = [("Content-Encoding", "gzip")]
    with hostile_server(respond(200, b"\x1f\x8bnot gzip at all", headers=headers)) as server:
        async with client_for(kind, server) as client:
            with pytest.raises(APIResponseValidationError):
                await resolve(client.rooms.get("r"))


@pytest.mark.parametrize("anyio_backend", ["trio"])  # asyncio finalizes them silently
async def test_a_body_read_stopped_early_closes_its_generator() -> None:
    """The SDK closes the body generator it stopped reading, rather than leaving it to
    the garbage collector (on trio, a ResourceWarning). httpx's own generators under
    it are httpx's to close (encode/httpx#3686); pyproject.toml's filterwarnings names
    them."""
    with hostile_server(endless()) as server, warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        async with client_for("async", server, max_response_bytes=MIB) as client:
            with pytest.raises(APIResponseValidationError, match="max_response_bytes"):
                await client.rooms.get("r")
        gc.collect()
    collected = [str(w.message) for w in seen if "garbage collected" in str(w.message)]
    assert not [m for m in collected if "Response.aiter_raw" in m], collected


async def test_max_response_bytes_is_checked(kind: str) -> None:
    bad_values: list[Any] = [0, -1, 1.5, True, "16"]  # deliberately not all ints
    for bad in bad_values:
        with pytest.raises(ValueError, match="max_response_bytes"):
            BaxCloud(api_key=API_KEY, max_response_bytes=bad)
        with pytest.raises(ValueError, match="max_response_bytes"):
            AsyncBaxCloud(api_key=API_KEY).with_options(max_response_bytes=bad)


async def test_no_other_exception_type_escapes(kind: str) -> None:
    """Resets, garbage status lines and cut-off bodies end as the matching BaxCloudError."""

    def reset(conn: socket.socket) -> None:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    replies: list[tuple[Reply, type[BaxCloudError]]] = [
        (reset, APIConnectionError),
        (lambda conn: conn.sendall(b"HTTP/1.1 banana\r\n\r\n"), APIConnectionError),
        (lambda conn: conn.sendall(b"NOT HTTP AT ALL\r\n\r\n"), APIConnectionError),
        (
            lambda conn: conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"),
            APIConnectionError,
        ),
        (
            respond(200, b"\xff" * 10, headers=[("Content-Type", "text/plain; charset=utf-16")]),
            APIResponseValidationError,
        ),
        (respond(301, b"", headers=[("Location", "http://169.254.169.254/")]), APIStatusError),
        (respond(599, b"{}"), InternalServerError),
        (
            respond(
                429,
                b'{"error":{"code":"rate_limited","message":"x"}}',
                headers=[("Retry-After", "nan")],
            ),
            RateLimitError,
        ),
    ]
    for reply, expected in replies:
        with hostile_server(reply) as server:
            async with client_for(kind, server) as client:
                with pytest.raises(BaxCloudError) as info:
                    await resolve(client.rooms.get("r"))
        assert type(info.value) is expected, (expected, info.value)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # trio keeps no such timers
async def test_calls_that_never_suspend_leave_no_pile_of_timers() -> None:
    """Each attempt's deadline is a timer; asyncio drops cancelled ones only as its loop runs.

    With a transport that never suspends (a mock), 3,000 calls used to leave 3,000
    cancelled timers (about 200 bytes each) in the loop until it next ran.
    """
    import asyncio

    import httpx

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=ROOM))
    async with (
        httpx.AsyncClient(transport=transport) as http,
        AsyncBaxCloud(api_key=API_KEY, base_url="http://mock", http_client=http) as client,
    ):
        for _ in range(3000):
            await client.rooms.get("r")
        pending_timers = len(asyncio.get_running_loop()._scheduled)  # type: ignore[attr-defined]
    assert pending_timers < 300
