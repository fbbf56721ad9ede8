"""Models of recordings, egress and ingress (the OpenAPI schemas of the same names).

Kept apart from `_models` so that programs which never touch media do not pay
for building these classes at import time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import attrs

from ._core.model import Model

__all__ = [
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
]

RecordingStatus = Literal["starting", "active", "ending", "completed", "failed", "aborted"]
EgressStatus = RecordingStatus
FileType = Literal["MP4", "OGG", "WEBM"]
EgressMode = Literal["record", "stream", "both"]
EgressLayout = Literal["speaker", "grid", "single-speaker"]
EgressQuality = Literal["480p", "720p", "1080p"]
DestinationStatus = Literal["connecting", "active", "failed", "finished"]
IngressInputType = Literal["RTMP_INPUT", "WHIP_INPUT"]
IngressStatus = Literal["INACTIVE", "BUFFERING", "ACTIVE", "ERROR", "COMPLETE"]


def _hide_stream_key(url: str) -> str:
    """An RTMP URL with its last path segment (the stream key) masked."""
    head, slash, _ = url.rpartition("/")
    return repr(f"{head}/****") if slash and "://" in head + slash else repr("****")


def _hide_stream_keys(urls: tuple[str, ...]) -> str:
    return (
        "(" + ", ".join(_hide_stream_key(u) for u in urls) + ("," if len(urls) == 1 else "") + ")"
    )


def _hidden(value: object) -> str:
    return "None" if value is None else "'****'"


def _url_tuple(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError("urls must be a sequence of URLs, not a single string")
    urls = tuple(value)
    if not all(isinstance(u, str) for u in urls):
        raise TypeError("urls must be strings")
    return urls


@attrs.frozen(kw_only=True)
class Recording(Model):
    """A cloud recording (the OpenAPI schema `Recording`)."""

    id: str
    egress_id: str
    room_name: str
    status: RecordingStatus
    file_type: FileType = "MP4"
    filename: str | None = None
    size_bytes: int | None = None
    duration_seconds: float | None = None
    error: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    created_at: datetime | None = None


@attrs.frozen(kw_only=True)
class DownloadUrl(Model):
    """A pre-signed, expiring download URL. It is a credential: repr() hides it."""

    download_url: str = attrs.field(repr=False)
    expires_in: int
    expires_at: datetime


@attrs.frozen(kw_only=True)
class EgressFile(Model):
    """File output of an egress (`record` and `both` modes)."""

    file_type: FileType = "MP4"


@attrs.frozen(kw_only=True)
class StreamDestination(Model):
    """One RTMP destination of a streaming egress; the API masks its stream key."""

    url: str = attrs.field(repr=_hide_stream_key)
    status: DestinationStatus
    error: str | None = None


@attrs.frozen(kw_only=True)
class EgressStream(Model):
    """Stream output of an egress: 1-5 `rtmp://` or `rtmps://` URLs.

    URLs you pass carry stream keys (secrets); repr() masks them.
    """

    urls: tuple[str, ...] = attrs.field(converter=_url_tuple, repr=_hide_stream_keys)
    destinations: tuple[StreamDestination, ...] = ()


@attrs.frozen(kw_only=True)
class Egress(Model):
    """A stream-out and/or recording job (the OpenAPI schema `Egress`)."""

    id: str
    room_name: str
    mode: EgressMode
    status: EgressStatus
    layout: EgressLayout = "speaker"
    quality: EgressQuality = "720p"
    file: EgressFile | None = None
    stream: EgressStream | None = None
    recording_id: str | None = None
    error: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    created_at: datetime | None = None


@attrs.frozen(kw_only=True)
class AutoStreamConfig(Model):
    """Rules that start an egress automatically once a room has enough participants."""

    enabled: bool = False
    mode: EgressMode = "record"
    quality: EgressQuality = "720p"
    layout: EgressLayout = "speaker"
    min_participants: int = 1
    file_type: FileType = "MP4"
    stream_urls: tuple[str, ...] = attrs.field(default=(), repr=_hide_stream_keys)


@attrs.frozen(kw_only=True)
class Ingress(Model):
    """A stream-in endpoint (the OpenAPI schema `Ingress`). `stream_key` and `token` are secrets."""

    id: str
    input_type: IngressInputType
    room_name: str
    participant_identity: str
    status: IngressStatus
    participant_name: str = ""
    enable_transcoding: bool = False
    bypass_transcoding: bool = False
    rtmps_url: str | None = None
    stream_key: str | None = attrs.field(default=None, repr=_hidden)
    whip_url: str | None = None
    token: str | None = attrs.field(default=None, repr=_hidden)
    error: str | None = None
    created_at: datetime | None = None
