"""`/v1/egress` handlers: start, stop, get, list, delete; the auto-stream config.

Operations startEgress, stopEgress, getEgress, listEgress, deleteEgress,
getAutoStreamConfig, updateAutoStreamConfig.
"""

from __future__ import annotations

from typing import Any

from .._context import Reply, RequestContext
from .._errors import ApiError, Detail, invalid_request, validation_failed
from .._files import FILE_TYPES
from .._request_input import (
    MAX_MAX_PARTICIPANTS,
    Field,
    check_name,
    int_range,
    one_of,
    parse_body,
    parse_list_query,
)
from .._stream_urls import MAX_STREAM_URLS, check_stream_url
from ..state import egress

_MODE = Field("mode", "string", check=one_of(*egress.EGRESS_MODES))
_LAYOUT = Field("layout", "string", check=one_of(*egress.EGRESS_LAYOUTS))
_QUALITY = Field("quality", "string", check=one_of(*egress.EGRESS_QUALITIES))
_FILE_TYPE = Field("fileType", "string", check=one_of(*FILE_TYPES))

START_FIELDS = (
    Field("roomName", "string", required=True, check=check_name),
    Field("mode", "string", required=True, check=one_of(*egress.EGRESS_MODES)),
    _LAYOUT,
    _QUALITY,
    Field("file", "object"),
    Field("stream", "object"),
)
FILE_FIELDS = (_FILE_TYPE,)
STREAM_FIELDS = (Field("urls", "array", required=True),)
AUTO_STREAM_FIELDS = (
    Field("enabled", "boolean"),
    _MODE,
    _QUALITY,
    _LAYOUT,
    Field("minParticipants", "integer", check=int_range(1, MAX_MAX_PARTICIPANTS)),
    _FILE_TYPE,
    Field("streamUrls", "array"),
)


def _nested(value: Any, fields: tuple[Field, ...], prefix: str) -> dict[str, Any]:
    """parse_body for a nested object, with `prefix.` on every detail's field."""
    try:
        return parse_body(value, fields)
    except ApiError as exc:
        details = [Detail(f"{prefix}.{d.field}", d.message) for d in exc.details or ()]
        if exc.status == 422:
            raise validation_failed(details) from None
        raise ApiError(exc.status, exc.code, exc.message, details=details) from None


def check_url_list(
    urls: list[Any], field: str, *, minimum: int, problems: list[Detail]
) -> list[str]:
    """Types first (400), then count and each URL (422 details appended to `problems`)."""
    wrong = [
        Detail(f"{field}[{i}]", "must be a string")
        for i, url in enumerate(urls)
        if not isinstance(url, str)
    ]
    if wrong:
        raise invalid_request("request body has fields of the wrong type", wrong)
    if not minimum <= len(urls) <= MAX_STREAM_URLS:
        problems.append(Detail(field, f"must list {minimum}-{MAX_STREAM_URLS} URLs"))
    for i, url in enumerate(urls):
        message = check_stream_url(url)
        if message is not None:
            problems.append(Detail(f"{field}[{i}]", message))
    return [str(u) for u in urls]


def start(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, START_FIELDS)
    mode: str = values["mode"]
    problems: list[Detail] = []
    file_type: str | None = None
    urls: list[str] | None = None
    if "file" in values:
        file_type = _nested(values["file"], FILE_FIELDS, "file").get("fileType", "MP4")
        if mode == "stream":
            problems.append(Detail("file", "is not allowed with mode 'stream'"))
    elif egress.records(mode):
        problems.append(Detail("file", f"is required with mode {mode!r}"))
    if "stream" in values:
        raw = _nested(values["stream"], STREAM_FIELDS, "stream")["urls"]
        urls = check_url_list(raw, "stream.urls", minimum=1, problems=problems)
        if mode == "record":
            problems.append(Detail("stream", "is not allowed with mode 'record'"))
    elif egress.streams(mode):
        problems.append(Detail("stream", f"is required with mode {mode!r}"))
    if problems:
        raise validation_failed(problems)
    row = egress.start_egress(
        ctx.db,
        ctx.now,
        ctx.services.media,
        room_name=values["roomName"],
        mode=mode,
        layout=values.get("layout", "speaker"),
        quality=values.get("quality", "720p"),
        file_type=file_type,
        stream_urls=urls,
    )
    return Reply(201, egress.egress_json(row))


def stop(ctx: RequestContext) -> Reply:
    row = egress.require_egress(ctx.db, ctx.params["id"])
    egress.stop_egress(ctx.db, ctx.now, ctx.services.media, row, "stopped before it started")
    return Reply(200, egress.egress_json(egress.require_egress(ctx.db, row["id"])))


def get(ctx: RequestContext) -> Reply:
    return Reply(200, egress.egress_json(egress.require_egress(ctx.db, ctx.params["id"])))


def list_egress(ctx: RequestContext) -> Reply:
    filters, page, limit = parse_list_query(ctx.query, egress.EGRESS_STATUSES)
    return Reply(200, egress.list_egress(ctx.db, filters, page, limit))


def delete(ctx: RequestContext) -> Reply:
    egress.delete_egress(ctx.db, egress.require_egress(ctx.db, ctx.params["id"]))
    return Reply(204)


def get_auto_stream_config(ctx: RequestContext) -> Reply:
    return Reply(200, egress.auto_stream_json(egress.auto_stream_config(ctx.db)))


def update_auto_stream_config(ctx: RequestContext) -> Reply:
    values = parse_body(ctx.body, AUTO_STREAM_FIELDS)
    problems: list[Detail] = []
    if "streamUrls" in values:
        values["streamUrls"] = check_url_list(
            values["streamUrls"], "streamUrls", minimum=0, problems=problems
        )
    config = {**egress.auto_stream_config(ctx.db), **values}
    if config["enabled"] and egress.streams(config["mode"]) and not config["streamUrls"]:
        problems.append(
            Detail("streamUrls", f"must list 1-{MAX_STREAM_URLS} URLs for mode {config['mode']!r}")
        )
    if problems:
        raise validation_failed(problems)
    egress.save_auto_stream_config(ctx.db, config)
    return Reply(200, egress.auto_stream_json(config))
