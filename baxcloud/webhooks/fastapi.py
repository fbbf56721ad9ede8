"""FastAPI / Starlette: a dependency that verifies the request and yields the typed event.

```python
from fastapi import FastAPI
from baxcloud.webhooks import ParticipantJoinedEvent
from baxcloud.webhooks.fastapi import VerifiedWebhook

app = FastAPI()

@app.post("/webhooks/baxcloud")
async def receive(event: VerifiedWebhook) -> None:
    if isinstance(event, ParticipantJoinedEvent):
        ...
```

`VerifiedWebhook` reads the secret from BAXCLOUD_WEBHOOK_SECRET; use
`Depends(verified_webhook(secret=...))` to pass one (or a rotation list). A
delivery that fails verification is answered 400 with
`{"detail": {"error": "webhook_verification_failed", "message": ...}}`; a body
over `max_body_bytes` (declared, or counted while streaming a chunked one) is
answered 413 with `"error": "webhook_payload_too_large"` and `Connection: close`
without reading the rest; a receiver without a valid secret answers 500. Plain
Starlette code can call `await WebhookDependency(...)(request)` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import aclosing
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from .._core.errors import WebhookVerificationError
from .._core.log import logger
from ._events import WebhookEvent
from ._signing import (
    CONFIG_ERROR_BODY,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_TOLERANCE,
    Receiver,
    error_body,
    error_status,
)

__all__ = ["VerifiedWebhook", "WebhookDependency", "verified_webhook"]


class WebhookDependency:
    """A FastAPI dependency (an awaitable callable taking the `Request`)."""

    def __init__(
        self,
        secret: str | Sequence[str] | None = None,
        *,
        tolerance: int = DEFAULT_TOLERANCE,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self._receiver = Receiver(secret, tolerance, max_body_bytes)

    def __repr__(self) -> str:
        return f"WebhookDependency({self._receiver!r})"

    async def __call__(self, request: Request) -> WebhookEvent:
        receiver = self._receiver
        try:
            keys = receiver.keys()
        except WebhookVerificationError as exc:
            logger.error("webhook receiver misconfigured: %s", exc)
            raise HTTPException(status_code=500, detail=CONFIG_ERROR_BODY) from None
        try:
            async with aclosing(request.stream()) as chunks:
                body = await receiver.aread_body(request.headers.get("content-length"), chunks)
            request._body = body  # where Request.body() keeps it: the handler may read it too
            return receiver.verify(body, request.headers, keys)
        except WebhookVerificationError as exc:
            logger.info("webhook rejected: %s", exc)
            status = error_status(exc)
            # After a 413 the rest of the body is unread: the connection cannot be reused.
            headers = {"connection": "close"} if status == 413 else None
            raise HTTPException(status, detail=error_body(exc), headers=headers) from None


def verified_webhook(
    secret: str | Sequence[str] | None = None,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> WebhookDependency:
    """A dependency for `Depends(...)`: secret from the argument or BAXCLOUD_WEBHOOK_SECRET.

    An explicit secret is checked now, so a malformed one fails at start-up.
    """
    return WebhookDependency(secret, tolerance=tolerance, max_body_bytes=max_body_bytes)


VerifiedWebhook = Annotated[WebhookEvent, Depends(WebhookDependency())]
"""A handler parameter annotation: `async def receive(event: VerifiedWebhook)`."""
