"""Framework helpers, each exercised through the real framework's test client."""

from __future__ import annotations

import base64
import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

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
    assert response.status_code == 400
    assert "larger than 50 bytes" in response.json()["detail"]["message"]


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
            ALLOWED_HOSTS=["testserver"],
            ROOT_URLCONF=__name__,
            MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
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

    return [
        path("hook/<str:name>", sync_hook),
        path("async", async_hook),
        path("tiny", tiny),
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
    assert response.status_code == 400
    assert "larger than 10 bytes" in response.json()["message"]


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
