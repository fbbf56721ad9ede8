"""API key parsing: `bax_sk_<keyId>_<secret>` (the OpenAPI security scheme `bearerAuth`)."""

from __future__ import annotations

import re

from .errors import BaxCloudError

_KEY_RE = re.compile(r"bax_(sk|pk)_([A-Za-z0-9]{4,32})_([A-Za-z0-9]{32,128})")


class Secret(str):
    """A string whose repr hides it: a secret held in a local variable or a
    container stays out of tracebacks printed with locals (pytest -l, rich)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'****'"


class ApiKey:
    """A parsed API key. Its repr and str show the key id only."""

    __slots__ = ("key_id", "kind", "raw", "secret")

    def __init__(self, *, kind: str, key_id: str, secret: Secret, raw: Secret) -> None:
        self.kind = kind
        self.key_id = key_id
        self.secret = secret
        self.raw = raw

    def __str__(self) -> str:
        return redacted_key(self.key_id, self.kind)

    def __repr__(self) -> str:
        return f"ApiKey(kind={self.kind!r}, key_id={self.key_id!r})"


def redacted_key(key_id: str, kind: str = "sk") -> str:
    return f"bax_{kind}_{key_id}_****"


def parse_api_key(value: object) -> ApiKey:
    """Parse and validate an API key; the error never echoes the key."""
    if not isinstance(value, str):
        raise BaxCloudError(f"api_key must be a string, not {type(value).__name__}")
    match = _KEY_RE.fullmatch(value.strip())
    if match is None:
        raise BaxCloudError(
            "api_key is not a BaxCloud API key: expected 'bax_sk_<keyId>_<secret>' "
            "(keyId 4-32 letters/digits, secret 32-128 letters/digits)"
        )
    kind, key_id, secret = match.groups()
    return ApiKey(kind=kind, key_id=key_id, secret=Secret(secret), raw=Secret(match.group(0)))
