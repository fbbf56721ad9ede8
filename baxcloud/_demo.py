"""`baxcloud demo`: the Node SDK's quick start, step by step, on a local server."""

from __future__ import annotations

import os

from ._errors import APIStatusError, NotFoundError
from .testing import LocalServer


def _step(number: int, text: str) -> None:
    print(f"\n[{number}] {text}")


def run_demo() -> int:
    if os.environ.get("BAXCLOUD_BASE_URL"):
        server = LocalServer.connect()
        print(f"Using the BaxCloud server at {server.base_url}")
    else:
        server = LocalServer().start()
        print(f"Started an embedded local BaxCloud server at {server.base_url}")
    try:
        _tour(server)
    except APIStatusError as exc:
        print(f"\nFAILED: {exc}")
        return 1
    finally:
        server.stop()
    print("\nDone: every step succeeded.")
    return 0


def _tour(server: LocalServer) -> None:
    with server.client() as client:
        _step(1, "Create a room")
        room = client.rooms.create(
            name="team-standup",
            max_participants=20,
            empty_timeout=300,
            metadata={"type": "standup"},
        )
        print(f"    created {room.name!r} ({room.sid}), max {room.max_participants} participants")

        _step(2, "Mint a host token and a viewer token (locally signed JWTs, no network)")
        host = client.tokens.create(
            room_name=room.name,
            participant_identity="host-1",
            participant_name="Room Host",
            ttl=7200,
            grants={"can_update_own_metadata": True},
        )
        viewer = client.tokens.create(
            room_name=room.name,
            participant_identity="viewer-42",
            participant_name="Viewer",
            grants={"can_publish": False},
        )
        print(f"    host token for {host.identity!r} expires {host.expires_at:%Y-%m-%d %H:%M} UTC")
        print(f"    viewer token for {viewer.identity!r} expires {viewer.expires_at:%H:%M} UTC")
        claims = client.tokens.verify(viewer.token)
        print(f"    verified viewer token: can_publish={claims.grants.can_publish}")

        _step(3, "Both join the room through the local server (it checks the tokens)")
        for token in (host, viewer):
            joined = server.join(token)
            print(f"    {joined.name} ({joined.identity}) joined as {joined.sid}, {joined.state}")
        track = server.publish_track(room.name, "host-1", kind="video", source="camera")
        print(f"    host-1 published a {track.kind} track ({track.sid})")

        _step(4, "List participants")
        for p in client.participants.list(room.name):
            print(f"    {p.name} ({p.identity}) - {p.state}, publisher={p.is_publisher}")

        _step(5, "Update a participant's metadata")
        updated = client.participants.update_metadata(room.name, "host-1", {"role": "moderator"})
        print(f"    host-1 metadata is now {updated.metadata}")

        _step(6, "Remove the viewer")
        client.participants.remove(room.name, "viewer-42")
        remaining = [p.identity for p in client.participants.list(room.name)]
        print(f"    participants now: {remaining}")

        _step(7, "Update the room's metadata and read it back")
        client.rooms.update_metadata(room.name, '{"status": "active"}')
        room = client.rooms.get(room.name)
        print(f"    {room.name!r}: metadata={room.metadata}, participants={room.num_participants}")

        _step(8, "List rooms")
        for r in client.rooms.list():
            print(f"    {r.name} ({r.sid})")

        _step(9, "Delete the room")
        client.rooms.delete(room.name)
        try:
            client.rooms.get(room.name)
        except NotFoundError as exc:
            print(f"    gone: {exc.code}")
