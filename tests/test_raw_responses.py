"""`with_raw_response` on both clients, against the local server and a hostile one."""

from __future__ import annotations

import gzip
import inspect
import json
from typing import Any, assert_type

import anyio
import httpx
import pytest
from helpers import collect, resolve, unique
from hostile import hostile_server, open_client, respond

from baxcloud import (
    APIResponse,
    AsyncBaxCloud,
    AsyncPage,
    BaxCloud,
    NotFoundError,
    Room,
    SyncPage,
)
from baxcloud.testing import LocalServer

API_KEY = "bax_sk_rawresp1_" + "R4wS3cr3t" * 4


def http_methods(namespace: Any) -> set[str]:
    """The public methods of an async namespace that send requests (not minted locally)."""
    return {
        name
        for name, method in inspect.getmembers(type(namespace), inspect.isfunction)
        if not name.startswith("_")
        and (
            inspect.iscoroutinefunction(inspect.unwrap(method))
            or "AsyncPager" in str(inspect.signature(method).return_annotation)
        )
    }


def public_methods(obj: Any) -> set[str]:
    return {
        name
        for name, _ in inspect.getmembers(type(obj), inspect.isfunction)
        if not name.startswith("_")
    }


async def test_every_method_that_sends_a_request_has_a_raw_twin(kind: str) -> None:
    async with open_client(kind, api_key=API_KEY, base_url="http://127.0.0.1:9") as client:
        async_client = client if kind == "async" else client._async
        for namespace in ("rooms", "participants", "recordings", "egress", "ingress"):
            expected = http_methods(getattr(async_client, namespace))
            if namespace == "recordings":
                expected.discard("download")  # a file transfer, not one API response
            raw = getattr(client.with_raw_response, namespace)
            assert public_methods(raw) == expected, namespace
            for name in expected:
                # Same parameters as the plain method (the generated twins cannot drift).
                plain = inspect.signature(getattr(getattr(client, namespace), name))
                assert inspect.signature(getattr(raw, name)).parameters == plain.parameters
        # Minted or checked locally: no HTTP response to show.
        for local in ("tokens", "webhooks"):
            assert not hasattr(client.with_raw_response, local)
        assert not hasattr(client.with_raw_response.recordings, "download")


async def test_create_get_delete_return_their_responses(bx: Any) -> None:
    name = unique()
    created = await resolve(bx.with_raw_response.rooms.create(name=name, metadata="m"))
    assert isinstance(created, APIResponse)
    assert created.status_code == 201
    assert isinstance(created.http_response, httpx.Response)
    assert created.http_response.request.method == "POST"
    assert created.headers["content-type"].startswith("application/json")
    assert created.request_id is not None and created.request_id.startswith("req_")
    assert created.request_id == created.http_response.headers["x-request-id"]
    room = created.parse()
    assert isinstance(room, Room) and room.name == name and room.metadata == "m"
    # The body as sent, both through the APIResponse and the httpx response itself.
    assert created.json() == created.http_response.json() == room.to_dict()
    assert json.loads(created.content) == room.to_dict()
    assert await resolve(bx.rooms.get(name)) == room
    assert repr(created) == f"<APIResponse [201] POST /v1/rooms request_id={created.request_id!r}>"

    fetched = await resolve(bx.with_raw_response.rooms.get(name))
    assert fetched.status_code == 200 and fetched.parse() == room
    assert fetched.request_id != created.request_id

    deleted = await resolve(bx.with_raw_response.rooms.delete(name))
    assert deleted.status_code == 204 and deleted.parse() is None
    assert deleted.content == b""


async def test_errors_are_still_typed(bx: Any) -> None:
    with pytest.raises(NotFoundError) as caught:
        await resolve(bx.with_raw_response.rooms.get(unique("missing")))
    assert caught.value.code == "room_not_found"


async def test_a_list_gives_the_first_page_and_iterates_the_rest(kind: str) -> None:
    with LocalServer() as server:
        async with open_client(kind, api_key=server.api_key, base_url=server.base_url) as client:
            names = [unique("paged") for _ in range(5)]
            for name in names:
                await resolve(client.rooms.create(name=name))
            response = await resolve(client.with_raw_response.rooms.list(limit=2))
            assert response.status_code == 200
            assert response.http_response.url.params["limit"] == "2"
            body = response.json()
            assert (body["page"], body["total"], body["hasMore"]) == (1, 5, True)
            page = response.parse()
            assert isinstance(page, SyncPage if kind == "sync" else AsyncPage)
            assert [room.name for room in page.items] == names[:2]
            assert [room.name for room in await collect(page)] == names


async def test_the_response_body_is_decoded_from_gzip(kind: str) -> None:
    room = {"sid": "RM_1", "name": "r", "futureField": [1, 2]}
    body = gzip.compress(json.dumps(room).encode())
    headers = (("Content-Type", "application/json"), ("Content-Encoding", "gzip"))
    with hostile_server(respond(200, body, headers=headers)) as server:
        async with open_client(kind, api_key=API_KEY, base_url=server.base_url) as client:
            response = await resolve(client.with_raw_response.rooms.get("r"))
    assert response.headers["content-encoding"] == "gzip"
    assert response.http_response.json() == response.json() == room
    assert response.request_id == "req_hostile"
    assert response.parse().to_dict() == Room(sid="RM_1", name="r").to_dict() | {
        "futureField": [1, 2]
    }
    assert API_KEY not in repr(response)


async def test_concurrent_raw_calls_each_get_their_own_response(server: LocalServer) -> None:
    async with server.async_client() as client:
        names = [unique() for _ in range(6)]
        raw: dict[str, Any] = {}
        plain: list[Room] = []

        async def create(name: str) -> None:
            await client.rooms.create(name=name)

        async def get_raw(name: str) -> None:
            raw[name] = await client.with_raw_response.rooms.get(name)

        async def get_plain() -> None:
            plain.append(await client.rooms.get(names[0]))

        async with anyio.create_task_group() as tg:
            for name in names:
                tg.start_soon(create, name)
        async with anyio.create_task_group() as tg:
            tg.start_soon(get_plain)
            for name in names:
                tg.start_soon(get_raw, name)
    assert [room.name for room in plain] == [names[0]]
    assert sorted(raw) == sorted(names)
    for name, response in raw.items():
        assert response.http_response.url.path == f"/v1/rooms/{name}"
        assert response.parse().name == name


def test_types_seen_by_mypy(sync_client: BaxCloud) -> None:
    name = unique()
    created = sync_client.with_raw_response.rooms.create(name=name)
    assert_type(created, APIResponse[Room])
    assert_type(created.parse(), Room)
    listed = sync_client.with_raw_response.rooms.list()
    assert_type(listed, APIResponse[SyncPage[Room]])
    deleted = sync_client.with_raw_response.rooms.delete(name)
    assert_type(deleted, APIResponse[None])
    assert deleted.parse() is None


async def test_async_types_seen_by_mypy(async_client: AsyncBaxCloud) -> None:
    name = unique()
    created = await async_client.with_raw_response.rooms.create(name=name)
    assert_type(created, APIResponse[Room])
    listed = await async_client.with_raw_response.rooms.list()
    assert_type(listed, APIResponse[AsyncPage[Room]])
    assert name in [room.name async for room in listed.parse()]


def test_a_copy_with_options_has_its_own_raw_namespaces(sync_client: BaxCloud) -> None:
    copy = sync_client.with_options(default_headers={"X-Trace": "t-1"})
    response = copy.with_raw_response.rooms.create(name=unique())
    assert response.http_response.request.headers["x-trace"] == "t-1"
    assert copy.with_raw_response is not sync_client.with_raw_response


async def test_the_blocking_client_on_its_portal(server: LocalServer) -> None:
    """Inside a running event loop, blocking calls run on the client's portal thread."""
    with server.client() as client:
        name = unique()
        response = client.with_raw_response.rooms.create(name=name)
        assert response.status_code == 201 and response.parse().name == name
        listed = client.with_raw_response.rooms.list(limit=1)
        assert isinstance(listed.parse(), SyncPage)
        assert name in [room.name for room in listed.parse()]
