"""Receive BaxCloud webhooks: verify Standard Webhooks signatures, get typed events.

```python
from baxcloud.webhooks import ParticipantJoinedEvent, verify

event = verify(raw_body, request.headers, secret="whsec_...")
if isinstance(event, ParticipantJoinedEvent):
    print(event.data.identity, "joined", event.data.room_name)
```

Framework helpers live in `baxcloud.webhooks.fastapi`, `.aiohttp`, `.flask` and
`.django`; each imports its framework only when imported itself.
"""

from __future__ import annotations

from .._core.errors import WebhookVerificationError
from ._body import WebhookPayloadTooLargeError
from ._events import (
    EVENT_TYPES,
    LiveEndedData,
    LiveEndedEvent,
    LiveFailedData,
    LiveFailedEvent,
    LiveStartedData,
    LiveStartedEvent,
    LiveUpdatedData,
    LiveUpdatedEvent,
    ParticipantJoinedData,
    ParticipantJoinedEvent,
    ParticipantLeftData,
    ParticipantLeftEvent,
    RecordingCompletedData,
    RecordingCompletedEvent,
    RecordingFailedData,
    RecordingFailedEvent,
    RecordingStartedData,
    RecordingStartedEvent,
    RoomFinishedData,
    RoomFinishedEvent,
    RoomStartedData,
    RoomStartedEvent,
    StreamCompletedData,
    StreamCompletedEvent,
    StreamDestinationStatus,
    StreamFailedData,
    StreamFailedEvent,
    StreamStartedData,
    StreamStartedEvent,
    StreamUpdatedData,
    StreamUpdatedEvent,
    TrackPublishedData,
    TrackPublishedEvent,
    TrackUnpublishedData,
    TrackUnpublishedEvent,
    UnknownWebhookEvent,
    WebhookEvent,
    parse_event,
)
from ._signing import DEFAULT_MAX_BODY_BYTES, DEFAULT_TOLERANCE, sign, verify

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TOLERANCE",
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
    "WebhookPayloadTooLargeError",
    "WebhookVerificationError",
    "parse_event",
    "sign",
    "verify",
]
