"""RTMP(S) stream URLs given to egress and auto-stream: their checks, and their redaction.

They carry stream keys, so check messages never echo a URL, and a URL only
ever leaves the database through `redact_url`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ._request_input import MAX_URL_CHARS, has_control_chars

MAX_STREAM_URLS = 5
STREAM_SCHEMES = ("rtmp", "rtmps")
REDACTED = "****"  # what every secret shown by the server reads as


def check_stream_url(value: str) -> str | None:
    if len(value) > MAX_URL_CHARS:
        return f"must be at most {MAX_URL_CHARS} characters"
    if has_control_chars(value) or any(ch.isspace() for ch in value):
        return "must not contain whitespace or control characters"
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return "must be a valid rtmp:// or rtmps:// URL"
    if parts.scheme.lower() not in STREAM_SCHEMES or not hostname:
        return "must be an rtmp:// or rtmps:// URL with a host"
    last = parts.path.rsplit("/", 1)[-1]
    if not last:
        return "must end with the stream key (a non-empty last path segment)"
    if last == REDACTED:
        return "is a redacted URL; send the full URL with its stream key"
    return None


def redact_url(url: str) -> str:
    """Replace the last path segment (the stream key), any password and query by `****`."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return REDACTED
    rest = rest.split("#", 1)[0]
    rest, qmark, _ = rest.partition("?")
    authority, slash, path = rest.partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    if at:
        user = userinfo.split(":", 1)[0]
        authority = f"{user}:{REDACTED}@{hostport}"
    if slash:
        head, _, _ = path.rpartition("/")
        path = f"{head}/{REDACTED}" if head else REDACTED
    return f"{scheme}://{authority}{slash}{path}" + (f"?{REDACTED}" if qmark else "")
