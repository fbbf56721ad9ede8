from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from helpers import collect, resolve, unique

from baxcloud import NotFoundError, Participant, PermissionDeniedError, Track
from baxcloud.testing import LocalServer


def join(server: LocalServer, client: Any, room: str, identity: str, **kwargs: Any) -> Participant:
    token = client.tokens.create(room_name=room, participant_identity=identity, **kwargs)
    return server.join(token)


async def test_joined_participants_are_listed_with_their_token_details(
    bx: Any, server: LocalServer
) -> None:
    room = await resolve(bx.rooms.create(name=unique()))
    host = join(
        server,
        bx,
        room.name,
        "host-1",
        participant_name="Room Host",
        grants={"can_update_own_metadata": True},
        metadata={"role": "host"},
    )
    viewer = join(server, bx, room.name, "viewer-42", grants={"can_publish": False})
    assert host.sid.startswith("PA_") and host.identity == "host-1"
    assert host.name == "Room Host"
    assert host.metadata == '{"role":"host"}'
    assert host.state == "ACTIVE"
    assert host.joined_at is not None
    assert host.permission.can_update_own_metadata is True
    assert viewer.permission.can_publish is False
    assert viewer.permission.can_subscribe is True

    listed = await collect(bx.participants.list(room.name))
    assert [p.identity for p in listed] == ["host-1", "viewer-42"]
    assert listed[0] == host

    fetched = await resolve(bx.participants.get(room.name, "viewer-42"))
    assert fetched == viewer
    assert (await resolve(bx.rooms.get(room.name))).num_participants == 2


async def test_published_tracks_show_on_the_participant_and_room(
    bx: Any, server: LocalServer
) -> None:
    room = await resolve(bx.rooms.create(name=unique()))
    join(server, bx, room.name, "pub")
    track = server.publish_track(room.name, "pub", kind="audio", name="mic")
    assert isinstance(track, Track)
    assert track.sid.startswith("TR_")
    assert (track.kind, track.source, track.name) == ("audio", "microphone", "mic")
    participant = await resolve(bx.participants.get(room.name, "pub"))
    assert participant.is_publisher is True
    assert participant.tracks == (track,)
    assert (await resolve(bx.rooms.get(room.name))).num_publishers == 1
    server.unpublish_track(room.name, "pub", track.sid)
    participant = await resolve(bx.participants.get(room.name, "pub"))
    assert participant.tracks == () and participant.is_publisher is False


async def test_update_metadata_and_remove(bx: Any, server: LocalServer) -> None:
    room = await resolve(bx.rooms.create(name=unique()))
    join(server, bx, room.name, "user-123")
    updated = await resolve(
        bx.participants.update_metadata(room.name, "user-123", '{"role": "moderator"}')
    )
    assert updated.metadata == '{"role": "moderator"}'
    assert (await resolve(bx.participants.get(room.name, "user-123"))).metadata == updated.metadata
    assert await resolve(bx.participants.remove(room.name, "user-123")) is None
    with pytest.raises(NotFoundError) as info:
        await resolve(bx.participants.get(room.name, "user-123"))
    assert info.value.code == "participant_not_found"
    assert await collect(bx.participants.list(room.name)) == []
    removed = [
        e
        for e in server.events()
        if e["event"] == "participant.left" and e["data"]["roomName"] == room.name
    ]
    assert [e["data"]["reason"] for e in removed] == ["removed"]


async def test_not_found_codes(bx: Any) -> None:
    missing_room = unique("missing")
    with pytest.raises(NotFoundError) as info:
        await resolve(bx.participants.list(missing_room))
    assert info.value.code == "room_not_found"
    room = await resolve(bx.rooms.create(name=unique()))
    calls: list[Callable[[], Any]] = [
        lambda: bx.participants.get(room.name, "nobody"),
        lambda: bx.participants.remove(room.name, "nobody"),
        lambda: bx.participants.update_metadata(room.name, "nobody", "x"),
    ]
    for call in calls:
        with pytest.raises(NotFoundError) as info:
            await resolve(call())
        assert info.value.code == "participant_not_found"


async def test_identities_with_reserved_characters(bx: Any, server: LocalServer) -> None:
    room = await resolve(bx.rooms.create(name=f"a/b c?{unique()}"))
    identity = "user/../?#%20x"
    join(server, bx, room.name, identity)
    assert (await resolve(bx.participants.get(room.name, identity))).identity == identity
    await resolve(bx.participants.update_metadata(room.name, identity, "m"))
    await resolve(bx.participants.remove(room.name, identity))
    assert await collect(bx.participants.list(room.name)) == []


async def test_participant_paging(bx: Any, server: LocalServer) -> None:
    room = await resolve(bx.rooms.create(name=unique()))
    identities = [f"p{i}" for i in range(5)]
    for identity in identities:
        join(server, bx, room.name, identity)
    first = await resolve(bx.participants.list(room.name, limit=2))
    assert (first.total, first.has_more, len(first.items)) == (5, True, 2)
    assert [p.identity for p in await collect(bx.participants.list(room.name, limit=2))] == (
        identities
    )


async def test_max_participants_is_enforced(bx: Any, server: LocalServer) -> None:
    room = await resolve(bx.rooms.create(name=unique(), max_participants=1))
    join(server, bx, room.name, "first")
    with pytest.raises(PermissionDeniedError) as info:
        join(server, bx, room.name, "second")
    assert info.value.code == "room_full"


async def test_publishing_without_the_grant_is_refused(bx: Any, server: LocalServer) -> None:
    room = await resolve(bx.rooms.create(name=unique()))
    join(server, bx, room.name, "viewer", grants={"can_publish": False})
    with pytest.raises(PermissionDeniedError) as info:
        server.publish_track(room.name, "viewer", kind="video")
    assert info.value.code == "grant_missing"


async def test_join_creates_a_missing_room(bx: Any, server: LocalServer) -> None:
    name = unique()
    join(server, bx, name, "early")
    room = await resolve(bx.rooms.get(name))
    assert room.num_participants == 1


def test_deleting_a_room_disconnects_its_participants(
    sync_client: Any, server: LocalServer
) -> None:
    room = sync_client.rooms.create(name=unique())
    join(server, sync_client, room.name, "a")
    sync_client.rooms.delete(room.name)
    events = [e for e in server.events() if e["data"].get("roomName") == room.name]
    left = [e for e in events if e["event"] == "participant.left"]
    assert [e["data"]["reason"] for e in left] == ["room_deleted"]
    finished = [e for e in events if e["event"] == "room.finished"]
    assert [e["data"]["reason"] for e in finished] == ["deleted"]


def test_empty_timeout_closes_the_room(clock_server: LocalServer) -> None:
    with clock_server.client() as client:
        idle = client.rooms.create(name="idle", empty_timeout=10)
        used = client.rooms.create(name="used", empty_timeout=10)
        clock_server.join(client.tokens.create(room_name="used", participant_identity="u"))
        clock_server.advance_clock(9)
        assert client.rooms.get("idle").sid == idle.sid
        clock_server.advance_clock(2)
        with pytest.raises(NotFoundError):
            client.rooms.get("idle")
        # Occupied rooms never time out; the timer starts when the last one leaves.
        assert client.rooms.get("used").sid == used.sid
        clock_server.leave("used", "u")
        clock_server.advance_clock(9)
        assert client.rooms.get("used").num_participants == 0
        clock_server.advance_clock(2)
        with pytest.raises(NotFoundError):
            client.rooms.get("used")
    finished = [e for e in clock_server.events() if e["event"] == "room.finished"]
    assert [(e["data"]["roomName"], e["data"]["reason"]) for e in finished] == [
        ("idle", "empty_timeout"),
        ("used", "empty_timeout"),
    ]
