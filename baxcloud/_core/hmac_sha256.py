"""HMAC-SHA256 (RFC 2104) with each key's padded hashes computed once.

`hmac.digest` pads and hashes the key again for every message; here a signature
copies two hash states instead, which makes the short messages of tokens and
webhooks noticeably cheaper. The result is exactly `hmac.digest(key, msg, "sha256")`.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

_BLOCK = 64  # SHA-256's block size, to which HMAC pads the key
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


@lru_cache(maxsize=64)
def _pads(key: bytes) -> tuple[Any, Any]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return hashlib.sha256(key.translate(_IPAD)), hashlib.sha256(key.translate(_OPAD))


def hmac_sha256(key: bytes, *parts: bytes) -> bytes:
    """The HMAC-SHA256 of the concatenated `parts` under `key` (without joining them)."""
    inner_pad, outer_pad = _pads(key)
    inner = inner_pad.copy()
    for part in parts:
        inner.update(part)
    outer = outer_pad.copy()
    outer.update(inner.digest())
    digest: bytes = outer.digest()
    return digest
