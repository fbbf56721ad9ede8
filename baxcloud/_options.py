"""Per-call options accepted by every API method (contract B.6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

import httpx

TimeoutTypes = float | httpx.Timeout | None


class RequestOptions(TypedDict, total=False):
    """Keyword options every API call takes.

    timeout: seconds (or an `httpx.Timeout`) for this call, overriding the client's.
    max_retries: retries for this call, overriding the client's.
    extra_headers: headers added to this request (they cannot replace Authorization).
    idempotency_key: the Idempotency-Key for this mutation instead of a generated one.
    """

    timeout: TimeoutTypes
    max_retries: int
    extra_headers: Mapping[str, str]
    idempotency_key: str
