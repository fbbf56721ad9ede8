from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, get_args

from .._core.arguments import (
    camel_fields,
    check_bool,
    check_int,
    check_str,
    choice,
    model_argument,
    optional_choice,
    optional_str,
    path,
    resource_id,
    segment,
)
from .._core.converter import unstructure
from .._core.options import RequestOptions
from .._core.pagination import AsyncPager
from .._core.resource import AsyncResource
from .._media_models import (
    AutoStreamConfig,
    Egress,
    EgressFile,
    EgressLayout,
    EgressMode,
    EgressQuality,
    EgressStatus,
    EgressStream,
    FileType,
)

if TYPE_CHECKING:
    from typing import Unpack

__all__ = ["AsyncEgress"]


def _egress_path(egress_id: str, call: str, *rest: str) -> str:
    checked = resource_id(egress_id, "egress_id", "EG_", f"egress.{call}")
    return path("v1", "egress", segment(checked, "egress_id"), *rest)


class AsyncEgress(AsyncResource):
    """Stream out: record rooms and/or stream them to RTMP destinations.

    The OpenAPI operations `startEgress`, `stopEgress`, `getEgress`, `listEgress`,
    `deleteEgress`, `getAutoStreamConfig` and `updateAutoStreamConfig`.
    """

    async def start(
        self,
        *,
        room_name: str,
        mode: EgressMode,
        layout: EgressLayout | None = None,
        quality: EgressQuality | None = None,
        file: EgressFile | Mapping[str, Any] | None = None,
        stream: EgressStream | Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Egress:
        """Start recording and/or streaming a room.

        Args:
            room_name: the room to capture.
            mode: "record", "stream" or "both".
            layout: "speaker" (default), "grid" or "single-speaker".
            quality: "480p", "720p" (default) or "1080p".
            file: required for "record" and "both": `EgressFile` or `{"file_type": "MP4"}`.
            stream: required for "stream" and "both": `EgressStream` or
                `{"urls": ["rtmp://..."]}` with 1-5 RTMP(S) URLs including their stream keys.

        Raises:
            NotFoundError: `room_not_found`.
            UnprocessableEntityError: invalid combination or URLs (see `details`).
        """
        egress_file = None if file is None else model_argument(file, EgressFile, "file")
        if egress_file is not None:
            file_type = choice(egress_file.file_type, "file.file_type", get_args(FileType))
            egress_file = EgressFile(file_type=file_type)  # type: ignore[arg-type]
        egress_stream = None if stream is None else model_argument(stream, EgressStream, "stream")
        return await self._client._request(
            "POST",
            "/v1/egress",
            cast_to=Egress,
            body=camel_fields(
                room_name=check_str(room_name, "room_name"),
                mode=choice(mode, "mode", get_args(EgressMode)),
                layout=optional_choice(layout, "layout", get_args(EgressLayout)),
                quality=optional_choice(quality, "quality", get_args(EgressQuality)),
                file=None if egress_file is None else unstructure(egress_file),
                stream=None if egress_stream is None else {"urls": list(egress_stream.urls)},
            ),
            options=options,
        )

    async def stop(self, egress_id: str, **options: Unpack[RequestOptions]) -> Egress:
        """Stop an egress; it moves to `ending`, then `completed`.

        Raises:
            ConflictError: `egress_not_active`.
        """
        return await self._client._request(
            "POST", _egress_path(egress_id, "stop", "stop"), cast_to=Egress, options=options
        )

    async def get(self, egress_id: str, **options: Unpack[RequestOptions]) -> Egress:
        """Get an egress and the status of each of its destinations.

        Raises:
            NotFoundError: `egress_not_found`.
        """
        return await self._client._request(
            "GET", _egress_path(egress_id, "get"), cast_to=Egress, options=options
        )

    def list(
        self,
        *,
        room_name: str | None = None,
        status: EgressStatus | None = None,
        page: int | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[Egress]:
        """List egress, oldest first, optionally filtered by room and status.

        Returns:
            The first page, when awaited; `async for` over it walks every `Egress`
            of every page.
        """
        return self._paginate(
            "/v1/egress",
            Egress,
            page=page,
            limit=limit,
            params=camel_fields(
                room_name=optional_str(room_name, "room_name"),
                status=optional_str(status, "status"),
            ),
            options=options,
        )

    async def delete(self, egress_id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete a finished egress record.

        Raises:
            ConflictError: `egress_active` while it is still running.
        """
        await self._client._request(
            "DELETE", _egress_path(egress_id, "delete"), cast_to=type(None), options=options
        )

    async def get_auto_stream_config(self, **options: Unpack[RequestOptions]) -> AutoStreamConfig:
        """The project's auto-stream rules."""
        return await self._client._request(
            "GET", "/v1/egress/auto-stream-config", cast_to=AutoStreamConfig, options=options
        )

    async def update_auto_stream_config(
        self,
        *,
        enabled: bool | None = None,
        mode: EgressMode | None = None,
        quality: EgressQuality | None = None,
        layout: EgressLayout | None = None,
        min_participants: int | None = None,
        file_type: FileType | None = None,
        stream_urls: Sequence[str] | None = None,
        **options: Unpack[RequestOptions],
    ) -> AutoStreamConfig:
        """Change some auto-stream rules; only the arguments given are sent.

        When enabled, an egress with these settings starts in a room as soon as it
        reaches `min_participants` participants, once per room session.
        """
        urls = None if stream_urls is None else list(EgressStream(urls=stream_urls).urls)
        return await self._client._request(
            "PATCH",
            "/v1/egress/auto-stream-config",
            cast_to=AutoStreamConfig,
            body=camel_fields(
                enabled=None if enabled is None else check_bool(enabled, "enabled"),
                mode=optional_choice(mode, "mode", get_args(EgressMode)),
                quality=optional_choice(quality, "quality", get_args(EgressQuality)),
                layout=optional_choice(layout, "layout", get_args(EgressLayout)),
                min_participants=(
                    None
                    if min_participants is None
                    else check_int(min_participants, "min_participants", minimum=1)
                ),
                file_type=optional_choice(file_type, "file_type", get_args(FileType)),
                stream_urls=urls,
            ),
            options=options,
        )
