"""OpenTelemetry spans for SDK calls, with the optional `otel` extra (docs/tracing.md).

One CLIENT span per call that goes over the network, named `baxcloud.<namespace>.<method>`,
current while the call's HTTP attempts run (an httpx instrumentation nests its spans
under it). `resource.py` starts it, `pipeline.py` and `retry.py` report what happened.

Nothing here imports opentelemetry before the program itself has: tracing is on once
`opentelemetry.trace` is in `sys.modules`. A program that never imported it cannot have
set a tracer provider, so its spans would be no-ops anyway; until then each call pays
one dictionary lookup and one context variable read (`response`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Tracer

T = TypeVar("T")

# Tracing is on while this module is in `sys.modules` (resource.py checks, per call).
API_MODULE = "opentelemetry.trace"

ATTR_REQUEST_ID = "baxcloud.request_id"
ATTR_RETRY_COUNT = "baxcloud.retry_count"
ATTR_STATUS_CODE = "http.response.status_code"
ATTR_ERROR_TYPE = "error.type"


class _Outcome:
    """What the pipeline reports about the call whose span is current."""

    __slots__ = ("request_id", "retries", "status")

    def __init__(self) -> None:
        self.status: int | None = None
        self.request_id: str | None = None
        self.retries = 0


_outcome: ContextVar[_Outcome | None] = ContextVar("baxcloud_span_outcome", default=None)
# The name of the list call being set up, for the spans of its page fetches.
_list_call: ContextVar[str | None] = ContextVar("baxcloud_list_call", default=None)


def traced(call: str, start: Callable[[], Awaitable[T]]) -> Coroutine[Any, Any, T]:
    """`start()` awaited inside a span named `baxcloud.<call>`; only once tracing is on.

    The parent is the context current now, when the call is made: a blocking call
    runs its coroutine on another thread's loop, where the caller's context is not.
    `start` makes the call's coroutine only once this one runs, so that closing this
    one unstarted (a closed blocking client does) leaves no coroutine never awaited.
    """
    from opentelemetry import context

    return _run_in_span(f"baxcloud.{call}", start, context.get_current())


async def _run_in_span(name: str, start: Callable[[], Awaitable[T]], parent: Context) -> T:
    from opentelemetry import context, trace

    span = _tracer().start_span(name, context=parent, kind=trace.SpanKind.CLIENT)
    outcome = _Outcome()
    token = _outcome.set(outcome)
    attached = context.attach(trace.set_span_in_context(span, parent))
    try:
        result = await start()
    except BaseException as exc:
        _finish(span, outcome, exc)
        raise
    else:
        _finish(span, outcome, None)
        return result
    finally:
        context.detach(attached)
        _outcome.reset(token)
        span.end()


def _finish(span: Any, outcome: _Outcome, exc: BaseException | None) -> None:
    from opentelemetry.trace import Status, StatusCode

    status, request_id = outcome.status, outcome.request_id
    if exc is not None:
        # A status error carries the answer that ended the call.
        status = getattr(exc, "status_code", None) or status
        request_id = getattr(exc, "request_id", None) or request_id
    span.set_attribute(ATTR_RETRY_COUNT, outcome.retries)
    if status is not None:
        span.set_attribute(ATTR_STATUS_CODE, status)
    if request_id is not None:
        span.set_attribute(ATTR_REQUEST_ID, request_id)
    if exc is not None:
        span.set_attribute(ATTR_ERROR_TYPE, type(exc).__name__)
        # SDK errors never quote a secret (errors.py), so their text may go in the span.
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:500]))


def response(status: int, request_id: str | None) -> None:
    """The pipeline got a final answer: its status code and request id go on the span."""
    outcome = _outcome.get()
    if outcome is not None:
        outcome.status = status
        outcome.request_id = request_id


def retried() -> None:
    """One more retry of the current call."""
    outcome = _outcome.get()
    if outcome is not None:
        outcome.retries += 1


def list_call() -> str | None:
    """The name of the list call now building its pager (set by `naming_list_call`)."""
    return _list_call.get()


@contextlib.contextmanager
def naming_list_call(call: str) -> Iterator[None]:
    """While a list method builds its pager, the name its page fetches' spans take."""
    token = _list_call.set(call)
    try:
        yield
    finally:
        _list_call.reset(token)


_cached_tracer: Tracer | None = None


def _tracer() -> Tracer:
    global _cached_tracer
    if _cached_tracer is None:
        from opentelemetry import trace

        from .._version import get_version

        # A proxy until a provider is set, then the provider's tracer: safe to keep.
        _cached_tracer = trace.get_tracer("baxcloud", get_version())
    return _cached_tracer
