from __future__ import annotations

import builtins
import os
from typing import TYPE_CHECKING, Any, get_args

from .._core.arguments import (
    camel_fields,
    check_int,
    check_str,
    choice,
    optional_str,
    path,
    resource_id,
    segment,
)
from .._core.converter import structure
from .._core.download import ProgressCallback, download_to
from .._core.options import RequestOptions
from .._core.pagination import AsyncPager
from .._core.resource import AsyncResource
from .._media_models import DownloadUrl, FileType, Recording, RecordingStatus

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Unpack

__all__ = ["AsyncRecordings"]

MIN_URL_TTL = 60
MAX_URL_TTL = 604_800


def _recording_path(recording_id: str, call: str, *rest: str) -> str:
    checked = resource_id(recording_id, "recording_id", "rec_", f"recordings.{call}")
    return path("v1", "recordings", segment(checked, "recording_id"), *rest)


class AsyncRecordings(AsyncResource):
    """Cloud recordings of rooms.

    The OpenAPI operations `startRecording`, `stopRecording`, `listRecordings`,
    `listActiveRecordings`, `getRecording`, `getRecordingDownloadUrl` and, for
    `download`, `downloadRecording`.
    """

    async def start(
        self,
        *,
        room_name: str,
        file_type: FileType = "MP4",
        **options: Unpack[RequestOptions],
    ) -> Recording:
        """Start recording a room.

        Args:
            room_name: the room to record.
            file_type: "MP4" (default), "OGG" or "WEBM", in any letter case.

        Raises:
            NotFoundError: `room_not_found`.
            ConflictError: `recording_already_active`.
        """
        return await self._client._request(
            "POST",
            "/v1/recordings",
            cast_to=Recording,
            body=camel_fields(
                room_name=check_str(room_name, "room_name"),
                file_type=choice(file_type, "file_type", get_args(FileType)),
            ),
            options=options,
        )

    async def stop(self, egress_id: str, **options: Unpack[RequestOptions]) -> Recording:
        """Stop a recording by the id of the egress that produces it (`Recording.egress_id`).

        The returned recording is `ending`; it becomes `completed` once its file is ready.

        Raises:
            ConflictError: `egress_not_active`.
        """
        segment(egress_id, "egress_id")
        resource_id(
            egress_id, "egress_id", "EG_", "recordings.stop", ": pass the recording's egress_id"
        )
        return await self._client._request(
            "POST",
            "/v1/recordings/stop",
            cast_to=Recording,
            body=camel_fields(egress_id=egress_id),
            options=options,
        )

    def list(
        self,
        *,
        status: RecordingStatus | None = None,
        room_name: str | None = None,
        page: int | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[Recording]:
        """List recordings, oldest first, optionally filtered by status and room.

        Returns:
            The first page, when awaited; `async for` over it walks every `Recording`
            of every page.
        """
        return self._paginate(
            "/v1/recordings",
            Recording,
            page=page,
            limit=limit,
            params=camel_fields(
                status=optional_str(status, "status"),
                room_name=optional_str(room_name, "room_name"),
            ),
            options=options,
        )

    async def list_active(
        self, room_name: str | None = None, **options: Unpack[RequestOptions]
    ) -> builtins.list[Recording]:
        """Every recording that is running now (not paged), optionally for one room."""
        return await self._client._request(
            "GET",
            "/v1/recordings/active",
            cast_to=list,
            params=camel_fields(room_name=optional_str(room_name, "room_name")),
            options=options,
            parse=_active_recordings,
        )

    async def get(self, recording_id: str, **options: Unpack[RequestOptions]) -> Recording:
        """Get a recording.

        Raises:
            NotFoundError: `recording_not_found`.
        """
        return await self._client._request(
            "GET", _recording_path(recording_id, "get"), cast_to=Recording, options=options
        )

    async def get_download_url(
        self,
        recording_id: str,
        *,
        expires_in: int = 3600,
        **options: Unpack[RequestOptions],
    ) -> DownloadUrl:
        """A pre-signed URL for a completed recording's file, valid for `expires_in` seconds.

        Anyone holding the URL can download the file until it expires (60 s to 7 days).

        Raises:
            ConflictError: `recording_not_ready` unless the recording is completed.
        """
        check_int(expires_in, "expires_in", minimum=MIN_URL_TTL, maximum=MAX_URL_TTL)
        return await self._client._request(
            "GET",
            _recording_path(recording_id, "get_download_url", "download-url"),
            cast_to=DownloadUrl,
            params={"expiresIn": expires_in},
            options=options,
        )

    async def download(
        self,
        recording_id: str,
        destination: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
        **options: Unpack[RequestOptions],
    ) -> Path:
        """Download a completed recording's file to `destination`; returns the file's path.

        The file streams to disk in chunks (constant memory for any size) through
        `<destination>.part`, renamed into place only once it holds exactly the
        recording's `size_bytes`. An interrupted transfer resumes where it stopped
        with an HTTP Range request (also on a later call, from a `.part` file left
        behind), fetching a fresh URL if the old one expired. Redirects are not
        followed and no credentials are sent with the pre-signed URL. If
        `destination` is a directory, the recording's own filename is used inside
        it. `timeout` bounds each API call and each read of the transfer, not the
        whole download. See docs/recordings-and-downloads.md for every check.

        Args:
            progress: called as `progress(bytes_done, bytes_total)` as data arrives.

        Raises:
            BaxCloudError: the download host's answer disagrees with the recording's
                size; the `.part` file keeps the bytes checked so far.
            APIStatusError: code `download_redirected` for a redirect; other errors
                of the download host as for any call.
            APIConnectionError: still no data after `max_retries` retries in a row.
        """
        if not isinstance(destination, (str, os.PathLike)):
            raise TypeError("destination must be a path (str or os.PathLike)")
        if progress is not None and not callable(progress):
            raise TypeError("progress must be a callable (bytes_done, bytes_total) or None")
        recording = await self.get(recording_id, **options)
        return await download_to(
            self._client,
            fetch_url=lambda: self.get_download_url(recording_id, **options),
            recording=recording,
            destination=destination,
            progress=progress,
            options=options,
        )


def _active_recordings(data: Any) -> builtins.list[Recording]:
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, builtins.list):
        raise TypeError("expected an object with an `items` list")
    return structure(items, builtins.list[Recording])
