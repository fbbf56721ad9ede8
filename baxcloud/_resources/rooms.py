from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._core.arguments import (
    camel_fields,
    check_bool,
    check_int,
    check_str,
    metadata_text,
    optional_metadata,
    path,
    segment,
)
from .._core.options import RequestOptions
from .._core.pagination import AsyncPager
from .._core.resource import AsyncResource
from .._models import Room

if TYPE_CHECKING:
    from typing import Unpack

__all__ = ["AsyncRooms"]


class AsyncRooms(AsyncResource):
    """Rooms: create, inspect, update and delete.

    The OpenAPI operations `createRoom`, `getRoom`, `listRooms`, `updateRoom` and
    `deleteRoom`.
    """

    async def create(
        self,
        *,
        name: str,
        max_participants: int | None = None,
        empty_timeout: int | None = None,
        metadata: str | Mapping[str, Any] | None = None,
        enable_recording: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> Room:
        """Create a room.

        Args:
            name: unique room name, 1-256 characters.
            max_participants: 0 (the default) means unlimited.
            empty_timeout: seconds the room may stay empty before it closes (default 300).
            metadata: a string, or a mapping sent as its JSON text.
            enable_recording: start a cloud recording when the first participant joins.

        Raises:
            ConflictError: `room_already_exists`.
        """
        check_str(name, "name")
        return await self._client._request(
            "POST",
            "/v1/rooms",
            cast_to=Room,
            body=camel_fields(
                name=name,
                max_participants=_optional_int(max_participants, "max_participants"),
                empty_timeout=_optional_int(empty_timeout, "empty_timeout"),
                metadata=optional_metadata(metadata),
                enable_recording=(
                    None
                    if enable_recording is None
                    else check_bool(enable_recording, "enable_recording")
                ),
            ),
            options=options,
        )

    async def get(self, name: str, **options: Unpack[RequestOptions]) -> Room:
        """Get a room by name.

        Raises:
            NotFoundError: `room_not_found`.
        """
        return await self._client._request(
            "GET", path("v1", "rooms", segment(name, "name")), cast_to=Room, options=options
        )

    def list(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[Room]:
        """List rooms, oldest first.

        Returns:
            The first page, when awaited; `async for` over it walks every `Room`
            of every page.
        """
        return self._paginate("/v1/rooms", Room, page=page, limit=limit, options=options)

    async def delete(self, name: str, **options: Unpack[RequestOptions]) -> None:
        """Delete a room; its participants are disconnected and its egress stops.

        Raises:
            NotFoundError: `room_not_found`.
        """
        await self._client._request(
            "DELETE",
            path("v1", "rooms", segment(name, "name")),
            cast_to=type(None),
            options=options,
        )

    async def update_metadata(
        self,
        name: str,
        metadata: str | Mapping[str, Any],
        **options: Unpack[RequestOptions],
    ) -> Room:
        """Replace a room's metadata (a string, or a mapping sent as JSON text)."""
        return await self._client._request(
            "PATCH",
            path("v1", "rooms", segment(name, "name")),
            cast_to=Room,
            body=camel_fields(metadata=metadata_text(metadata)),
            options=options,
        )


def _optional_int(value: int | None, name: str) -> int | None:
    return None if value is None else check_int(value, name, minimum=0)
