from __future__ import annotations

from typing import TYPE_CHECKING, get_args

from .._core.arguments import (
    camel_fields,
    check_bool,
    check_str,
    choice,
    optional_str,
    path,
    resource_id,
    segment,
)
from .._core.options import RequestOptions
from .._core.pagination import AsyncPager
from .._core.resource import AsyncResource
from .._media_models import Ingress, IngressInputType

if TYPE_CHECKING:
    from typing import Unpack

__all__ = ["AsyncIngress"]


def _ingress_path(ingress_id: str, call: str) -> str:
    checked = resource_id(ingress_id, "ingress_id", "IN_", f"ingress.{call}")
    return path("v1", "ingress", segment(checked, "ingress_id"))


def _optional_bool(value: bool | None, name: str) -> bool | None:
    return None if value is None else check_bool(value, name)


class AsyncIngress(AsyncResource):
    """Stream in: RTMP (OBS) and WHIP endpoints that publish into a room.

    The OpenAPI operations `createIngress`, `getIngress`, `listIngress` and `deleteIngress`.
    """

    async def create(
        self,
        *,
        input_type: IngressInputType,
        room_name: str,
        participant_identity: str,
        participant_name: str | None = None,
        enable_transcoding: bool | None = None,
        bypass_transcoding: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> Ingress:
        """Create an ingress endpoint.

        Args:
            input_type: "RTMP_INPUT" (an `rtmps_url` and `stream_key` for OBS) or
                "WHIP_INPUT" (a `whip_url` and bearer `token`).
            room_name: the room the stream is published into.
            participant_identity: identity of the participant that carries the stream.
            participant_name: its display name.
            enable_transcoding: transcode the input into simulcast layers.
            bypass_transcoding: WHIP only, and not together with `enable_transcoding`.

        Raises:
            UnprocessableEntityError: an invalid combination (see `details`).
        """
        return await self._client._request(
            "POST",
            "/v1/ingress",
            cast_to=Ingress,
            body=camel_fields(
                input_type=choice(input_type, "input_type", get_args(IngressInputType)),
                room_name=check_str(room_name, "room_name"),
                participant_identity=check_str(participant_identity, "participant_identity"),
                participant_name=optional_str(participant_name, "participant_name"),
                enable_transcoding=_optional_bool(enable_transcoding, "enable_transcoding"),
                bypass_transcoding=_optional_bool(bypass_transcoding, "bypass_transcoding"),
            ),
            options=options,
        )

    def list(
        self,
        *,
        room_name: str | None = None,
        page: int | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[Ingress]:
        """List ingress endpoints, oldest first, optionally for one room.

        Returns:
            The first page, when awaited; `async for` over it walks every `Ingress`
            of every page.
        """
        return self._paginate(
            "/v1/ingress",
            Ingress,
            page=page,
            limit=limit,
            params=camel_fields(room_name=optional_str(room_name, "room_name")),
            options=options,
        )

    async def get(self, ingress_id: str, **options: Unpack[RequestOptions]) -> Ingress:
        """Get an ingress endpoint and its status.

        Raises:
            NotFoundError: `ingress_not_found`.
        """
        return await self._client._request(
            "GET", _ingress_path(ingress_id, "get"), cast_to=Ingress, options=options
        )

    async def delete(self, ingress_id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete an ingress endpoint; a live stream on it ends first.

        Raises:
            NotFoundError: `ingress_not_found`.
        """
        await self._client._request(
            "DELETE", _ingress_path(ingress_id, "delete"), cast_to=type(None), options=options
        )
