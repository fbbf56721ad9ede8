from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from helpers import collect, resolve, unique

from baxcloud import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    Room,
    UnprocessableEntityError,
)
from baxcloud.testing import LocalServer


async def test_create_returns_the_room_with_every_field(bx: Any) -> None:
    name = unique()
    before = datetime.now(UTC).replace(microsecond=0)
    room = await resolve(
        bx.rooms.create(
            name=name,
            max_participants=50,
            empty_timeout=120,
            metadata='{"type": "standup"}',
            enable_recording=True,
        )
    )
    assert isinstance(room, Room)
    assert room.name == name
    assert room.sid.startswith("RM_")
    assert room.max_participants == 50
    assert room.empty_timeout == 120
    assert room.metadata == '{"type": "standup"}'
    assert room.enable_recording is True
    assert room.num_participants == 0
    assert room.num_publishers == 0
    assert room.active_recording is False
    assert room.created_at is not None
    assert room.created_at.tzinfo is not None
    assert before.timestamp() - 2 <= room.created_at.timestamp() <= before.timestamp() + 5


async def test_create_applies_the_documented_defaults(bx: Any) -> None:
    """The defaults of the OpenAPI schema `CreateRoomRequest`."""
    room = await resolve(bx.rooms.create(name=unique()))
    assert (room.max_participants, room.empty_timeout, room.metadata) == (0, 300, "")
    assert room.enable_recording is False


async def test_get_returns_what_create_stored(bx: Any) -> None:
    created = await resolve(bx.rooms.create(name=unique(), metadata={"a": [1, 2]}))
    fetched = await resolve(bx.rooms.get(created.name))
    assert fetched == created
    assert fetched.metadata == '{"a":[1,2]}'


async def test_update_metadata_replaces_it(bx: Any) -> None:
    room = await resolve(bx.rooms.create(name=unique(), metadata="old"))
    updated = await resolve(bx.rooms.update_metadata(room.name, '{"status": "active"}'))
    assert updated.metadata == '{"status": "active"}'
    assert updated.sid == room.sid
    assert (await resolve(bx.rooms.get(room.name))).metadata == '{"status": "active"}'
    updated = await resolve(bx.rooms.update_metadata(room.name, {"n": 1}))
    assert updated.metadata == '{"n":1}'


async def test_delete_removes_the_room(bx: Any) -> None:
    room = await resolve(bx.rooms.create(name=unique()))
    assert await resolve(bx.rooms.delete(room.name)) is None
    with pytest.raises(NotFoundError) as info:
        await resolve(bx.rooms.get(room.name))
    assert info.value.code == "room_not_found"
    assert info.value.status_code == 404
    assert info.value.request_id and info.value.request_id.startswith("req_")


async def test_missing_room_is_room_not_found_for_every_call(bx: Any) -> None:
    name = unique("missing")
    calls: list[Callable[[], Any]] = [
        lambda: bx.rooms.get(name),
        lambda: bx.rooms.delete(name),
        lambda: bx.rooms.update_metadata(name, "x"),
    ]
    for call in calls:
        with pytest.raises(NotFoundError) as info:
            await resolve(call())
        assert info.value.code == "room_not_found"


async def test_duplicate_name_is_a_conflict(bx: Any) -> None:
    name = unique()
    await resolve(bx.rooms.create(name=name))
    with pytest.raises(ConflictError) as info:
        await resolve(bx.rooms.create(name=name))
    assert info.value.code == "room_already_exists"
    assert name in info.value.message


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "x" * 257}, "name"),
        ({"name": "bad\x07name"}, "name"),
        ({"name": "ok", "metadata": "x" * (64 * 1024 + 1)}, None),
    ],
)
async def test_server_validation_failures_are_422_with_details(
    bx: Any, kwargs: dict[str, Any], field: str | None
) -> None:
    if field is None:
        # The SDK refuses oversized metadata before sending anything.
        with pytest.raises(ValueError, match="64 KiB"):
            await resolve(bx.rooms.create(**kwargs))
        return
    with pytest.raises(UnprocessableEntityError) as info:
        await resolve(bx.rooms.create(**kwargs))
    assert info.value.code == "validation_failed"
    assert [d.field for d in info.value.details] == [field]
    assert info.value.details[0].message


async def test_bad_arguments_fail_before_any_request(bx: Any) -> None:
    with pytest.raises(TypeError, match="name"):
        await resolve(bx.rooms.create(name=5))
    with pytest.raises(ValueError, match="max_participants"):
        await resolve(bx.rooms.create(name="x", max_participants=-1))
    with pytest.raises(TypeError, match="enable_recording"):
        await resolve(bx.rooms.create(name="x", enable_recording="yes"))
    with pytest.raises(ValueError, match="must not be empty"):
        await resolve(bx.rooms.get(""))
    with pytest.raises(TypeError, match="metadata"):
        await resolve(bx.rooms.update_metadata("x", 42))
    with pytest.raises(ValueError, match="limit"):
        bx.rooms.list(limit=101)
    with pytest.raises(ValueError, match="page"):
        bx.rooms.list(page=0)


@pytest.mark.parametrize(
    "name",
    ["a/b c?", "100% sure", "#hash", "..", ".", "a/../b", "üñí ćødé", "q?x=1&y=2", "%2F"],
)
async def test_names_with_reserved_characters_round_trip(bx: Any, name: str) -> None:
    suffixed = f"{name}{unique('')}"
    for candidate in (name, suffixed) if name in (".", "..") else (suffixed,):
        room = await resolve(bx.rooms.create(name=candidate))
        assert room.name == candidate
        assert (await resolve(bx.rooms.get(candidate))).sid == room.sid
        updated = await resolve(bx.rooms.update_metadata(candidate, "m"))
        assert updated.metadata == "m"
        await resolve(bx.rooms.delete(candidate))
        with pytest.raises(NotFoundError):
            await resolve(bx.rooms.get(candidate))


async def test_paging_walks_every_room_in_creation_order(fresh_server: LocalServer) -> None:
    names = [f"paged-{i:02d}" for i in range(7)]
    with fresh_server.client() as client:
        for name in names:
            client.rooms.create(name=name)
        first = client.rooms.list(limit=3)
        assert [r.name for r in first.items] == names[:3]
        assert (first.page, first.limit, first.total, first.has_more) == (1, 3, 7, True)
        second = first.next_page()
        assert second is not None
        assert [r.name for r in second.items] == names[3:6]
        third = second.next_page()
        assert third is not None
        assert [r.name for r in third.items] == names[6:]
        assert third.has_more is False
        assert third.next_page() is None
        assert [r.name for r in client.rooms.list(limit=2)] == names
        assert [r.name for r in client.rooms.list(page=2, limit=3)] == names[3:]
        past = client.rooms.list(page=9, limit=3)
        assert past.items == [] and past.total == 7 and not past.has_more

    async with fresh_server.async_client() as aclient:
        page = await aclient.rooms.list(limit=3)
        assert [r.name for r in page.items] == names[:3]
        assert [r.name async for r in aclient.rooms.list(limit=2)] == names
        assert [r.name async for r in page] == names
        nxt = await page.next_page()
        assert nxt is not None and nxt.page == 2
        assert await collect(aclient.rooms.list(page=3, limit=3)) == third.items


async def test_unknown_request_field_is_rejected(sync_client: Any) -> None:
    with pytest.raises(BadRequestError) as info:
        sync_client._request(
            "POST", "/v1/rooms", cast_to=Room, body={"name": unique(), "maxParticipant": 3}
        )
    assert info.value.code == "unknown_field"
    assert "maxParticipant" in info.value.message or any(
        d.field == "maxParticipant" for d in info.value.details
    )
