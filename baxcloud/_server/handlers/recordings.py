"""`/v1/recordings` handlers: a recording is the file of a `record`-mode egress.

Operations startRecording, stopRecording, listRecordings,
listActiveRecordings, getRecording, getRecordingDownloadUrl.
"""

from __future__ import annotations

import math

from .._context import Reply, RequestContext
from .._errors import ApiError
from .._files import FILE_TYPES
from .._request_input import (
    Field,
    check_name,
    one_of,
    parse_body,
    parse_list_query,
    parse_query_int,
)
from ..state import egress, recordings
from . import downloads

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
    row = egress.start_egress(
        ctx.db,
        ctx.now,
        ctx.services.media,
        room_name=values["roomName"],
        mode="record",
        file_type=file_type,
    )
    return Reply(201, recordings.recording_json(recordings.recording_of(ctx.db, row)))


def stop(ctx: RequestContext) -> Reply:
    egress_id = parse_body(ctx.body, STOP_FIELDS)["egressId"]
    row = egress.require_egress(ctx.db, egress_id)
    recording = recordings.recording_of(ctx.db, row)
    egress.stop_egress(ctx.db, ctx.now, ctx.services.media, row, "stopped before it started")
    return Reply(
        200, recordings.recording_json(recordings.require_recording(ctx.db, recording["id"]))
    )


def list_recordings(ctx: RequestContext) -> Reply:
    filters, page, limit = parse_list_query(ctx.query, egress.EGRESS_STATUSES)
    return Reply(200, recordings.list_recordings(ctx.db, filters, page, limit))


def list_active(ctx: RequestContext) -> Reply:
    return Reply(200, {"items": recordings.active_recordings(ctx.db, ctx.query.get("roomName"))})


def get(ctx: RequestContext) -> Reply:
    row = recordings.require_recording(ctx.db, ctx.params["id"])
    return Reply(200, recordings.recording_json(row))


def download_url(ctx: RequestContext) -> Reply:
    expires_in = parse_query_int(
        ctx.query, "expiresIn", DEFAULT_EXPIRES_IN, MIN_EXPIRES_IN, MAX_EXPIRES_IN
    )
    recording = recordings.require_recording(ctx.db, ctx.params["id"])
    if recording["status"] != "completed":
        raise ApiError(
            409,
            "recording_not_ready",
            f"recording {recording['id']!r} is {recording['status']}; only a completed"
            " recording can be downloaded",
        )
    expires_at = math.floor(ctx.now) + expires_in
    url = downloads.signed_url(
        ctx.base_url,
        ctx.services.media.download_key,
        recording["id"],
        recording["filename"],
        expires_at,
    )
    return Reply(200, {"downloadUrl": url, "expiresIn": expires_in, "expiresAt": expires_at})
