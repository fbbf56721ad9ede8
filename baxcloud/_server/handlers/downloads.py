"""Pre-signed recording downloads: `GET|HEAD /downloads/{recordingId}/{filename}`.

Operations downloadRecording and headRecording; getRecordingDownloadUrl issues the URL.

URL: `{base}/downloads/{recordingId}/{filename}?expires=<unix seconds>&sig=<hex>`,
`sig` = hex HMAC-SHA256 over `GET\\n{path}\\n{expires}` with a random key kept in
the meta table (so URLs survive a restart with `--data`). No API key is needed.
HEAD uses the GET signature. Only the URL exactly as issued is accepted: its
path and query are compared byte for byte with the canonical form (no other
percent-encoding, parameter order, leading zero or extra `&`), and anything
else, like a bad or altered signature or a missing, repeated or extra query
parameter, is 403 `download_url_invalid`; `now >= expires` (server clock):
403 `download_url_expired`. Single byte ranges are served (206/416);
a multi-range or malformed `Range` is ignored (200, whole file). The file is
streamed in chunks, never read whole.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import anyio
from starlette.responses import Response, StreamingResponse

from .._context import Reply, RequestContext
from .._errors import ApiError
from .._files import CONTENT_TYPES
from ..state import recordings

CHUNK_BYTES = 256 * 1024
# The only query a URL is issued with; `expires` in canonical decimal form.
_CANONICAL_QUERY = re.compile(rb"expires=(0|[1-9][0-9]{0,11})&sig=([0-9a-f]{64})")
_RANGE = re.compile(r"\s*([0-9]*)\s*-\s*([0-9]*)\s*")


def url_path(recording_id: str, filename: str) -> str:
    return f"/downloads/{quote(recording_id, safe='')}/{quote(filename, safe='')}"


def signature(key: bytes, path: str, expires: int) -> str:
    message = f"GET\n{path}\n{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signed_url(base_url: str, key: bytes, recording_id: str, filename: str, expires: int) -> str:
    path = url_path(recording_id, filename)
    return f"{base_url}{path}?expires={expires}&sig={signature(key, path, expires)}"


def _invalid() -> ApiError:
    return ApiError(
        403, "download_url_invalid", "the download URL is not valid (altered or incomplete)"
    )


def _verify(ctx: RequestContext) -> None:
    """Accept the URL only in the exact form `signed_url` issues (path and query bytes)."""
    query = _CANONICAL_QUERY.fullmatch(ctx.raw_query)
    path = url_path(ctx.params["recordingId"], ctx.params["filename"])
    if query is None or ctx.raw_path != path.encode("ascii"):
        raise _invalid()
    expires, sig = int(query.group(1)), query.group(2).decode("ascii")
    if not hmac.compare_digest(signature(ctx.services.media.download_key, path, expires), sig):
        raise _invalid()
    if ctx.now >= expires:
        raise ApiError(
            403, "download_url_expired", "the download URL has expired; request a new one"
        )


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for one satisfiable range; None to serve everything.

    Raises 416 when the range cannot be satisfied.
    """
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _RANGE.fullmatch(spec)
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first_s, last_s = match.groups()
    if first_s == "":
        suffix = int(last_s)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(0, size - suffix), size - 1
    first = int(first_s)
    if last_s != "" and int(last_s) < first:
        return None  # syntactically invalid: ignored (RFC 9110 14.2)
    if first >= size:
        raise _unsatisfiable(size)
    last = size - 1 if last_s == "" else min(int(last_s), size - 1)
    return first, last


def _unsatisfiable(size: int) -> ApiError:
    return ApiError(
        416,
        "range_not_satisfiable",
        f"the requested range is outside the file ({size} bytes)",
        headers={"Content-Range": f"bytes */{size}"},
    )


async def _chunks(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as f:
        await f.seek(start)
        remaining = length
        while remaining > 0:
            chunk = await f.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def download(ctx: RequestContext) -> Reply:
    _verify(ctx)
    recording = recordings.find_recording(ctx.db, ctx.params["recordingId"])
    if (
        recording is None
        or recording["status"] != "completed"
        or recording["filename"] != ctx.params["filename"]
    ):
        raise ApiError(404, "recording_not_found", "the recording file does not exist")
    path = ctx.services.media.files.path(recording["filename"])
    try:
        size = path.stat().st_size
    except OSError:
        raise ApiError(404, "recording_not_found", "the recording file does not exist") from None
    etag = f'"{recording["id"]}-{size}"'
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Type": CONTENT_TYPES[recording["file_type"]],
        "Content-Disposition": f'attachment; filename="{recording["filename"]}"',
        "ETag": etag,
        "Cache-Control": "private, no-store",
    }
    status, first, last = 200, 0, size - 1
    range_header = ctx.headers.get("range")
    if_range = ctx.headers.get("if-range")
    if range_header is not None and (if_range is None or if_range == etag):
        chosen = parse_range(range_header, size)
        if chosen is not None:
            status, (first, last) = 206, chosen
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    length = max(0, last - first + 1)
    headers["Content-Length"] = str(length)
    if ctx.method == "HEAD":
        return Reply(status, response=Response(status_code=status, headers=headers))
    response = StreamingResponse(_chunks(path, first, length), status, headers)
    return Reply(status, response=response)
