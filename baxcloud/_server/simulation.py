"""`/_dev` simulation handlers (contract Part C): what real media clients would do."""

from __future__ import annotations

import math
from typing import Any

from .._core import tokens as _tokens
from .._core.errors import TokenVerificationError
from . import _media, _state, _storage
from ._context import Reply, RequestContext
from ._errors import ApiError, Detail, validation_failed
from ._events import list_events
from ._validation import (
    Field,
    check_display_name,
    check_metadata,
    check_name,
    one_of,
    parse_body,
)

TRACK_KINDS = ("audio", "video", "data")
TRACK_SOURCES = ("camera", "microphone", "screen_share", "screen_share_audio", "unknown")
MAX_ADVANCE_SECONDS = 10 * 365 * 24 * 3600
MANUAL_CLOCK_META = "manual_clock_now"

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


def _permission(video: dict[str, Any], problems: list[Detail]) -> _state.Permission:
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
    return _state.Permission(**grants)


def join(ctx: RequestContext) -> Reply:
    """Verify the token like BaxCloud would, then join (auto-creating the room)."""
    token = parse_body(ctx.body, JOIN_FIELDS)["token"]
    creds = ctx.credentials
    try:
        claims = _tokens.verify_token(token, keys={creds.key_id: creds.secret}, now=ctx.now)
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
    participant = _state.join(
        ctx.db,
        ctx.now,
        room_name=room_name,
        identity=identity,
        name=name,
        metadata=metadata,
        permission=permission,
    )
    _media.on_participant_joined(ctx.db, ctx.now, ctx.media, room_name)
    return Reply(201, _state.participant_json(ctx.db, participant))


def leave(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, LEAVE_FIELDS)
    room = _state.require_room(ctx.db, values["roomName"])
    participant = _state.require_participant(ctx.db, room, values["identity"])
    _state.remove_participant(ctx.db, ctx.now, room, participant, "disconnected")
    return Reply(204)


def publish_track(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, PUBLISH_FIELDS)
    room = _state.require_room(ctx.db, values["roomName"])
    participant = _state.require_participant(ctx.db, room, values["identity"])
    track = _state.publish_track(
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
    room = _state.require_room(ctx.db, values["roomName"])
    participant = _state.require_participant(ctx.db, room, values["identity"])
    _state.unpublish_track(ctx.db, ctx.now, room, participant, values["trackSid"])
    return Reply(204)


def connect_ingress(ctx: RequestContext) -> Reply:
    """OBS / a WHIP client starts sending: `BUFFERING` now, `ACTIVE` at the next sweep."""
    ingress_id = parse_body(ctx.body, INGRESS_FIELDS)["ingressId"]
    ingress = _media.require_ingress(ctx.db, ingress_id)
    _media.connect_ingress(ctx.db, ctx.now, ctx.media, ingress)
    return Reply(200, _media.ingress_json(_media.require_ingress(ctx.db, ingress_id)))


def disconnect_ingress(ctx: RequestContext) -> Reply:
    """The sender stops cleanly: `COMPLETE`, its participant leaves."""
    ingress_id = parse_body(ctx.body, INGRESS_FIELDS)["ingressId"]
    _media.end_ingress(ctx.db, ctx.now, _media.require_ingress(ctx.db, ingress_id))
    return Reply(200, _media.ingress_json(_media.require_ingress(ctx.db, ingress_id)))


def fail_ingress(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, FAIL_INGRESS_FIELDS)
    ingress = _media.require_ingress(ctx.db, values["ingressId"])
    _media.fail_ingress(ctx.db, ctx.now, ingress, values["error"])
    return Reply(200, _media.ingress_json(_media.require_ingress(ctx.db, ingress["id"])))


def fail_egress(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, FAIL_EGRESS_FIELDS)
    egress = _media.require_egress(ctx.db, values["egressId"])
    _media.fail_egress(ctx.db, ctx.now, egress, values["error"])
    return Reply(200, _media.egress_json(_media.require_egress(ctx.db, egress["id"])))


def get_clock(ctx: RequestContext) -> Reply:
    return Reply(200, {"now": ctx.clock.now(), "manual": ctx.clock.manual})


def advance_clock(ctx: RequestContext) -> Reply:
    seconds = parse_body(ctx.body, ADVANCE_FIELDS)["seconds"]
    if not ctx.clock.manual:
        raise ApiError(
            409,
            "clock_not_manual",
            "the clock can only be advanced when the server runs with a manual clock",
        )
    now = ctx.clock.advance(float(seconds))
    _storage.set_meta(ctx.db, MANUAL_CLOCK_META, repr(now))
    ctx.sweep()
    return Reply(200, {"now": now})


def events(ctx: RequestContext) -> Reply:
    return Reply(200, {"items": list_events(ctx.db, ctx.query.get("event"))})
