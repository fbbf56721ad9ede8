"""Framework helpers, each exercised through the real framework's test client."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import logging
import sys
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any

import pytest
from fastapi import Request  # module level, like VerifiedWebhook below
from helpers import WAIT, serve_asgi

from baxcloud import WebhookVerificationError
from baxcloud.webhooks import ParticipantJoinedEvent, WebhookEvent, sign
from baxcloud.webhooks.fastapi import VerifiedWebhook  # module level: FastAPI resolves it by name

SECRET = "whsec_" + base64.b64encode(b"f" * 32).decode()
OTHER = "whsec_" + base64.b64encode(b"o" * 32).decode()
BODY = json.dumps(
    {
        "id": "evt_1",
        "event": "participant.joined",
        "createdAt": 1764460800,
        "data": {"roomName": "r", "roomSid": "RM_1", "identity": "u", "participantSid": "PA_1"},
    }
).encode()


def good_headers(secret: str = SECRET) -> dict[str, str]:
    return sign(BODY, secret)


def bad_cases() -> list[tuple[str, bytes, dict[str, str]]]:
    headers = good_headers()
    return [
        ("wrong secret", BODY, good_headers(OTHER)),
        ("tampered", BODY.replace(b'"u"', b'"v"'), headers),
        ("no headers", BODY, {"content-type": "application/json"}),
        ("stale", BODY, sign(BODY, SECRET, timestamp=int(time.time()) - 3600)),
        ("garbage signature", BODY, {**headers, "webhook-signature": "v1,%%%"}),
    ]


def assert_error_body(payload: Any) -> None:
    assert payload["error"] == "webhook_verification_failed"
    text = json.dumps(payload)
    for secret in (SECRET, SECRET[6:], OTHER[6:]):
        assert secret not in text
    assert good_headers()["webhook-signature"][3:] not in text


@pytest.fixture(autouse=True)
def _no_env_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BAXCLOUD_WEBHOOK_SECRET", raising=False)


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """The async tests here drive aiohttp, which runs on asyncio only."""
    return "asyncio"


@pytest.fixture
async def aiohttp_client() -> AsyncIterator[Callable[[Any], Awaitable[Any]]]:
    """Serve an aiohttp app on loopback; return aiohttp's test client for it."""
    from aiohttp.test_utils import TestClient, TestServer

    started: list[TestClient[Any, Any]] = []

    async def start(app: Any) -> TestClient[Any, Any]:
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        started.append(client)
        return client

    yield start
    for client in started:
        await client.close()


# -- FastAPI -----------------------------------------------------------------


def fastapi_client(dependency: Any) -> Any:
    from fastapi import Depends, FastAPI
    from fastapi.testclient import TestClient

    app = FastAPI()

    @app.post("/hook")
    async def hook(event: WebhookEvent = Depends(dependency)) -> dict[str, str]:  # noqa: B008
        assert isinstance(event, ParticipantJoinedEvent)
        return {"got": event.id, "identity": event.data.identity}

    return TestClient(app)


def test_fastapi_dependency() -> None:
    from baxcloud.webhooks.fastapi import verified_webhook

    client = fastapi_client(verified_webhook(SECRET))
    response = client.post("/hook", content=BODY, headers=good_headers())
    assert response.status_code == 200
    assert response.json() == {"got": "evt_1", "identity": "u"}
    for name, body, headers in bad_cases():
        response = client.post("/hook", content=body, headers=headers)
        assert response.status_code == 400, name
        assert_error_body(response.json()["detail"])


def test_fastapi_annotated_alias_reads_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    app = FastAPI()

    @app.post("/hook")
    async def hook(event: VerifiedWebhook) -> dict[str, str]:
        return {"got": event.event}

    client = TestClient(app)
    response = client.post("/hook", content=BODY, headers=good_headers())
    assert response.status_code == 500
    assert SECRET[6:] not in response.text
    monkeypatch.setenv("BAXCLOUD_WEBHOOK_SECRET", f"{OTHER} {SECRET}")
    response = client.post("/hook", content=BODY, headers=good_headers())
    assert response.status_code == 200
    assert response.json() == {"got": "participant.joined"}


def test_fastapi_size_cap() -> None:
    from baxcloud.webhooks.fastapi import verified_webhook

    client = fastapi_client(verified_webhook(SECRET, max_body_bytes=50))
    response = client.post("/hook", content=BODY, headers=good_headers())
    assert response.status_code == 413
    assert response.json()["detail"] == {
        "error": "webhook_payload_too_large",
        "message": "payload is larger than 50 bytes",
    }


# -- aiohttp -----------------------------------------------------------------


async def test_aiohttp_handler_decorator(aiohttp_client: Any) -> None:
    from aiohttp import web

    from baxcloud.webhooks.aiohttp import verify_request, webhook_handler

    third = "whsec_" + base64.b64encode(b"t" * 24).decode()

    @webhook_handler(secret=[third, SECRET])
    async def hook(request: web.Request, event: WebhookEvent) -> web.StreamResponse:
        assert isinstance(event, ParticipantJoinedEvent)
        return web.json_response({"got": event.id})

    async def manual(request: web.Request) -> web.StreamResponse:
        try:
            event = await verify_request(request, SECRET)
        except WebhookVerificationError:
            return web.Response(status=418)
        return web.json_response({"manual": event.id})

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_post("/manual", manual)
    client = await aiohttp_client(app)

    response = await client.post("/hook", data=BODY, headers=good_headers())
    assert response.status == 200
    assert await response.json() == {"got": "evt_1"}
    response = await client.post("/manual", data=BODY, headers=good_headers())
    assert await response.json() == {"manual": "evt_1"}
    for name, body, headers in bad_cases():
        response = await client.post("/hook", data=body, headers=headers)
        assert response.status == 400, name
        assert_error_body(await response.json())
        response = await client.post("/manual", data=body, headers=headers)
        assert response.status == 418, name


async def test_aiohttp_without_secret_is_500(aiohttp_client: Any) -> None:
    from aiohttp import web

    from baxcloud.webhooks.aiohttp import webhook_handler

    @webhook_handler()
    async def hook(request: web.Request, event: WebhookEvent) -> web.StreamResponse:
        raise AssertionError("must not be called")

    app = web.Application()
    app.router.add_post("/hook", hook)
    client = await aiohttp_client(app)
    response = await client.post("/hook", data=BODY, headers=good_headers())
    assert response.status == 500


# -- Flask -------------------------------------------------------------------


def flask_app(decorator: Callable[[Any], Any]) -> Any:
    from flask import Flask, request

    app = Flask(__name__)

    @app.post("/hook/<name>")
    @decorator
    def hook(event: WebhookEvent, name: str) -> dict[str, Any]:
        assert isinstance(event, ParticipantJoinedEvent)
        # get_data(cache=True): the raw body is still there for the view.
        return {"got": event.id, "name": name, "raw": len(request.get_data())}

    return app


def test_flask_view_decorator() -> None:
    from baxcloud.webhooks.flask import webhook_view

    client = flask_app(webhook_view(SECRET)).test_client()
    response = client.post("/hook/x", data=BODY, headers=good_headers())
    assert response.status_code == 200
    assert response.get_json() == {"got": "evt_1", "name": "x", "raw": len(BODY)}
    for name, body, headers in bad_cases():
        response = client.post("/hook/x", data=body, headers=headers)
        assert response.status_code == 400, name
        assert_error_body(response.get_json())
    response = client.post("/hook/x", data=BODY + b" " * 100, headers=good_headers())
    assert response.status_code == 400


def test_flask_env_secret_and_missing_secret(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from baxcloud.webhooks.flask import webhook_view

    caplog.set_level(logging.DEBUG, logger="baxcloud")
    client = flask_app(webhook_view()).test_client()
    assert client.post("/hook/x", data=BODY, headers=good_headers()).status_code == 500
    monkeypatch.setenv("BAXCLOUD_WEBHOOK_SECRET", "whsec_tooshort")
    response = client.post("/hook/x", data=BODY, headers=good_headers())
    assert response.status_code == 500
    assert "tooshort" not in response.text
    monkeypatch.setenv("BAXCLOUD_WEBHOOK_SECRET", SECRET)
    assert client.post("/hook/x", data=BODY, headers=good_headers()).status_code == 200
    assert client.post("/hook/x", data=BODY, headers=good_headers(OTHER)).status_code == 400
    assert "tooshort" not in caplog.text
    assert SECRET[6:] not in caplog.text
    assert "webhook rejected" in caplog.text


def test_decorators_check_explicit_secret_and_parentheses() -> None:
    from baxcloud.webhooks import aiohttp, django, fastapi, flask

    for factory in (flask.webhook_view, django.webhook_view, aiohttp.webhook_handler):
        with pytest.raises(WebhookVerificationError) as info:
            factory("whsec_bad!")
        assert "bad!" not in str(info.value)
        with pytest.raises(TypeError, match="parentheses"):
            factory(lambda event: None)  # type: ignore[arg-type]
    with pytest.raises(WebhookVerificationError):
        fastapi.verified_webhook("nope")
    assert SECRET not in repr(fastapi.verified_webhook(SECRET))


# -- Django ------------------------------------------------------------------


def _django() -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="django-test-only",
            ALLOWED_HOSTS=["testserver", "127.0.0.1"],
            ROOT_URLCONF=__name__,
            MIDDLEWARE=[
                "django.middleware.common.CommonMiddleware",
                "django.middleware.csrf.CsrfViewMiddleware",
            ],
            INSTALLED_APPS=[],
            DATA_UPLOAD_MAX_MEMORY_SIZE=None,
        )
        import django

        django.setup()


def _django_views() -> list[Any]:
    from django.http import HttpRequest, HttpResponse, JsonResponse
    from django.urls import path

    from baxcloud.webhooks.django import webhook_view

    @webhook_view(SECRET)
    def sync_hook(request: HttpRequest, event: WebhookEvent, name: str) -> HttpResponse:
        assert isinstance(event, ParticipantJoinedEvent)
        return JsonResponse({"got": event.id, "name": name, "raw": len(request.body)})

    @webhook_view(SECRET)
    async def async_hook(request: HttpRequest, event: WebhookEvent) -> HttpResponse:
        return JsonResponse({"async": event.id})

    @webhook_view(SECRET, max_body_bytes=10)
    def tiny(request: HttpRequest, event: WebhookEvent) -> HttpResponse:
        raise AssertionError("must not be called")

    @webhook_view(SECRET, max_body_bytes=CAP)
    def capped(request: HttpRequest, event: WebhookEvent) -> HttpResponse:
        return JsonResponse({"got": event.id, "raw": len(request.body)})

    return [
        path("hook/<str:name>", sync_hook),
        path("async", async_hook),
        path("tiny", tiny),
        path("capped", capped),
    ]


urlpatterns: list[Any] = []


def test_django_view_decorator_with_csrf_enforced() -> None:
    _django()
    urlpatterns[:] = _django_views()
    from django.test import Client

    client = Client(enforce_csrf_checks=True)

    def post(url: str, body: bytes, headers: dict[str, str]) -> Any:
        return client.post(
            url,
            data=body,
            content_type="application/json",
            headers={k: v for k, v in headers.items() if k != "content-type"},
        )

    response = post("/hook/x", BODY, good_headers())
    assert response.status_code == 200, response.content
    assert response.json() == {"got": "evt_1", "name": "x", "raw": len(BODY)}
    response = post("/async", BODY, good_headers())
    assert response.status_code == 200
    assert response.json() == {"async": "evt_1"}
    for name, body, headers in bad_cases():
        response = post("/hook/x", body, headers)
        assert response.status_code == 400, name
        assert_error_body(response.json())
        assert post("/async", body, headers).status_code == 400
    response = post("/tiny", BODY, good_headers())
    assert response.status_code == 413
    assert response.json() == {
        "error": "webhook_payload_too_large",
        "message": "payload is larger than 10 bytes",
    }


def test_django_request_factory() -> None:
    _django()
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory

    from baxcloud.webhooks.django import webhook_view

    seen: list[WebhookEvent] = []

    @webhook_view(SECRET)
    def hook(request: HttpRequest, event: WebhookEvent) -> HttpResponse:
        seen.append(event)
        return HttpResponse(status=204)

    assert getattr(hook, "csrf_exempt", False) is True
    request = RequestFactory().post(
        "/", data=BODY, content_type="application/json", headers=good_headers()
    )
    assert hook(request).status_code == 204
    assert [e.id for e in seen] == ["evt_1"]
    assert hook(RequestFactory().post("/", data=BODY, content_type="x/y")).status_code == 400


def test_framework_modules_import_their_framework_only_when_imported() -> None:
    import subprocess

    code = (
        "import sys, baxcloud.webhooks; "
        "print([m for m in ('fastapi', 'starlette', 'aiohttp', 'flask', 'django') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- bodies over the cap, sent to real servers --------------------------------
#
# Each receiver runs on a real loopback server (uvicorn, aiohttp, Werkzeug's WSGI
# server) and gets a real request, chunked or with Content-Length, whose body comes
# from a generator that counts the bytes the client pulled from it. A receiver that
# stops at the cap lets the client push only what the sockets buffer; one that reads
# the whole body pulls all of it and holds it in memory (the servers run in this
# process, so tracemalloc sees them).

CAP = 64 * 1024
OFFERED = 64 * 1024 * 1024  # what an oversized sender offers
PIECE = b"x" * (64 * 1024)
TOO_LARGE = {"error": "webhook_payload_too_large", "message": f"payload is larger than {CAP} bytes"}


def exact_body(size: int) -> bytes:
    """A valid event body of exactly `size` bytes (JSON allows trailing whitespace)."""
    return BODY + b" " * (size - len(BODY))


def pieces_of(body: bytes, size: int = 4096) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


class Sent:
    """One streamed POST: the response, the bytes the client pulled, peak traced memory."""

    def __init__(self, response: Any, pulled: int, peak: int) -> None:
        self.response = response
        self.pulled = pulled
        self.peak = peak


def post_stream(
    url: str, pieces: Iterable[bytes], *, length: int | None, headers: dict[str, str] | None = None
) -> Sent:
    """POST `pieces` chunked (`length=None`) or with that Content-Length."""
    import httpx

    pulled = 0

    def body() -> Iterator[bytes]:
        nonlocal pulled
        for piece in pieces:
            pulled += len(piece)
            yield piece

    sent_headers = dict(headers or {})
    if length is not None:
        sent_headers["content-length"] = str(length)
    tracemalloc.start()
    try:
        with httpx.Client(timeout=30) as client:  # a hang guard
            response = client.post(url, content=body(), headers=sent_headers)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return Sent(response, pulled, peak)


Probe = Callable[[Sent], tuple[int, int]]


def client_side(sent: Sent) -> tuple[int, int]:
    """(bytes the server took, peak memory) seen from the client.

    For servers that close the connection after the 413 instead of draining the rest.
    """
    return sent.pulled, sent.peak


def check_capped_receiver(url: str, error_of: Callable[[Any], Any], probe: Probe) -> None:
    """413 without reading the rest, with and without Content-Length; the cap itself verifies."""
    for length in (None, OFFERED):
        sent = post_stream(url, itertools.repeat(PIECE, OFFERED // len(PIECE)), length=length)
        assert sent.response.status_code == 413, (length, sent.response.text)
        assert error_of(sent.response.json()) == TOO_LARGE
        assert sent.response.headers["connection"] == "close"
        consumed, peak = probe(sent)
        assert consumed < OFFERED // 8, (length, consumed)
        assert peak < OFFERED // 8, (length, peak)
    for size, status in ((CAP, 200), (CAP + 1, 413)):
        body = exact_body(size)
        for length in (None, size):
            sent = post_stream(url, pieces_of(body), length=length, headers=sign(body, SECRET))
            assert sent.response.status_code == status, (size, length, sent.response.text)
            if status == 200:  # the handler can still read the raw body itself
                assert sent.response.json() == {"got": "evt_1", "raw": size}
            else:
                assert error_of(sent.response.json()) == TOO_LARGE


class WSGIProbe:
    """Wraps a WSGI app: the body bytes it read, and its peak memory while it ran.

    Measured at the app because Werkzeug's server, after answering, reads and
    discards whatever the client still sends (so that the client sees the 413), in
    10 MB reads of its own.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.consumed = 0
        self.peak = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.consumed = 0
        environ["wsgi.input"] = CountedInput(environ["wsgi.input"], self)
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        try:
            return self.app(environ, start_response)
        finally:
            self.peak = tracemalloc.get_traced_memory()[1] - base

    def measure(self, sent: Sent) -> tuple[int, int]:
        return self.consumed, self.peak


class CountedInput:
    """A WSGI input that adds what is read from it to a probe's count."""

    def __init__(self, stream: Any, probe: WSGIProbe) -> None:
        self._stream = stream
        self._probe = probe

    def read(self, size: int = -1) -> bytes:
        return self._count(self._stream.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._count(self._stream.readline(size))

    def _count(self, data: bytes) -> bytes:
        self._probe.consumed += len(data)
        return data


@contextlib.contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """Werkzeug's WSGI server (it de-chunks request bodies) on loopback, in a thread."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(WAIT)
        server.server_close()


@contextlib.contextmanager
def serve_aiohttp(app: Any, **handler_options: Any) -> Iterator[str]:
    """aiohttp's server on loopback, on an event loop in a thread."""
    from aiohttp import web

    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, **handler_options)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(WAIT)
        loop.run_until_complete(runner.cleanup())
        loop.close()


def test_fastapi_stops_reading_at_the_cap() -> None:
    from fastapi import Depends, FastAPI

    from baxcloud.webhooks.fastapi import verified_webhook

    app = FastAPI()
    capped = verified_webhook(SECRET, max_body_bytes=CAP)

    @app.post("/hook")
    async def hook(request: Request, event: WebhookEvent = Depends(capped)) -> dict[str, Any]:  # noqa: B008
        return {"got": event.id, "raw": len(await request.body())}

    # uvicorn closes the connection after the 413 (Connection: close) without reading on.
    with serve_asgi(app, path="/hook") as url:
        check_capped_receiver(url, lambda payload: payload["detail"], client_side)


def test_aiohttp_stops_reading_at_the_cap() -> None:
    from aiohttp import web

    from baxcloud.webhooks.aiohttp import webhook_handler

    @webhook_handler(SECRET, max_body_bytes=CAP)
    async def hook(request: web.Request, event: WebhookEvent) -> web.StreamResponse:
        return web.json_response({"got": event.id, "raw": len(await request.read())})

    def app() -> web.Application:
        application = web.Application(client_max_size=1024**3)  # large uploads elsewhere
        application.router.add_post("/hook", hook)
        return application

    # By default aiohttp reads and discards an unread body for up to 10 s after
    # answering (its lingering close); without that, what the client could push is
    # what the helper read.
    with serve_aiohttp(app(), lingering_time=0) as url:
        check_capped_receiver(url + "/hook", lambda payload: payload, client_side)
    # With it, the helper still holds no more than the cap.
    with serve_aiohttp(app()) as url:
        sent = post_stream(
            url + "/hook", itertools.repeat(PIECE, OFFERED // len(PIECE)), length=None
        )
        assert sent.response.status_code == 413
        assert sent.peak < OFFERED // 8


def test_flask_stops_reading_at_the_cap() -> None:
    from flask import Flask, request

    from baxcloud.webhooks.flask import webhook_view

    app = Flask(__name__)

    @app.post("/hook")
    @webhook_view(SECRET, max_body_bytes=CAP)
    def hook(event: WebhookEvent) -> dict[str, Any]:
        return {"got": event.id, "raw": len(request.get_data())}

    probe = WSGIProbe(app)
    with serve_wsgi(probe) as url:
        check_capped_receiver(url + "/hook", lambda payload: payload, probe.measure)


def test_django_stops_reading_at_the_cap() -> None:
    _django()
    urlpatterns[:] = _django_views()
    from django.core.wsgi import get_wsgi_application

    probe = WSGIProbe(get_wsgi_application())
    with serve_wsgi(probe) as url:
        check_capped_receiver(url + "/capped", lambda payload: payload, probe.measure)


def test_django_under_asgi_holds_no_more_than_the_cap() -> None:
    _django()
    urlpatterns[:] = _django_views()
    from django.core.asgi import get_asgi_application

    # Under ASGI Django spools the whole body to a temporary file (on disk past
    # FILE_UPLOAD_MAX_MEMORY_SIZE) before any view runs; the helper then reads at most
    # the cap of it.
    with serve_asgi(get_asgi_application(), path="/capped") as url:
        for length in (None, OFFERED):
            sent = post_stream(url, itertools.repeat(PIECE, OFFERED // len(PIECE)), length=length)
            assert sent.response.status_code == 413
            assert sent.response.json() == TOO_LARGE
            assert sent.peak < OFFERED // 8, (length, sent.peak)
        body = exact_body(CAP)
        sent = post_stream(url, pieces_of(body), length=None, headers=sign(body, SECRET))
        assert sent.response.json() == {"got": "evt_1", "raw": CAP}


async def test_the_frameworks_own_smaller_limits_still_apply(aiohttp_client: Any) -> None:
    from aiohttp import web
    from django.test import override_settings
    from flask import Flask

    from baxcloud.webhooks import aiohttp, django, flask

    too_large = {
        "error": "webhook_payload_too_large",
        "message": "payload is larger than 100 bytes",
    }

    @aiohttp.webhook_handler(SECRET)
    async def hook(request: web.Request, event: WebhookEvent) -> web.StreamResponse:
        raise AssertionError("must not be called")

    app = web.Application(client_max_size=100)
    app.router.add_post("/hook", hook)
    client = await aiohttp_client(app)

    async def chunked() -> AsyncIterator[bytes]:
        yield BODY

    for data in (BODY, chunked()):  # with Content-Length, then chunked
        response = await client.post("/hook", data=data, headers=good_headers())
        assert response.status == 413
        assert await response.json() == too_large

    flask_app = Flask(__name__)
    flask_app.config["MAX_CONTENT_LENGTH"] = 100
    flask_app.post("/hook")(flask.webhook_view(SECRET)(lambda event: ("", 204)))
    response = flask_app.test_client().post("/hook", data=BODY, headers=good_headers())
    assert response.status_code == 413
    assert response.get_json() == too_large

    _django()
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory

    @django.webhook_view(SECRET)
    def view(request: HttpRequest, event: WebhookEvent) -> HttpResponse:
        raise AssertionError("must not be called")

    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100):
        request = RequestFactory().post(
            "/", data=BODY, content_type="application/json", headers=good_headers()
        )
        response = view(request)
    assert response.status_code == 413
    assert json.loads(response.content) == too_large


def test_verify_raises_the_too_large_subclass() -> None:
    from baxcloud.webhooks import WebhookPayloadTooLargeError, verify

    for payload in (BODY, BODY.decode()):
        with pytest.raises(WebhookPayloadTooLargeError, match="larger than 10 bytes") as info:
            verify(payload, good_headers(), SECRET, max_body_bytes=10)
        assert isinstance(info.value, WebhookVerificationError)
        assert info.value.limit == 10
