"""Recordings through both clients against a manual-clock local server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import MEDIA_BYTES_PER_SECOND, close_blocking_with_users_client, collect, resolve

from baxcloud import (
    ConflictError,
    DownloadUrl,
    NotFoundError,
    Recording,
)
from baxcloud.testing import LocalServer

BYTES_PER_SECOND = MEDIA_BYTES_PER_SECOND


async def completed_recording(
    client: Any, server: LocalServer, room: str, seconds: int = 10
) -> Recording:
    await resolve(client.rooms.create(name=room, empty_timeout=3600))
    recording = await resolve(client.recordings.start(room_name=room))
    server.advance_clock(1)
    server.advance_clock(seconds)
    await resolve(client.recordings.stop(recording.egress_id))
    server.advance_clock(1)
    done: Recording = await resolve(client.recordings.get(recording.id))
    assert done.status == "completed"
    return done


async def test_recording_lifecycle(media: Any, media_server: LocalServer) -> None:
    await resolve(media.rooms.create(name="standup", empty_timeout=3600))
    started = await resolve(media.recordings.start(room_name="standup", file_type="MP4"))
    assert isinstance(started, Recording)
    assert started.id.startswith("rec_") and started.egress_id.startswith("EG_")
    assert (started.room_name, started.status, started.file_type) == ("standup", "starting", "MP4")
    assert started.filename is None and started.size_bytes is None

    media_server.advance_clock(1)
    active = await resolve(media.recordings.get(started.id))
    assert active.status == "active" and active.started_at is not None
    assert (await resolve(media.rooms.get("standup"))).active_recording is True
    assert [r.id for r in await resolve(media.recordings.list_active("standup"))] == [started.id]
    assert started.id in [r.id for r in await resolve(media.recordings.list_active())]

    with pytest.raises(ConflictError) as busy:
        await resolve(media.recordings.start(room_name="standup"))
    assert busy.value.code == "recording_already_active"

    media_server.advance_clock(20)
    ending = await resolve(media.recordings.stop(started.egress_id))
    assert ending.status == "ending"
    with pytest.raises(ConflictError) as not_ready:
        await resolve(media.recordings.get_download_url(started.id))
    assert not_ready.value.code == "recording_not_ready"
    with pytest.raises(ConflictError) as inactive:
        await resolve(media.recordings.stop(started.egress_id))
    assert inactive.value.code == "egress_not_active"

    media_server.advance_clock(1)
    done = await resolve(media.recordings.get(started.id))
    assert done.status == "completed"
    assert done.filename and done.filename.endswith(".mp4")
    assert done.duration_seconds is not None and 19 <= done.duration_seconds <= 22
    assert done.size_bytes is not None and done.size_bytes >= 19 * BYTES_PER_SECOND
    assert done.ended_at is not None and done.ended_at > done.started_at
    assert await resolve(media.recordings.list_active("standup")) == []
    assert (await resolve(media.rooms.get("standup"))).active_recording is False


async def test_download_url_is_presigned_and_expires(media: Any, media_server: LocalServer) -> None:
    done = await completed_recording(media, media_server, "presigned")
    url = await resolve(media.recordings.get_download_url(done.id, expires_in=60))
    assert isinstance(url, DownloadUrl)
    assert url.expires_in == 60
    assert url.download_url not in repr(url)
    async with httpx.AsyncClient() as anonymous:  # no API key needed
        response = await anonymous.get(url.download_url)
        assert response.status_code == 200
        assert len(response.content) == done.size_bytes
        assert response.content[4:8] == b"ftyp"
        part = await anonymous.get(url.download_url, headers={"Range": "bytes=10-99"})
        assert part.status_code == 206 and part.content == response.content[10:100]
        tampered = url.download_url.replace("expires=", "expires=9")
        assert (await anonymous.get(tampered)).status_code == 403
        media_server.advance_clock(61)
        assert (await anonymous.get(url.download_url)).status_code == 403
    with pytest.raises(ValueError, match="expires_in"):
        await resolve(media.recordings.get_download_url(done.id, expires_in=59))


async def test_download_streams_the_file_with_progress(
    media: Any, media_server: LocalServer, tmp_path: Path
) -> None:
    done = await completed_recording(media, media_server, "dl", seconds=30)
    seen: list[tuple[int, int]] = []
    path = await resolve(
        media.recordings.download(done.id, tmp_path / "out.mp4", progress=lambda *a: seen.append(a))
    )
    assert path == tmp_path / "out.mp4"
    assert path.stat().st_size == done.size_bytes
    assert seen[-1] == (done.size_bytes, done.size_bytes)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert not (tmp_path / "out.mp4.part").exists()
    # A directory destination uses the recording's own filename.
    into_dir = await resolve(media.recordings.download(done.id, tmp_path))
    assert into_dir.name == done.filename
    assert into_dir.read_bytes() == path.read_bytes()


class CuttingTransport(httpx.AsyncBaseTransport):
    """Forwards to the server but breaks the first download after `cut` bytes."""

    def __init__(self, cut: int) -> None:
        self.cut = cut
        self.inner = httpx.AsyncHTTPTransport()
        self.ranges: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.startswith("/v1/") and not request.url.path.startswith("/_dev"):
            self.ranges.append(request.headers.get("range"))
            if len(self.ranges) == 1:
                return httpx.Response(
                    response.status_code,
                    headers=response.headers,
                    stream=_Cut(response, self.cut),
                    request=request,
                )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Cut(httpx.AsyncByteStream):
    def __init__(self, response: httpx.Response, cut: int) -> None:
        self.response, self.cut = response, cut

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        async for chunk in self.response.stream:  # type: ignore[union-attr]
            take = chunk[: max(0, self.cut - sent)]
            if take:
                yield take
                sent += len(take)
            if sent >= self.cut:
                raise httpx.ReadError("connection reset mid-download")

    async def aclose(self) -> None:
        await self.response.aclose()


async def test_interrupted_download_resumes_with_range(
    media_server: LocalServer, tmp_path: Path
) -> None:
    with media_server.client() as plain:
        done = await completed_recording(plain, media_server, "resume", seconds=20)
        reference = plain.recordings.download(done.id, tmp_path / "reference.mp4").read_bytes()
    transport = CuttingTransport(cut=100_000)
    http = httpx.AsyncClient(transport=transport)
    client = media_server.client(http_client=http)
    try:
        path = client.recordings.download(done.id, tmp_path / "resumed.mp4")
    finally:
        close_blocking_with_users_client(client, http)
    assert path.read_bytes() == reference
    assert transport.ranges == [None, "bytes=100000-"]


async def test_download_continues_a_leftover_part_file(
    media: Any, media_server: LocalServer, tmp_path: Path
) -> None:
    done = await completed_recording(media, media_server, "leftover")
    full = await resolve(media.recordings.download(done.id, tmp_path / "full.mp4"))
    content = full.read_bytes()
    (tmp_path / "again.mp4.part").write_bytes(content[:5000])
    seen: list[tuple[int, int]] = []
    again = await resolve(
        media.recordings.download(
            done.id, tmp_path / "again.mp4", progress=lambda *a: seen.append(a)
        )
    )
    assert again.read_bytes() == content
    assert seen[0][0] > 5000  # it did not start from zero


async def test_failed_recording(media: Any, media_server: LocalServer) -> None:
    await resolve(media.rooms.create(name="fails", empty_timeout=3600))
    recording = await resolve(media.recordings.start(room_name="fails"))
    media_server.advance_clock(1)
    media_server.fail_egress(recording.egress_id, "encoder crashed")
    failed = await resolve(media.recordings.get(recording.id))
    assert failed.status == "failed" and failed.error == "encoder crashed"
    with pytest.raises(ConflictError):
        await resolve(media.recordings.get_download_url(recording.id))


async def test_not_found(media: Any) -> None:
    with pytest.raises(NotFoundError) as info:
        await resolve(media.recordings.get("rec_missing"))
    assert info.value.code == "recording_not_found"
    with pytest.raises(NotFoundError) as info:
        await resolve(media.recordings.start(room_name="no-such-room"))
    assert info.value.code == "room_not_found"


async def test_list_filters_and_pages(media: Any, media_server: LocalServer) -> None:
    for room in ("a", "b", "c"):
        await completed_recording(media, media_server, room, seconds=2)
    await resolve(media.recordings.start(room_name="a"))
    everything = await collect(media.recordings.list(limit=2))
    assert len(everything) == 4
    first = await resolve(media.recordings.list(limit=2))
    assert (first.total, first.has_more, len(first.items)) == (4, True, 2)
    completed = await collect(media.recordings.list(status="completed"))
    assert sorted(r.room_name for r in completed) == ["a", "b", "c"]
    in_a = await collect(media.recordings.list(room_name="a"))
    assert sorted(r.status for r in in_a) == ["completed", "starting"]
    assert await collect(media.recordings.list(room_name="a", status="failed")) == []


def test_room_with_enable_recording_records_from_the_first_join(
    media_server: LocalServer,
) -> None:
    with media_server.client() as client:
        client.rooms.create(name="auto", enable_recording=True, empty_timeout=3600)
        assert client.recordings.list_active("auto") == []
        media_server.join(client.tokens.create(room_name="auto", participant_identity="a"))
        media_server.join(client.tokens.create(room_name="auto", participant_identity="b"))
        assert len(client.recordings.list_active("auto")) == 1
