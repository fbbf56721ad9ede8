from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._core.arguments import camel_fields, metadata_text, path, segment
from .._core.options import RequestOptions
from .._core.pagination import AsyncPager
from .._core.resource import AsyncResource
from .._models import Participant

if TYPE_CHECKING:
    from typing import Unpack

__all__ = ["AsyncParticipants"]


def _participant_path(room_name: str, identity: str) -> str:
    return path(
        "v1",
        "rooms",
        segment(room_name, "room_name"),
        "participants",
        segment(identity, "identity"),
    )


class AsyncParticipants(AsyncResource):
    """Participants of a room.

    The OpenAPI operations `listParticipants`, `getParticipant`, `updateParticipant` and
    `removeParticipant`.
    """

    def list(
        self,
        room_name: str,
        *,
        page: int | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[Participant]:
        """List a room's participants, in order of joining.

        Returns:
            The first page, when awaited; `async for` over it walks every `Participant`
            of every page.

        Raises:
            NotFoundError: `room_not_found`.
        """
        return self._paginate(
            path("v1", "rooms", segment(room_name, "room_name"), "participants"),
            Participant,
            page=page,
            limit=limit,
            options=options,
        )

    async def get(
        self, room_name: str, identity: str, **options: Unpack[RequestOptions]
    ) -> Participant:
        """Get one participant by identity.

        Raises:
            NotFoundError: `room_not_found` or `participant_not_found`.
        """
        return await self._client._request(
            "GET", _participant_path(room_name, identity), cast_to=Participant, options=options
        )

    async def remove(
        self, room_name: str, identity: str, **options: Unpack[RequestOptions]
    ) -> None:
        """Disconnect a participant from a room.

        Raises:
            NotFoundError: `room_not_found` or `participant_not_found`.
        """
        await self._client._request(
            "DELETE", _participant_path(room_name, identity), cast_to=type(None), options=options
        )

    async def update_metadata(
        self,
        room_name: str,
        identity: str,
        metadata: str | Mapping[str, Any],
        **options: Unpack[RequestOptions],
    ) -> Participant:
        """Replace a participant's metadata (a string, or a mapping sent as JSON text)."""
        return await self._client._request(
            "PATCH",
            _participant_path(room_name, identity),
            cast_to=Participant,
            body=camel_fields(metadata=metadata_text(metadata)),
            options=options,
        )
