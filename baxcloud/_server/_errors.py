"""API errors and their JSON bodies (openapi.json's `Error`)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs


@attrs.frozen
class Detail:
    """One field-level problem, as sent in `error.details`."""

    field: str
    message: str


class ApiError(Exception):
    """Raised by any layer to answer with an `Error` body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Sequence[Detail] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = tuple(details) if details is not None else None
        self.headers = headers or {}

    def body(self, request_id: str) -> dict[str, object]:
        error: dict[str, object] = {
            "code": self.code,
            "message": self.message,
            "requestId": request_id,
        }
        if self.details is not None:
            error["details"] = [{"field": d.field, "message": d.message} for d in self.details]
        return {"error": error}


def invalid_request(message: str, details: Sequence[Detail] | None = None) -> ApiError:
    return ApiError(400, "invalid_request", message, details=details)


def validation_failed(details: Sequence[Detail]) -> ApiError:
    first = details[0]
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return ApiError(
        422, "validation_failed", f"{first.field}: {first.message}{more}", details=details
    )


def room_not_found(name: str) -> ApiError:
    return ApiError(404, "room_not_found", f"room {name!r} does not exist")


def participant_not_found(room: str, identity: str) -> ApiError:
    return ApiError(
        404, "participant_not_found", f"participant {identity!r} is not in room {room!r}"
    )
