"""`/v1/recordings` handlers (contract A.9). A recording is a `record`-mode egress."""

from __future__ import annotations

import math

from . import _media, downloads
from ._context import Reply, RequestContext
from ._errors import ApiError
from ._files import FILE_TYPES
from ._validation import (
    Field,
    check_name,
    one_of,
    parse_body,
    parse_query_int,
)

START_FIELDS = (
    Field("roomName", "string", required=True, check=check_name),
    Field("fileType", "string", check=one_of(*FILE_TYPES)),
)
STOP_FIELDS = (Field("egressId", "string", required=True),)
MIN_EXPIRES_IN = 60
MAX_EXPIRES_IN = 7 * 24 * 3600
DEFAULT_EXPIRES_IN = 3600


def start(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, START_FIELDS)
    file_type = values.get("fileType", "MP4")
    egress = _media.start_egress(
        ctx.db, ctx.now, ctx.media, room_name=values["roomName"], mode="record", file_type=file_type
    )
    return Reply(201, _media.recording_json(_media.recording_of(ctx.db, egress)))


def stop(ctx: RequestContext) -> Reply:
    egress_id = parse_body(ctx.body, STOP_FIELDS)["egressId"]
    egress = _media.require_egress(ctx.db, egress_id)
    recording = _media.recording_of(ctx.db, egress)
    _media.stop_egress(ctx.db, ctx.now, ctx.media, egress, "stopped before it started")
    return Reply(200, _media.recording_json(_media.require_recording(ctx.db, recording["id"])))


def list_recordings(ctx: RequestContext) -> Reply:
    filters, page, limit = _media.parse_list_query(ctx.query)
    return Reply(200, _media.list_recordings(ctx.db, filters, page, limit))


def list_active(ctx: RequestContext) -> Reply:
    return Reply(200, {"items": _media.active_recordings(ctx.db, ctx.query.get("roomName"))})


def get(ctx: RequestContext) -> Reply:
    return Reply(200, _media.recording_json(_media.require_recording(ctx.db, ctx.params["id"])))


def download_url(ctx: RequestContext) -> Reply:
    expires_in = parse_query_int(
        ctx.query, "expiresIn", DEFAULT_EXPIRES_IN, MIN_EXPIRES_IN, MAX_EXPIRES_IN
    )
    recording = _media.require_recording(ctx.db, ctx.params["id"])
    if recording["status"] != "completed":
        raise ApiError(
            409,
            "recording_not_ready",
            f"recording {recording['id']!r} is {recording['status']}; only a completed"
            " recording can be downloaded",
        )
    expires_at = math.floor(ctx.now) + expires_in
    url = downloads.signed_url(
        ctx.base_url, ctx.media.download_key, recording["id"], recording["filename"], expires_at
    )
    return Reply(200, {"downloadUrl": url, "expiresIn": expires_in, "expiresAt": expires_at})
