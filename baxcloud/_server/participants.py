"""`/v1/rooms/{name}/participants` handlers (contract A.7)."""

from __future__ import annotations

from . import _state
from ._context import Reply, RequestContext
from ._validation import Field, check_display_name, check_metadata, parse_body, parse_pagination

UPDATE_FIELDS = (
    Field("metadata", "string", check=check_metadata),
    Field("name", "string", check=check_display_name),
)


def list_participants(ctx: RequestContext) -> Reply:
    room = _state.require_room(ctx.db, ctx.params["name"])
    page, limit = parse_pagination(ctx.query)
    return Reply(200, _state.list_participants(ctx.db, room, page, limit))


def get_participant(ctx: RequestContext) -> Reply:
    room = _state.require_room(ctx.db, ctx.params["name"])
    participant = _state.require_participant(ctx.db, room, ctx.params["identity"])
    return Reply(200, _state.participant_json(ctx.db, participant))


def update_participant(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, UPDATE_FIELDS)
    room = _state.require_room(ctx.db, ctx.params["name"])
    participant = _state.require_participant(ctx.db, room, ctx.params["identity"])
    _state.update_participant(ctx.db, participant, values)
    updated = _state.require_participant(ctx.db, room, participant["identity"])
    return Reply(200, _state.participant_json(ctx.db, updated))


def remove_participant(ctx: RequestContext) -> Reply:
    room = _state.require_room(ctx.db, ctx.params["name"])
    participant = _state.require_participant(ctx.db, room, ctx.params["identity"])
    _state.remove_participant(ctx.db, ctx.now, room, participant, "removed")
    return Reply(204)
