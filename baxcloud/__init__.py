"""baxcloud: the Python server SDK for BaxCloud real-time video."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._client import AsyncBaxCloud
from ._core.errors import (
    APIConnectionError,
    APIResponseValidationError,
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
from ._core.options import RequestOptions, TimeoutTypes
from ._core.pagination import AsyncPage, AsyncPager
from ._core.response import APIResponse
from ._models import (
    Grants,
    Participant,
    ParticipantPermission,
    ParticipantState,
    ParticipantToken,
    Room,
    TokenClaims,
    Track,
    TrackKind,
    TrackSource,
)
from ._resources.participants import AsyncParticipants
from ._resources.rooms import AsyncRooms
from ._resources.tokens import AsyncTokens
from ._sync.client import (
    BaxCloud,
    SyncEgress,
    SyncIngress,
    SyncParticipants,
    SyncRecordings,
    SyncRooms,
    SyncTokens,
    SyncWebhooks,
)
from ._sync.page import SyncPage

if TYPE_CHECKING:
    from . import webhooks
    from ._aiohttp_transport import aiohttp_http_client
    from ._core.download import ProgressCallback
    from ._media_models import (
        AutoStreamConfig,
        DestinationStatus,
        DownloadUrl,
        Egress,
        EgressFile,
        EgressLayout,
        EgressMode,
        EgressQuality,
        EgressStatus,
        EgressStream,
        FileType,
        Ingress,
        IngressInputType,
        IngressStatus,
        Recording,
        RecordingStatus,
        StreamDestination,
    )
    from ._resources.egress import AsyncEgress
    from ._resources.ingress import AsyncIngress
    from ._resources.recordings import AsyncRecordings
    from ._resources.webhooks import AsyncWebhooks

    __version__: str

__all__ = [
    "APIConnectionError",
    "APIResponse",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncBaxCloud",
    "AsyncEgress",
    "AsyncIngress",
    "AsyncPage",
    "AsyncPager",
    "AsyncParticipants",
    "AsyncRecordings",
    "AsyncRooms",
    "AsyncTokens",
    "AsyncWebhooks",
    "AuthenticationError",
    "AutoStreamConfig",
    "BadRequestError",
    "BaxCloud",
    "BaxCloudError",
    "ConflictError",
    "DestinationStatus",
    "DownloadUrl",
    "Egress",
    "EgressFile",
    "EgressLayout",
    "EgressMode",
    "EgressQuality",
    "EgressStatus",
    "EgressStream",
    "ErrorDetail",
    "FileType",
    "Grants",
    "Ingress",
    "IngressInputType",
    "IngressStatus",
    "InternalServerError",
    "NotFoundError",
    "Participant",
    "ParticipantPermission",
    "ParticipantState",
    "ParticipantToken",
    "PermissionDeniedError",
    "ProgressCallback",
    "RateLimitError",
    "Recording",
    "RecordingStatus",
    "RequestOptions",
    "Room",
    "StreamDestination",
    "SyncEgress",
    "SyncIngress",
    "SyncPage",
    "SyncParticipants",
    "SyncRecordings",
    "SyncRooms",
    "SyncTokens",
    "SyncWebhooks",
    "TimeoutTypes",
    "TokenClaims",
    "TokenVerificationError",
    "Track",
    "TrackKind",
    "TrackSource",
    "UnprocessableEntityError",
    "WebhookVerificationError",
    "__version__",
    "aiohttp_http_client",
    "webhooks",
]


# Loaded on first use: importlib.metadata, the media models and the webhook
# event classes are not free to import, and many programs never need them.
_LAZY_MODULES = {
    "webhooks": ".webhooks",
    "aiohttp_http_client": "._aiohttp_transport",
    "ProgressCallback": "._core.download",
    "AsyncEgress": "._resources.egress",
    "AsyncIngress": "._resources.ingress",
    "AsyncRecordings": "._resources.recordings",
    "AsyncWebhooks": "._resources.webhooks",
    **dict.fromkeys(
        [
            "AutoStreamConfig",
            "DestinationStatus",
            "DownloadUrl",
            "Egress",
            "EgressFile",
            "EgressLayout",
            "EgressMode",
            "EgressQuality",
            "EgressStatus",
            "EgressStream",
            "FileType",
            "Ingress",
            "IngressInputType",
            "IngressStatus",
            "Recording",
            "RecordingStatus",
            "StreamDestination",
        ],
        "._media_models",
    ),
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from ._version import get_version

        return get_version()
    module_name = _LAZY_MODULES.get(name)
    if module_name is not None:
        import importlib

        module = importlib.import_module(module_name, __name__)
        value = module if name == "webhooks" else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'baxcloud' has no attribute {name!r}")
