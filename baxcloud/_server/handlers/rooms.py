"""`/v1/rooms` handlers: operations createRoom, listRooms, getRoom, updateRoom, deleteRoom."""

from __future__ import annotations

from .._context import Reply, RequestContext
from .._request_input import (
    MAX_EMPTY_TIMEOUT,
    MAX_MAX_PARTICIPANTS,
    Field,
    check_metadata,
    check_name,
    int_range,
    parse_body,
    parse_pagination,
)
from ..state import cascade, rooms

_MAX_PARTICIPANTS = Field("maxParticipants", "integer", check=int_range(0, MAX_MAX_PARTICIPANTS))
_EMPTY_TIMEOUT = Field("emptyTimeout", "integer", check=int_range(0, MAX_EMPTY_TIMEOUT))
_METADATA = Field("metadata", "string", check=check_metadata)

CREATE_FIELDS = (
    Field("name", "string", required=True, check=check_name),
    _MAX_PARTICIPANTS,
    _EMPTY_TIMEOUT,
    _METADATA,
    Field("enableRecording", "boolean"),
)
UPDATE_FIELDS = (_METADATA, _MAX_PARTICIPANTS, _EMPTY_TIMEOUT)


def create_room(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, CREATE_FIELDS)
    room = rooms.create_room(
        ctx.db,
        ctx.now,
        name=values["name"],
        max_participants=values.get("maxParticipants", 0),
        empty_timeout=values.get("emptyTimeout", rooms.DEFAULT_EMPTY_TIMEOUT),
        metadata=values.get("metadata", ""),
        enable_recording=values.get("enableRecording", False),
    )
    return Reply(201, rooms.room_json(room))


def list_rooms(ctx: RequestContext) -> Reply:
    page, limit = parse_pagination(ctx.query)
    return Reply(200, rooms.list_rooms(ctx.db, page, limit))


def get_room(ctx: RequestContext) -> Reply:
    return Reply(200, rooms.room_json(rooms.require_room(ctx.db, ctx.params["name"])))


def update_room(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, UPDATE_FIELDS)
    room = rooms.require_room(ctx.db, ctx.params["name"])
    rooms.update_room(ctx.db, room, values)
    return Reply(200, rooms.room_json(rooms.require_room(ctx.db, room["name"])))


def delete_room(ctx: RequestContext) -> Reply:
    room = rooms.require_room(ctx.db, ctx.params["name"])
    cascade.close_room(ctx.db, ctx.now, ctx.services.media, room, "deleted")
    return Reply(204)
