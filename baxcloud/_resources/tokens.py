from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from .._core.arguments import check_int, check_str, metadata_text, model_argument
from .._core.converter import unstructure
from .._core.errors import TokenVerificationError
from .._core.resource import AsyncResource
from .._core.tokens import MAX_TTL_SECONDS, MIN_TTL_SECONDS, mint_token, verify_token
from .._models import Grants, ParticipantToken, TokenClaims

__all__ = ["AsyncTokens"]

MAX_ROOM_NAME_LENGTH = 256


@functools.lru_cache(maxsize=256)
def _video_claims(grants: Grants) -> Mapping[str, Any]:
    """The token's `video` grant fields (camelCase, unset ones left out); read-only."""
    return MappingProxyType({k: v for k, v in unstructure(grants).items() if v is not None})


_DEFAULT_VIDEO_CLAIMS = _video_claims(Grants())


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


class AsyncTokens(AsyncResource):
    """Participant access tokens, minted and checked locally.

    No HTTP call: see docs/tokens-and-grants.md; the OpenAPI operation `devJoin` states
    how BaxCloud checks a token.
    """

    def create(
        self,
        *,
        room_name: str,
        participant_identity: str,
        participant_name: str | None = None,
        ttl: int = 3600,
        grants: Grants | Mapping[str, Any] | None = None,
        metadata: str | Mapping[str, Any] | None = None,
    ) -> ParticipantToken:
        """Mint a participant access token (no network call).

        Args:
            room_name: the room the token lets its holder join.
            participant_identity: unique identity of the participant in the room.
            participant_name: display name.
            ttl: lifetime in seconds, 1 s to 7 days (default one hour).
            grants: a `Grants` or a mapping of its snake_case fields; defaults allow
                publishing, subscribing and data messages.
            metadata: a string, or a mapping sent as its JSON text.
        """
        check_str(room_name, "room_name")
        if not room_name or len(room_name) > MAX_ROOM_NAME_LENGTH:
            raise ValueError("room_name must be 1-256 characters")
        check_str(participant_identity, "participant_identity")
        if not participant_identity:
            raise ValueError("participant_identity must not be empty")
        name = "" if participant_name is None else check_str(participant_name, "participant_name")
        check_int(ttl, "ttl", minimum=MIN_TTL_SECONDS, maximum=MAX_TTL_SECONDS)
        claims = (
            _DEFAULT_VIDEO_CLAIMS
            if grants is None
            else _video_claims(model_argument(grants, Grants, "grants"))
        )
        key = self._client._api_key
        token, expires = mint_token(
            key_id=key.key_id,
            secret=key.secret,
            identity=participant_identity,
            name=name,
            video={"room": room_name, "roomJoin": True, **claims},
            ttl=ttl,
            metadata="" if metadata is None else metadata_text(metadata),
        )
        return ParticipantToken(
            token=token,
            identity=participant_identity,
            room_name=room_name,
            expires_at=_utc(expires),
        )

    def verify(self, token: str) -> TokenClaims:
        """Check a token minted with this client's API key and return its claims.

        Only HS256 tokens signed by this key pass: the key named by the `kid`
        header, or by `iss` when there is no `kid` (tokens minted by LiveKit's
        SDKs), both equal when both are present. `nbf`, `exp` and any `iat` must
        be whole seconds from 0 to 253402300799 (9999-12-31T23:59:59Z); the token
        must be current (60 s leeway) and grant `roomJoin` for a named room.

        Raises:
            TokenVerificationError: anything else.
        """
        key = self._client._api_key
        claims = verify_token(token, keys={key.key_id: key.secret})
        video = claims["video"]
        try:
            grants = Grants(
                can_publish=video.get("canPublish", True),
                can_subscribe=video.get("canSubscribe", True),
                can_publish_data=video.get("canPublishData", True),
                can_update_own_metadata=video.get("canUpdateOwnMetadata", False),
                room_admin=video.get("roomAdmin"),
                hidden=video.get("hidden"),
                can_publish_sources=video.get("canPublishSources"),
            )
        except (TypeError, ValueError):
            raise TokenVerificationError("token grants are malformed") from None
        return TokenClaims(
            identity=str(claims["sub"]),
            name=str(claims.get("name", "")),
            room_name=str(video["room"]),
            grants=grants,
            metadata=str(claims.get("metadata", "")),
            key_id=str(claims["iss"]),
            token_id=claims.get("jti"),
            not_before=_utc(claims["nbf"]),
            expires_at=_utc(claims["exp"]),
        )
