"""Participant access tokens (contract A.8): HS256 JWTs in LiveKit's claim layout.

Shared by the SDK (`tokens.create` / `tokens.verify`) and the local server's
simulated join, so that both sides check a token by exactly the same rules.
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
import secrets as _secrets
import time
from collections.abc import Mapping
from typing import Any

from ._errors import TokenVerificationError

ALGORITHM = "HS256"
LEEWAY_SECONDS = 60
MIN_TTL_SECONDS = 1
MAX_TTL_SECONDS = 7 * 24 * 3600


def _b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@functools.lru_cache(maxsize=64)
def _encoded_header(key_id: str) -> bytes:
    header = {"alg": ALGORITHM, "typ": "JWT", "kid": key_id}
    return _b64url(json.dumps(header, separators=(",", ":")).encode())


def mint_token(
    *,
    key_id: str,
    secret: str,
    identity: str,
    name: str,
    video: Mapping[str, Any],
    ttl: int,
    metadata: str = "",
    now: float | None = None,
) -> tuple[str, int]:
    """Sign a token; returns it with its `exp` (Unix seconds).

    JWS compact serialisation (RFC 7515) with HS256, written out directly: the
    header is encoded once per key, so minting costs one JSON dump and one
    HMAC. Verification (below) goes through pyjwt.
    """
    issued = int(time.time() if now is None else now)
    expires = issued + ttl
    claims: dict[str, Any] = {
        "iss": key_id,
        "sub": identity,
        "name": name,
        "nbf": issued,
        "exp": expires,
        "jti": _secrets.token_urlsafe(16),
        "video": video,
    }
    if metadata:
        claims["metadata"] = metadata
    payload = _b64url(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    signing_input = _encoded_header(key_id) + b"." + payload
    signature = _b64url(hmac.digest(secret.encode(), signing_input, "sha256"))
    return (signing_input + b"." + signature).decode("ascii"), expires


def verify_token(
    token: str,
    *,
    keys: Mapping[str, str],
    now: float | None = None,
    leeway: float = LEEWAY_SECONDS,
) -> dict[str, Any]:
    """Check a token against `keys` (key id -> secret) and return its claims.

    Accepts only HS256 signed by the key named in both `kid` and `iss`,
    `nbf - leeway <= now < exp + leeway`, and `video.roomJoin` true. Every
    failure is a `TokenVerificationError` whose message never contains the
    token or a secret.
    """
    import jwt

    if not isinstance(token, str) or not token:
        raise TokenVerificationError("token must be a non-empty string")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenVerificationError("token is not a well-formed JWT") from None
    if header.get("alg") != ALGORITHM:
        raise TokenVerificationError("token must be signed with HS256")
    kid = header.get("kid")
    secret = keys.get(kid) if isinstance(kid, str) else None
    if secret is None:
        raise TokenVerificationError("token was not issued by a known API key")
    current = time.time() if now is None else now
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=kid,
            options={
                "require": ["iss", "sub", "nbf", "exp"],
                "verify_exp": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise TokenVerificationError("token signature does not match") from None
    except jwt.InvalidIssuerError:
        raise TokenVerificationError("token issuer does not match its key id") from None
    except jwt.PyJWTError as exc:
        raise TokenVerificationError(f"token is invalid: {type(exc).__name__}") from None
    nbf, exp = claims["nbf"], claims["exp"]
    if not isinstance(nbf, int | float) or not isinstance(exp, int | float):
        raise TokenVerificationError("token nbf/exp must be numbers")
    # Times are checked here rather than by pyjwt so that a manual clock works.
    if current + leeway < nbf:
        raise TokenVerificationError("token is not valid yet")
    if current - leeway >= exp:
        raise TokenVerificationError("token has expired")
    video = claims.get("video")
    if not isinstance(video, dict) or video.get("roomJoin") is not True:
        raise TokenVerificationError("token does not grant roomJoin")
    if not isinstance(video.get("room"), str) or not video["room"]:
        raise TokenVerificationError("token does not name a room")
    return claims
