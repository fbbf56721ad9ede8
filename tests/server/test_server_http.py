"""The local BaxCloud server over raw HTTP (httpx against the ASGI app, and uvicorn)."""

from __future__ import annotations

import asyncio
import base64
import json
import pathlib
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from helpers import asgi_client

from baxcloud._core.api_key import parse_api_key
from baxcloud._core.errors import BaxCloudError
from baxcloud._core.tokens import mint_token
from baxcloud._server import (
    LocalBaxCloudApp,
    RequestInfo,
    ServerConfig,
    create_uvicorn_server,
    generate_api_key,
)
from baxcloud._server.handlers import participants, rooms, simulation

T0 = 1_764_460_800.0
OTHER_KEY = "bax_sk_OtherKey1_" + "x" * 40


def seg(value: str) -> str:
    """Percent-encode one path segment the way the SDK does."""
    return quote(value, safe="").replace(".", "%2E")


def make_token(
    app: LocalBaxCloudApp,
    room: str,
    identity: str,
    *,
    key: str | None = None,
    ttl: int = 3600,
    now: float = T0,
    name: str = "",
    metadata: str = "",
    **video: Any,
) -> str:
    parsed = parse_api_key(key or app.api_key)
    grant = {"room": room, "roomJoin": True, **video}
    token, _ = mint_token(
        key_id=parsed.key_id,
        secret=parsed.secret,
        identity=identity,
        name=name,
        video=grant,
        ttl=ttl,
        metadata=metadata,
        now=now,
    )
    return token


@pytest.fixture
def app() -> Iterator[LocalBaxCloudApp]:
    server = LocalBaxCloudApp(ServerConfig(manual_clock=True, start_time=T0))
    yield server
    server.close()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert error["requestId"] == response.headers["x-request-id"]
    assert set(error) <= {"code", "message", "requestId", "details"}
    return dict(error)


def detail_fields(error: dict[str, Any]) -> list[str]:
    return [d["field"] for d in error["details"]]


async def join(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/_dev/join", json={"token": token})


async def events(client: httpx.AsyncClient, name: str | None = None) -> list[dict[str, Any]]:
    response = await client.get("/_dev/events", params={"event": name} if name else None)
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def advance(client: httpx.AsyncClient, seconds: float) -> float:
    response = await client.post("/_dev/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text
    now: float = response.json()["now"]
    return now


# ---- auth and common headers -------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Basic abc",
        "Bearer",
        "Bearer not-a-key",
        f"Bearer {OTHER_KEY}",
    ],
)
async def test_missing_or_unknown_api_key_is_401(
    anon: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await anon.get("/v1/rooms", headers=headers)
    error = assert_error(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    assert "x" * 40 not in error["message"]


async def test_key_with_right_id_but_wrong_secret_is_401(
    app: LocalBaxCloudApp, anon: httpx.AsyncClient
) -> None:
    parsed = parse_api_key(app.api_key)
    wrong = f"bax_sk_{parsed.key_id}_{'Z' * len(parsed.secret)}"
    response = await anon.get("/v1/rooms", headers={"Authorization": f"Bearer {wrong}"})
    assert_error(response, 401, "unauthenticated")


async def test_client_key_is_403(app: LocalBaxCloudApp, anon: httpx.AsyncClient) -> None:
    parsed = parse_api_key(app.api_key)
    client_key = f"bax_pk_{parsed.key_id}_{parsed.secret}"
    response = await anon.post(
        "/v1/rooms", json={"name": "r"}, headers={"Authorization": f"Bearer {client_key}"}
    )
    assert_error(response, 403, "permission_denied")
    assert (
        await anon.get("/_dev/clock", headers={"Authorization": f"bearer {app.api_key}"})
    ).status_code == 200


async def test_dev_endpoints_and_unknown_api_paths_need_auth(anon: httpx.AsyncClient) -> None:
    assert_error(await anon.get("/_dev/clock"), 401, "unauthenticated")
    assert_error(await anon.post("/_dev/join", json={"token": "x"}), 401, "unauthenticated")
    assert_error(await anon.get("/v1/nothing-here"), 401, "unauthenticated")
    assert_error(await anon.get("/elsewhere"), 404, "not_found")


async def test_every_response_has_request_id_and_rate_limit_headers(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await client.post("/v1/rooms", json={"name": "hdr"})
    responses = [
        await client.get("/v1/rooms"),
        await client.delete("/v1/rooms/hdr"),  # 204
        await client.get("/v1/rooms/hdr"),  # 404
        await anon.get("/v1/rooms"),  # 401
        await anon.get("/openapi.json"),
    ]
    ids = set()
    for response in responses:
        assert response.headers["x-request-id"].startswith("req_")
        ids.add(response.headers["x-request-id"])
        for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
            assert int(response.headers[name]) >= 0
    assert len(ids) == len(responses)
    assert responses[1].status_code == 204
    assert responses[1].content == b""


async def test_unknown_path_is_404_and_wrong_method_is_405(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v1/rooms/x/nope"), 404, "not_found")
    assert_error(await client.get("/v1/rooms/"), 404, "not_found")
    assert_error(await client.get("/v2/rooms"), 404, "not_found")
    response = await client.put("/v1/rooms", json={})
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, POST"
    response = await client.post("/v1/rooms/x/participants")
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"
    assert_error(await client.get("/_dev/join"), 405, "method_not_allowed")


# ---- request validation ----------------------------------------------------------------


async def test_malformed_json_and_non_object_bodies_are_400(client: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "application/json"}
    for raw in [b"{", b"[1, 2]", b'"name"', b"null x", b'{"name": NaN}', b"\xff\xfe"]:
        response = await client.post("/v1/rooms", content=raw, headers=headers)
        assert_error(response, 400, "invalid_request")
    response = await client.post("/v1/rooms", content=b'{"name": "\\ud800"}', headers=headers)
    assert_error(response, 400, "invalid_request")


async def test_non_json_content_type_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/rooms", content=b'{"name": "r"}', headers={"Content-Type": "text/plain"}
    )
    assert_error(response, 400, "invalid_request")


async def test_unknown_fields_are_400_with_details(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/rooms", json={"name": "r", "max_participants": 3, "x": 1})
    error = assert_error(response, 400, "unknown_field")
    assert detail_fields(error) == ["max_participants", "x"]
    assert "max_participants" in error["message"]
    assert (await client.get("/v1/rooms/r")).status_code == 404


async def test_wrong_types_are_400_with_details(client: httpx.AsyncClient) -> None:
    body = {"name": 5, "maxParticipants": "3", "emptyTimeout": True, "enableRecording": 1}
    error = assert_error(await client.post("/v1/rooms", json=body), 400, "invalid_request")
    assert detail_fields(error) == ["name", "maxParticipants", "emptyTimeout", "enableRecording"]
    error = assert_error(
        await client.post("/v1/rooms", json={"name": "r", "maxParticipants": 2.5}),
        400,
        "invalid_request",
    )
    assert detail_fields(error) == ["maxParticipants"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["name"]),
        ({"name": ""}, ["name"]),
        ({"name": "x" * 257}, ["name"]),
        ({"name": "tab\there"}, ["name"]),
        ({"name": "del\x7f"}, ["name"]),
        ({"name": "c1\x85"}, ["name"]),
        ({"name": "r", "maxParticipants": -1}, ["maxParticipants"]),
        ({"name": "r", "maxParticipants": 100_001}, ["maxParticipants"]),
        ({"name": "r", "emptyTimeout": -1}, ["emptyTimeout"]),
        ({"name": "r", "emptyTimeout": 604_801}, ["emptyTimeout"]),
        ({"name": "r", "metadata": "m" * (64 * 1024 + 1)}, ["metadata"]),
        ({"name": "r", "metadata": "é" * (32 * 1024 + 1)}, ["metadata"]),
        ({"name": "", "maxParticipants": -5}, ["name", "maxParticipants"]),
    ],
)
async def test_range_and_format_violations_are_422(
    client: httpx.AsyncClient, body: dict[str, Any], fields: list[str]
) -> None:
    error = assert_error(await client.post("/v1/rooms", json=body), 422, "validation_failed")
    assert detail_fields(error) == fields
    assert all(d["message"] for d in error["details"])
    assert (await client.get("/v1/rooms")).json()["total"] == 0


async def test_boundary_values_are_accepted(client: httpx.AsyncClient) -> None:
    body = {
        "name": "n" * 256,
        "maxParticipants": 100_000,
        "emptyTimeout": 604_800,
        "metadata": "m" * (64 * 1024),
        "enableRecording": True,
    }
    response = await client.post("/v1/rooms", json=body)
    assert response.status_code == 201, response.text
    room = response.json()
    assert room["maxParticipants"] == 100_000
    assert room["enableRecording"] is True
    assert room["metadata"] == body["metadata"]


async def test_null_optional_fields_mean_default(client: httpx.AsyncClient) -> None:
    body = {"name": "r", "maxParticipants": None, "metadata": None}
    response = await client.post("/v1/rooms", json=body)
    assert response.status_code == 201
    assert response.json()["maxParticipants"] == 0
    assert response.json()["metadata"] == ""


async def test_body_over_one_mib_is_413(client: httpx.AsyncClient) -> None:
    raw = json.dumps({"name": "r", "metadata": "m" * (1024 * 1024)}).encode()
    response = await client.post(
        "/v1/rooms", content=raw, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 413, "payload_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while reading
        for _ in range(17):
            yield b" " * 65536

    response = await client.post(
        "/v1/rooms", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_error(response, 413, "payload_too_large")


# ---- rooms -------------------------------------------------------------------------------


async def test_room_lifecycle(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/rooms", json={"name": "main", "maxParticipants": 4, "metadata": "m"}
    )
    assert response.status_code == 201
    room = response.json()
    assert room["sid"].startswith("RM_")
    assert len(room["sid"]) > 6
    assert room == {
        "sid": room["sid"],
        "name": "main",
        "maxParticipants": 4,
        "emptyTimeout": 300,
        "metadata": "m",
        "enableRecording": False,
        "numParticipants": 0,
        "numPublishers": 0,
        "activeRecording": False,
        "createdAt": int(T0),
    }
    assert (await client.get("/v1/rooms/main")).json() == room

    error = assert_error(
        await client.post("/v1/rooms", json={"name": "main"}), 409, "room_already_exists"
    )
    assert "main" in error["message"]

    response = await client.patch(
        "/v1/rooms/main", json={"metadata": "new", "maxParticipants": 0, "emptyTimeout": 60}
    )
    assert response.status_code == 200
    assert response.json() == {**room, "metadata": "new", "maxParticipants": 0, "emptyTimeout": 60}
    response = await client.patch("/v1/rooms/main", json={})
    assert response.json()["metadata"] == "new"
    assert_error(await client.patch("/v1/rooms/main", json={"name": "x"}), 400, "unknown_field")
    assert_error(
        await client.patch("/v1/rooms/main", json={"emptyTimeout": -3}), 422, "validation_failed"
    )

    response = await client.delete("/v1/rooms/main")
    assert response.status_code == 204
    assert_error(await client.get("/v1/rooms/main"), 404, "room_not_found")
    assert_error(await client.delete("/v1/rooms/main"), 404, "room_not_found")
    assert_error(await client.patch("/v1/rooms/main", json={}), 404, "room_not_found")
    finished = await events(client, "room.finished")
    assert finished[-1]["data"] == {"roomName": "main", "roomSid": room["sid"], "reason": "deleted"}
    started = await events(client, "room.started")
    assert started[0]["data"] == {"roomName": "main", "roomSid": room["sid"], "metadata": "m"}


@pytest.mark.parametrize(
    "name", ["a/b c?", "..", ".", "%", "%2F", "café/☕", "#frag", "x+y&z=1", "日本語 ルーム"]
)
async def test_room_names_are_one_percent_encoded_segment(
    client: httpx.AsyncClient, name: str
) -> None:
    response = await client.post("/v1/rooms", json={"name": name})
    assert response.status_code == 201
    response = await client.get(f"/v1/rooms/{seg(name)}")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == name
    assert (await client.get(f"/v1/rooms/{seg(name)}/participants")).json()["total"] == 0
    assert (await client.delete(f"/v1/rooms/{seg(name)}")).status_code == 204


async def test_undecodable_path_segment_is_400(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v1/rooms/%FF"), 400, "invalid_request")


async def test_pagination(client: httpx.AsyncClient) -> None:
    names = []
    for i in range(25):
        name = f"room-{i:02d}"
        names.append(name)
        assert (await client.post("/v1/rooms", json={"name": name})).status_code == 201
        if i % 5 == 4:
            await advance(client, 1)
    seen: list[dict[str, Any]] = []
    for page in (1, 2, 3):
        body = (await client.get("/v1/rooms", params={"page": page, "limit": 10})).json()
        assert body["page"] == page
        assert body["limit"] == 10
        assert body["total"] == 25
        assert body["hasMore"] is (page < 3)
        seen.extend(body["items"])
    assert sorted(r["name"] for r in seen) == names
    keys = [(r["createdAt"], r["sid"]) for r in seen]
    assert keys == sorted(keys)
    assert len({r["createdAt"] for r in seen}) == 5
    default = (await client.get("/v1/rooms")).json()
    assert default["limit"] == 20
    assert len(default["items"]) == 20
    past = (await client.get("/v1/rooms", params={"page": 99, "limit": 100})).json()
    assert past == {"items": [], "page": 99, "limit": 100, "total": 25, "hasMore": False}
    huge = (await client.get("/v1/rooms", params={"page": "9" * 25})).json()
    assert huge["items"] == []
    ignored = await client.get("/v1/rooms", params={"limit": 1, "bogus": "x"})
    assert len(ignored.json()["items"]) == 1


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"page": 0}, ["page"]),
        ({"page": -1}, ["page"]),
        ({"page": "abc"}, ["page"]),
        ({"page": ""}, ["page"]),
        ({"limit": 0}, ["limit"]),
        ({"limit": 101}, ["limit"]),
        ({"limit": "1.5"}, ["limit"]),
        ({"page": 0, "limit": 0}, ["page", "limit"]),
    ],
)
async def test_bad_pagination_is_422(
    client: httpx.AsyncClient, params: dict[str, Any], fields: list[str]
) -> None:
    error = assert_error(await client.get("/v1/rooms", params=params), 422, "validation_failed")
    assert detail_fields(error) == fields
    await client.post("/v1/rooms", json={"name": "r"})
    error = assert_error(
        await client.get("/v1/rooms/r/participants", params=params), 422, "validation_failed"
    )
    assert detail_fields(error) == fields


# ---- participants and simulation ---------------------------------------------------------


async def test_join_creates_room_and_participant(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    token = make_token(app, "auto", "alice", name="Alice", metadata='{"a":1}')
    response = await join(client, token)
    assert response.status_code == 201, response.text
    participant = response.json()
    assert participant["sid"].startswith("PA_")
    assert participant == {
        "sid": participant["sid"],
        "identity": "alice",
        "name": "Alice",
        "state": "ACTIVE",
        "metadata": '{"a":1}',
        "joinedAt": int(T0),
        "isPublisher": False,
        "permission": {
            "canPublish": True,
            "canSubscribe": True,
            "canPublishData": True,
            "canUpdateOwnMetadata": False,
        },
        "tracks": [],
    }
    room = (await client.get("/v1/rooms/auto")).json()
    assert room["emptyTimeout"] == 300
    assert room["maxParticipants"] == 0
    assert room["numParticipants"] == 1
    names = [e["event"] for e in await events(client)]
    assert names == ["room.started", "participant.joined"]
    joined = (await events(client, "participant.joined"))[0]
    assert joined["createdAt"] == int(T0)
    assert joined["id"].startswith("evt_")
    assert joined["data"] == {
        "roomName": "auto",
        "roomSid": room["sid"],
        "identity": "alice",
        "participantSid": participant["sid"],
        "name": "Alice",
        "metadata": '{"a":1}',
    }
    assert (await client.get("/v1/rooms/auto/participants/alice")).json() == participant


async def test_permission_comes_from_token(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    token = make_token(
        app,
        "r",
        "bob",
        canPublish=False,
        canSubscribe=False,
        canPublishData=False,
        canUpdateOwnMetadata=True,
    )
    participant = (await join(client, token)).json()
    assert participant["permission"] == {
        "canPublish": False,
        "canSubscribe": False,
        "canPublishData": False,
        "canUpdateOwnMetadata": True,
    }
    bad = make_token(app, "r", "carol", canPublish="yes")
    error = assert_error(await join(client, bad), 422, "validation_failed")
    assert detail_fields(error) == ["token.video.canPublish"]


async def test_join_token_checks(app: LocalBaxCloudApp, client: httpx.AsyncClient) -> None:
    other = make_token(app, "r", "u", key=OTHER_KEY)
    error = assert_error(await join(client, other), 403, "permission_denied")
    assert "known API key" in error["message"]
    parsed = parse_api_key(app.api_key)
    forged = make_token(app, "r", "u", key=f"bax_sk_{parsed.key_id}_{'Q' * 40}")
    error = assert_error(await join(client, forged), 403, "permission_denied")
    assert "signature" in error["message"]
    future = make_token(app, "r", "u", now=T0 + 120)
    error = assert_error(await join(client, future), 403, "permission_denied")
    assert "not valid yet" in error["message"]
    no_join = make_token(app, "r", "u", roomJoin=False)
    assert_error(await join(client, no_join), 403, "grant_missing")
    assert_error(await join(client, "garbage"), 403, "permission_denied")
    assert_error(await client.post("/_dev/join", json={}), 422, "validation_failed")
    assert (await client.get("/v1/rooms")).json()["total"] == 0  # nothing was created

    short = make_token(app, "r", "u", ttl=10)
    await advance(client, 10 + 59)
    assert (await join(client, short)).status_code == 201  # within the 60 s leeway
    await advance(client, 1)
    error = assert_error(await join(client, short), 403, "permission_denied")
    assert "expired" in error["message"]


async def test_join_rejects_out_of_bounds_claims(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    error = assert_error(
        await join(client, make_token(app, "x" * 257, "u")), 422, "validation_failed"
    )
    assert detail_fields(error) == ["token.video.room"]
    error = assert_error(
        await join(client, make_token(app, "r", "bad\nid")), 422, "validation_failed"
    )
    assert detail_fields(error) == ["token.sub"]
    big = make_token(app, "r", "u", metadata="m" * (64 * 1024 + 1))
    error = assert_error(await join(client, big), 422, "validation_failed")
    assert detail_fields(error) == ["token.metadata"]


async def test_room_full(app: LocalBaxCloudApp, client: httpx.AsyncClient) -> None:
    await client.post("/v1/rooms", json={"name": "small", "maxParticipants": 2})
    assert (await join(client, make_token(app, "small", "a"))).status_code == 201
    assert (await join(client, make_token(app, "small", "b"))).status_code == 201
    assert_error(await join(client, make_token(app, "small", "c")), 403, "room_full")
    # Rejoining with an identity already inside replaces it, so it is not "full".
    assert (await join(client, make_token(app, "small", "b"))).status_code == 201
    await client.patch("/v1/rooms/small", json={"maxParticipants": 0})
    assert (await join(client, make_token(app, "small", "c"))).status_code == 201


async def test_duplicate_identity_replaces_participant(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    first = (await join(client, make_token(app, "r", "dup", name="One"))).json()
    await client.post(
        "/_dev/publish-track", json={"roomName": "r", "identity": "dup", "kind": "audio"}
    )
    second = (await join(client, make_token(app, "r", "dup", name="Two"))).json()
    assert second["sid"] != first["sid"]
    assert second["tracks"] == []
    page = (await client.get("/v1/rooms/r/participants")).json()
    assert [p["sid"] for p in page["items"]] == [second["sid"]]
    left = await events(client, "participant.left")
    assert left[-1]["data"]["reason"] == "duplicate_identity"
    assert left[-1]["data"]["participantSid"] == first["sid"]
    assert (await events(client, "track.unpublished"))[-1]["data"]["participantSid"] == first["sid"]


async def test_update_and_remove_participant(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    await join(client, make_token(app, "r/1", "a b", name="A"))
    path = f"/v1/rooms/{seg('r/1')}/participants/{seg('a b')}"
    response = await client.patch(path, json={"metadata": "meta", "name": "Renamed"})
    assert response.status_code == 200
    assert response.json()["metadata"] == "meta"
    assert response.json()["name"] == "Renamed"
    assert (await client.get(path)).json()["name"] == "Renamed"
    assert_error(await client.patch(path, json={"identity": "x"}), 400, "unknown_field")
    assert_error(await client.patch(path, json={"name": "x" * 257}), 422, "validation_failed")
    assert_error(
        await client.patch(f"/v1/rooms/{seg('r/1')}/participants/nobody", json={}),
        404,
        "participant_not_found",
    )
    assert_error(await client.get("/v1/rooms/none/participants/a"), 404, "room_not_found")
    assert_error(await client.get("/v1/rooms/none/participants"), 404, "room_not_found")
    assert (await client.delete(path)).status_code == 204
    assert_error(await client.get(path), 404, "participant_not_found")
    assert_error(await client.delete(path), 404, "participant_not_found")
    left = (await events(client, "participant.left"))[-1]
    assert left["data"]["reason"] == "removed"
    assert left["data"]["identity"] == "a b"


async def test_participants_are_paged_in_join_order(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    for i in range(5):
        await join(client, make_token(app, "r", f"p{i}"))
        await advance(client, 1)
    page = (await client.get("/v1/rooms/r/participants", params={"limit": 2, "page": 2})).json()
    assert [p["identity"] for p in page["items"]] == ["p2", "p3"]
    assert page["total"] == 5
    assert page["hasMore"] is True


async def test_tracks_and_publishers(app: LocalBaxCloudApp, client: httpx.AsyncClient) -> None:
    await join(client, make_token(app, "r", "pub"))
    await join(client, make_token(app, "r", "viewer", canPublish=False))
    base = {"roomName": "r", "identity": "pub"}
    video = await client.post("/_dev/publish-track", json={**base, "kind": "video"})
    assert video.status_code == 201
    track = video.json()
    assert track["sid"].startswith("TR_")
    assert track == {
        "sid": track["sid"],
        "kind": "video",
        "source": "camera",
        "name": "",
        "muted": False,
    }
    audio = (await client.post("/_dev/publish-track", json={**base, "kind": "audio"})).json()
    assert audio["source"] == "microphone"
    data = (await client.post("/_dev/publish-track", json={**base, "kind": "data"})).json()
    assert data["source"] == "unknown"
    screen = await client.post(
        "/_dev/publish-track",
        json={**base, "kind": "video", "source": "screen_share", "name": "slides"},
    )
    assert screen.json()["source"] == "screen_share"
    assert screen.json()["name"] == "slides"

    room = (await client.get("/v1/rooms/r")).json()
    assert room["numParticipants"] == 2
    assert room["numPublishers"] == 1
    pub = (await client.get("/v1/rooms/r/participants/pub")).json()
    assert pub["isPublisher"] is True
    assert [t["sid"] for t in pub["tracks"]] == [
        track["sid"],
        audio["sid"],
        data["sid"],
        screen.json()["sid"],
    ]
    published = (await events(client, "track.published"))[0]["data"]
    assert published == {
        "roomName": "r",
        "identity": "pub",
        "participantSid": pub["sid"],
        "trackSid": track["sid"],
        "kind": "video",
        "source": "camera",
        "name": "",
    }

    viewer = {"roomName": "r", "identity": "viewer"}
    assert_error(
        await client.post("/_dev/publish-track", json={**viewer, "kind": "video"}),
        403,
        "grant_missing",
    )
    # Data tracks are governed by canPublishData, not canPublish.
    assert (
        await client.post("/_dev/publish-track", json={**viewer, "kind": "data"})
    ).status_code == 201

    assert_error(
        await client.post("/_dev/publish-track", json={**base, "kind": "hologram"}),
        422,
        "validation_failed",
    )
    assert_error(
        await client.post("/_dev/publish-track", json={**base, "kind": "video", "source": "x"}),
        422,
        "validation_failed",
    )
    assert_error(
        await client.post(
            "/_dev/publish-track", json={"roomName": "r", "identity": "no", "kind": "audio"}
        ),
        404,
        "participant_not_found",
    )

    for sid in (track["sid"], audio["sid"], data["sid"], screen.json()["sid"]):
        response = await client.post("/_dev/unpublish-track", json={**base, "trackSid": sid})
        assert response.status_code == 204
    assert_error(
        await client.post("/_dev/unpublish-track", json={**base, "trackSid": track["sid"]}),
        404,
        "track_not_found",
    )
    room = (await client.get("/v1/rooms/r")).json()
    assert room["numPublishers"] == 1  # the viewer's data track
    assert (await client.get("/v1/rooms/r/participants/pub")).json()["isPublisher"] is False
    unpublished = (await events(client, "track.unpublished"))[0]["data"]
    assert unpublished == {
        "roomName": "r",
        "identity": "pub",
        "participantSid": pub["sid"],
        "trackSid": track["sid"],
        "kind": "video",
        "source": "camera",
    }


async def test_can_publish_sources_limits_sources(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    await join(client, make_token(app, "r", "u", canPublishSources=["microphone"]))
    base = {"roomName": "r", "identity": "u"}
    assert (
        await client.post("/_dev/publish-track", json={**base, "kind": "audio"})
    ).status_code == 201
    assert_error(
        await client.post("/_dev/publish-track", json={**base, "kind": "video"}),
        403,
        "grant_missing",
    )


async def test_leave_and_delete_room_events(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    await join(client, make_token(app, "r", "a"))
    await join(client, make_token(app, "r", "b"))
    assert (
        await client.post("/_dev/leave", json={"roomName": "r", "identity": "a"})
    ).status_code == 204
    assert_error(
        await client.post("/_dev/leave", json={"roomName": "r", "identity": "a"}),
        404,
        "participant_not_found",
    )
    assert_error(
        await client.post("/_dev/leave", json={"roomName": "zz", "identity": "a"}),
        404,
        "room_not_found",
    )
    await client.post(
        "/_dev/publish-track", json={"roomName": "r", "identity": "b", "kind": "audio"}
    )
    assert (await client.delete("/v1/rooms/r")).status_code == 204
    tail = [(e["event"], e["data"].get("reason")) for e in (await events(client))[-5:]]
    assert tail == [
        ("participant.left", "disconnected"),
        ("track.published", None),
        ("track.unpublished", None),
        ("participant.left", "room_deleted"),
        ("room.finished", "deleted"),
    ]
    reasons = [e["data"]["reason"] for e in await events(client, "participant.left")]
    assert reasons == ["disconnected", "room_deleted"]


# ---- empty timeout and the clock ---------------------------------------------------------


async def test_empty_room_closes_after_timeout_from_creation(client: httpx.AsyncClient) -> None:
    room = (await client.post("/v1/rooms", json={"name": "e", "emptyTimeout": 10})).json()
    await advance(client, 9.5)
    assert (await client.get("/v1/rooms/e")).status_code == 200
    await advance(client, 0.5)
    assert_error(await client.get("/v1/rooms/e"), 404, "room_not_found")
    finished = await events(client, "room.finished")
    assert finished == [
        {
            "id": finished[0]["id"],
            "event": "room.finished",
            "createdAt": int(T0 + 10),
            "data": {"roomName": "e", "roomSid": room["sid"], "reason": "empty_timeout"},
        }
    ]
    # The name is free again.
    assert (await client.post("/v1/rooms", json={"name": "e"})).status_code == 201


async def test_timeout_counts_from_last_leave(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    await client.post("/v1/rooms", json={"name": "t", "emptyTimeout": 10})
    await advance(client, 5)
    await join(client, make_token(app, "t", "a", ttl=100_000))
    await advance(client, 1000)  # occupied rooms never time out
    assert (await client.get("/v1/rooms/t")).status_code == 200
    await client.post("/_dev/leave", json={"roomName": "t", "identity": "a"})
    await advance(client, 9)
    assert (await client.get("/v1/rooms/t")).status_code == 200
    await client.patch("/v1/rooms/t", json={"emptyTimeout": 20})  # deadline moves, start stays
    await advance(client, 10)
    assert (await client.get("/v1/rooms/t")).status_code == 200
    await advance(client, 1)
    assert_error(await client.get("/v1/rooms/t"), 404, "room_not_found")


async def test_zero_timeout_closes_empty_room_at_next_request(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    assert (
        await client.post("/v1/rooms", json={"name": "z", "emptyTimeout": 0})
    ).status_code == 201
    assert_error(await client.get("/v1/rooms/z"), 404, "room_not_found")
    # An auto-created room with default timeout survives its participant leaving briefly.
    await join(client, make_token(app, "auto", "a"))
    await client.post("/_dev/leave", json={"roomName": "auto", "identity": "a"})
    await advance(client, 299)
    assert (await client.get("/v1/rooms/auto")).status_code == 200
    await advance(client, 1)
    assert (await client.get("/v1/rooms")).json()["total"] == 0


async def test_clock_endpoints(client: httpx.AsyncClient) -> None:
    assert (await client.get("/_dev/clock")).json() == {"now": T0, "manual": True}
    assert await advance(client, 1.5) == T0 + 1.5
    assert (await client.get("/_dev/clock")).json()["now"] == T0 + 1.5
    for seconds in (-1, 1e300):
        error = assert_error(
            await client.post("/_dev/clock/advance", json={"seconds": seconds}),
            422,
            "validation_failed",
        )
        assert detail_fields(error) == ["seconds"]
    assert_error(
        await client.post("/_dev/clock/advance", json={"seconds": "1"}), 400, "invalid_request"
    )


async def test_advance_needs_manual_clock() -> None:
    server = LocalBaxCloudApp(ServerConfig())
    try:
        async with asgi_client(server, server.api_key) as c:
            state = (await c.get("/_dev/clock")).json()
            assert state["manual"] is False
            assert abs(state["now"] - time.time()) < 5
            response = await c.post("/_dev/clock/advance", json={"seconds": 1})
            assert_error(response, 409, "clock_not_manual")
    finally:
        server.close()


# ---- idempotency ----------------------------------------------------------------------


async def test_idempotent_create_replays(client: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": "create-1"}
    first = await client.post("/v1/rooms", json={"name": "i", "metadata": "m"}, headers=key)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    again = await client.post(
        "/v1/rooms",
        content=b'{ "metadata": "m",  "name": "i" }',  # same JSON, other key order/spacing
        headers={**key, "Content-Type": "application/json"},
    )
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert (await client.get("/v1/rooms")).json()["total"] == 1
    assert len(await events(client, "room.started")) == 1

    reused = await client.post("/v1/rooms", json={"name": "other"}, headers=key)
    assert_error(reused, 409, "idempotency_key_reused")
    reused = await client.patch("/v1/rooms/i", json={"name": "i", "metadata": "m"}, headers=key)
    assert_error(reused, 409, "idempotency_key_reused")
    # Without the key the same create is a plain conflict.
    assert_error(await client.post("/v1/rooms", json={"name": "i"}), 409, "room_already_exists")


async def test_idempotency_replays_errors_and_deletes(client: httpx.AsyncClient) -> None:
    await client.post("/v1/rooms", json={"name": "d"})
    key = {"Idempotency-Key": "delete d"}
    assert (await client.delete("/v1/rooms/d", headers=key)).status_code == 204
    again = await client.delete("/v1/rooms/d", headers=key)
    assert again.status_code == 204
    assert again.headers["idempotent-replayed"] == "true"
    missing = await client.delete("/v1/rooms/d", headers={"Idempotency-Key": "k2"})
    error = assert_error(missing, 404, "room_not_found")
    await client.post("/v1/rooms", json={"name": "d"})
    replay = await client.delete("/v1/rooms/d", headers={"Idempotency-Key": "k2"})
    assert replay.status_code == 404
    assert replay.json()["error"] == error
    assert (await client.get("/v1/rooms/d")).status_code == 200


async def test_idempotency_key_scope_and_format(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/rooms", headers={"Idempotency-Key": "g"})).status_code == 200
    assert (await client.get("/v1/rooms", headers={"Idempotency-Key": "g"})).headers.get(
        "idempotent-replayed"
    ) is None
    bad_keys: list[Any] = ["x" * 256, "tab\tkey", "ключ".encode(), ""]
    for bad in bad_keys:
        response = await client.post(
            "/v1/rooms", json={"name": "r"}, headers={"Idempotency-Key": bad}
        )
        assert_error(response, 400, "invalid_request")
    ok = await client.post("/v1/rooms", json={"name": "r"}, headers={"Idempotency-Key": "x" * 255})
    assert ok.status_code == 201


async def test_idempotency_expires_after_24_hours(client: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": "day"}
    assert (
        await client.post("/v1/rooms", json={"name": "a", "emptyTimeout": 604800}, headers=key)
    ).status_code == 201
    await advance(client, 24 * 3600 - 1)
    assert_error(
        await client.post("/v1/rooms", json={"name": "b"}, headers=key),
        409,
        "idempotency_key_reused",
    )
    await advance(client, 1)
    assert (await client.post("/v1/rooms", json={"name": "b"}, headers=key)).status_code == 201


async def test_concurrent_same_key_is_in_use(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    entered = asyncio.Event()
    release = asyncio.Event()

    async def hold(info: RequestInfo) -> None:
        if info.idempotency_key == "slow":
            entered.set()
            await release.wait()

    app.request_hooks.append(hold)
    key = {"Idempotency-Key": "slow"}
    first = asyncio.create_task(client.post("/v1/rooms", json={"name": "c"}, headers=key))
    await asyncio.wait_for(entered.wait(), 5)
    same = await client.post("/v1/rooms", json={"name": "c"}, headers=key)
    assert_error(same, 409, "idempotency_key_in_use")
    different = await client.post("/v1/rooms", json={"name": "other"}, headers=key)
    assert_error(different, 409, "idempotency_key_reused")
    release.set()
    assert (await first).status_code == 201
    replay = await client.post("/v1/rooms", json={"name": "c"}, headers=key)
    assert replay.headers["idempotent-replayed"] == "true"


async def test_5xx_is_not_stored_and_rolls_back(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    route = next(r for r in app.router.routes if r.template == "/v1/rooms")
    original = route.methods["POST"]

    def broken(ctx: Any) -> Any:
        original(ctx)
        raise RuntimeError("boom after the change")

    route.methods["POST"] = broken  # type: ignore[index]
    key = {"Idempotency-Key": "flaky"}
    response = await client.post("/v1/rooms", json={"name": "f"}, headers=key)
    error = assert_error(response, 500, "internal")
    assert "boom" not in error["message"]
    route.methods["POST"] = original  # type: ignore[index]
    assert (await client.get("/v1/rooms")).json()["total"] == 0
    retry = await client.post("/v1/rooms", json={"name": "f"}, headers=key)
    assert retry.status_code == 201
    assert "idempotent-replayed" not in retry.headers
    assert len(await events(client, "room.started")) == 1


async def test_rejected_before_endpoint_is_not_stored(
    app: LocalBaxCloudApp, anon: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    key = {"Idempotency-Key": "early"}
    assert_error(
        await anon.post("/v1/rooms", json={"name": "r"}, headers=key), 401, "unauthenticated"
    )
    raw = {**key, "Content-Type": "application/json"}
    assert_error(await client.post("/v1/rooms", content=b"{", headers=raw), 400, "invalid_request")
    assert (await client.post("/v1/rooms", json={"name": "r"}, headers=key)).status_code == 201


# ---- credentials and persistence ------------------------------------------------------------


def test_generated_credentials_have_the_documented_formats() -> None:
    server = LocalBaxCloudApp(ServerConfig())
    try:
        key = parse_api_key(server.api_key)
        assert key.kind == "sk"
        assert server.webhook_secret.startswith("whsec_")
        assert len(base64.b64decode(server.webhook_secret[6:], validate=True)) == 32
        assert server.api_key not in repr(server)
        assert server.api_key not in repr(server.config)
    finally:
        server.close()
    other = LocalBaxCloudApp(ServerConfig())
    try:
        assert other.api_key != server.api_key
    finally:
        other.close()


@pytest.mark.parametrize(
    "config",
    [
        ServerConfig(api_key="nope"),
        ServerConfig(api_key="bax_pk_abcd_" + "a" * 32),
        ServerConfig(webhook_secret="secret"),
        ServerConfig(webhook_secret="whsec_" + base64.b64encode(b"x" * 8).decode()),
        ServerConfig(webhook_secret="whsec_not base64!"),
    ],
)
def test_bad_configured_credentials_are_refused(config: ServerConfig) -> None:
    with pytest.raises(BaxCloudError) as info:
        LocalBaxCloudApp(config)
    assert "a" * 32 not in str(info.value)


async def test_data_dir_persists_state_and_credentials(tmp_path: pathlib.Path) -> None:
    data = tmp_path / "state"
    first = LocalBaxCloudApp(ServerConfig(data_dir=data, manual_clock=True, start_time=T0))
    try:
        async with asgi_client(first, first.api_key) as c:
            await c.post("/v1/rooms", json={"name": "kept"}, headers={"Idempotency-Key": "p"})
            await advance(c, 100)
    finally:
        first.close()
    assert (data / "baxcloud.sqlite3").exists()
    assert (data / "baxcloud.sqlite3").stat().st_mode & 0o077 == 0

    second = LocalBaxCloudApp(ServerConfig(data_dir=data, manual_clock=True))
    try:
        assert second.api_key == first.api_key
        assert second.webhook_secret == first.webhook_secret
        async with asgi_client(second, second.api_key) as c:
            assert (await c.get("/_dev/clock")).json()["now"] == T0 + 100  # clock resumes
            assert (await c.get("/v1/rooms/kept")).status_code == 200
            replay = await c.post(
                "/v1/rooms", json={"name": "kept"}, headers={"Idempotency-Key": "p"}
            )
            assert replay.headers["idempotent-replayed"] == "true"
    finally:
        second.close()

    explicit = generate_api_key()
    third = LocalBaxCloudApp(ServerConfig(data_dir=str(data), api_key=explicit))
    try:
        assert third.api_key == explicit
        assert third.webhook_secret == first.webhook_secret
        async with asgi_client(third, first.api_key) as c:
            assert_error(await c.get("/v1/rooms"), 401, "unauthenticated")
    finally:
        third.close()


# ---- OpenAPI document ---------------------------------------------------------------------


async def test_openapi_lists_exactly_the_served_routes(
    app: LocalBaxCloudApp, anon: httpx.AsyncClient
) -> None:
    response = await anon.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    served = {
        (route.template, method.lower()) for route in app.router.routes for method in route.methods
    }
    documented = {
        (path, method)
        for path, item in doc["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete", "head", "options"}
    }
    assert served == documented
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            secured = operation.get("security", doc["security"]) != []
            public = path == "/openapi.json" or path.startswith("/downloads/")
            assert secured is not public, (path, method)


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


async def test_openapi_refs_resolve_and_schemas_match_responses(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    doc = (await client.get("/openapi.json")).json()

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    refs = list(walk(doc))
    assert refs
    for ref in refs:
        assert _resolve(doc, ref) is not None

    schemas = doc["components"]["schemas"]
    await client.post("/v1/rooms", json={"name": "r"})
    await join(client, make_token(app, "r", "u"))
    track = (
        await client.post(
            "/_dev/publish-track", json={"roomName": "r", "identity": "u", "kind": "audio"}
        )
    ).json()
    room = (await client.get("/v1/rooms/r")).json()
    participant = (await client.get("/v1/rooms/r/participants/u")).json()
    page = (await client.get("/v1/rooms")).json()
    error = (await client.get("/v1/rooms/none")).json()
    clock = (await client.get("/_dev/clock")).json()
    event = (await events(client))[0]
    for value, name in [
        (room, "Room"),
        (participant, "Participant"),
        (participant["permission"], "ParticipantPermission"),
        (track, "Track"),
        (page, "RoomPage"),
        (error, "Error"),
        (clock, "ClockState"),
        (event, "Event"),
    ]:
        schema = schemas[name]
        assert set(value) == set(schema["properties"]), name
        assert set(schema["required"]) <= set(value), name
    # Request schemas list exactly the fields the server accepts (and no others).
    for name, fields in [
        ("CreateRoomRequest", rooms.CREATE_FIELDS),
        ("UpdateRoomRequest", rooms.UPDATE_FIELDS),
        ("UpdateParticipantRequest", participants.UPDATE_FIELDS),
        ("JoinRequest", simulation.JOIN_FIELDS),
        ("LeaveRequest", simulation.LEAVE_FIELDS),
        ("PublishTrackRequest", simulation.PUBLISH_FIELDS),
        ("UnpublishTrackRequest", simulation.UNPUBLISH_FIELDS),
        ("AdvanceClockRequest", simulation.ADVANCE_FIELDS),
    ]:
        schema = schemas[name]
        assert schema["additionalProperties"] is False
        assert set(schema["properties"]) == {f.name for f in fields}, name
        assert set(schema.get("required", [])) == {f.name for f in fields if f.required}, name
    for field in schemas["CreateRoomRequest"]["properties"]:
        response = await client.post("/v1/rooms", json={"name": "q", field: None})
        assert response.status_code in (201, 422), response.text  # known, so never 400
        await client.delete("/v1/rooms/q")


# ---- a real uvicorn server ------------------------------------------------------------------


def test_uvicorn_serves_raw_paths_and_sweeps_in_background(tmp_path: pathlib.Path) -> None:
    app = LocalBaxCloudApp(ServerConfig(data_dir=tmp_path))
    ready: list[str] = []
    started = threading.Event()

    def on_ready(base_url: str, served: LocalBaxCloudApp) -> None:
        assert served is app
        ready.append(base_url)
        started.set()

    server = create_uvicorn_server(app, host="127.0.0.1", port=0, on_ready=on_ready)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert started.wait(10)
        base_url = ready[0]
        assert base_url.startswith("http://127.0.0.1:")
        assert not base_url.endswith(":0")
        headers = {"Authorization": f"Bearer {app.api_key}"}
        with httpx.Client(base_url=base_url, headers=headers) as c:
            name = "a/b c?%.."
            assert c.post("/v1/rooms", json={"name": name, "emptyTimeout": 1}).status_code == 201
            got = c.get(f"/v1/rooms/{seg(name)}")
            assert got.status_code == 200
            assert got.json()["name"] == name
            assert c.get("/v1/rooms/a/b").status_code == 404
        # The background sweep closes the room without any request arriving.
        deadline = time.monotonic() + 10
        finished: list[Any] = []
        while time.monotonic() < deadline and not finished:
            time.sleep(0.2)
            with sqlite3.connect(tmp_path / "baxcloud.sqlite3") as db:
                finished = db.execute(
                    "SELECT data FROM events WHERE name = 'room.finished'"
                ).fetchall()
        assert finished
        assert json.loads(finished[0][0])["reason"] == "empty_timeout"
    finally:
        server.should_exit = True
        thread.join(10)
        app.close()
    assert not thread.is_alive()
