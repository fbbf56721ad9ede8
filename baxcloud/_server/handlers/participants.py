"""`/v1/rooms/{name}/participants` handlers.

Operations listParticipants, getParticipant, updateParticipant, removeParticipant.
"""

from __future__ import annotations

from .._context import Reply, RequestContext
from .._request_input import (
    Field,
    check_display_name,
    check_metadata,
    parse_body,
    parse_pagination,
)
from ..state import cascade, participants, rooms

UPDATE_FIELDS = (
    Field("metadata", "string", check=check_metadata),
    Field("name", "string", check=check_display_name),
)


def list_participants(ctx: RequestContext) -> Reply:
    room = rooms.require_room(ctx.db, ctx.params["name"])
    page, limit = parse_pagination(ctx.query)
    return Reply(200, participants.list_participants(ctx.db, room, page, limit))


def get_participant(ctx: RequestContext) -> Reply:
    room = rooms.require_room(ctx.db, ctx.params["name"])
    participant = participants.require_participant(ctx.db, room, ctx.params["identity"])
    return Reply(200, participants.participant_json(ctx.db, participant))


def update_participant(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, UPDATE_FIELDS)
    room = rooms.require_room(ctx.db, ctx.params["name"])
    participant = participants.require_participant(ctx.db, room, ctx.params["identity"])
    participants.update_participant(ctx.db, participant, values)
    updated = participants.require_participant(ctx.db, room, participant["identity"])
    return Reply(200, participants.participant_json(ctx.db, updated))


def remove_participant(ctx: RequestContext) -> Reply:
    room = rooms.require_room(ctx.db, ctx.params["name"])
    participant = participants.require_participant(ctx.db, room, ctx.params["identity"])
    cascade.leave(ctx.db, ctx.now, room, participant, "removed")
    return Reply(204)
