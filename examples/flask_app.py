"""A Flask app (blocking code): hands out BaxCloud join tokens and receives BaxCloud webhooks.

The same service as `fastapi_app.py`, for a classic WSGI application, with the blocking
`BaxCloud` client (safe to share between the server's threads):

- `POST /rooms/<room>/join` with `{"identity": "user-123", "name": "Ann"}`: creates the
  room if it does not exist yet and answers `{"token", "room", "identity", "expiresAt"}`.
- `POST /webhooks/baxcloud`: verified (secret from BAXCLOUD_WEBHOOK_SECRET), deduplicated
  on `event.id` (delivery is at least once) and handled by its typed event.
- `GET /events`: what the webhook endpoint has received, for this demo.

Configuration, from the environment only: BAXCLOUD_API_KEY, BAXCLOUD_WEBHOOK_SECRET and,
when not using the hosted API, BAXCLOUD_BASE_URL. Try it against the local server:

    pip install 'baxcloud[server,flask]'
    baxcloud dev --webhook-url http://127.0.0.1:5000/webhooks/baxcloud
    # in another terminal, paste the `export BAXCLOUD_...` lines `baxcloud dev` printed, then:
    flask --app examples.flask_app run --port 5000    # or: python examples/flask_app.py
    curl -X POST localhost:5000/rooms/standup/join -H 'content-type: application/json' \
        -d '{"identity": "ann", "name": "Ann"}'
    baxcloud simulate join --room standup --identity ann   # the client app joins: webhooks follow
    curl localhost:5000/events

In production, serve `create_app()` with a WSGI server, for example
`gunicorn 'examples.flask_app:create_app()'`. In a real application, take the identity
from your own authentication rather than from the request body.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import threading
from collections import OrderedDict, deque
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from baxcloud import (
    APIConnectionError,
    APIStatusError,
    BadRequestError,
    BaxCloud,
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
from baxcloud.webhooks.flask import webhook_view

logger = logging.getLogger("baxcloud_example.flask")

TOKEN_TTL_SECONDS = 2 * 60 * 60  # long enough for a meeting; clients fetch a new one after
ROOM_EMPTY_TIMEOUT_SECONDS = 10 * 60
ROOM_MAX_PARTICIPANTS = 50
MAX_IDENTITY_LENGTH = MAX_NAME_LENGTH = 128
# Participants may talk, watch and chat, but not rename themselves or administer the room.
PARTICIPANT_GRANTS = Grants(
    can_publish=True,
    can_subscribe=True,
    can_publish_data=True,
    can_update_own_metadata=False,
)


class EventLog:
    """The webhook events this process has handled, each once (thread-safe).

    Kept in memory for the demo; a real service records `event.id` in its database
    (a unique constraint) in the same transaction as the work the event triggers.
    """

    def __init__(self, max_events: int = 1000, max_ids: int = 100_000) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=max_events)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._max_ids = max_ids
        self._duplicates = 0
        self._lock = threading.Lock()

    def first_delivery(self, event_id: str) -> bool:
        """True the first time `event_id` is seen; redeliveries return False."""
        with self._lock:
            if event_id in self._seen:
                self._duplicates += 1
                return False
            self._seen[event_id] = None
            if len(self._seen) > self._max_ids:
                self._seen.popitem(last=False)
            return True

    def append(self, seen: dict[str, Any]) -> None:
        with self._lock:
            self._events.append(seen)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"events": list(self._events), "duplicates": self._duplicates}


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


def error(status: int, message: str) -> ResponseReturnValue:
    return jsonify({"error": message}), status


def create_app() -> Flask:
    """The application; reads BAXCLOUD_* from the environment now."""
    # Fail at start-up, not at the first delivery, if the receiver cannot verify anything.
    if not os.environ.get("BAXCLOUD_WEBHOOK_SECRET"):
        raise RuntimeError("set BAXCLOUD_WEBHOOK_SECRET (the whsec_... webhook secret)")
    app = Flask(__name__)
    # One client for the whole process: it holds the connection pool and is thread-safe.
    client = BaxCloud()
    atexit.register(client.close)
    event_log = EventLog()
    app.extensions["baxcloud"] = client
    app.extensions["baxcloud_events"] = event_log

    @app.post("/rooms/<room>/join")
    def join_room(room: str) -> ResponseReturnValue:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return error(400, "expected a JSON object")
        identity, name = body.get("identity"), body.get("name")
        if not isinstance(identity, str) or not 0 < len(identity) <= MAX_IDENTITY_LENGTH:
            return error(422, f"identity must be a string of 1-{MAX_IDENTITY_LENGTH} characters")
        if name is not None and not (isinstance(name, str) and len(name) <= MAX_NAME_LENGTH):
            return error(422, f"name must be a string of at most {MAX_NAME_LENGTH} characters")

        try:
            client.rooms.create(
                name=room,
                max_participants=ROOM_MAX_PARTICIPANTS,
                empty_timeout=ROOM_EMPTY_TIMEOUT_SECONDS,
            )
            logger.info("created room %s", room)
        except ConflictError as exc:
            if exc.code != "room_already_exists":
                return error(409, exc.message)
            # Someone created it first: that is fine, join the existing room.
        except (BadRequestError, UnprocessableEntityError) as exc:  # e.g. an invalid room name
            return error(422, exc.message)
        except APIStatusError as exc:
            logger.error("creating room %s failed: %s %s", room, exc.status_code, exc.code)
            return error(502, "the video service refused")
        except APIConnectionError:
            logger.exception("BaxCloud is unreachable")
            return error(503, "the video service is unreachable")
        except ValueError as exc:  # an invalid room name, caught before any request is sent
            return error(422, str(exc))

        token = client.tokens.create(
            room_name=room,
            participant_identity=identity,
            participant_name=name,
            ttl=TOKEN_TTL_SECONDS,
            grants=PARTICIPANT_GRANTS,
        )
        return jsonify(
            token=token.token,
            room=token.room_name,
            identity=token.identity,
            expiresAt=token.expires_at.isoformat(),
        )

    @app.post("/webhooks/baxcloud")
    @webhook_view()  # a bad signature is answered 400 before this view runs
    def receive_webhook(event: WebhookEvent) -> ResponseReturnValue:
        # Answer quickly (BaxCloud retries slow or failed deliveries): queue long work.
        if event_log.first_delivery(event.id):
            event_log.append(handle_event(event))
        return "", 204

    @app.get("/events")
    def list_events() -> ResponseReturnValue:
        return jsonify(event_log.snapshot())

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the BaxCloud Flask example.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # Flask's development server; use a WSGI server such as gunicorn in production.
    create_app().run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
