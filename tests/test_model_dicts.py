"""`to_dict`, `to_json` and `from_dict` of every model, and the fields this version does not know.

A newer server may send fields this SDK does not know: they are kept, at every
level of nesting, and given back by `to_dict()`, never dropped.
"""

from __future__ import annotations

import copy
import json
import pickle
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from helpers import resolve, unique
from hostile import hostile_server, open_client, respond

import baxcloud
from baxcloud import AutoStreamConfig, Grants, Ingress, Participant, Room
from baxcloud._core.model import Model
from baxcloud.testing import LocalServer
from baxcloud.webhooks import (
    EVENT_TYPES,
    ParticipantJoinedEvent,
    UnknownWebhookEvent,
    parse_event,
)

API_KEY = "bax_sk_modeldct_" + "M0d3lS3cr3t" * 4

# A participant as a newer server might send it: unknown fields at the top, in a
# nested object and in the items of a nested list.
PARTICIPANT = {
    "sid": "PA_1",
    "identity": "alice",
    "name": "Alice",
    "state": "ACTIVE",
    "metadata": "",
    "joinedAt": 1764460800,
    "isPublisher": True,
    "permission": {
        "canPublish": True,
        "canSubscribe": True,
        "canPublishData": False,
        "canUpdateOwnMetadata": False,
        "canRecord": True,
    },
    "tracks": [
        {
            "sid": "TR_1",
            "kind": "video",
            "source": "camera",
            "name": "cam",
            "muted": False,
            "simulcast": {"layers": 3},
        }
    ],
    "region": "eu-west",
    "attributes": {"team": "blue"},
    "sessionSecret": "sk_future_secret_value",
}


def every_model() -> list[type[Any]]:
    names = [getattr(baxcloud, name) for name in baxcloud.__all__ if name != "webhooks"]
    classes = [
        cls
        for cls in names
        if isinstance(cls, type)
        and attrs.has(cls)
        and cls.__module__ in ("baxcloud._models", "baxcloud._media_models")
    ]
    assert len(classes) >= 15
    return classes + list(EVENT_TYPES.values()) + [UnknownWebhookEvent]


@pytest.mark.parametrize("cls", every_model(), ids=lambda cls: cls.__name__)
def test_every_model_has_the_dict_methods(cls: Any) -> None:
    assert issubclass(cls, Model)
    assert "extra_fields" not in attrs.fields_dict(cls)  # not an attrs field: repr, ==


async def test_unknown_fields_are_kept_at_every_level(kind: str) -> None:
    with hostile_server(respond(200, json.dumps(PARTICIPANT).encode())) as server:
        async with open_client(kind, api_key=API_KEY, base_url=server.base_url) as client:
            participant = await resolve(client.participants.get("r", "alice"))
    assert isinstance(participant, Participant)
    assert participant.extra_fields == {
        "region": "eu-west",
        "attributes": {"team": "blue"},
        "sessionSecret": "sk_future_secret_value",
    }
    assert participant.permission.extra_fields == {"canRecord": True}
    assert participant.tracks[0].extra_fields == {"simulcast": {"layers": 3}}
    # Everything the server sent, as sent, and nothing else.
    assert participant.to_dict() == PARTICIPANT
    assert json.loads(participant.to_json()) == PARTICIPANT
    assert Participant.from_dict(participant.to_dict()) == participant
    again = Participant.from_dict(json.loads(participant.to_json(indent=2)))
    assert again.to_dict() == PARTICIPANT
    # An unknown field might be a secret this version does not know to hide.
    assert "sk_future_secret_value" not in repr(participant) + str(participant)
    with pytest.raises(TypeError):
        participant.extra_fields["region"] = "us"  # type: ignore[index]


async def test_unknown_fields_are_kept_in_every_item_of_a_page(kind: str) -> None:
    items = [{"sid": f"RM_{i}", "name": f"r{i}", "shard": i} for i in range(3)]
    page = {"items": items, "page": 1, "limit": 3, "total": 3, "hasMore": False, "cursor": "c"}
    with hostile_server(respond(200, json.dumps(page).encode())) as server:
        async with open_client(kind, api_key=API_KEY, base_url=server.base_url) as client:
            listed = await resolve(client.rooms.list())
    assert [room.extra_fields for room in listed.items] == [{"shard": i} for i in range(3)]
    assert [room.to_dict()["shard"] for room in listed.items] == [0, 1, 2]


async def test_models_from_the_local_server_round_trip(bx: Any, server: LocalServer) -> None:
    room = await resolve(bx.rooms.create(name=unique(), metadata={"a": 1}))
    token = bx.tokens.create(room_name=room.name, participant_identity="bob")
    participant = await resolve(bx.participants.get(room.name, server.join(token).identity))
    ingress = await resolve(
        bx.ingress.create(input_type="RTMP_INPUT", room_name=room.name, participant_identity="cam")
    )
    config = await resolve(bx.egress.get_auto_stream_config())
    for model in (room, participant, ingress, config):
        data = model.to_dict()
        assert model.extra_fields == {}
        assert type(model).from_dict(data) == model
        assert json.loads(model.to_json()) == data
    # camelCase names and JSON types, as on the wire.
    raw = await resolve(bx.with_raw_response.rooms.get(room.name))
    assert raw.parse().to_dict() == raw.json()
    assert isinstance(room.to_dict()["createdAt"], int)
    raw_ingress = await resolve(bx.with_raw_response.ingress.get(ingress.id))
    wire = raw_ingress.json()
    # The secrets the API sends once, at creation, are in the created model's dict.
    assert ingress.to_dict() == {**wire, "streamKey": ingress.stream_key, "token": ingress.token}
    assert isinstance(config, AutoStreamConfig) and isinstance(ingress, Ingress)


async def test_webhook_events_round_trip_to_the_bodies_the_server_sent(
    bx: Any, server: LocalServer
) -> None:
    room = await resolve(bx.rooms.create(name=unique()))
    token = bx.tokens.create(room_name=room.name, participant_identity="eve")
    server.join(token)
    server.leave(room.name, "eve")
    await resolve(bx.rooms.delete(room.name))
    bodies = [e for e in server.events() if e["data"].get("roomName") == room.name]
    assert {body["event"] for body in bodies} >= {
        "room.started",
        "participant.joined",
        "participant.left",
        "room.finished",
    }
    for body in bodies:
        event = parse_event(body)
        assert event.to_dict() == body
        assert type(event).from_dict(body) == event


def test_webhook_events_keep_unknown_fields() -> None:
    body = {
        "id": "evt_1",
        "event": "participant.joined",
        "createdAt": 1764460800.25,
        "data": {
            "roomName": "r",
            "roomSid": "RM_1",
            "identity": "a",
            "participantSid": "PA_1",
            "name": "A",
            "metadata": "",
            "deviceType": "mobile",
        },
        "apiVersion": "2027-01-01",
    }
    event = parse_event(body)
    assert isinstance(event, ParticipantJoinedEvent)
    assert event.extra_fields == {"apiVersion": "2027-01-01"}
    assert event.data.extra_fields == {"deviceType": "mobile"}
    assert event.created_at == datetime.fromtimestamp(1764460800.25, UTC)
    assert event.to_dict() == body  # fractional seconds stay a float
    unknown = parse_event({**body, "event": "room.renamed"})
    assert isinstance(unknown, UnknownWebhookEvent)
    assert unknown.to_dict() == {**body, "event": "room.renamed"}


def test_pickle_and_copy_keep_unknown_fields() -> None:
    participant = Participant.from_dict(PARTICIPANT)
    for copied in (
        pickle.loads(pickle.dumps(participant)),  # noqa: S301 (our own bytes)
        copy.copy(participant),
        copy.deepcopy(participant),
    ):
        assert copied == participant
        assert copied.to_dict() == PARTICIPANT
    # A changed copy is a new model: only the known fields carry over.
    assert attrs.evolve(participant, name="B").extra_fields == {}


def test_argument_models_have_dicts_too() -> None:
    grants = Grants(can_publish=False, can_publish_sources=["camera"])
    data = grants.to_dict()
    assert data["canPublish"] is False and data["canPublishSources"] == ["camera"]
    assert Grants.from_dict(data) == grants


def test_models_built_in_code_have_no_extra_fields() -> None:
    room = Room(sid="RM_1", name="r", created_at=datetime(2025, 11, 30, tzinfo=UTC))
    assert room.extra_fields == {}
    assert room.to_dict()["createdAt"] == 1764460800
    assert Room.from_dict(room.to_dict()) == room


def test_from_dict_says_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"not a valid Room: .*sid"):
        Room.from_dict({"name": "r"})
    with pytest.raises(ValueError, match="not a valid Room"):
        Room.from_dict({"sid": "RM_1", "name": "r", "createdAt": "yesterday"})
    with pytest.raises(TypeError, match="takes a mapping"):
        Room.from_dict([("sid", "RM_1")])  # type: ignore[arg-type]
    # Nulls for fields with defaults mean the defaults, as in a response.
    assert Room.from_dict({"sid": "RM_1", "name": "r", "metadata": None}).metadata == ""


def test_structuring_follows_the_converter_on_every_path() -> None:
    """The fast path (known keys only) and cattrs' function give the same models."""
    base = {"sid": "RM_1", "name": "r"}
    expected = Room(sid="RM_1", name="r", max_participants=12, enable_recording=True)
    # Values of another type are converted as cattrs converts them, on both paths.
    loose = {**base, "maxParticipants": "12", "enableRecording": 1}
    assert Room.from_dict(loose) == expected
    assert Room.from_dict({**loose, "future": 1}) == expected
    # Missing or null: the default; a factory default is a fresh object.
    nulls = {"sid": "PA_1", "identity": "a", "permission": None, "tracks": None}
    participant = Participant.from_dict(nulls)
    assert participant == Participant(sid="PA_1", identity="a")
    assert participant.permission == Participant.from_dict(nulls).permission
    assert Participant.from_dict({**nulls, "x": None}).extra_fields == {"x": None}
    # What cannot be converted fails with the field's name, on both paths.
    for data in ({**base, "maxParticipants": "many"}, {**base, "maxParticipants": "many", "y": 1}):
        with pytest.raises(ValueError, match="max_participants"):
            Room.from_dict(data)
    # Classes with validators or converters are built through their __init__.
    grants = Grants.from_dict({"canPublish": False, "canPublishSources": ["camera"]})
    assert grants == Grants(can_publish=False, can_publish_sources=("camera",))
