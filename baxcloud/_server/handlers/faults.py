"""`/_dev/faults` handlers (operations devGetFaults, devSetFaults): fault injection at run time."""

from __future__ import annotations

import math
from typing import Any

from .._context import Reply, RequestContext
from .._faults import (
    DEFAULT_KINDS,
    DEFAULT_SLOW_SECONDS,
    FAULT_KINDS,
    MAX_SLOW_SECONDS,
    FaultConfig,
)
from .._request_input import Field, parse_body


def _check_rate(value: float) -> str | None:
    return None if math.isfinite(value) and 0 <= value <= 1 else "must be between 0 and 1"


def _check_kinds(value: list[Any]) -> str | None:
    if not value or any(kind not in FAULT_KINDS for kind in value):
        return "must be a non-empty list of: " + ", ".join(FAULT_KINDS)
    return None


def _check_slow_seconds(value: float) -> str | None:
    if math.isfinite(value) and 0 <= value <= MAX_SLOW_SECONDS:
        return None
    return f"must be between 0 and {MAX_SLOW_SECONDS:g}"


FAULT_FIELDS = (
    Field("rate", "number", check=_check_rate),
    Field("kinds", "array", check=_check_kinds),
    Field("seed", "integer"),
    Field("slowSeconds", "number", check=_check_slow_seconds),
)


def get_faults(ctx: RequestContext) -> Reply:
    """The configuration, and the counters since it was set."""
    return Reply(200, ctx.services.faults.state())


def set_faults(ctx: RequestContext) -> Reply:
    """Replace the configuration (omitted fields: defaults)."""
    values = parse_body(ctx.body, FAULT_FIELDS)
    faults = ctx.services.faults
    faults.configure(
        FaultConfig(
            rate=values.get("rate", 0.0),
            kinds=tuple(values.get("kinds", DEFAULT_KINDS)),
            seed=values.get("seed"),
            slow_seconds=values.get("slowSeconds", DEFAULT_SLOW_SECONDS),
        )
    )
    return Reply(200, faults.state())
