"""OpenTelemetry spans of SDK calls (docs/tracing.md), recorded by the SDK's in-memory exporter."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import resolve, unique
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from test_recordings import completed_recording

from baxcloud import (
    AsyncBaxCloud,
    AuthenticationError,
    BaxCloudError,
    NotFoundError,
    RateLimitError,
)
from baxcloud.testing import LocalServer

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def tracer_provider() -> Iterator[None]:
    # The global provider can be set once per process; later tests keep using it, and
    # their spans go nowhere once the exporter is shut down.
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    yield
    _EXPORTER.shutdown()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def ours(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name.startswith("baxcloud.")]


def attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


async def test_a_call_makes_one_client_span(bx: Any, spans: InMemorySpanExporter) -> None:
    name = unique("traced")
    await resolve(bx.rooms.create(name=name))
    (span,) = ours(spans)
    assert span.name == "baxcloud.rooms.create"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    found = attributes(span)
    assert found["http.response.status_code"] == 201
    assert found["baxcloud.retry_count"] == 0
    assert str(found["baxcloud.request_id"]).startswith("req_")
    assert "error.type" not in found


async def test_a_failed_call_has_an_error_span(bx: Any, spans: InMemorySpanExporter) -> None:
    with pytest.raises(NotFoundError) as info:
        await resolve(bx.rooms.get(unique("missing")))
    (span,) = ours(spans)
    assert span.name == "baxcloud.rooms.get"
    assert span.status.status_code is StatusCode.ERROR
    found = attributes(span)
    assert found["error.type"] == "NotFoundError"
    assert found["http.response.status_code"] == 404
    assert found["baxcloud.request_id"] == info.value.request_id
    assert [event.name for event in span.events] == ["exception"]


async def test_spans_nest_under_the_callers_span(bx: Any, spans: InMemorySpanExporter) -> None:
    # The blocking client runs the call on another loop (a portal thread here, since
    # this test's loop is running): the caller's span is still the parent.
    with trace.get_tracer("tests").start_as_current_span("caller") as caller:
        await resolve(bx.rooms.create(name=unique("nested")))
    (span,) = ours(spans)
    assert span.parent is not None
    assert span.parent.span_id == caller.get_span_context().span_id
    assert span.context.trace_id == caller.get_span_context().trace_id


def test_blocking_call_on_the_calling_thread(sync_client: Any, spans: InMemorySpanExporter) -> None:
    caller_span = trace.get_tracer("tests").start_as_current_span("caller")
    with caller_span as caller, pytest.raises(NotFoundError):
        sync_client.participants.get(unique("missing"), "nobody")
    (span,) = ours(spans)
    assert span.name == "baxcloud.participants.get"
    assert span.parent is not None
    assert span.parent.span_id == caller.get_span_context().span_id
    assert attributes(span)["error.type"] == "NotFoundError"


async def test_each_page_fetch_is_a_span(bx: Any, spans: InMemorySpanExporter) -> None:
    prefix = unique("paged")
    for i in range(3):
        await resolve(bx.rooms.create(name=f"{prefix}-{i}"))
    spans.clear()
    pager = bx.rooms.list(limit=1)
    first = await resolve(pager)
    second = await resolve(first.next_page())
    assert second is not None
    names = [s.name for s in ours(spans)]
    assert names == ["baxcloud.rooms.list", "baxcloud.rooms.list"]
    assert all(attributes(s)["http.response.status_code"] == 200 for s in ours(spans))


async def test_retries_are_counted(fresh_server: LocalServer, spans: InMemorySpanExporter) -> None:
    async with fresh_server.async_client(max_retries=2) as client:
        fresh_server.set_faults(rate=1, kinds=["429"], seed=1)
        with pytest.raises(RateLimitError):
            await client.rooms.get("anything")
        injected = fresh_server.faults()["injected"]
        fresh_server.set_faults()
        (failed,) = ours(spans)
        assert attributes(failed)["baxcloud.retry_count"] == 2 == injected["429"] - 1
        assert attributes(failed)["http.response.status_code"] == 429
        assert attributes(failed)["error.type"] == "RateLimitError"

        spans.clear()
        name = unique("retried")
        fresh_server.set_faults(rate=0.5, kinds=["429"], seed=3)
        await client.with_options(max_retries=10).rooms.create(name=name)
        injected = fresh_server.faults()["injected"]
        fresh_server.set_faults()
    (succeeded,) = ours(spans)
    found = attributes(succeeded)
    assert found["baxcloud.retry_count"] == injected.get("429", 0) >= 1
    assert found["http.response.status_code"] == 201
    assert succeeded.status.status_code is StatusCode.UNSET


async def test_http_attempts_nest_under_the_call(
    server: LocalServer, spans: InMemorySpanExporter
) -> None:
    http = httpx.AsyncClient()
    HTTPXClientInstrumentor.instrument_client(http)
    try:
        async with server.async_client(http_client=http) as client:
            await client.rooms.create(name=unique("httpx"))
    finally:
        HTTPXClientInstrumentor.uninstrument_client(http)
        await http.aclose()
    (call,) = ours(spans)
    attempts = [s for s in spans.get_finished_spans() if s is not call]
    assert len(attempts) == 1
    assert attempts[0].parent is not None
    assert attempts[0].parent.span_id == call.context.span_id


async def test_download_span(
    media: Any, media_server: LocalServer, spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    done = await completed_recording(media, media_server, unique("traced-dl"))
    spans.clear()
    path = await resolve(media.recordings.download(done.id, tmp_path / "out.mp4"))
    assert path.stat().st_size == done.size_bytes
    # The recording and its URL are fetched by calls of their own, child spans.
    by_name = {s.name: s for s in ours(spans)}
    download = by_name.pop("baxcloud.recordings.download")
    assert sorted(by_name) == ["baxcloud.recordings.get", "baxcloud.recordings.get_download_url"]
    for child in by_name.values():
        assert child.parent is not None and child.parent.span_id == download.context.span_id
    assert attributes(download)["http.response.status_code"] == 200
    assert attributes(download)["baxcloud.retry_count"] == 0


async def test_spans_hold_no_api_key(server: LocalServer, spans: InMemorySpanExporter) -> None:
    wrong = "bax_sk_tracing_" + "w" * 48
    async with AsyncBaxCloud(api_key=wrong, base_url=server.base_url) as client:
        with pytest.raises(AuthenticationError):
            await client.rooms.get("anything")
    (span,) = ours(spans)
    text = json.dumps(
        [attributes(span), [dict(e.attributes or {}) for e in span.events], span.status.description]
    )
    assert "error.type" in text and wrong not in text and "w" * 48 not in text


def test_local_calls_make_no_span(sync_client: Any, spans: InMemorySpanExporter) -> None:
    token = sync_client.tokens.create(room_name="local", participant_identity="me")
    sync_client.tokens.verify(token.token)
    assert ours(spans) == []


def test_without_opentelemetry_imported_nothing_imports_it() -> None:
    code = """
import sys, httpx
from baxcloud import AsyncBaxCloud, BaxCloud
import asyncio

def answer(request):
    return httpx.Response(404, json={"error": {"code": "room_not_found", "message": "no"}})

async def main():
    transport = httpx.MockTransport(answer)
    client = AsyncBaxCloud(api_key="bax_sk_subprocess_" + "s" * 48, base_url="http://x",
                           http_client=httpx.AsyncClient(transport=transport))
    try:
        await client.rooms.get("r")
    except Exception as exc:
        print(type(exc).__name__)

asyncio.run(main())
print(sorted(m for m in sys.modules if m.startswith("opentelemetry")))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["NotFoundError", "[]"], done.stderr


def test_a_closed_blocking_client_leaves_no_coroutine_unawaited(
    server: LocalServer, spans: InMemorySpanExporter
) -> None:
    client = server.client()
    client.close()
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(BaxCloudError, match="closed"):
            client.rooms.get("x")
        with pytest.raises(BaxCloudError, match="closed"):
            client.rooms.list()
        gc.collect()
    assert [w for w in caught if "never awaited" in str(w.message)] == []
    assert ours(spans) == []  # the call never started
