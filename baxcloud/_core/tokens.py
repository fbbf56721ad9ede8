"""Participant access tokens: HS256 JWTs in LiveKit's claim layout (docs/tokens-and-grants.md).

Shared by the SDK (`tokens.create` / `tokens.verify`) and the local server's
simulated join (the OpenAPI operation `devJoin` states the rules), so that both sides
check a token by exactly the same rules.
"""

from __future__ import annotations

import binascii
import functools
import json
import os
import time
from collections.abc import Mapping
from typing import Any

from .compact_json import compact_json
from .errors import TokenVerificationError
from .hmac_sha256 import hmac_sha256

ALGORITHM = "HS256"
LEEWAY_SECONDS = 60
MIN_TTL_SECONDS = 1
MAX_TTL_SECONDS = 7 * 24 * 3600
# 9999-12-31T23:59:59Z: the last second a `datetime` can hold.
MAX_NUMERIC_DATE = 253_402_300_799


_URLSAFE = bytes.maketrans(b"+/", b"-_")
_b2a = binascii.b2a_base64


_urandom = os.urandom


def _b64url(data: bytes) -> bytes:
    return _b2a(data, newline=False).translate(_URLSAFE).rstrip(b"=")


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
    HMAC (whose key pads are also computed once per key). The `jti` is 16
    random bytes, as `secrets.token_urlsafe(16)` draws them. Verification
    (below) goes through pyjwt.
    """
    issued = int(time.time() if now is None else now)
    expires = issued + ttl
    claims: dict[str, Any] = {
        "iss": key_id,
        "sub": identity,
        "name": name,
        "nbf": issued,
        "exp": expires,
        "jti": _b64url(_urandom(16)).decode("ascii"),
        "video": video,
    }
    if metadata:
        claims["metadata"] = metadata
    signing_input = _encoded_header(key_id) + b"." + _b64url(compact_json(claims).encode())
    signature = _b64url(hmac_sha256(secret.encode(), signing_input))
    return (signing_input + b"." + signature).decode("ascii"), expires


def _numeric_date(claims: Mapping[str, Any], name: str) -> int:
    """A NumericDate claim as this API accepts it: whole seconds in `0..MAX_NUMERIC_DATE`.

    Floats (fractions, NaN, Infinity, `1e300`), strings and booleans are refused
    rather than coerced, so a token can neither overflow a `datetime` nor dodge
    the expiry check by comparing false.
    """
    value = claims[name]
    if type(value) is not int or not 0 <= value <= MAX_NUMERIC_DATE:
        raise TokenVerificationError(
            f"token {name} must be a whole number of seconds between 0 and {MAX_NUMERIC_DATE}"
        )
    return value


def _unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims, before the signature is checked (to pick the key)."""
    import jwt

    try:
        parts = jwt.PyJWS().decode_complete(token, options={"verify_signature": False})
        claims = json.loads(parts["payload"])
    except (jwt.PyJWTError, ValueError, RecursionError):
        raise TokenVerificationError("token is not a well-formed JWT") from None
    if not isinstance(claims, dict):
        raise TokenVerificationError("token is not a well-formed JWT")
    header: dict[str, Any] = parts["header"]
    return header, claims


def _key_id(header: Mapping[str, Any], claims: Mapping[str, Any]) -> str:
    """The API key a token names: `kid` when present, else `iss`; both must agree."""
    kid, iss = header.get("kid"), claims.get("iss")
    if kid is not None and not isinstance(kid, str):
        raise TokenVerificationError("token kid must be a string")
    if iss is not None and not isinstance(iss, str):
        raise TokenVerificationError("token iss must be a string")
    if kid is not None and iss is not None and kid != iss:
        raise TokenVerificationError("token issuer does not match its key id")
    key_id = kid if kid is not None else iss
    if key_id is None:
        raise TokenVerificationError("token names no API key (neither kid nor iss)")
    return key_id


def verify_token(
    token: str,
    *,
    keys: Mapping[str, str],
    now: float | None = None,
    leeway: float = LEEWAY_SECONDS,
) -> dict[str, Any]:
    """Check a token against `keys` (key id -> secret) and return its claims.

    Accepts only HS256 signed by the key named in the `kid` header, or in `iss`
    when there is no `kid` (LiveKit's SDKs send none); when both are present
    they must be equal. `nbf`, `exp` (and `iat` if present) must be whole
    seconds in `0..MAX_NUMERIC_DATE`; the token must be current
    (`nbf - leeway <= now < exp + leeway`, `iat <= now + leeway`) and grant
    `video.roomJoin` for a named room. Every failure is a
    `TokenVerificationError` whose message never contains the token or a secret.
    """
    import jwt

    if not isinstance(token, str) or not token:
        raise TokenVerificationError("token must be a non-empty string")
    header, unverified = _unverified_parts(token)
    if header.get("alg") != ALGORITHM:
        raise TokenVerificationError("token must be signed with HS256")
    key_id = _key_id(header, unverified)
    secret = keys.get(key_id)
    if secret is None:
        raise TokenVerificationError("token was not issued by a known API key")
    current = time.time() if now is None else now
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=key_id,
            options={
                "require": ["iss", "sub", "nbf", "exp"],
                # Times are checked below rather than by pyjwt so that a manual
                # clock works and odd values get one clear message.
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise TokenVerificationError("token signature does not match") from None
    except jwt.InvalidIssuerError:
        raise TokenVerificationError("token issuer does not match its key id") from None
    except jwt.MissingRequiredClaimError as exc:
        raise TokenVerificationError(f"token has no {exc.claim} claim") from None
    except jwt.PyJWTError as exc:
        raise TokenVerificationError(f"token is invalid: {type(exc).__name__}") from None
    nbf, exp = _numeric_date(claims, "nbf"), _numeric_date(claims, "exp")
    if "iat" in claims and _numeric_date(claims, "iat") > current + leeway:
        raise TokenVerificationError("token was issued in the future")
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
