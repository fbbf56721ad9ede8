"""`APIResponse`: a call's HTTP response next to its usual result (`with_raw_response`).

`client.with_raw_response.rooms.create(...)` runs `client.rooms.create(...)`
itself, unchanged, while the pipeline records the HTTP response that answered
it (`record_response`, a no-op for every other call); see docs/raw-responses.md.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

import httpx

__all__ = ["APIResponse", "raw_response", "record_response"]

T = TypeVar("T")
U = TypeVar("U")


class APIResponse(Generic[T]):
    """The HTTP response of one API call, and the call's usual result (`parse()`).

    For a list call, the response of the page asked for (the first by default);
    `parse()` gives that page, whose iteration fetches the following pages as usual.
    """

    __slots__ = ("_parsed", "http_response")

    http_response: httpx.Response
    """The `httpx.Response` that answered the call (after any retries); its body is read."""

    def __init__(self, http_response: httpx.Response, parsed: T) -> None:
        self.http_response = http_response
        self._parsed = parsed

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def request_id(self) -> str | None:
        """The `X-Request-Id` header: quote it when asking BaxCloud for support."""
        request_id: str | None = self.http_response.headers.get("x-request-id")
        return request_id

    @property
    def content(self) -> bytes:
        """The body, decoded from any Content-Encoding."""
        return self.http_response.content

    def json(self) -> Any:
        """The body as JSON, as the API sent it."""
        return json.loads(self.http_response.content)

    def parse(self) -> T:
        """What the call returns without `with_raw_response` (a model, a page, None...)."""
        return self._parsed

    def _map(self, convert: Callable[[T], U]) -> APIResponse[U]:
        return APIResponse(self.http_response, convert(self._parsed))

    def __repr__(self) -> str:
        request = self.http_response.request
        return (
            f"<APIResponse [{self.status_code}] {request.method} {request.url.path}"
            f" request_id={self.request_id!r}>"
        )


class _Recorder:
    __slots__ = ("response",)

    def __init__(self) -> None:
        self.response: httpx.Response | None = None


_recorder: ContextVar[_Recorder | None] = ContextVar("baxcloud_raw_response", default=None)


def record_response(response: httpx.Response, body: bytes) -> None:
    """Called by the pipeline with each successful response and its decoded body."""
    recorder = _recorder.get()
    if recorder is not None:
        if not hasattr(response, "_content"):
            # The SDK reads and decodes the body itself (body.py); storing it where
            # httpx's own `Response.read()` does makes `.content`, `.text` and
            # `.json()` work on the response handed to the user.
            response._content = body
        recorder.response = response


async def raw_response(call: Awaitable[T]) -> APIResponse[T]:
    """Await `call` (an API method's coroutine or pager); its result with its HTTP response."""
    recorder = _Recorder()
    token = _recorder.set(recorder)
    try:
        result = await call
    finally:
        _recorder.reset(token)
    if recorder.response is None:  # pragma: no cover (every wrapped method sends a request)
        raise RuntimeError("the call sent no request")
    return APIResponse(recorder.response, result)
