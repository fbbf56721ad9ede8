"""Per-call options accepted by every API method, and the one timeout check."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypedDict

import httpx

TimeoutTypes = float | httpx.Timeout | None


class NotGiven:
    """The default of an argument the caller did not pass (None means "no limit")."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN: Any = NotGiven()


class RequestOptions(TypedDict, total=False):
    """Keyword options every API call takes.

    timeout: seconds (or an `httpx.Timeout`) for each attempt of this call, overriding
        the client's; None or `math.inf` for no limit.
    max_retries: retries for this call, overriding the client's.
    extra_headers: headers added to this request, replacing any the SDK would send
        under the same name in any letter case (they cannot replace Authorization).
    idempotency_key: the Idempotency-Key for this mutation instead of a generated one.
    """

    timeout: TimeoutTypes
    max_retries: int
    extra_headers: Mapping[str, str]
    idempotency_key: str


OPTION_NAMES = frozenset(RequestOptions.__annotations__)

_TIMEOUT_HELP = "seconds > 0 (float), an httpx.Timeout, or None / math.inf for no limit"


def _seconds(value: object, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what} must be {_TIMEOUT_HELP}, not {type(value).__name__}")
    if math.isnan(value) or value <= 0:
        raise ValueError(f"{what} must be {_TIMEOUT_HELP}, not {value!r}")
    return None if math.isinf(value) else float(value)


def resolve_timeout(value: object) -> tuple[httpx.Timeout, float | None]:
    """Check a `timeout` setting; return httpx's per-phase timeout and the attempt limit.

    A number bounds each attempt as a whole (connect, send, headers and the complete
    body). An `httpx.Timeout` keeps its per-phase limits, and the attempt as a whole
    is bounded by the largest of them (unbounded when any phase is).
    """
    if isinstance(value, httpx.Timeout):
        phases = [
            _seconds(getattr(value, phase), f"timeout.{phase}")
            for phase in ("connect", "read", "write", "pool")
        ]
        connect, read, write, pool = phases
        limit = None if None in phases else max(p for p in phases if p is not None)
        return httpx.Timeout(connect=connect, read=read, write=write, pool=pool), limit
    seconds = _seconds(value, "timeout")
    return httpx.Timeout(seconds), seconds
