"""aiohttp: verify a request, or decorate a handler that receives the typed event.

```python
from aiohttp import web
from baxcloud.webhooks import WebhookEvent
from baxcloud.webhooks.aiohttp import webhook_handler

@webhook_handler()  # secret from BAXCLOUD_WEBHOOK_SECRET, or webhook_handler(secret=...)
async def receive(request: web.Request, event: WebhookEvent) -> web.StreamResponse:
    return web.Response(status=204)

app = web.Application()
app.router.add_post("/webhooks/baxcloud", receive)
```

A delivery that fails verification is answered 400 with
`{"error": "webhook_verification_failed", "message": ...}`; a body over
`max_body_bytes` (or the app's `client_max_size`, if smaller), declared or counted
while streaming a chunked one, is answered 413 with
`"error": "webhook_payload_too_large"` without reading the rest into memory (the
connection is then closed; aiohttp discards what is still in flight for up to its
`lingering_time`); a receiver without a valid secret answers 500.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from .._core.errors import WebhookVerificationError
from .._core.log import logger
from ._body import CHUNK_SIZE
from ._events import WebhookEvent
from ._signing import (
    CONFIG_ERROR_BODY,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_TOLERANCE,
    Receiver,
    error_body,
    error_status,
)

__all__ = ["verify_request", "webhook_handler"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
EventHandler = Callable[[web.Request, WebhookEvent], Awaitable[web.StreamResponse]]


async def _verify(
    receiver: Receiver, request: web.Request, keys: tuple[bytes, ...]
) -> WebhookEvent:
    body = await receiver.aread_body(
        request.content_length,
        request.content.iter_chunked(CHUNK_SIZE),
        request.client_max_size or None,  # 0: the app set no limit
    )
    request._read_bytes = body  # where Request.read() keeps it: the handler may read it too
    return receiver.verify(body, request.headers, keys)


async def verify_request(
    request: web.Request,
    secret: str | Sequence[str] | None = None,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> WebhookEvent:
    """Read the raw body of `request`, verify it and return the typed event.

    The body is read in chunks and refused as soon as it passes
    `max_body_bytes` (or the app's `client_max_size`, if smaller).

    Raises:
        WebhookPayloadTooLargeError: the body is over the cap (answer 413); a
            subclass of WebhookVerificationError.
        WebhookVerificationError: no secret (argument or BAXCLOUD_WEBHOOK_SECRET),
            or the delivery fails verification.
    """
    receiver = Receiver(secret, tolerance, max_body_bytes)
    return await _verify(receiver, request, receiver.keys())


def webhook_handler(
    secret: str | Sequence[str] | None = None,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> Callable[[EventHandler], Handler]:
    """Decorate `async def handler(request, event)` into an aiohttp handler.

    The secret is the argument (checked now) or BAXCLOUD_WEBHOOK_SECRET (read at
    each request).
    """
    receiver = Receiver(secret, tolerance, max_body_bytes)

    def decorate(handler: EventHandler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            try:
                keys = receiver.keys()
            except WebhookVerificationError as exc:
                logger.error("webhook receiver misconfigured: %s", exc)
                return web.json_response(CONFIG_ERROR_BODY, status=500)
            try:
                event = await _verify(receiver, request, keys)
            except WebhookVerificationError as exc:
                logger.info("webhook rejected: %s", exc)
                response = web.json_response(error_body(exc), status=error_status(exc))
                if response.status == 413:
                    response.force_close()  # the rest of the body is unread
                return response
            return await handler(request, event)

        return wrapper

    return decorate
