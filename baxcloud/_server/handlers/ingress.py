"""`/v1/ingress` handlers: operations createIngress, listIngress, getIngress, deleteIngress.

The stream key (RTMP) or WHIP bearer token is returned in full only in the
201 answer of the create call; every later answer shows `****`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .._context import Reply, RequestContext
from .._errors import Detail, validation_failed
from .._request_input import (
    Field,
    check_display_name,
    check_name,
    one_of,
    parse_body,
    parse_list_query,
)
from ..state import ingress

CREATE_FIELDS = (
    Field("inputType", "string", required=True, check=one_of(*ingress.INGRESS_TYPES)),
    Field("roomName", "string", required=True, check=check_name),
    Field("participantIdentity", "string", required=True, check=check_name),
    Field("participantName", "string", check=check_display_name),
    Field("enableTranscoding", "boolean"),
    Field("bypassTranscoding", "boolean"),
)


def _hostname(base_url: str) -> str:
    host = urlsplit(base_url).hostname or "localhost"
    return f"[{host}]" if ":" in host else host


def create(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, CREATE_FIELDS)
    input_type: str = values["inputType"]
    rtmp = input_type == "RTMP_INPUT"
    enable = values.get("enableTranscoding", rtmp)
    bypass = values.get("bypassTranscoding", False)
    problems: list[Detail] = []
    if bypass and rtmp:
        problems.append(Detail("bypassTranscoding", "is only allowed with WHIP_INPUT"))
    elif bypass and enable:
        problems.append(
            Detail("bypassTranscoding", "cannot be combined with enableTranscoding: true")
        )
    if problems:
        raise validation_failed(problems)
    row = ingress.create_ingress(
        ctx.db,
        ctx.now,
        input_type=input_type,
        room_name=values["roomName"],
        participant_identity=values["participantIdentity"],
        participant_name=values.get("participantName", ""),
        enable_transcoding=enable,
        bypass_transcoding=bypass,
        hostname=_hostname(ctx.base_url),
    )
    return Reply(201, ingress.ingress_json(row, reveal_secret=True))


def list_ingress(ctx: RequestContext) -> Reply:
    filters, page, limit = parse_list_query(ctx.query)
    return Reply(200, ingress.list_ingress(ctx.db, filters, page, limit))


def get(ctx: RequestContext) -> Reply:
    return Reply(200, ingress.ingress_json(ingress.require_ingress(ctx.db, ctx.params["id"])))


def delete(ctx: RequestContext) -> Reply:
    ingress.delete_ingress(ctx.db, ctx.now, ingress.require_ingress(ctx.db, ctx.params["id"]))
    return Reply(204)
