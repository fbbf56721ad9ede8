"""End to end: a FastAPI receiver gets all 17 typed events from a local server.

The receiver is what a user would write (`baxcloud.webhooks.fastapi.VerifiedWebhook`,
the secret from BAXCLOUD_WEBHOOK_SECRET), served by uvicorn on loopback; the
server delivers to it over HTTP; the scenario runs through the SDK client and
the simulation calls, on a manual clock.
"""

from __future__ import annotations

import json
import threading
from importlib.resources import files
from typing import Any

import pytest
from fastapi import FastAPI
from helpers import serve_asgi, wait_until

from baxcloud.testing import LocalServer
from baxcloud.webhooks import (
    EVENT_TYPES,
    LiveEndedEvent,
    LiveFailedEvent,
    LiveStartedEvent,
    LiveUpdatedEvent,
    ParticipantJoinedEvent,
    ParticipantLeftEvent,
    RecordingCompletedEvent,
    RecordingFailedEvent,
    RecordingStartedEvent,
    RoomFinishedEvent,
    RoomStartedEvent,
    StreamCompletedEvent,
    StreamFailedEvent,
    StreamStartedEvent,
    StreamUpdatedEvent,
    TrackPublishedEvent,
    TrackUnpublishedEvent,
    UnknownWebhookEvent,
    WebhookEvent,
)
from baxcloud.webhooks.fastapi import VerifiedWebhook  # module level: FastAPI resolves it by name

ROOM = "e2e-stage"
YOUTUBE = "rtmp://a.rtmp.youtube.com/live2/E2E-STREAM-KEY-1234"


class Collector:
    """What the user's handler does: keep each event once (deliveries are at least once)."""

    def __init__(self) -> None:
        self.events: list[WebhookEvent] = []
        self.ids: set[str] = set()
        self.lock = threading.Lock()

    def add(self, event: WebhookEvent) -> None:
        with self.lock:
            if event.id not in self.ids:
                self.ids.add(event.id)
                self.events.append(event)


def receiver_app(collector: Collector) -> FastAPI:
    app = FastAPI()

    @app.post("/webhooks/baxcloud", status_code=204)
    async def receive(event: VerifiedWebhook) -> None:
        collector.add(event)

    return app


def event_data_schema(name: str) -> dict[str, Any]:
    """The schema of `data` for the event `name`, from the package's OpenAPI document."""
    doc = json.loads(files("baxcloud._server").joinpath("openapi.json").read_text())
    body = doc["webhooks"][name]["post"]["requestBody"]["content"]["application/json"]
    reference = body["schema"]["allOf"][1]["properties"]["data"]["$ref"]
    schema: dict[str, Any] = doc["components"]["schemas"][reference.rsplit("/", 1)[1]]
    return schema


def test_all_17_events_reach_a_fastapi_receiver(monkeypatch: pytest.MonkeyPatch) -> None:
    collector = Collector()
    with (
        LocalServer(manual_clock=True, egress_start_delay=1, egress_stop_delay=1) as server,
        serve_asgi(receiver_app(collector), path="/webhooks/baxcloud") as url,
        server.client() as client,
    ):
        assert server.webhook_secret is not None
        monkeypatch.setenv("BAXCLOUD_WEBHOOK_SECRET", server.webhook_secret)
        endpoint = server.add_webhook_endpoint(url)
        assert endpoint["enabled"] is True

        # Rooms, participants, tracks.
        room = client.rooms.create(name=ROOM, metadata="launch party", empty_timeout=3600)
        alice = server.join(
            client.tokens.create(
                room_name=ROOM,
                participant_identity="alice",
                participant_name="Alice",
                metadata="host",
            )
        )
        camera = server.publish_track(ROOM, "alice", kind="video", source="camera", name="cam")
        server.unpublish_track(ROOM, "alice", camera.sid)

        # A recording that completes, and one that fails.
        recording = client.recordings.start(room_name=ROOM, file_type="WEBM")
        server.advance_clock(1)
        server.advance_clock(6)
        client.recordings.stop(recording.egress_id)
        server.advance_clock(1)
        broken = client.recordings.start(room_name=ROOM)
        server.advance_clock(1)
        server.fail_egress(broken.egress_id, "encoder crashed")

        # A stream that completes, and one that fails.
        stream = client.egress.start(room_name=ROOM, mode="stream", stream={"urls": [YOUTUBE]})
        server.advance_clock(1)
        client.egress.stop(stream.id)
        server.advance_clock(1)
        flaky = client.egress.start(room_name=ROOM, mode="stream", stream={"urls": [YOUTUBE]})
        server.advance_clock(1)
        server.fail_egress(flaky.id, "rtmp handshake refused")

        # Stream in: one ends cleanly, one breaks.
        obs = client.ingress.create(
            input_type="RTMP_INPUT", room_name=ROOM, participant_identity="obs"
        )
        server.connect_ingress(obs.id)
        server.advance_clock(0)  # BUFFERING -> ACTIVE at the next sweep
        server.disconnect_ingress(obs.id)
        whip = client.ingress.create(
            input_type="WHIP_INPUT", room_name=ROOM, participant_identity="whip"
        )
        server.connect_ingress(whip.id)
        server.fail_ingress(whip.id, "stream broke")

        server.leave(ROOM, "alice")
        client.rooms.delete(ROOM)

        recorded = server.events()
        wait_until(
            lambda: (
                len(collector.events) == len(recorded) and server.pending_webhook_deliveries() == 0
            ),
            "every event at the receiver",
        )
        deliveries = server.webhook_deliveries()
        done = client.recordings.get(recording.id)

    received = collector.events
    # All 17 event classes, and nothing else.
    assert {type(e) for e in received} == set(EVENT_TYPES.values())
    assert len(EVENT_TYPES) == 17
    # One room: its events arrived in the order they happened, each exactly as recorded.
    assert [e.id for e in received] == [e["id"] for e in recorded]
    assert [e.event for e in received] == [e["event"] for e in recorded]
    for event, raw in zip(received, recorded, strict=True):
        assert int(event.created_at.timestamp()) == raw["createdAt"]
        assert not isinstance(event, UnknownWebhookEvent)
        assert event.data.room_name == ROOM
    # ... and each is what the OpenAPI document's `webhooks` entry for its name describes.
    for raw in recorded:
        schema = event_data_schema(raw["event"])
        assert set(schema["required"]) <= set(raw["data"]) <= set(schema["properties"]), raw
        for field, value in raw["data"].items():
            assert value in schema["properties"][field].get("enum", [value]), (field, raw)
    assert all(d["outcome"] == "delivered" and d["attempt"] == 1 for d in deliveries)
    assert {d["endpointId"] for d in deliveries} == {endpoint["id"]}

    def only(cls: type[Any], **match: Any) -> Any:
        found = [
            e
            for e in received
            if isinstance(e, cls) and all(getattr(e.data, k) == v for k, v in match.items())
        ]
        assert len(found) == 1, (cls.__name__, match, found)
        return found[0]

    started = only(RoomStartedEvent)
    assert (started.data.room_sid, started.data.metadata) == (room.sid, "launch party")
    finished = only(RoomFinishedEvent)
    assert (finished.data.room_sid, finished.data.reason) == (room.sid, "deleted")

    joined = only(ParticipantJoinedEvent, identity="alice")
    assert joined.data.participant_sid == alice.sid
    assert (joined.data.room_sid, joined.data.name, joined.data.metadata) == (
        room.sid,
        "Alice",
        "host",
    )
    left = only(ParticipantLeftEvent, identity="alice")
    assert (left.data.participant_sid, left.data.reason) == (alice.sid, "disconnected")
    assert only(ParticipantJoinedEvent, identity="obs").data.name == ""
    assert only(ParticipantLeftEvent, identity="whip").data.reason == "disconnected"

    published = only(TrackPublishedEvent, track_sid=camera.sid)
    assert (published.data.identity, published.data.participant_sid) == ("alice", alice.sid)
    assert (published.data.kind, published.data.source, published.data.name) == (
        "video",
        "camera",
        "cam",
    )
    unpublished = only(TrackUnpublishedEvent, track_sid=camera.sid)
    assert (unpublished.data.kind, unpublished.data.source) == ("video", "camera")
    # The ingress participant publishes video and audio once ACTIVE, and unpublishes on leave.
    assert {
        (e.data.kind, e.data.source)
        for e in received
        if isinstance(e, TrackPublishedEvent) and e.data.identity == "obs"
    } == {("video", "camera"), ("audio", "microphone")}

    rec_started = only(RecordingStartedEvent, recording_id=recording.id)
    assert (rec_started.data.egress_id, rec_started.data.file_type) == (
        recording.egress_id,
        "WEBM",
    )
    completed = only(RecordingCompletedEvent, recording_id=recording.id)
    assert completed.data.egress_id == recording.egress_id
    assert (completed.data.filename, completed.data.size_bytes) == (done.filename, done.size_bytes)
    assert (
        completed.data.duration_seconds == done.duration_seconds == 6.0
        and completed.data.size_bytes > 0
    )
    assert completed.data.filename.endswith(".webm")
    failed = only(RecordingFailedEvent, recording_id=broken.id)
    assert (failed.data.egress_id, failed.data.error) == (broken.egress_id, "encoder crashed")

    stream_started = only(StreamStartedEvent, egress_id=stream.id)
    assert stream_started.data.mode == "stream"
    assert stream_started.data.urls == ("rtmp://a.rtmp.youtube.com/live2/****",)
    updated = only(StreamUpdatedEvent, egress_id=stream.id)
    assert updated.data.status == "ending"
    assert [d.url for d in updated.data.destinations] == ["rtmp://a.rtmp.youtube.com/live2/****"]
    only(StreamCompletedEvent, egress_id=stream.id)
    assert only(StreamFailedEvent, egress_id=flaky.id).data.error == "rtmp handshake refused"
    assert only(StreamStartedEvent, egress_id=flaky.id).data.room_name == ROOM

    live = only(LiveStartedEvent, ingress_id=obs.id)
    assert (live.data.input_type, live.data.status) == ("RTMP_INPUT", "BUFFERING")
    live_updated = only(LiveUpdatedEvent, ingress_id=obs.id)
    assert (live_updated.data.status, live_updated.data.previous_status) == (
        "ACTIVE",
        "BUFFERING",
    )
    only(LiveEndedEvent, ingress_id=obs.id)
    assert only(LiveStartedEvent, ingress_id=whip.id).data.input_type == "WHIP_INPUT"
    assert only(LiveFailedEvent, ingress_id=whip.id).data.error == "stream broke"

    # Causality within the room: what happened first was delivered first.
    names = [e.event for e in received]
    assert names[0] == "room.started" and names[-1] == "room.finished"
    assert names.index("recording.started") < names.index("recording.completed")
    assert names.index("stream.started") < names.index("stream.updated")
    assert names.index("stream.updated") < names.index("stream.completed")
    assert names.index("live.started") < names.index("live.updated") < names.index("live.ended")
    # The stream key never travels in a webhook.
    assert all("E2E-STREAM-KEY" not in repr(e) for e in received)
