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
from ._core.options import RequestOptions
from ._core.pagination import AsyncPage, AsyncPager
from ._models import (
    Grants,
    Participant,
    ParticipantPermission,
    ParticipantToken,
    Room,
    TokenClaims,
    Track,
)
from ._sync.client import BaxCloud
from ._sync.page import SyncPage

if TYPE_CHECKING:
    from . import webhooks
    from ._media_models import (
        AutoStreamConfig,
        DownloadUrl,
        Egress,
        EgressFile,
        EgressStream,
        Ingress,
        Recording,
        StreamDestination,
    )

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
    "APIResponseValidationError",
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
    "webhooks",
]


# Loaded on first use: importlib.metadata, the media models and the webhook
# event classes are not free to import, and many programs never need them.
_LAZY_MODULES = {
    "webhooks": ".webhooks",
    **dict.fromkeys(
        [
            "AutoStreamConfig",
            "DownloadUrl",
            "Egress",
            "EgressFile",
            "EgressStream",
            "Ingress",
            "Recording",
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
