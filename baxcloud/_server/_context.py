"""What a handler receives and returns: every handler is `(RequestContext) -> Reply`."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._clock import Clock
from ._config import Credentials
from ._faults import FaultInjector
from ._files import RecordingFiles
from ._webhooks import WebhookDelivery


@attrs.frozen(kw_only=True)
class MediaSettings:
    """Egress timing, recording file storage and the download-URL signing key."""

    egress_start_delay: float
    egress_stop_delay: float
    recording_bytes_per_second: int
    recording_max_bytes: int
    files: RecordingFiles
    download_key: bytes = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class Services:
    """What the server keeps across requests, for the handlers that need it."""

    clock: Clock
    credentials: Credentials
    media: MediaSettings
    webhooks: WebhookDelivery
    faults: FaultInjector
    # Back to the just-started state, inside the caller's transaction (`POST /_dev/reset`).
    reset_server: Callable[[sqlite3.Connection], None]


@attrs.frozen(kw_only=True)
class RequestContext:
    services: Services
    method: str
    params: Mapping[str, str]  # decoded path parameters
    query: Mapping[str, str]  # last value of each query parameter
    body: Any  # decoded JSON body, or None when empty
    db: sqlite3.Connection  # inside the request's transaction
    now: float  # clock reading taken once per request
    base_url: str = "http://localhost"  # scheme://host[:port] the request was sent to
    headers: Mapping[str, str] = attrs.field(factory=dict)  # request headers (lower-case)
    raw_path: bytes = b""  # the path exactly as sent (still percent-encoded)
    raw_query: bytes = b""  # the query string exactly as sent, without the "?"


@attrs.frozen
class Reply:
    """A 2xx answer: `body` is JSON-encoded, or no body at all when None (204).

    `response`, when set, is sent as is instead (file downloads).
    """

    status: int
    body: Any = None
    response: Any = None


Handler = Callable[[RequestContext], Reply]
