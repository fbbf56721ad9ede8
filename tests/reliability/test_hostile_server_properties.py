"""Property: whatever a server answers, every call ends in time with a result or a
`BaxCloudError`.

Hypothesis scripts a hostile loopback server (random status codes, headers and
bodies: wrong shapes, truncated, trickled, endless, oversized, compressed or
falsely compressed, wrong content types, odd Retry-After values) and drives
both clients at it. A call may succeed or fail, but it must end within its
deadline (each attempt's timeout plus the retry pauses) and may raise nothing
but a `BaxCloudError`.
"""

from __future__ import annotations

import gzip
import json
import socket
import time
import zlib
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from hostile import head, hostile_server
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baxcloud import AsyncBaxCloud, AsyncPage, BaxCloud, BaxCloudError, Room, SyncPage
from baxcloud._core import retry as _retry

API_KEY = "bax_sk_property1_" + "Q" * 40
TIMEOUT = 0.5
MAX_RETRIES = 1
PAUSE = 0.02  # the retry pauses, made short for the test (any Retry-After included)
CAP = 64 * 1024
# The deadline of one call: every attempt's timeout and every pause. The slack is a
# hang guard for a loaded machine, not a performance figure.
DEADLINE = (MAX_RETRIES + 1) * TIMEOUT + MAX_RETRIES * PAUSE
SLACK = 5.0

ROOM = {"sid": "RM_1", "name": "r"}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
bodies = st.one_of(
    st.just(json.dumps(ROOM).encode()),
    st.just(json.dumps({"items": [ROOM], "page": 1, "hasMore": False}).encode()),
    st.builds(lambda v: json.dumps(v).encode(), json_values),
    st.binary(max_size=200),
    st.just(b""),
    st.just(b"[" * (CAP + 1)),
)
ENCODINGS = [None, "gzip", "deflate", "br", "identity", "gzip, deflate"]
RETRY_AFTER = [None, "0", "-5", "nan", "inf", "1e400", "soon", "Wed, 21 Oct 2015 07:28:00 GMT"]


@st.composite
def answers(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "status": draw(st.sampled_from([200, 201, 204, 301, 400, 404, 409, 422, 429, 500, 503])),
        "body": draw(bodies),
        "encoding": draw(st.sampled_from(ENCODINGS)),
        "encode_truly": draw(st.booleans()),
        "content_type": draw(st.sampled_from(["application/json", "text/html", None, "\x7f"])),
        "retry_after": draw(st.sampled_from(RETRY_AFTER)),
        "delivery": draw(
            st.sampled_from(["whole", "no length", "truncated", "trickled", "endless", "reset"])
        ),
    }


def reply_for(answer: dict[str, Any]) -> Callable[[socket.socket], None]:
    body: bytes = answer["body"]
    encoding = answer["encoding"]
    if answer["encode_truly"] and encoding == "gzip":
        body = gzip.compress(body)
    elif answer["encode_truly"] and encoding == "deflate":
        body = zlib.compress(body)
    headers = []
    if answer["content_type"] is not None:
        headers.append(("Content-Type", answer["content_type"]))
    if encoding is not None:
        headers.append(("Content-Encoding", encoding))
    if answer["retry_after"] is not None:
        headers.append(("Retry-After", answer["retry_after"]))
    delivery = answer["delivery"]
    if delivery in ("whole", "trickled"):
        headers.append(("Content-Length", str(len(body))))
    elif delivery == "truncated":
        headers.append(("Content-Length", str(len(body) + 10)))

    def reply(conn: socket.socket) -> None:
        start = head(answer["status"], headers)
        if delivery == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2)
            return
        if delivery == "trickled":
            conn.sendall(start)
            for i in range(0, len(body), 8):
                conn.sendall(body[i : i + 8])
                time.sleep(0.1)
            return
        conn.sendall(start + body)
        while delivery == "endless":
            conn.sendall(b" " * 4096)

    return reply


CALLS: list[Callable[[Any], Any]] = [
    lambda c: c.rooms.get("r"),
    lambda c: c.rooms.list(),
    lambda c: c.rooms.create(name="r"),
    lambda c: c.rooms.delete("r"),
]
SETTINGS: dict[str, Any] = {
    "timeout": TIMEOUT,
    "max_retries": MAX_RETRIES,
    "max_response_bytes": CAP,
}


def call_blocking(base_url: str, call: Callable[[Any], Any]) -> Any:
    with BaxCloud(api_key=API_KEY, base_url=base_url, **SETTINGS) as client:
        return call(client)


def call_async(base_url: str, call: Callable[[Any], Any]) -> Any:
    async def main() -> Any:
        async with AsyncBaxCloud(api_key=API_KEY, base_url=base_url, **SETTINGS) as client:
            return await call(client)

    return anyio.run(main)


@pytest.fixture(autouse=True)
def short_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_retry, "INITIAL_DELAY", PAUSE)
    monkeypatch.setattr(_retry, "MAX_DELAY", PAUSE)
    monkeypatch.setattr(_retry, "MAX_RETRY_AFTER", PAUSE)


@pytest.mark.parametrize("run", [call_blocking, call_async], ids=["sync", "async"])
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(answer=answers(), which=st.integers(0, len(CALLS) - 1))
def test_every_call_ends_in_time_with_a_result_or_a_baxcloud_error(
    run: Callable[[str, Callable[[Any], Any]], Any], answer: dict[str, Any], which: int
) -> None:
    with hostile_server(reply_for(answer)) as server:
        started = time.monotonic()
        try:
            result = run(server.base_url, CALLS[which])
        except BaxCloudError:
            result = None
        elapsed = time.monotonic() - started
    assert result is None or isinstance(result, Room | AsyncPage | SyncPage)
    assert elapsed < DEADLINE + SLACK, f"a call took {elapsed:.1f} s for {answer}"
