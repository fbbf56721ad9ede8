"""A FastAPI service: hands out BaxCloud join tokens and receives BaxCloud webhooks.

Endpoints:

- `POST /rooms/{room}/join` with `{"identity": "user-123", "name": "Ann"}`: creates the
  room if it does not exist yet and answers `{"token", "room", "identity", "expiresAt"}`;
  the browser or mobile app joins the room with that token.
- `POST /webhooks/baxcloud`: the webhook endpoint to register with BaxCloud. Every
  delivery is verified (Standard Webhooks signature, secret from BAXCLOUD_WEBHOOK_SECRET),
  deduplicated on `event.id` (delivery is at least once) and handled by its typed event.
- `GET /events`: what the webhook endpoint has received, for this demo.

Configuration, from the environment only: BAXCLOUD_API_KEY, BAXCLOUD_WEBHOOK_SECRET and,
when not using the hosted API, BAXCLOUD_BASE_URL. Try it against the local server:

    pip install 'baxcloud[server,fastapi]'
    baxcloud dev --webhook-url http://127.0.0.1:8000/webhooks/baxcloud
    # in another terminal, paste the `export BAXCLOUD_...` lines `baxcloud dev` printed, then:
    uvicorn examples.fastapi_app:app --port 8000    # or: python examples/fastapi_app.py
    curl -X POST localhost:8000/rooms/standup/join -H 'content-type: application/json' \
        -d '{"identity": "ann", "name": "Ann"}'
    baxcloud simulate join --room standup --identity ann   # the client app joins: webhooks follow
    curl localhost:8000/events

In a real application, take the identity from your own authentication (session, OAuth
token, ...) rather than from the request body: whoever holds a token can join as it.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

from baxcloud import (
    APIConnectionError,
    APIStatusError,
    AsyncBaxCloud,
    BadRequestError,
    ConflictError,
    Grants,
    UnprocessableEntityError,
)
from baxcloud.webhooks import (
    ParticipantJoinedEvent,
    ParticipantLeftEvent,
    RecordingCompletedEvent,
    UnknownWebhookEvent,
    WebhookEvent,
)
from baxcloud.webhooks.fastapi import VerifiedWebhook

logger = logging.getLogger("baxcloud_example.fastapi")

TOKEN_TTL_SECONDS = 2 * 60 * 60  # long enough for a meeting; clients fetch a new one after
ROOM_EMPTY_TIMEOUT_SECONDS = 10 * 60
ROOM_MAX_PARTICIPANTS = 50
# Participants may talk, watch and chat, but not rename themselves or administer the room.
PARTICIPANT_GRANTS = Grants(
    can_publish=True,
    can_subscribe=True,
    can_publish_data=True,
    can_update_own_metadata=False,
)


class EventLog:
    """The webhook events this process has handled, each once.

    Kept in memory for the demo; a real service records `event.id` in its database
    (a unique constraint) in the same transaction as the work the event triggers.
    """

    def __init__(self, max_events: int = 1000, max_ids: int = 100_000) -> None:
        self.events: deque[dict[str, Any]] = deque(maxlen=max_events)
        self.duplicates = 0
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._max_ids = max_ids

    def first_delivery(self, event_id: str) -> bool:
        """True the first time `event_id` is seen; redeliveries return False."""
        if event_id in self._seen:
            self.duplicates += 1
            return False
        self._seen[event_id] = None
        if len(self._seen) > self._max_ids:
            self._seen.popitem(last=False)
        return True


def handle_event(event: WebhookEvent) -> dict[str, Any]:
    """Act on one verified event; returns what is worth remembering about it."""
    seen: dict[str, Any] = {
        "id": event.id,
        "event": event.event,
        "type": type(event).__name__,
        "createdAt": event.created_at.isoformat(),
    }
    match event:
        case ParticipantJoinedEvent():
            data = event.data
            logger.info("%s joined room %s", data.identity, data.room_name)
            seen.update(room=data.room_name, identity=data.identity, name=data.name)
        case ParticipantLeftEvent():
            left = event.data
            logger.info("%s left room %s (%s)", left.identity, left.room_name, left.reason)
            seen.update(room=left.room_name, identity=left.identity, reason=left.reason)
        case RecordingCompletedEvent():
            done = event.data
            # A real app would queue a job here to download or publish the file.
            logger.info("recording %s of %s is ready", done.recording_id, done.room_name)
            seen.update(
                room=done.room_name,
                recordingId=done.recording_id,
                filename=done.filename,
                sizeBytes=done.size_bytes,
                durationSeconds=done.duration_seconds,
            )
        case UnknownWebhookEvent():
            logger.warning("unknown webhook event %r ignored", event.event)
        case _:
            pass  # known events this app has no use for
    return seen


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Fail at start-up, not at the first delivery, if the receiver cannot verify anything.
    if not os.environ.get("BAXCLOUD_WEBHOOK_SECRET"):
        raise RuntimeError("set BAXCLOUD_WEBHOOK_SECRET (the whsec_... webhook secret)")
    # One client for the whole process: it holds the connection pool.
    async with AsyncBaxCloud() as client:
        app.state.baxcloud = client
        app.state.event_log = EventLog()
        yield


def get_client(request: Request) -> AsyncBaxCloud:
    client: AsyncBaxCloud = request.app.state.baxcloud
    return client


def get_event_log(request: Request) -> EventLog:
    log: EventLog = request.app.state.event_log
    return log


BaxCloudClient = Annotated[AsyncBaxCloud, Depends(get_client)]
ReceivedEvents = Annotated[EventLog, Depends(get_event_log)]


class JoinRequest(BaseModel):
    identity: str = Field(min_length=1, max_length=128)
    name: str | None = Field(default=None, max_length=128)


class JoinResponse(BaseModel):
    token: str
    room: str
    identity: str
    expiresAt: str  # ISO 8601, UTC


app = FastAPI(title="BaxCloud example", lifespan=lifespan)


@app.post("/rooms/{room}/join")
async def join_room(room: str, body: JoinRequest, client: BaxCloudClient) -> JoinResponse:
    try:
        await client.rooms.create(
            name=room,
            max_participants=ROOM_MAX_PARTICIPANTS,
            empty_timeout=ROOM_EMPTY_TIMEOUT_SECONDS,
        )
        logger.info("created room %s", room)
    except ConflictError as exc:
        if exc.code != "room_already_exists":
            raise HTTPException(status_code=409, detail=exc.message) from None
        # Someone created it first: that is fine, join the existing room.
    except (BadRequestError, UnprocessableEntityError) as exc:  # e.g. an invalid room name
        raise HTTPException(status_code=422, detail=exc.message) from None
    except APIStatusError as exc:
        logger.error("creating room %s failed: %s %s", room, exc.status_code, exc.code)
        raise HTTPException(status_code=502, detail="the video service refused") from None
    except APIConnectionError:
        logger.exception("BaxCloud is unreachable")
        raise HTTPException(status_code=503, detail="the video service is unreachable") from None
    except ValueError as exc:  # an invalid room name, caught before any request is sent
        raise HTTPException(status_code=422, detail=str(exc)) from None

    token = client.tokens.create(
        room_name=room,
        participant_identity=body.identity,
        participant_name=body.name,
        ttl=TOKEN_TTL_SECONDS,
        grants=PARTICIPANT_GRANTS,
    )
    return JoinResponse(
        token=token.token,
        room=token.room_name,
        identity=token.identity,
        expiresAt=token.expires_at.isoformat(),
    )


@app.post("/webhooks/baxcloud", status_code=204)
async def receive_webhook(event: VerifiedWebhook, log: ReceivedEvents) -> None:
    # A bad signature never gets here: VerifiedWebhook answered 400 already.
    # Answer quickly (BaxCloud retries slow or failed deliveries): hand long work to a queue.
    if log.first_delivery(event.id):
        log.events.append(handle_event(event))


@app.get("/events")
async def list_events(log: ReceivedEvents) -> dict[str, Any]:
    return {"events": list(log.events), "duplicates": log.duplicates}


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Run the BaxCloud FastAPI example.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    uvicorn.run(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
