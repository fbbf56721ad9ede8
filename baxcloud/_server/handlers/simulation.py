"""`/_dev` simulation handlers: what real media clients (and time) would do.

Operations devJoin, devLeave, devPublishTrack, devUnpublishTrack,
devConnectIngress, devDisconnectIngress, devFailIngress, devFailEgress,
devGetClock, devAdvanceClock, devListEvents, devReset.
"""

from __future__ import annotations

import math
from typing import Any

from ..._core.errors import TokenVerificationError
from ..._core.tokens import verify_token
from .. import _storage
from .._clock import MANUAL_CLOCK_META
from .._context import Reply, RequestContext
from .._errors import ApiError, Detail, validation_failed
from .._request_input import (
    Field,
    check_display_name,
    check_metadata,
    check_name,
    one_of,
    parse_body,
)
from .._scheduler import run_due
from ..state import cascade, egress, ingress, participants, rooms
from ..state.events import list_events

TRACK_KINDS = ("audio", "video", "data")
TRACK_SOURCES = ("camera", "microphone", "screen_share", "screen_share_audio", "unknown")
MAX_ADVANCE_SECONDS = 10 * 365 * 24 * 3600

JOIN_FIELDS = (Field("token", "string", required=True),)
LEAVE_FIELDS = (
    Field("roomName", "string", required=True),
    Field("identity", "string", required=True),
)
PUBLISH_FIELDS = (
    *LEAVE_FIELDS,
    Field("kind", "string", required=True, check=one_of(*TRACK_KINDS)),
    Field("source", "string", check=one_of(*TRACK_SOURCES)),
    Field("name", "string", check=check_display_name),
)
UNPUBLISH_FIELDS = (*LEAVE_FIELDS, Field("trackSid", "string", required=True))


def _check_seconds(value: float) -> str | None:
    if not math.isfinite(value) or not 0 <= value <= MAX_ADVANCE_SECONDS:
        return f"must be a number between 0 and {MAX_ADVANCE_SECONDS}"
    return None


ADVANCE_FIELDS = (Field("seconds", "number", required=True, check=_check_seconds),)
MAX_ERROR_CHARS = 1024


def _check_error(value: str) -> str | None:
    if not 1 <= len(value) <= MAX_ERROR_CHARS:
        return f"must be 1-{MAX_ERROR_CHARS} characters"
    return None


INGRESS_FIELDS = (Field("ingressId", "string", required=True),)
FAIL_INGRESS_FIELDS = (*INGRESS_FIELDS, Field("error", "string", required=True, check=_check_error))
FAIL_EGRESS_FIELDS = (
    Field("egressId", "string", required=True),
    Field("error", "string", required=True, check=_check_error),
)

_GRANT_NAMES = {
    "canPublish": "can_publish",
    "canSubscribe": "can_subscribe",
    "canPublishData": "can_publish_data",
    "canUpdateOwnMetadata": "can_update_own_metadata",
}


def _permission(video: dict[str, Any], problems: list[Detail]) -> participants.Permission:
    grants: dict[str, Any] = {}
    for claim, attr in _GRANT_NAMES.items():
        value = video.get(claim)
        if value is None:
            continue
        if isinstance(value, bool):
            grants[attr] = value
        else:
            problems.append(Detail(f"token.video.{claim}", "must be a boolean"))
    sources = video.get("canPublishSources")
    if sources is not None:
        if isinstance(sources, list) and all(isinstance(s, str) for s in sources):
            grants["can_publish_sources"] = tuple(sources)
        else:
            problems.append(Detail("token.video.canPublishSources", "must be a list of strings"))
    return participants.Permission(**grants)


def join(ctx: RequestContext) -> Reply:
    """Verify the token like BaxCloud would, then join (auto-creating the room)."""
    token = parse_body(ctx.body, JOIN_FIELDS)["token"]
    creds = ctx.services.credentials
    try:
        claims = verify_token(token, keys={creds.key_id: creds.secret}, now=ctx.now)
    except TokenVerificationError as exc:
        message = str(exc)
        code = "grant_missing" if "roomJoin" in message else "permission_denied"
        raise ApiError(403, code, message) from None
    video: dict[str, Any] = claims["video"]
    problems: list[Detail] = []
    identity, room_name = claims["sub"], video["room"]
    for field, value in (("token.sub", identity), ("token.video.room", room_name)):
        problem = check_name(value) if isinstance(value, str) else "must be a string"
        if problem is not None:
            problems.append(Detail(field, problem))
    name = claims.get("name") or ""
    if not isinstance(name, str) or check_display_name(name) is not None:
        problems.append(Detail("token.name", "must be a string of at most 256 characters"))
    metadata = claims.get("metadata") or ""
    if not isinstance(metadata, str) or check_metadata(metadata) is not None:
        problems.append(Detail("token.metadata", "must be a string of at most 64 KiB"))
    permission = _permission(video, problems)
    if problems:
        raise validation_failed(problems)
    participant = cascade.join(
        ctx.db,
        ctx.now,
        ctx.services.media,
        room_name=room_name,
        identity=identity,
        name=name,
        metadata=metadata,
        permission=permission,
    )
    return Reply(201, participants.participant_json(ctx.db, participant))


def leave(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, LEAVE_FIELDS)
    room = rooms.require_room(ctx.db, values["roomName"])
    participant = participants.require_participant(ctx.db, room, values["identity"])
    cascade.leave(ctx.db, ctx.now, room, participant, "disconnected")
    return Reply(204)


def publish_track(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, PUBLISH_FIELDS)
    room = rooms.require_room(ctx.db, values["roomName"])
    participant = participants.require_participant(ctx.db, room, values["identity"])
    track = participants.publish_track(
        ctx.db,
        ctx.now,
        room,
        participant,
        kind=values["kind"],
        source=values.get("source"),
        name=values.get("name", ""),
    )
    return Reply(201, track)


def unpublish_track(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, UNPUBLISH_FIELDS)
    room = rooms.require_room(ctx.db, values["roomName"])
    participant = participants.require_participant(ctx.db, room, values["identity"])
    participants.unpublish_track(ctx.db, ctx.now, room, participant, values["trackSid"])
    return Reply(204)


def connect_ingress(ctx: RequestContext) -> Reply:
    """OBS / a WHIP client starts sending: `BUFFERING` now, `ACTIVE` at the next sweep."""
    ingress_id = parse_body(ctx.body, INGRESS_FIELDS)["ingressId"]
    row = ingress.require_ingress(ctx.db, ingress_id)
    cascade.connect_ingress(ctx.db, ctx.now, ctx.services.media, row)
    return Reply(200, ingress.ingress_json(ingress.require_ingress(ctx.db, ingress_id)))


def disconnect_ingress(ctx: RequestContext) -> Reply:
    """The sender stops cleanly: `COMPLETE`, its participant leaves."""
    ingress_id = parse_body(ctx.body, INGRESS_FIELDS)["ingressId"]
    ingress.end_ingress(ctx.db, ctx.now, ingress.require_ingress(ctx.db, ingress_id))
    return Reply(200, ingress.ingress_json(ingress.require_ingress(ctx.db, ingress_id)))


def fail_ingress(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, FAIL_INGRESS_FIELDS)
    row = ingress.require_ingress(ctx.db, values["ingressId"])
    ingress.fail_ingress(ctx.db, ctx.now, row, values["error"])
    return Reply(200, ingress.ingress_json(ingress.require_ingress(ctx.db, row["id"])))


def fail_egress(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, FAIL_EGRESS_FIELDS)
    row = egress.require_egress(ctx.db, values["egressId"])
    egress.fail_egress(ctx.db, ctx.now, row, values["error"])
    return Reply(200, egress.egress_json(egress.require_egress(ctx.db, row["id"])))


def get_clock(ctx: RequestContext) -> Reply:
    clock = ctx.services.clock
    return Reply(200, {"now": clock.now(), "manual": clock.manual})


def advance_clock(ctx: RequestContext) -> Reply:
    seconds = parse_body(ctx.body, ADVANCE_FIELDS)["seconds"]
    clock = ctx.services.clock
    if not clock.manual:
        raise ApiError(
            409,
            "clock_not_manual",
            "the clock can only be advanced when the server runs with a manual clock",
        )
    now = clock.advance(float(seconds))
    _storage.set_meta(ctx.db, MANUAL_CLOCK_META, repr(now))
    # What fell due meanwhile; the app writes any recording file before it answers.
    run_due(ctx.db, now, ctx.services.media)
    return Reply(200, {"now": now})


def events(ctx: RequestContext) -> Reply:
    return Reply(200, {"items": list_events(ctx.db, ctx.query.get("event"))})


def reset(ctx: RequestContext) -> Reply:
    """Back to the just-started state (the app knows what that takes)."""
    parse_body(ctx.body, ())
    ctx.services.reset_server(ctx.db)
    return Reply(204)
