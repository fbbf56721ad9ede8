"""Response and argument models (contract B.3): frozen, slotted, keyword-only.

Field names mirror the API's camelCase fields in snake_case; the converter in
`_converter.py` does the renaming. Enumerations are `Literal` strings for type
checkers, but values this version does not know are passed through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import attrs

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
    "Grants",
    "Ingress",
    "IngressInputType",
    "IngressStatus",
    "Recording",
    "RecordingStatus",
    "StreamDestination",
    "Participant",
    "ParticipantPermission",
    "ParticipantState",
    "ParticipantToken",
    "Room",
    "TokenClaims",
    "Track",
    "TrackKind",
    "TrackSource",
]

ParticipantState = Literal["JOINING", "JOINED", "ACTIVE", "DISCONNECTED"]
TrackKind = Literal["audio", "video", "data"]
TrackSource = Literal["camera", "microphone", "screen_share", "screen_share_audio", "unknown"]
RecordingStatus = Literal["starting", "active", "ending", "completed", "failed", "aborted"]
EgressStatus = RecordingStatus
FileType = Literal["MP4", "OGG", "WEBM"]
EgressMode = Literal["record", "stream", "both"]
EgressLayout = Literal["speaker", "grid", "single-speaker"]
EgressQuality = Literal["480p", "720p", "1080p"]
DestinationStatus = Literal["connecting", "active", "failed", "finished"]
IngressInputType = Literal["RTMP_INPUT", "WHIP_INPUT"]
IngressStatus = Literal["INACTIVE", "BUFFERING", "ACTIVE", "ERROR", "COMPLETE"]

_is_bool = attrs.validators.instance_of(bool)


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


_optional_bool = attrs.validators.optional(_is_bool)


def _optional_sources(value: Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise TypeError("can_publish_sources must be a sequence of track source names")
    return tuple(value)


@attrs.frozen(kw_only=True)
class Room:
    """A room (contract A.6)."""

    sid: str
    name: str
    max_participants: int = 0
    empty_timeout: int = 300
    metadata: str = ""
    enable_recording: bool = False
    num_participants: int = 0
    num_publishers: int = 0
    active_recording: bool = False
    created_at: datetime | None = None


@attrs.frozen(kw_only=True)
class Track:
    """A published track."""

    sid: str
    kind: TrackKind
    source: TrackSource = "unknown"
    name: str = ""
    muted: bool = False


@attrs.frozen(kw_only=True)
class ParticipantPermission:
    """What a participant may do, taken from its token's grants."""

    can_publish: bool = True
    can_subscribe: bool = True
    can_publish_data: bool = True
    can_update_own_metadata: bool = False


@attrs.frozen(kw_only=True)
class Participant:
    """A participant in a room (contract A.7)."""

    sid: str
    identity: str
    name: str = ""
    state: ParticipantState = "ACTIVE"
    metadata: str = ""
    joined_at: datetime | None = None
    is_publisher: bool = False
    permission: ParticipantPermission = attrs.field(factory=ParticipantPermission)
    tracks: tuple[Track, ...] = ()


@attrs.frozen(kw_only=True)
class Grants:
    """Video grants placed in a participant token (contract A.8).

    Unset optional grants (`None`) are left out of the token.
    """

    can_publish: bool = attrs.field(default=True, validator=_is_bool)
    can_subscribe: bool = attrs.field(default=True, validator=_is_bool)
    can_publish_data: bool = attrs.field(default=True, validator=_is_bool)
    can_update_own_metadata: bool = attrs.field(default=False, validator=_is_bool)
    room_admin: bool | None = attrs.field(default=None, validator=_optional_bool)
    hidden: bool | None = attrs.field(default=None, validator=_optional_bool)
    can_publish_sources: tuple[TrackSource, ...] | None = attrs.field(
        default=None, converter=_optional_sources
    )


@attrs.frozen(kw_only=True)
class ParticipantToken:
    """A minted access token. The token itself is kept out of repr()."""

    token: str = attrs.field(repr=False)
    identity: str
    room_name: str
    expires_at: datetime

    def __str__(self) -> str:
        return repr(self)


@attrs.frozen(kw_only=True)
class TokenClaims:
    """The checked contents of a participant token (`tokens.verify`)."""

    identity: str
    name: str
    room_name: str
    grants: Grants
    metadata: str
    key_id: str
    token_id: str | None
    not_before: datetime
    expires_at: datetime


@attrs.frozen(kw_only=True)
class Recording:
    """A cloud recording (contract A.9)."""

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
class DownloadUrl:
    """A pre-signed, expiring download URL. It is a credential: repr() hides it."""

    download_url: str = attrs.field(repr=False)
    expires_in: int
    expires_at: datetime


@attrs.frozen(kw_only=True)
class EgressFile:
    """File output of an egress (`record` and `both` modes)."""

    file_type: FileType = "MP4"


@attrs.frozen(kw_only=True)
class StreamDestination:
    """One RTMP destination of a streaming egress; the API masks its stream key."""

    url: str = attrs.field(repr=_hide_stream_key)
    status: DestinationStatus
    error: str | None = None


@attrs.frozen(kw_only=True)
class EgressStream:
    """Stream output of an egress: 1-5 `rtmp://` or `rtmps://` URLs.

    URLs you pass carry stream keys (secrets); repr() masks them.
    """

    urls: tuple[str, ...] = attrs.field(converter=_url_tuple, repr=_hide_stream_keys)
    destinations: tuple[StreamDestination, ...] = ()


@attrs.frozen(kw_only=True)
class Egress:
    """A stream-out and/or recording job (contract A.10)."""

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
class AutoStreamConfig:
    """Rules that start an egress automatically once a room has enough participants."""

    enabled: bool = False
    mode: EgressMode = "record"
    quality: EgressQuality = "720p"
    layout: EgressLayout = "speaker"
    min_participants: int = 1
    file_type: FileType = "MP4"
    stream_urls: tuple[str, ...] = attrs.field(default=(), repr=_hide_stream_keys)


@attrs.frozen(kw_only=True)
class Ingress:
    """A stream-in endpoint (contract A.11). `stream_key` and `token` are secrets."""

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
