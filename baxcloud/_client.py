"""`AsyncBaxCloud`: the async client and its resource namespaces."""

from __future__ import annotations

from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING

from ._core.options import NOT_GIVEN, TimeoutTypes
from ._core.pipeline import AsyncAPIClient
from ._resources.participants import AsyncParticipants
from ._resources.rooms import AsyncRooms
from ._resources.tokens import AsyncTokens

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Self

    from ._raw import AsyncBaxCloudWithRawResponse
    from ._resources.egress import AsyncEgress
    from ._resources.ingress import AsyncIngress
    from ._resources.recordings import AsyncRecordings
    from ._resources.webhooks import AsyncWebhooks

__all__ = ["AsyncBaxCloud"]


class AsyncBaxCloud(AsyncAPIClient):
    """The async BaxCloud client.

    Args:
        api_key: `bax_sk_...`; default: the BAXCLOUD_API_KEY environment variable.
        base_url: default: BAXCLOUD_BASE_URL, else https://api.baxcloud.io.
        timeout: seconds for each attempt as a whole (connect, send, headers and the
            complete body); default 30. None or `math.inf`: no limit. An `httpx.Timeout`
            sets per-phase limits, and the largest of them bounds the attempt.
        max_retries: retries of failed attempts that are safe to retry; default 2.
        max_response_bytes: the largest decoded response body accepted; past it a
            call fails with `APIResponseValidationError`; default 16 MiB.
        webhook_secret: `whsec_...` for `webhooks.verify`; default: BAXCLOUD_WEBHOOK_SECRET.
        default_headers: headers sent with every request.
        http_client: your own HTTP client, used instead of the SDK's (its proxies,
            certificates, auth, event hooks, mounts and transport apply): an
            `httpx.AsyncClient` or `httpx2.AsyncClient`; the blocking `BaxCloud` also
            takes an `httpx.Client` or `httpx2.Client`. The SDK never closes a client
            it did not create (docs/http-clients.md).
        proxy: a proxy URL (`http://user:pass@host:port`) or an `httpx.Proxy` for
            every request, instead of the HTTP(S)_PROXY environment variables; not
            with `http_client` (configure your client's proxy instead).
    """

    @cached_property
    def rooms(self) -> AsyncRooms:
        return AsyncRooms(self)

    @cached_property
    def participants(self) -> AsyncParticipants:
        return AsyncParticipants(self)

    @cached_property
    def tokens(self) -> AsyncTokens:
        return AsyncTokens(self)

    @cached_property
    def recordings(self) -> AsyncRecordings:
        from ._resources.recordings import AsyncRecordings  # imported on first use (import time)

        return AsyncRecordings(self)

    @cached_property
    def egress(self) -> AsyncEgress:
        from ._resources.egress import AsyncEgress  # imported on first use (import time)

        return AsyncEgress(self)

    @cached_property
    def ingress(self) -> AsyncIngress:
        from ._resources.ingress import AsyncIngress  # imported on first use (import time)

        return AsyncIngress(self)

    @cached_property
    def webhooks(self) -> AsyncWebhooks:
        from ._resources.webhooks import AsyncWebhooks  # imported on first use (import time)

        return AsyncWebhooks(self)

    @cached_property
    def with_raw_response(self) -> AsyncBaxCloudWithRawResponse:
        """The same calls, each returning its `APIResponse` (docs/raw-responses.md)."""
        from ._raw import AsyncBaxCloudWithRawResponse  # imported on first use (import time)

        return AsyncBaxCloudWithRawResponse(self)

    def with_options(
        self,
        *,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        max_response_bytes: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        base_url: str | None = None,
    ) -> Self:
        """A copy with some settings changed, sharing this client's connection pool.

        Settings left out keep this client's values; `timeout=None` means no limit.
        """
        return self._copy(  # type: ignore[no-any-return]
            timeout=timeout,
            max_retries=max_retries,
            max_response_bytes=max_response_bytes,
            default_headers=default_headers,
            base_url=base_url,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
