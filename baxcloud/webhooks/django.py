"""Django: a view decorator that verifies the request and passes the typed event.

```python
from django.http import HttpRequest, HttpResponse
from baxcloud.webhooks import WebhookEvent
from baxcloud.webhooks.django import webhook_view

@webhook_view()  # secret from BAXCLOUD_WEBHOOK_SECRET, or webhook_view(secret=...)
def receive(request: HttpRequest, event: WebhookEvent) -> HttpResponse:
    return HttpResponse(status=204)
```

The view is exempt from CSRF checks (the signature is the authentication) and
gets the event after the request; `async def` views work too. A delivery that
fails verification is answered 400 with
`{"error": "webhook_verification_failed", "message": ...}`; a body over
`max_body_bytes` (or `DATA_UPLOAD_MAX_MEMORY_SIZE`, if smaller), declared or
counted while reading a chunked one, is answered 413 with
`"error": "webhook_payload_too_large"` without reading the rest; a receiver
without a valid secret answers 500. Under ASGI, Django itself spools the whole
body to a temporary file (on disk past `FILE_UPLOAD_MAX_MEMORY_SIZE`) before any
view runs.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from io import BytesIO
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .._core.errors import WebhookVerificationError
from .._core.log import logger
from ._body import file_chunks
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

View = Callable[..., Any]


def _check(receiver: Receiver, request: HttpRequest) -> WebhookEvent | HttpResponse:
    """The event, or the response to answer with instead."""
    try:
        keys = receiver.keys()
    except WebhookVerificationError as exc:
        logger.error("webhook receiver misconfigured: %s", exc)
        return JsonResponse(CONFIG_ERROR_BODY, status=500)
    try:
        body = _read(receiver, request)
        return receiver.verify(body, request.headers, keys)
    except WebhookVerificationError as exc:
        logger.info("webhook rejected: %s", exc)
        return JsonResponse(error_body(exc), status=error_status(exc))


def _read(receiver: Receiver, request: HttpRequest) -> bytes:
    meta = request.META
    length = meta.get("CONTENT_LENGTH") or None
    stream: Any = request
    if length is None and meta.get("wsgi.input_terminated"):
        # Django's WSGI request reads nothing without a Content-Length; a server
        # that de-chunks the body (wsgi.input_terminated) ends its own input.
        stream = meta["wsgi.input"]
    body = receiver.read_body(length, file_chunks(stream), settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    # Where the `body` property keeps it, so the view may still read it.
    request._body = body
    request._stream = BytesIO(body)
    return body


def webhook_view(
    secret: str | Sequence[str] | None = None,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> Callable[[View], View]:
    """Decorate `view(request, event, *args, **kwargs)` (sync or async); CSRF-exempt.

    The secret is the argument (checked now) or BAXCLOUD_WEBHOOK_SECRET (read at
    each request).
    """
    receiver = Receiver(secret, tolerance, max_body_bytes)

    def decorate(view: View) -> View:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                checked = _check(receiver, request)
                if isinstance(checked, HttpResponse):
                    return checked
                return await view(request, checked, *args, **kwargs)

            return csrf_exempt(async_wrapper)  # type: ignore[no-any-return]

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            checked = _check(receiver, request)
            if isinstance(checked, HttpResponse):
                return checked
            return view(request, checked, *args, **kwargs)

        return csrf_exempt(wrapper)  # type: ignore[no-any-return]

    return decorate
