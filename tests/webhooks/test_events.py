"""Typed webhook events: one class per event name of the OpenAPI document's `webhooks`,
parsed with the shared converter."""

from __future__ import annotations

import json
import typing
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import attrs
import pytest

from baxcloud import WebhookVerificationError
from baxcloud import webhooks as wh
from baxcloud._core.converter import camel
from baxcloud.webhooks import EVENT_TYPES, UnknownWebhookEvent, _events, parse_event, sign, verify

SECRET = "whsec_" + "A" * 43 + "="

# Every event name with every data field, camelCase as sent.
SAMPLES: dict[str, tuple[type[Any], dict[str, Any], dict[str, Any]]] = {
    "room.started": (
        wh.RoomStartedEvent,
        {"roomName": "r", "roomSid": "RM_1", "metadata": "m"},
        {"room_name": "r", "room_sid": "RM_1", "metadata": "m"},
    ),
    "room.finished": (
        wh.RoomFinishedEvent,
        {"roomName": "r", "roomSid": "RM_1", "reason": "empty_timeout"},
        {"room_name": "r", "room_sid": "RM_1", "reason": "empty_timeout"},
    ),
    "participant.joined": (
        wh.ParticipantJoinedEvent,
        {
            "roomName": "r",
            "roomSid": "RM_1",
            "identity": "u",
            "participantSid": "PA_1",
            "name": "U",
            "metadata": "{}",
        },
        {
            "room_name": "r",
            "room_sid": "RM_1",
            "identity": "u",
            "participant_sid": "PA_1",
            "name": "U",
            "metadata": "{}",
        },
    ),
    "participant.left": (
        wh.ParticipantLeftEvent,
        {
            "roomName": "r",
            "roomSid": "RM_1",
            "identity": "u",
            "participantSid": "PA_1",
            "reason": "duplicate_identity",
        },
        {
            "room_name": "r",
            "room_sid": "RM_1",
            "identity": "u",
            "participant_sid": "PA_1",
            "reason": "duplicate_identity",
        },
    ),
    "recording.started": (
        wh.RecordingStartedEvent,
        {"recordingId": "rec_1", "egressId": "EG_1", "roomName": "r", "fileType": "MP4"},
        {"recording_id": "rec_1", "egress_id": "EG_1", "room_name": "r", "file_type": "MP4"},
    ),
    "recording.completed": (
        wh.RecordingCompletedEvent,
        {
            "recordingId": "rec_1",
            "egressId": "EG_1",
            "roomName": "r",
            "fileType": "WEBM",
            "filename": "a.webm",
            "sizeBytes": 123456789012,
            "durationSeconds": 61.5,
        },
        {
            "recording_id": "rec_1",
            "egress_id": "EG_1",
            "room_name": "r",
            "file_type": "WEBM",
            "filename": "a.webm",
            "size_bytes": 123456789012,
            "duration_seconds": 61.5,
        },
    ),
    "recording.failed": (
        wh.RecordingFailedEvent,
        {"recordingId": "rec_1", "egressId": "EG_1", "roomName": "r", "error": "boom"},
        {"recording_id": "rec_1", "egress_id": "EG_1", "room_name": "r", "error": "boom"},
    ),
    "stream.started": (
        wh.StreamStartedEvent,
        {"egressId": "EG_1", "roomName": "r", "mode": "both", "urls": ["rtmp://h/app/****"]},
        {"egress_id": "EG_1", "room_name": "r", "mode": "both", "urls": ("rtmp://h/app/****",)},
    ),
    "stream.updated": (
        wh.StreamUpdatedEvent,
        {
            "egressId": "EG_1",
            "roomName": "r",
            "status": "active",
            "destinations": [
                {"url": "rtmp://h/app/****", "status": "active", "error": None},
                {"url": "rtmps://h2/x/****", "status": "failed", "error": "refused"},
            ],
        },
        {
            "egress_id": "EG_1",
            "room_name": "r",
            "status": "active",
            "destinations": (
                wh.StreamDestinationStatus(url="rtmp://h/app/****", status="active"),
                wh.StreamDestinationStatus(
                    url="rtmps://h2/x/****", status="failed", error="refused"
                ),
            ),
        },
    ),
    "stream.completed": (
        wh.StreamCompletedEvent,
        {"egressId": "EG_1", "roomName": "r"},
        {"egress_id": "EG_1", "room_name": "r"},
    ),
    "stream.failed": (
        wh.StreamFailedEvent,
        {"egressId": "EG_1", "roomName": "r", "error": "e"},
        {"egress_id": "EG_1", "room_name": "r", "error": "e"},
    ),
    "live.started": (
        wh.LiveStartedEvent,
        {"ingressId": "IN_1", "roomName": "r", "inputType": "WHIP_INPUT", "status": "BUFFERING"},
        {"ingress_id": "IN_1", "room_name": "r", "input_type": "WHIP_INPUT", "status": "BUFFERING"},
    ),
    "live.updated": (
        wh.LiveUpdatedEvent,
        {"ingressId": "IN_1", "roomName": "r", "status": "ACTIVE", "previousStatus": "BUFFERING"},
        {
            "ingress_id": "IN_1",
            "room_name": "r",
            "status": "ACTIVE",
            "previous_status": "BUFFERING",
        },
    ),
    "live.ended": (
        wh.LiveEndedEvent,
        {"ingressId": "IN_1", "roomName": "r"},
        {"ingress_id": "IN_1", "room_name": "r"},
    ),
    "live.failed": (
        wh.LiveFailedEvent,
        {"ingressId": "IN_1", "roomName": "r", "error": "e"},
        {"ingress_id": "IN_1", "room_name": "r", "error": "e"},
    ),
    "track.published": (
        wh.TrackPublishedEvent,
        {
            "roomName": "r",
            "identity": "u",
            "participantSid": "PA_1",
            "trackSid": "TR_1",
            "kind": "video",
            "source": "camera",
            "name": "cam",
        },
        {
            "room_name": "r",
            "identity": "u",
            "participant_sid": "PA_1",
            "track_sid": "TR_1",
            "kind": "video",
            "source": "camera",
            "name": "cam",
        },
    ),
    "track.unpublished": (
        wh.TrackUnpublishedEvent,
        {
            "roomName": "r",
            "identity": "u",
            "participantSid": "PA_1",
            "trackSid": "TR_1",
            "kind": "audio",
            "source": "microphone",
        },
        {
            "room_name": "r",
            "identity": "u",
            "participant_sid": "PA_1",
            "track_sid": "TR_1",
            "kind": "audio",
            "source": "microphone",
        },
    ),
}

CREATED = 1764460800


def document(name: str, data: dict[str, Any], event_id: str = "evt_1") -> dict[str, Any]:
    return {"id": event_id, "event": name, "createdAt": CREATED, "data": data}


def test_the_table_has_seventeen_events_and_every_one_has_a_class() -> None:
    assert set(EVENT_TYPES) == set(SAMPLES)
    assert len(EVENT_TYPES) == 17
    for name, (cls, _, _) in SAMPLES.items():
        assert EVENT_TYPES[name] is cls
        assert cls.__name__ in wh.__all__
        assert attrs.fields(cls).data.type.__name__ in wh.__all__


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_event_parses_with_all_fields(name: str) -> None:
    cls, data, expected = SAMPLES[name]
    raw = json.dumps(document(name, data)).encode()
    event = verify(raw, sign(raw, SECRET), SECRET)
    assert type(event) is cls
    assert not isinstance(event, UnknownWebhookEvent)
    assert event.id == "evt_1"
    assert event.event == name
    assert event.created_at == datetime(2025, 11, 30, tzinfo=UTC)
    assert event.created_at.tzinfo is UTC
    assert attrs.asdict(event.data, recurse=False) == expected
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.id = "x"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.data.room_name = "x"  # type: ignore[misc]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_optional_fields_may_be_missing_and_unknown_fields_are_ignored(name: str) -> None:
    cls, data, _ = SAMPLES[name]
    data_cls = attrs.fields(cls).data.type
    required = {f.name for f in attrs.fields(data_cls) if f.default is attrs.NOTHING}
    minimal = {k: v for k, v in data.items() if _snake(k) in required}
    event = parse_event(document(name, {**minimal, "futureField": [1, 2], "x": None}))
    assert type(event) is cls
    for field in attrs.fields(data_cls):
        if field.name not in required:
            assert getattr(event.data, field.name) is None


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_nulls_in_optional_fields(name: str) -> None:
    cls, data, _ = SAMPLES[name]
    data_cls = attrs.fields(cls).data.type
    optional = {f.name for f in attrs.fields(data_cls) if f.default is not attrs.NOTHING}
    nulled = {k: (None if _snake(k) in optional else v) for k, v in data.items()}
    event = parse_event(document(name, nulled))
    for field_name in optional:
        assert getattr(event.data, field_name) is None


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_missing_identifier_fails_verification(name: str) -> None:
    _, data, _ = SAMPLES[name]
    first_required = next(iter(data))  # every table starts with an identifier
    broken = {k: v for k, v in data.items() if k != first_required}
    with pytest.raises(WebhookVerificationError) as info:
        parse_event(document(name, broken))
    assert name in str(info.value)
    assert first_required in str(info.value)


def test_unknown_enum_values_pass_through() -> None:
    event = parse_event(
        document("participant.left", {**SAMPLES["participant.left"][1], "reason": "kicked_by_ai"})
    )
    assert isinstance(event, wh.ParticipantLeftEvent)
    assert str(event.data.reason) == "kicked_by_ai"  # outside the Literal: passed through


def test_numbers_are_numbers() -> None:
    event = parse_event(document("recording.completed", SAMPLES["recording.completed"][1]))
    assert isinstance(event, wh.RecordingCompletedEvent)
    assert type(event.data.size_bytes) is int
    assert type(event.data.duration_seconds) is float


def test_wrong_field_type_is_a_verification_error_with_the_path() -> None:
    data = {**SAMPLES["recording.completed"][1], "sizeBytes": "lots"}
    with pytest.raises(WebhookVerificationError) as info:
        parse_event(document("recording.completed", data))
    assert "sizeBytes" in str(info.value)
    assert "recording.completed" in str(info.value)


def test_unknown_event() -> None:
    event = parse_event(document("room.teleported", {"roomName": "r", "to": "mars"}))
    assert isinstance(event, UnknownWebhookEvent)
    assert event.event == "room.teleported"
    assert event.data == {"roomName": "r", "to": "mars"}
    assert event.created_at == datetime.fromtimestamp(CREATED, tz=UTC)


def test_event_names_a_sender_makes_up_are_not_remembered() -> None:
    for name in EVENT_TYPES:
        parse_event(document(name, SAMPLES[name][1]))
    remembered = dict(_events._hooks)
    assert remembered.keys() == EVENT_TYPES.keys()
    for i in range(100):
        assert isinstance(parse_event(document(f"room.new{i}", {})), UnknownWebhookEvent)
    assert _events._hooks == remembered


def test_float_created_at() -> None:
    event = parse_event({**document("live.ended", SAMPLES["live.ended"][1]), "createdAt": 1.5})
    assert event.created_at == datetime.fromtimestamp(1.5, tz=UTC)


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "x",
        {},
        {"id": "e", "event": "room.started", "createdAt": 1},
        {"id": "e", "event": None, "createdAt": 1, "data": {}},
        {"id": "e", "event": "room.started", "createdAt": None, "data": {}},
        {"id": "e", "event": "room.started", "createdAt": 10**30, "data": {}},
    ],
)
def test_parse_event_rejects_non_events(body: Any) -> None:
    with pytest.raises(WebhookVerificationError):
        parse_event(body)


ENVELOPE = {"id": "e", "event": "room.started", "createdAt": 1, "data": {}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "payload must be a JSON object"),
        ({k: v for k, v in ENVELOPE.items() if k != "id"}, "string 'id' and 'event'"),
        ({**ENVELOPE, "id": 1}, "string 'id' and 'event'"),
        ({**ENVELOPE, "event": None}, "string 'id' and 'event'"),
        ({**ENVELOPE, "event": None, "createdAt": "1"}, "string 'id' and 'event'"),
        ({k: v for k, v in ENVELOPE.items() if k != "createdAt"}, "'createdAt' must be Unix"),
        ({**ENVELOPE, "createdAt": True, "data": []}, "'createdAt' must be Unix"),
        ({k: v for k, v in ENVELOPE.items() if k != "data"}, "'data' must be a JSON object"),
        ({**ENVELOPE, "data": [1]}, "'data' must be a JSON object"),
    ],
)
def test_parse_event_says_which_common_field_is_wrong(body: Any, message: str) -> None:
    with pytest.raises(WebhookVerificationError, match=message):
        parse_event(body)


def test_match_statement_narrowing() -> None:
    event = parse_event(document("participant.joined", SAMPLES["participant.joined"][1]))
    match event:
        case wh.ParticipantJoinedEvent(data=wh.ParticipantJoinedData(identity=identity)):
            assert identity == "u"
        case _:
            pytest.fail("did not match")


def test_the_event_classes_follow_the_openapi_document() -> None:
    """One class per `webhooks` entry; its data class has the schema's fields, the
    required ones without a default."""
    doc = json.loads(files("baxcloud._server").joinpath("openapi.json").read_text())
    schemas = doc["components"]["schemas"]
    assert set(doc["webhooks"]) == set(EVENT_TYPES)
    for name, cls in EVENT_TYPES.items():
        body = doc["webhooks"][name]["post"]["requestBody"]["content"]["application/json"]
        base, specific = body["schema"]["allOf"]
        assert base == {"$ref": "#/components/schemas/Event"}
        assert specific["properties"]["event"] == {"const": name}
        data_schema = schemas[specific["properties"]["data"]["$ref"].rsplit("/", 1)[1]]
        fields = attrs.fields(typing.get_type_hints(cls)["data"])
        assert set(data_schema["properties"]) == {camel(f.name) for f in fields}, name
        required = {camel(f.name) for f in fields if f.default is attrs.NOTHING}
        assert set(data_schema["required"]) == required, name
