"""`hmac_sha256(key, message, more)` is exactly `hmac.digest(key, message + more, "sha256")`."""

from __future__ import annotations

import hmac

from hypothesis import given
from hypothesis import strategies as st

from baxcloud._core import hmac_sha256 as module
from baxcloud._core.hmac_sha256 import hmac_sha256


@given(st.binary(max_size=200), st.binary(max_size=300), st.binary(max_size=300))
def test_it_is_hmac_sha256(key: bytes, message: bytes, more: bytes) -> None:
    expected = hmac.digest(key, message + more, "sha256")
    assert hmac_sha256(key, message, more) == expected
    assert hmac_sha256(key, message, more) == expected  # with the key's pads cached
    assert hmac_sha256(key, message + more) == expected


def test_the_cache_of_pads_stays_small() -> None:
    for i in range(3 * module._CACHED_KEYS):
        key = i.to_bytes(4, "big") * 8
        assert hmac_sha256(key, b"m") == hmac.digest(key, b"m", "sha256")
        assert len(module._pads) <= module._CACHED_KEYS
