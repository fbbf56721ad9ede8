"""Typed webhook events: one frozen class per event name of the OpenAPI document's
`webhooks` (their `data` follows the `*EventData` schemas; docs/webhooks.md).

Bodies are structured with the SDK's one cattrs converter (camelCase JSON to
snake_case attributes, Unix seconds to aware UTC datetimes, unknown `Literal`
values passed through). Unknown fields are kept in `extra_fields`; unknown
event names become `UnknownWebhookEvent` with the raw `data` mapping.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Union

import attrs
import cattrs

from .._core.converter import StructureFn, camel, converter
from .._core.errors import WebhookVerificationError
from .._core.model import Model
from .._models import TrackKind, TrackSource

__all__ = [
    "EVENT_TYPES",
    "LiveEndedData",
    "LiveEndedEvent",
    "LiveFailedData",
    "LiveFailedEvent",
    "LiveStartedData",
    "LiveStartedEvent",
    "LiveUpdatedData",
    "LiveUpdatedEvent",
    "ParticipantJoinedData",
    "ParticipantJoinedEvent",
    "ParticipantLeftData",
    "ParticipantLeftEvent",
    "RecordingCompletedData",
    "RecordingCompletedEvent",
    "RecordingFailedData",
    "RecordingFailedEvent",
    "RecordingStartedData",
    "RecordingStartedEvent",
    "RoomFinishedData",
    "RoomFinishedEvent",
    "RoomStartedData",
    "RoomStartedEvent",
    "StreamCompletedData",
    "StreamCompletedEvent",
    "StreamDestinationStatus",
    "StreamFailedData",
    "StreamFailedEvent",
    "StreamStartedData",
    "StreamStartedEvent",
    "StreamUpdatedData",
    "StreamUpdatedEvent",
    "TrackPublishedData",
    "TrackPublishedEvent",
    "TrackUnpublishedData",
    "TrackUnpublishedEvent",
    "UnknownWebhookEvent",
    "WebhookEvent",
    "parse_event",
]

RoomFinishedReason = Literal["empty_timeout", "deleted"]
ParticipantLeftReason = Literal["disconnected", "removed", "room_deleted", "duplicate_identity"]
FileType = Literal["MP4", "OGG", "WEBM"]
EgressMode = Literal["record", "stream", "both"]
EgressStatus = Literal["starting", "active", "ending", "completed", "failed", "aborted"]
DestinationStatus = Literal["connecting", "active", "failed", "finished"]
IngressInputType = Literal["RTMP_INPUT", "WHIP_INPUT"]
IngressStatus = Literal["INACTIVE", "BUFFERING", "ACTIVE", "ERROR", "COMPLETE"]

# Identifiers the server always sends are required (a body without them fails
# verification); every other field is optional and defaults to None, so a field
# the server leaves out never breaks a receiver.

# -- rooms ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RoomStartedData(Model):
    room_name: str
    room_sid: str
    metadata: str | None = None


@attrs.frozen(kw_only=True)
class RoomFinishedData(Model):
    room_name: str
    room_sid: str
    reason: RoomFinishedReason | None = None


# -- participants -----------------------------------------------------------


@attrs.frozen(kw_only=True)
class ParticipantJoinedData(Model):
    room_name: str
    room_sid: str
    identity: str
    participant_sid: str
    name: str | None = None
    metadata: str | None = None


@attrs.frozen(kw_only=True)
class ParticipantLeftData(Model):
    room_name: str
    room_sid: str
    identity: str
    participant_sid: str
    reason: ParticipantLeftReason | None = None


# -- recordings -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RecordingStartedData(Model):
    recording_id: str
    egress_id: str
    room_name: str
    file_type: FileType | None = None


@attrs.frozen(kw_only=True)
class RecordingCompletedData(Model):
    recording_id: str
    egress_id: str
    room_name: str
    file_type: FileType | None = None
    filename: str | None = None
    size_bytes: int | None = None
    duration_seconds: float | None = None


@attrs.frozen(kw_only=True)
class RecordingFailedData(Model):
    recording_id: str
    egress_id: str
    room_name: str
    error: str | None = None


# -- stream out (egress) ----------------------------------------------------


@attrs.frozen(kw_only=True)
class StreamDestinationStatus(Model):
    """One RTMP destination of a stream; `url` has its stream key redacted."""

    url: str
    status: DestinationStatus | None = None
    error: str | None = None


@attrs.frozen(kw_only=True)
class StreamStartedData(Model):
    egress_id: str
    room_name: str
    mode: EgressMode | None = None
    urls: tuple[str, ...] | None = None
    """Destination URLs with their stream keys redacted (`rtmp://host/app/****`)."""


@attrs.frozen(kw_only=True)
class StreamUpdatedData(Model):
    egress_id: str
    room_name: str
    status: EgressStatus | None = None
    destinations: tuple[StreamDestinationStatus, ...] | None = None


@attrs.frozen(kw_only=True)
class StreamCompletedData(Model):
    egress_id: str
    room_name: str


@attrs.frozen(kw_only=True)
class StreamFailedData(Model):
    egress_id: str
    room_name: str
    error: str | None = None


# -- stream in (ingress) ----------------------------------------------------


@attrs.frozen(kw_only=True)
class LiveStartedData(Model):
    ingress_id: str
    room_name: str
    input_type: IngressInputType | None = None
    status: IngressStatus | None = None


@attrs.frozen(kw_only=True)
class LiveUpdatedData(Model):
    ingress_id: str
    room_name: str
    status: IngressStatus | None = None
    previous_status: IngressStatus | None = None


@attrs.frozen(kw_only=True)
class LiveEndedData(Model):
    ingress_id: str
    room_name: str


@attrs.frozen(kw_only=True)
class LiveFailedData(Model):
    ingress_id: str
    room_name: str
    error: str | None = None


# -- tracks -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TrackPublishedData(Model):
    room_name: str
    identity: str
    participant_sid: str
    track_sid: str
    kind: TrackKind | None = None
    source: TrackSource | None = None
    name: str | None = None


@attrs.frozen(kw_only=True)
class TrackUnpublishedData(Model):
    room_name: str
    identity: str
    participant_sid: str
    track_sid: str
    kind: TrackKind | None = None
    source: TrackSource | None = None


# -- events -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RoomStartedEvent(Model):
    """`room.started`: a room was created."""

    id: str
    event: Literal["room.started"]
    created_at: datetime
    data: RoomStartedData


@attrs.frozen(kw_only=True)
class RoomFinishedEvent(Model):
    """`room.finished`: a room closed (emptied out or deleted)."""

    id: str
    event: Literal["room.finished"]
    created_at: datetime
    data: RoomFinishedData


@attrs.frozen(kw_only=True)
class ParticipantJoinedEvent(Model):
    """`participant.joined`: a participant connected to a room."""

    id: str
    event: Literal["participant.joined"]
    created_at: datetime
    data: ParticipantJoinedData


@attrs.frozen(kw_only=True)
class ParticipantLeftEvent(Model):
    """`participant.left`: a participant left or was removed."""

    id: str
    event: Literal["participant.left"]
    created_at: datetime
    data: ParticipantLeftData


@attrs.frozen(kw_only=True)
class RecordingStartedEvent(Model):
    """`recording.started`: a cloud recording began."""

    id: str
    event: Literal["recording.started"]
    created_at: datetime
    data: RecordingStartedData


@attrs.frozen(kw_only=True)
class RecordingCompletedEvent(Model):
    """`recording.completed`: a recording's file is ready to download."""

    id: str
    event: Literal["recording.completed"]
    created_at: datetime
    data: RecordingCompletedData


@attrs.frozen(kw_only=True)
class RecordingFailedEvent(Model):
    """`recording.failed`: a recording stopped with an error."""

    id: str
    event: Literal["recording.failed"]
    created_at: datetime
    data: RecordingFailedData


@attrs.frozen(kw_only=True)
class StreamStartedEvent(Model):
    """`stream.started`: an egress began streaming out."""

    id: str
    event: Literal["stream.started"]
    created_at: datetime
    data: StreamStartedData


@attrs.frozen(kw_only=True)
class StreamUpdatedEvent(Model):
    """`stream.updated`: an egress or one of its destinations changed status."""

    id: str
    event: Literal["stream.updated"]
    created_at: datetime
    data: StreamUpdatedData


@attrs.frozen(kw_only=True)
class StreamCompletedEvent(Model):
    """`stream.completed`: an egress finished."""

    id: str
    event: Literal["stream.completed"]
    created_at: datetime
    data: StreamCompletedData


@attrs.frozen(kw_only=True)
class StreamFailedEvent(Model):
    """`stream.failed`: an egress stopped with an error."""

    id: str
    event: Literal["stream.failed"]
    created_at: datetime
    data: StreamFailedData


@attrs.frozen(kw_only=True)
class LiveStartedEvent(Model):
    """`live.started`: an ingress began receiving media."""

    id: str
    event: Literal["live.started"]
    created_at: datetime
    data: LiveStartedData


@attrs.frozen(kw_only=True)
class LiveUpdatedEvent(Model):
    """`live.updated`: an ingress changed status."""

    id: str
    event: Literal["live.updated"]
    created_at: datetime
    data: LiveUpdatedData


@attrs.frozen(kw_only=True)
class LiveEndedEvent(Model):
    """`live.ended`: an ingress stopped receiving media."""

    id: str
    event: Literal["live.ended"]
    created_at: datetime
    data: LiveEndedData


@attrs.frozen(kw_only=True)
class LiveFailedEvent(Model):
    """`live.failed`: an ingress stopped with an error."""

    id: str
    event: Literal["live.failed"]
    created_at: datetime
    data: LiveFailedData


@attrs.frozen(kw_only=True)
class TrackPublishedEvent(Model):
    """`track.published`: a participant published a track."""

    id: str
    event: Literal["track.published"]
    created_at: datetime
    data: TrackPublishedData


@attrs.frozen(kw_only=True)
class TrackUnpublishedEvent(Model):
    """`track.unpublished`: a participant unpublished a track."""

    id: str
    event: Literal["track.unpublished"]
    created_at: datetime
    data: TrackUnpublishedData


@attrs.frozen(kw_only=True)
class UnknownWebhookEvent(Model):
    """An event this SDK version does not know; `data` is the raw JSON object."""

    id: str
    event: str
    created_at: datetime
    data: dict[str, Any]


WebhookEvent = Union[  # noqa: UP007 (a runtime alias: `X | Y` of classes needs 3.10's types.UnionType)
    RoomStartedEvent,
    RoomFinishedEvent,
    ParticipantJoinedEvent,
    ParticipantLeftEvent,
    RecordingStartedEvent,
    RecordingCompletedEvent,
    RecordingFailedEvent,
    StreamStartedEvent,
    StreamUpdatedEvent,
    StreamCompletedEvent,
    StreamFailedEvent,
    LiveStartedEvent,
    LiveUpdatedEvent,
    LiveEndedEvent,
    LiveFailedEvent,
    TrackPublishedEvent,
    TrackUnpublishedEvent,
    UnknownWebhookEvent,
]
"""Every event `verify` can return; narrow it with `isinstance` or `match`."""

_KNOWN: tuple[type[Any], ...] = (
    RoomStartedEvent,
    RoomFinishedEvent,
    ParticipantJoinedEvent,
    ParticipantLeftEvent,
    RecordingStartedEvent,
    RecordingCompletedEvent,
    RecordingFailedEvent,
    StreamStartedEvent,
    StreamUpdatedEvent,
    StreamCompletedEvent,
    StreamFailedEvent,
    LiveStartedEvent,
    LiveUpdatedEvent,
    LiveEndedEvent,
    LiveFailedEvent,
    TrackPublishedEvent,
    TrackUnpublishedEvent,
)


def _event_name(cls: type[Any]) -> str:
    attrs.resolve_types(cls)
    (name,) = attrs.fields(cls).event.type.__args__
    return str(name)


EVENT_TYPES: dict[str, type[Any]] = {_event_name(cls): cls for cls in _KNOWN}
"""Event name (`participant.joined`) to its event class."""

_STRUCTURE_ERRORS = (
    cattrs.BaseValidationError,
    TypeError,
    ValueError,
    KeyError,
    AttributeError,
    OverflowError,
    OSError,
)


def _describe(cls: type[Any], body: dict[str, Any]) -> str:
    try:
        converter.structure(body, cls)
    except cattrs.BaseValidationError as exc:
        problems = []
        for line in cattrs.transform_error(exc, path="$"):
            # cattrs reports attribute names; show the JSON (camelCase) ones.
            message, at, path = line.rpartition(" @ ")
            problems.append(f"{message}{at}{'.'.join(map(camel, path.split('.')))}")
        return "; ".join(problems)
    except _STRUCTURE_ERRORS as exc:
        return type(exc).__name__
    return "invalid fields"  # pragma: no cover (the fast hook failed, so this one does too)


def parse_event(body: Any) -> WebhookEvent:
    """Turn an already-verified, JSON-decoded webhook body into its typed event.

    `verify` calls this; use it directly only for bodies whose signature you have
    checked some other way.

    Raises:
        WebhookVerificationError: the body is not a JSON object with a string
            `id` and `event`, a numeric `createdAt` and an object `data`, or its
            `data` does not fit the event's schema.
    """
    if type(body) is dict:
        name = body.get("event")
        found = _hooks.get(name) if type(name) is str else None
        if found is not None and type(body.get("id")) is str:
            cls, hook = found
            try:
                event: WebhookEvent = hook(body, cls)  # checks `createdAt` and `data` itself
            except _STRUCTURE_ERRORS:
                pass  # the checks below say what is wrong
            else:
                return event
    return _parse_checking_each_field(body)


def _parse_checking_each_field(body: Any) -> WebhookEvent:
    """`parse_event` for an unusual body (or an event's first): one check at a time."""
    if type(body) is not dict:
        raise WebhookVerificationError("payload must be a JSON object")
    try:
        name = body["event"]
        created = body["createdAt"]
        usual = (
            type(body["id"]) is str
            and type(name) is str
            and (type(created) is int or type(created) is float)
            and type(body["data"]) is dict
        )
    except KeyError:
        usual = False
    if not usual:
        raise WebhookVerificationError(_envelope_problem(body))
    cls, hook = _hooks.get(name) or _hook(name)
    try:
        event: WebhookEvent = hook(body, cls)
    except _STRUCTURE_ERRORS:
        raise WebhookVerificationError(
            f"malformed {name[:64]!r} event: {_describe(cls, body)}"
        ) from None
    return event


def _envelope_problem(body: dict[str, Any]) -> str:
    """What is wrong with the fields every event has, when something is."""
    if type(body.get("id")) is not str or type(body.get("event")) is not str:
        return "payload must have string 'id' and 'event' fields"
    created = body.get("createdAt")
    if type(created) is not int and type(created) is not float:
        return "payload 'createdAt' must be Unix seconds"
    return "payload 'data' must be a JSON object"


_hooks: dict[str, tuple[type[Any], StructureFn]] = {}
"""Known event name to its class and the converter's hook for it, filled on first use."""


def _hook(name: str) -> tuple[type[Any], StructureFn]:
    cls = EVENT_TYPES.get(name, UnknownWebhookEvent)
    found = (cls, converter.get_structure_hook(cls))
    if cls is not UnknownWebhookEvent:  # unknown names are the sender's choice: not kept
        _hooks[name] = found
    return found
