"""Checks for RTMP(S) stream URLs given to egress and auto-stream (they carry secrets).

Messages never echo the URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ._validation import has_control_chars

MAX_URL_CHARS = 2048
MAX_STREAM_URLS = 5
STREAM_SCHEMES = ("rtmp", "rtmps")
REDACTED_SEGMENT = "****"


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
    if last == REDACTED_SEGMENT:
        return "is a redacted URL; send the full URL with its stream key"
    return None
