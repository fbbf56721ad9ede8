"""What httpx's clients give a response, both SDK clients give too.

The pools the SDK makes itself hand API calls straight to their transport
(`_core/direct_client.py`), past `httpx.AsyncClient.send`; these tests hold
them to what that layer does: cookies kept, `elapsed` set, httpx's request
log, errors that name their request. Each runs on the async client and on the
blocking one, called from a plain thread and from inside a running event loop
(the portal's way).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from helpers import resolve, unique
from hostile import HostileServer, Received, head, open_client

from baxcloud import APIConnectionError, APIStatusError, BaxCloud, BaxCloudError
from baxcloud.testing import LocalServer

pytestmark = pytest.mark.parametrize("way", ["blocking", "blocking-in-a-loop", "async"])

API_KEY = "bax_sk_keptresp_" + "K3ptS3cr3t" * 4
ROOM = {"sid": "RM_kept", "name": "kept", "emptyTimeout": 300, "maxParticipants": 0}


def run_calls(way: str, calls: list[Callable[[Any], Any]], **settings: Any) -> list[Any]:
    """The results of `calls` (each given the client) made in turn on one client."""
    if way == "blocking":
        with BaxCloud(**settings) as client:
            return [call(client) for call in calls]

    async def main() -> list[Any]:
        kind = "sync" if way == "blocking-in-a-loop" else "async"
        async with open_client(kind, **settings) as client:
            return [await resolve(call(client)) for call in calls]

    return asyncio.run(main())


class CookieServer(HostileServer):
    """Sets a cookie on its first answer; every answer is a room."""

    def _respond(self, conn: socket.socket, request: Received) -> None:
        body = json.dumps(ROOM).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if len(self.received) == 1:
            headers.append(("Set-Cookie", "affinity=node-7; Path=/"))
        conn.sendall(head(200, headers) + body)


def test_a_cookie_the_server_sets_is_sent_back(way: str) -> None:
    server = CookieServer().start()
    try:
        rooms = run_calls(
            way, [lambda c: c.rooms.get("kept")] * 3, api_key=API_KEY, base_url=server.base_url
        )
    finally:
        server.close()
    assert [room.sid for room in rooms] == ["RM_kept"] * 3
    cookies = [r.header_values("cookie") for r in server.received]
    assert cookies == [[], ["affinity=node-7"], ["affinity=node-7"]]


def test_a_raw_response_tells_how_long_it_took(way: str, server: LocalServer) -> None:
    name = unique("elapsed")
    (raw,) = run_calls(
        way,
        [lambda c: c.with_raw_response.rooms.create(name=name)],
        api_key=server.api_key,
        base_url=server.base_url,
    )
    assert raw.parse().name == name
    assert timedelta(0) < raw.http_response.elapsed < timedelta(seconds=60)


def test_httpx_request_log_names_each_call(
    way: str, server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    name = unique("logged")
    with caplog.at_level(logging.INFO, logger="httpx"):
        run_calls(
            way,
            [lambda c: c.rooms.create(name=name), lambda c: c.rooms.get(name)],
            api_key=server.api_key,
            base_url=server.base_url,
        )
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines == [
        f'HTTP Request: POST {server.base_url}/v1/rooms "HTTP/1.1 201 Created"',
        f'HTTP Request: GET {server.base_url}/v1/rooms/{name} "HTTP/1.1 200 OK"',
    ]
    assert server.api_key not in caplog.text


def test_a_connection_error_names_its_request(way: str) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # nothing listens there once closed
    base_url = f"http://127.0.0.1:{port}"
    with pytest.raises(APIConnectionError) as caught:
        run_calls(
            way, [lambda c: c.rooms.get("kept")], api_key=API_KEY, base_url=base_url, max_retries=0
        )
    cause = caught.value.__cause__
    assert cause is not None and not isinstance(cause, BaxCloudError)
    assert str(cause.request.url) == f"{base_url}/v1/rooms/kept"  # type: ignore[attr-defined]


class RedirectServer(HostileServer):
    def _respond(self, conn: socket.socket, request: Received) -> None:
        conn.sendall(head(302, [("Location", "/v1/rooms/elsewhere"), ("Content-Length", "0")]))


def test_a_redirect_is_not_followed_but_named(way: str) -> None:
    server = RedirectServer().start()
    base_url = server.base_url
    try:
        with pytest.raises(APIStatusError) as caught:
            run_calls(
                way,
                [lambda c: c.rooms.get("kept")],
                api_key=API_KEY,
                base_url=base_url,
                max_retries=0,
            )
    finally:
        server.close()
    assert len(server.received) == 1
    response = caught.value.response
    assert response is not None and response.next_request is not None
    assert str(response.next_request.url) == f"{base_url}/v1/rooms/elsewhere"
