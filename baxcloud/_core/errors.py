"""The exception hierarchy (docs/configuration.md, "Errors").

APIStatusError carries the OpenAPI schema `Error` of a non-2xx answer.

Messages never carry secrets: the pipeline builds them from the server's error
body and the request's method and path, never from headers or request bodies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BaxCloudError",
    "ConflictError",
    "ErrorDetail",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "TokenVerificationError",
    "UnprocessableEntityError",
    "WebhookVerificationError",
]


class BaxCloudError(Exception):
    """Base class of every error this SDK raises on purpose.

    Errors pickle (for `multiprocessing` and `ProcessPoolExecutor`) without the
    HTTP response they came from: that response's request carries the API key.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        state = {k: (None if k in _NOT_PICKLED else v) for k, v in self.__dict__.items()}
        return (_restore, (type(self), self.args), state)


_NOT_PICKLED = frozenset({"response"})


def _restore(cls: type[BaxCloudError], args: tuple[Any, ...]) -> BaxCloudError:
    error = cls.__new__(cls)
    error.args = args
    return error


class APIConnectionError(BaxCloudError):
    """The request never got an HTTP response (DNS, refused, reset, TLS...)."""

    def __init__(self, message: str = "Connection error.") -> None:
        super().__init__(message)
        self.message = message


class APITimeoutError(APIConnectionError):
    """The request timed out (after any retries)."""

    def __init__(self, message: str = "Request timed out.") -> None:
        super().__init__(message)


@attrs.frozen(kw_only=True)
class ErrorDetail:
    """One field-level problem reported with a 422 `validation_failed` error."""

    field: str | None = None
    message: str = ""


class APIStatusError(BaxCloudError):
    """The API answered with a non-2xx status.

    `response` is the HTTP response (None once the error has been pickled).
    """

    response: httpx.Response | None

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        code: str,
        request_id: str | None,
        details: tuple[ErrorDetail, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.response = response
        self.status_code = response.status_code
        self.code = code
        self.request_id = request_id
        self.details = details

    def __str__(self) -> str:
        suffix = f" (request id {self.request_id})" if self.request_id else ""
        return f"{self.status_code} {self.code}: {self.message}{suffix}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class APIResponseValidationError(BaxCloudError):
    """A 2xx response whose body is not what the call expects, or is too large.

    `body_excerpt` is the start of the body with any secret redacted; `response`
    is the HTTP response (None once the error has been pickled).
    """

    response: httpx.Response | None

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request_id: str | None,
        body_excerpt: str = "",
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        self.body_excerpt = body_excerpt
        self.response = response

    def __str__(self) -> str:
        suffix = f", request id {self.request_id}" if self.request_id else ""
        excerpt = f": {self.body_excerpt!r}" if self.body_excerpt else ""
        return f"invalid response (HTTP {self.status_code}{suffix}): {self.message}{excerpt}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, message={self.message!r}, "
            f"request_id={self.request_id!r})"
        )


class BadRequestError(APIStatusError):
    """400: malformed request or unknown field."""


class AuthenticationError(APIStatusError):
    """401: missing or unknown API key."""


class PermissionDeniedError(APIStatusError):
    """403: the key or token may not do this."""


class NotFoundError(APIStatusError):
    """404: the resource (or path) does not exist."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's current state."""


class UnprocessableEntityError(APIStatusError):
    """422: the request is well-formed but invalid; see `details`."""


class RateLimitError(APIStatusError):
    """429: slow down; `retry_after` is the server's hint in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx: the server failed; the SDK already retried."""


class WebhookVerificationError(BaxCloudError):
    """A webhook payload failed verification."""


class TokenVerificationError(BaxCloudError):
    """A participant access token failed verification."""


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    if status_code >= 500:
        return InternalServerError
    return _STATUS_ERRORS.get(status_code, APIStatusError)


# Errors print as users import them (`baxcloud.ConflictError`), and pickle by that name.
for _error in (*(globals()[name] for name in __all__), *_STATUS_ERRORS.values()):
    _error.__module__ = "baxcloud"
