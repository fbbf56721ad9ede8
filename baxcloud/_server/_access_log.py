"""What `baxcloud dev` prints as it serves: one line per request and per webhook attempt.

Off unless asked for (`serve(..., log=print)`): `AccessLog` wraps the ASGI app and
`webhook_attempt_line` is hooked into the delivery worker, so a server that does not
log (`LocalServer`) runs none of this. No line carries a secret: query values are
shown only for parameters known to be harmless (a download URL's `sig` is not),
anything shaped like a key, a token or a stream key in a path is masked, and a
webhook endpoint's password and query are hidden.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from .._core.log import redact
from ._stream_urls import REDACTED
from ._webhooks import AttemptReport

if TYPE_CHECKING:
    from ._app import LocalBaxCloudApp

Write = Callable[[str], None]
ASGIApp = Callable[[Any, Any, Any], Any]

# The query parameters of openapi.json whose values are not secrets.
SHOWN_QUERY = frozenset(
    {"roomName", "eventId", "page", "expiresIn", "expires", "event", "limit", "status"}
)


_second: list[Any] = [None, ""]  # the last whole second formatted, and its text


def timestamp() -> str:
    """Now as the CLI's tables show times (ISO 8601 in UTC, `Z`), to the millisecond."""
    now = time.time()
    second = int(now)
    if second != _second[0]:  # formatting costs more than a request's other log work
        _second[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))]
    return f"{_second[1]}.{int((now - second) * 1000):03d}Z"


def _printable(text: str) -> str:
    """`text` with anything that could move a terminal's cursor escaped."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def shown_target(raw_path: bytes, raw_query: bytes) -> str:
    """The request target as logged: path with secrets masked, query values allow-listed."""
    path = raw_path.decode("latin-1")
    if "%" in path:
        path = unquote(path)
    path = redact(path)
    if raw_query:
        pairs = parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True)
        shown = (
            f"{name}={redact(value) if name in SHOWN_QUERY else REDACTED}" for name, value in pairs
        )
        path += "?" + "&".join(shown)
    return _printable(path)


def shown_url(url: str) -> str:
    """A webhook endpoint URL without its password or query (they may hold credentials)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return _printable(redact(url))
    rest, qmark, _ = rest.split("#", 1)[0].partition("?")
    authority, slash, path = rest.partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    if at:
        authority = f"{userinfo.split(':', 1)[0]}:{REDACTED}@{hostport}"
    query = f"?{REDACTED}" if qmark else ""
    return _printable(redact(f"{scheme}://{authority}{slash}{path}{query}"))


def request_line(
    method: str, target: str, status: int | None, duration_ms: float, request_id: str
) -> str:
    answer = "dropped" if status is None else str(status)
    return f"{timestamp()} {method} {target} {answer} {duration_ms:.1f} ms {request_id}".rstrip()


def webhook_attempt_line(report: AttemptReport) -> str:
    if report.error is None:
        result = f"{report.status} delivered"
    else:
        result = report.error
        if report.outcome == "retrying" and report.retry_in is not None:
            result += f", will retry in {report.retry_in:g} s"
        elif report.outcome == "disabled":
            result += ", endpoint disabled"
        else:
            result += ", given up"
    return (
        f"{timestamp()} webhook {report.event} -> {shown_url(report.url)} "
        f"attempt {report.attempt}: {result} ({report.latency_ms:.1f} ms)"
    )


class AccessLog:
    """ASGI middleware: after each HTTP request, `write` one line about it."""

    def __init__(self, app: ASGIApp, write: Write) -> None:
        self._app = app
        self._write = write

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None
        request_id = ""

        async def observe(message: Any) -> None:
            nonlocal status, request_id
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    if name.lower() == b"x-request-id":
                        request_id = value.decode("latin-1")
            await send(message)

        try:
            await self._app(scope, receive, observe)
        finally:
            if not request_id:  # a dropped connection (fault injection) sent no answer
                status = None
            raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
            target = shown_target(raw_path.split(b"?", 1)[0], scope.get("query_string", b""))
            elapsed = (time.perf_counter() - started) * 1000
            self._write(request_line(scope["method"], target, status, elapsed, request_id))


def enable(app: LocalBaxCloudApp, write: Write) -> AccessLog:
    """Log `app`'s requests and webhook attempts through `write`; serve what it returns."""
    app.webhooks.on_attempt = lambda report: write(webhook_attempt_line(report))
    return AccessLog(app, write)
