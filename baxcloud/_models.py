"""Response and argument models: frozen, slotted, keyword-only.

Each response model is a schema of the OpenAPI document (`baxcloud/_server/openapi.json`).
Field names mirror the API's camelCase fields in snake_case; the converter in
`_core/converter.py` does the renaming. Enumerations are `Literal` strings for type
checkers, but values this version does not know are passed through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

import attrs

from ._core.model import Model

__all__ = [
    "Grants",
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


def _is_bool(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{attribute.name} must be a bool, not {type(value).__name__}")


def _optional_bool(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"{attribute.name} must be a bool or None, not {type(value).__name__}")


def _optional_sources(value: Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise TypeError("can_publish_sources must be a sequence of track source names")
    return tuple(value)


@attrs.frozen(kw_only=True)
class Room(Model):
    """A room (the OpenAPI schema `Room`)."""

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
class Track(Model):
    """A published track."""

    sid: str
    kind: TrackKind
    source: TrackSource = "unknown"
    name: str = ""
    muted: bool = False


@attrs.frozen(kw_only=True)
class ParticipantPermission(Model):
    """What a participant may do, taken from its token's grants."""

    can_publish: bool = True
    can_subscribe: bool = True
    can_publish_data: bool = True
    can_update_own_metadata: bool = False


@attrs.frozen(kw_only=True)
class Participant(Model):
    """A participant in a room (the OpenAPI schema `Participant`)."""

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
class Grants(Model):
    """Video grants placed in a participant token (see docs/tokens-and-grants.md).

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
class ParticipantToken(Model):
    """A minted access token. The token itself is kept out of repr()."""

    token: str = attrs.field(repr=False)
    identity: str
    room_name: str
    expires_at: datetime

    def __str__(self) -> str:
        return repr(self)


@attrs.frozen(kw_only=True)
class TokenClaims(Model):
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
