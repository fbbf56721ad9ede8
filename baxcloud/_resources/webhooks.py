from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._core.errors import WebhookVerificationError
from .._core.resource import AsyncResource

if TYPE_CHECKING:
    from ..webhooks import WebhookEvent

__all__ = ["AsyncWebhooks"]


class AsyncWebhooks(AsyncResource):
    """Webhook deliveries from BaxCloud, verified locally.

    The events are the OpenAPI document's `webhooks`; see docs/webhooks.md.
    """

    def verify(
        self,
        payload: bytes | str,
        headers: Mapping[str, str] | Any,
        *,
        secret: str | Sequence[str] | None = None,
        tolerance: int = 300,
        max_body_bytes: int = 1024 * 1024,
    ) -> WebhookEvent:
        """Verify a webhook delivery's Standard Webhooks signature and return its typed event.

        Runs locally, with no network call. Pass the raw request body exactly
        as received, before any JSON parsing, and the request headers.

        Args:
            payload: the raw body as `bytes` (or `str`, encoded as UTF-8).
            headers: the request headers: a dict or any framework's headers
                object; names in any case. `webhook-id`, `webhook-timestamp`
                and `webhook-signature` are read.
            secret: the endpoint's `whsec_...` secret, or a list of them while
                rotating (any may match); default the client's `webhook_secret`
                (the BAXCLOUD_WEBHOOK_SECRET environment variable).
            tolerance: seconds `webhook-timestamp` may differ from now, either
                way (default 300).
            max_body_bytes: larger bodies fail (default 1 MiB).

        Returns:
            The typed event (`ParticipantJoinedEvent`, `RecordingCompletedEvent`,
            ...), or `UnknownWebhookEvent` for an event name this SDK version
            does not know. Deduplicate on `event.id`: delivery is at least once.

        Raises:
            WebhookVerificationError: no secret configured, or the delivery is
                not authentic, is stale or from the future, too large, or not a
                well-formed event. The message never contains the secret or
                the signature.
        """
        if secret is None:
            secret = self._client.webhook_secret
            if not secret:
                raise WebhookVerificationError(
                    "no webhook secret: pass secret=, or create the client with "
                    "webhook_secret= or the BAXCLOUD_WEBHOOK_SECRET environment variable"
                )
        if type(tolerance) is not int or tolerance < 0:
            raise ValueError("tolerance must be a non-negative int (seconds)")
        if type(max_body_bytes) is not int or max_body_bytes < 1:
            raise ValueError("max_body_bytes must be a positive int")
        # Imported on first use: the event classes are not free to build.
        from ..webhooks._signing import load_keys, verify_with_keys

        return verify_with_keys(payload, headers, load_keys(secret), tolerance, max_body_bytes)
