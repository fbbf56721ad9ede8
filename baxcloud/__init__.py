"""baxcloud: the Python server SDK for BaxCloud real-time video."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._client import AsyncBaxCloud
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BaxCloudError,
    ConflictError,
    ErrorDetail,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TokenVerificationError,
    UnprocessableEntityError,
    WebhookVerificationError,
)
from ._models import (
    AutoStreamConfig,
    DownloadUrl,
    Egress,
    EgressFile,
    EgressStream,
    Grants,
    Ingress,
    Participant,
    ParticipantPermission,
    ParticipantToken,
    Recording,
    Room,
    StreamDestination,
    TokenClaims,
    Track,
)
from ._options import RequestOptions
from ._pagination import AsyncPage, AsyncPager, SyncPage
from ._sync_client import BaxCloud

if TYPE_CHECKING:
    __version__: str

__all__ = [
    "StreamDestination",
    "Recording",
    "Ingress",
    "EgressStream",
    "EgressFile",
    "Egress",
    "DownloadUrl",
    "AutoStreamConfig",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncBaxCloud",
    "AsyncPage",
    "AsyncPager",
    "AuthenticationError",
    "BadRequestError",
    "BaxCloud",
    "BaxCloudError",
    "ConflictError",
    "ErrorDetail",
    "Grants",
    "InternalServerError",
    "NotFoundError",
    "Participant",
    "ParticipantPermission",
    "ParticipantToken",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestOptions",
    "Room",
    "SyncPage",
    "TokenClaims",
    "TokenVerificationError",
    "Track",
    "UnprocessableEntityError",
    "WebhookVerificationError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # Read lazily: importlib.metadata is not free, and most programs never ask.
    if name == "__version__":
        from ._version import get_version

        return get_version()
    raise AttributeError(f"module 'baxcloud' has no attribute {name!r}")
