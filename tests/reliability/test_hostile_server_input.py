"""Hostile input to the local server.

schemathesis generates requests (valid and invalid) for every operation of the
server's own `/openapi.json` and runs them in-process against the ASGI app with
the API key: no 5xx, and every response conforms to the document (status code,
content type, headers, body schema). Plus the hand-written hostile cases:
malformed JSON, oversized bodies, unknown paths. The CI run keeps examples few
per operation; the `slow` variant runs many more.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from baxcloud._server import LocalBaxCloudApp, ServerConfig

APP = LocalBaxCloudApp(ServerConfig(manual_clock=True, egress_start_delay=0, egress_stop_delay=0))
AUTH = {"Authorization": f"Bearer {APP.api_key}"}
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Not `negative_data_rejection`: it counts unknown query parameters as invalid, but the
# server ignores them by design (documented in openapi.json). Invalid bodies, types and
# ranges are still generated; each answer must be a documented 4xx, never a 5xx.
QUICK = settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
LONG = settings(QUICK, max_examples=300, derandomize=False)


@pytest.fixture(scope="module", autouse=True)
def close_app() -> Iterator[None]:
    yield
    APP.close()


@schema.parametrize()
@QUICK
def test_schemathesis_quick(case: Any) -> None:
    case.call_and_validate(headers=AUTH, checks=CHECKS)


@pytest.mark.slow
@schema.parametrize()
@LONG
def test_schemathesis_long(case: Any) -> None:
    case.call_and_validate(headers=AUTH, checks=CHECKS)


# ---- hand-written hostile requests ----------------------------------------------------


@pytest.fixture
async def raw() -> AsyncIterator[httpx.AsyncClient]:
    app = LocalBaxCloudApp(ServerConfig())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://local",
        headers={"Authorization": f"Bearer {app.api_key}"},
    ) as client:
        yield client
    app.close()


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error: dict[str, Any] = response.json()["error"]
    assert error["requestId"] == response.headers["x-request-id"]
    return error


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"{'a': 1}",
        b"[1, 2",
        b"\xff\xfe",
        b'{"name": NaN}',
        b'"\\ud800"',
        b"nul\x00l",
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
async def test_malformed_json_is_400(raw: httpx.AsyncClient, body: bytes) -> None:
    response = await raw.post(
        "/v1/rooms", content=body, headers={"Content-Type": "application/json"}
    )
    assert error_of(response, 400)["code"] == "invalid_request"


async def test_non_object_and_wrong_types_are_400(raw: httpx.AsyncClient) -> None:
    for body in ([1], "x", 5, None, {"name": 5}, {"name": "a", "maxParticipants": "7"}):
        response = await raw.post("/v1/rooms", content=json.dumps(body))
        if body is None:  # `null` is an empty body: the required name is missing
            assert error_of(response, 422)["code"] == "validation_failed"
        else:
            assert error_of(response, 400)["code"] == "invalid_request"


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 3 * 1024 * 1024])
async def test_oversized_body_is_413(raw: httpx.AsyncClient, size: int) -> None:
    body = json.dumps({"name": "big", "metadata": "x" * size}).encode()
    response = await raw.post("/v1/rooms", content=body)
    assert error_of(response, 413)["code"] == "payload_too_large"

    async def chunks() -> Any:  # no Content-Length: the limit holds while reading
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    streamed = await raw.post("/v1/rooms", content=chunks())
    assert error_of(streamed, 413)["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "path", ["/", "/v2/rooms", "/v1/nope", "/v1/rooms/a/b/c/d", "/_dev/nope", "/v1/%ff", "/x" * 500]
)
async def test_unknown_paths_are_404_json(raw: httpx.AsyncClient, path: str) -> None:
    response = await raw.get(path)
    if path == "/v1/%ff":
        assert error_of(response, 400)["code"] == "invalid_request"
    else:
        assert error_of(response, 404)["code"] == "not_found"
