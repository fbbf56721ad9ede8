"""Fault injection: make the local server unreliable on purpose.

With a fault rate `r`, each request to the API (`/v1/...` and the recording
downloads; never `/_dev/...`, `/openapi.json`, or a replayed idempotent answer)
draws one number from a seeded random generator just before its handler would
run; with probability `r` it gets one of the configured kinds, chosen uniformly:

- ``429``: 429 `rate_limited` with a small fractional `Retry-After` (0-0.2 s);
  the handler does not run.
- ``500``: 500 `internal`; the handler does not run.
- ``503``: 503 `unavailable` (half of them with `Retry-After` of 0-0.2 s); the
  handler does not run.
- ``drop``: the connection is closed without an answer (the response head is
  written, then the socket is closed mid-body, so HTTP clients report a
  protocol/connection error); the handler does not run.
- ``slow``: the request waits `slow_seconds` (default 3) before its handler
  runs normally, so a client with a shorter timeout gives up while the
  change may still happen later.
- ``after_commit``: the handler runs and commits (the idempotency record
  included), then the answer is replaced by a 503 `unavailable` or a dropped
  connection (chosen by the same generator): the client sees an error
  although the change happened, and a retry with the same `Idempotency-Key`
  is answered with the stored success (`Idempotent-Replayed: true`).

Same seed and same sequence of requests give the same faults. Configure with
`ServerConfig(faults=FaultConfig(...))` (or a mapping, or the spec string
below), `LocalServer(faults=...)`, `LocalServer.set_faults(...)`, the dev
endpoints `POST /_dev/faults` / `GET /_dev/faults` (which also counts the
injected faults per kind), or `baxcloud dev --faults SPEC` where SPEC is
comma-separated `key=value` pairs::

    rate=0.3,kinds=429+503+drop,seed=7,slow_seconds=2.5

(`kinds` joined with `+`; omitted keys keep their defaults: rate 0, every kind
except `slow`, no seed, 3 s.)
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
import random
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ._errors import ApiError

FAULT_KINDS = ("429", "500", "503", "drop", "slow", "after_commit")
DEFAULT_KINDS = ("429", "500", "503", "drop", "after_commit")
DEFAULT_SLOW_SECONDS = 3.0
MAX_SLOW_SECONDS = 600.0
MAX_RETRY_AFTER = 0.2
#: First path segments that are never faulted.
EXEMPT_PREFIXES = frozenset({"_dev", "openapi.json"})

__all__ = [
    "DEFAULT_KINDS",
    "FAULT_KINDS",
    "DropConnection",
    "FaultConfig",
    "FaultInjector",
    "parse_fault_spec",
    "to_fault_config",
]


def _to_kinds(value: Iterable[str | int] | str) -> tuple[str, ...]:
    items = value.replace("+", ",").split(",") if isinstance(value, str) else value
    kinds: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise TypeError("fault kinds must be strings such as '429' or 'drop'")
        kind = str(item).strip()
        if kind and kind not in kinds:
            kinds.append(kind)
    return tuple(kinds)


def _check_rate(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("fault rate must be a number between 0 and 1")
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise ValueError("fault rate must be a number between 0 and 1")


def _check_kinds(instance: object, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    unknown = [kind for kind in value if kind not in FAULT_KINDS]
    if unknown:
        raise ValueError(
            f"unknown fault kind {unknown[0]!r}; known kinds: {', '.join(FAULT_KINDS)}"
        )
    if not value:
        raise ValueError("at least one fault kind is needed")


def _check_seed(instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError("fault seed must be an int or None")


def _check_slow(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("slow_seconds must be a number")
    if not (math.isfinite(value) and 0 <= value <= MAX_SLOW_SECONDS):
        raise ValueError(f"slow_seconds must be between 0 and {MAX_SLOW_SECONDS:g}")


@attrs.frozen(kw_only=True)
class FaultConfig:
    """Which faults the server injects (see the module docstring for the kinds).

    rate: probability (0-1) that an eligible request gets a fault; 0 is off.
    kinds: the kinds to choose from (uniformly): any of `FAULT_KINDS`.
    seed: seeds the generator, for reproducible runs; None is random.
    slow_seconds: how long a `slow` fault delays the handler.
    """

    rate: float = attrs.field(default=0.0, validator=_check_rate)
    kinds: tuple[str, ...] = attrs.field(
        default=DEFAULT_KINDS, converter=_to_kinds, validator=_check_kinds
    )
    seed: int | None = attrs.field(default=None, validator=_check_seed)
    slow_seconds: float = attrs.field(default=DEFAULT_SLOW_SECONDS, validator=_check_slow)

    def to_json(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "seed": self.seed,
            "slowSeconds": self.slow_seconds,
        }


_SPEC_KEYS = {"rate", "kinds", "seed", "slow_seconds", "slow"}


def parse_fault_spec(spec: str) -> FaultConfig:
    """`"rate=0.3,kinds=429+503+drop,seed=7,slow_seconds=2"` -> FaultConfig (ValueError if bad)."""
    values: dict[str, Any] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        key, sep, raw = item.partition("=")
        key, raw = key.strip().replace("-", "_"), raw.strip()
        if not sep or key not in _SPEC_KEYS:
            raise ValueError(
                f"bad fault spec item {item.strip()!r}: expected rate=, kinds=, seed= or "
                "slow_seconds= (for example 'rate=0.3,kinds=429+503+drop,seed=7')"
            )
        try:
            if key == "rate":
                values["rate"] = float(raw)
            elif key == "kinds":
                values["kinds"] = raw.split("+")
            elif key == "seed":
                values["seed"] = int(raw)
            else:
                values["slow_seconds"] = float(raw)
        except ValueError:
            raise ValueError(f"bad value for {key} in fault spec: {raw!r}") from None
    try:
        return FaultConfig(**values)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def to_fault_config(value: FaultConfig | Mapping[str, Any] | str | None) -> FaultConfig:
    """Accept a FaultConfig, a mapping of its fields, a spec string, or None (off)."""
    if value is None:
        return FaultConfig()
    if isinstance(value, FaultConfig):
        return value
    if isinstance(value, str):
        return parse_fault_spec(value)
    if isinstance(value, Mapping):
        fields = {("slow_seconds" if k == "slowSeconds" else str(k)): v for k, v in value.items()}
        return FaultConfig(**fields)
    raise TypeError("faults must be a FaultConfig, a mapping, a spec string or None")


class DropConnection(Exception):
    """Raised by the fault hook: the app answers by dropping the connection."""


@attrs.define
class _Pending:
    """Per-request slot the hook fills when the answer must be replaced after the commit."""

    after_commit: str | None = None


_pending: contextvars.ContextVar[_Pending | None] = contextvars.ContextVar(
    "baxcloud_fault_pending", default=None
)


def _unavailable(retry_after: float | None) -> ApiError:
    headers = {} if retry_after is None else {"Retry-After": f"{retry_after:.3f}"}
    return ApiError(
        503, "unavailable", "the service is temporarily unavailable (injected)", headers=headers
    )


class FaultInjector:
    """Decides and applies faults; owned by the app, configured at runtime via `/_dev/faults`."""

    def __init__(self, config: FaultConfig) -> None:
        self.configure(config)

    def configure(self, config: FaultConfig) -> None:
        """Use `config` from now on: restarts the generator and the counters."""
        self.config = config
        self._rng = random.Random(config.seed)  # not for security
        self.requests = 0
        self.injected: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)

    @property
    def active(self) -> bool:
        """Whether any request can get a fault (the hook does nothing otherwise)."""
        return self.config.rate > 0

    # ---- the request pipeline ----------------------------------------------------

    @staticmethod
    def begin_request() -> _Pending:
        """Called by the app when a request starts; the hook fills the returned slot."""
        pending = _Pending()
        _pending.set(pending)
        return pending

    async def hook(self, info: Any) -> None:
        """The request hook (`RequestInfo`): runs just before the handler."""
        config = self.config
        if config.rate <= 0 or (info.path and info.path[0] in EXEMPT_PREFIXES):
            return
        self.requests += 1
        rng = self._rng
        if rng.random() >= config.rate:
            return
        kind = config.kinds[rng.randrange(len(config.kinds))]
        self.injected[kind] += 1
        if kind == "429":
            retry_after = round(rng.uniform(0, MAX_RETRY_AFTER), 3)
            raise ApiError(
                429,
                "rate_limited",
                "too many requests (injected)",
                headers={"Retry-After": f"{retry_after:.3f}"},
            )
        if kind == "500":
            raise ApiError(500, "internal", "internal server error (injected)")
        if kind == "503":
            hint = round(rng.uniform(0, MAX_RETRY_AFTER), 3) if rng.random() < 0.5 else None
            raise _unavailable(hint)
        if kind == "drop":
            raise DropConnection()
        if kind == "slow":
            await asyncio.sleep(config.slow_seconds)
            return
        # after_commit: let the handler run and commit, then spoil the answer.
        pending = _pending.get()
        if pending is not None:
            pending.after_commit = "drop" if rng.random() < 0.5 else "503"

    @staticmethod
    def replacement(pending: _Pending) -> ApiError | None:
        """The error that replaces a committed answer (None: drop the connection)."""
        return _unavailable(None) if pending.after_commit == "503" else None

    # ---- what /_dev/faults shows -----------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            **self.config.to_json(),
            "requests": self.requests,
            "injected": dict(self.injected),
        }


async def drop_connection(send: Any) -> None:
    """Write a response head promising a body, then return without it.

    The server (uvicorn) then closes the socket, so the client sees the
    connection end mid-response. The log line uvicorn writes about it is
    suppressed (only for injected drops).
    """
    _DropLogFilter.install()
    _DropLogFilter.pending += 1
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
        }
    )


class _DropLogFilter(logging.Filter):
    pending = 0
    _installed = False
    MESSAGE = "ASGI callable returned without completing response"

    def filter(self, record: logging.LogRecord) -> bool:
        cls = type(self)
        if cls.pending > 0 and str(record.msg).startswith(self.MESSAGE):
            cls.pending -= 1
            return False
        return True

    @classmethod
    def install(cls) -> None:
        if not cls._installed:
            cls._installed = True
            logging.getLogger("uvicorn.error").addFilter(cls())
