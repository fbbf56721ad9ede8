"""Flask: a view decorator that verifies the request and passes the typed event.

```python
from flask import Flask
from baxcloud.webhooks import WebhookEvent
from baxcloud.webhooks.flask import webhook_view

app = Flask(__name__)

@app.post("/webhooks/baxcloud")
@webhook_view()  # secret from BAXCLOUD_WEBHOOK_SECRET, or webhook_view(secret=...)
def receive(event: WebhookEvent) -> tuple[str, int]:
    return "", 204
```

The event is the view's first argument (URL variables follow as keywords). A
delivery that fails verification is answered 400 with
`{"error": "webhook_verification_failed", "message": ...}`; a body over
`max_body_bytes` (or the app's `MAX_CONTENT_LENGTH`, if smaller), declared or
counted while reading a chunked one, is answered 413 with
`"error": "webhook_payload_too_large"` without reading the rest; a receiver
without a valid secret answers 500. Sync views only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Concatenate, ParamSpec, TypeVar

from flask import Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from .._core.errors import WebhookVerificationError
from .._core.log import logger
from ._body import WebhookPayloadTooLargeError, file_chunks
from ._events import WebhookEvent
from ._signing import (
    CONFIG_ERROR_BODY,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_TOLERANCE,
    Receiver,
    error_body,
    error_status,
)

__all__ = ["webhook_view"]

P = ParamSpec("P")
R = TypeVar("R")


def _read(receiver: Receiver) -> bytes:
    try:
        # Werkzeug's stream ends at Content-Length, or at the end of a chunked body
        # when the server de-chunks it (it is empty when neither is known).
        body = receiver.read_body(request.content_length, file_chunks(request.stream))
    except RequestEntityTooLarge:  # the app's MAX_CONTENT_LENGTH, enforced by Werkzeug
        raise WebhookPayloadTooLargeError(request.max_content_length or 0) from None
    request._cached_data = body  # where get_data(cache=True) keeps it
    return body


def webhook_view(
    secret: str | Sequence[str] | None = None,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> Callable[[Callable[Concatenate[WebhookEvent, P], R]], Callable[P, R | Response]]:
    """Decorate `def view(event, **url_values)`; verifies the raw body first.

    The secret is the argument (checked now) or BAXCLOUD_WEBHOOK_SECRET (read at
    each request). The body is read in chunks from `request.stream` and then
    cached like `request.get_data(cache=True)` does, so the view may still read it.
    """
    receiver = Receiver(secret, tolerance, max_body_bytes)

    def decorate(view: Callable[Concatenate[WebhookEvent, P], R]) -> Callable[P, R | Response]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            try:
                keys = receiver.keys()
            except WebhookVerificationError as exc:
                logger.error("webhook receiver misconfigured: %s", exc)
                response = jsonify(CONFIG_ERROR_BODY)
                response.status_code = 500
                return response
            try:
                body = _read(receiver)
                event = receiver.verify(body, request.headers, keys)
            except WebhookVerificationError as exc:
                logger.info("webhook rejected: %s", exc)
                response = jsonify(error_body(exc))
                response.status_code = error_status(exc)
                return response
            return view(event, *args, **kwargs)

        return wrapper

    return decorate
