"""Decoding responses: what the local server cannot be made to send on cue.

The server never adds fields or enum values this SDK does not know, so a mock
transport plays a future server here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from helpers import close_blocking_with_users_client

from baxcloud import (
    APIResponseValidationError,
    AsyncBaxCloud,
    BaxCloud,
    InternalServerError,
    Participant,
)
from baxcloud.testing import LocalServer

KEY = "bax_sk_abcd_" + "s" * 40


def future_server(request: httpx.Request) -> httpx.Response:
    participant: dict[str, Any] = {
        "sid": "PA_1",
        "identity": "ann",
        "name": "Ann",
        "state": "HOLOGRAPHIC",
        "metadata": "",
        "joinedAt": 1764460800,
        "isPublisher": True,
        "permission": {"canPublish": True, "canTeleport": True},
        "tracks": [{"sid": "TR_1", "kind": "smell", "source": "nose", "name": "", "muted": False}],
        "brandNewField": {"nested": [1, 2, 3]},
    }
    if request.url.path.endswith("/participants"):
        return httpx.Response(
            200,
            json={"items": [participant], "page": 1, "limit": 20, "total": 1, "hasMore": False},
        )
    return httpx.Response(200, json=participant)


async def test_unknown_fields_are_ignored_and_unknown_enums_pass_through() -> None:
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(future_server)) as http,
        AsyncBaxCloud(api_key=KEY, base_url="http://future", http_client=http) as client,
    ):
        participant = await client.participants.get("room", "ann")
        listed = [p async for p in client.participants.list("room")]
    assert isinstance(participant, Participant)
    assert str(participant.state) == "HOLOGRAPHIC"  # outside the Literal: passed through
    assert str(participant.tracks[0].kind) == "smell"
    assert str(participant.tracks[0].source) == "nose"
    assert participant.permission.can_publish is True
    assert participant.joined_at == datetime(2025, 11, 30, tzinfo=UTC)
    assert listed == [participant]


def test_the_blocking_client_decodes_the_same_way() -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(future_server))
    client = BaxCloud(api_key=KEY, base_url="http://future", http_client=http)
    try:
        assert str(client.participants.get("room", "ann").state) == "HOLOGRAPHIC"
    finally:
        close_blocking_with_users_client(client, http)


async def test_non_json_success_is_a_typed_error() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>proxy</html>")

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(broken)) as http,
        AsyncBaxCloud(api_key=KEY, base_url="http://x", http_client=http) as client,
    ):
        with pytest.raises(APIResponseValidationError) as info:
            await client.rooms.get("r")
    assert info.value.status_code == 200
    assert info.value.body_excerpt == "<html>proxy</html>"


async def test_error_without_a_json_body_is_still_typed() -> None:
    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, content=b"Bad Gateway")

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(gateway)) as http,
        AsyncBaxCloud(api_key=KEY, base_url="http://x", http_client=http, max_retries=0) as client,
    ):
        with pytest.raises(InternalServerError) as info:
            await client.rooms.get("r")
    assert (info.value.status_code, info.value.code) == (502, "http_502")


async def test_local_server_works_with_async_with() -> None:
    async with LocalServer() as server, server.async_client() as client:
        room = await client.rooms.create(name="async-with")
        assert (await client.rooms.get("async-with")).sid == room.sid
    assert "stopped" in repr(server)
