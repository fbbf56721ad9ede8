"""The request pipeline, written once and async (docs/architecture.md, "The request path").

Every API call goes through `AsyncAPIClient._request`: build headers, send,
retry what is safe to retry (mutations carry one Idempotency-Key for all their
attempts), map failures to typed errors and structure the JSON into models.
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.lowlevel
import httpx

from .._version import get_version
from . import retry, tracing
from .api_key import ApiKey, Secret, parse_api_key
from .body import ACCEPT_ENCODING, DEFAULT_MAX_RESPONSE_BYTES, BodyError, read_limited
from .compact_json import compact_json
from .converter import structure
from .errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    BaxCloudError,
    ErrorDetail,
    RateLimitError,
    status_error_class,
)
from .http_backend import adapted_async_client, check_http_client, check_proxy
from .log import logger, redact
from .options import NOT_GIVEN, OPTION_NAMES, RequestOptions, TimeoutTypes, resolve_timeout
from .pools import (
    DEADLINE,
    SELF_TIMED,
    HTTPPools,
    reclaim_orphaned_connections,
    running_asyncio_task,
)
from .request_build import RequestBuilder
from .response import record_response

if TYPE_CHECKING:
    import asyncio

    import httpx2

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.baxcloud.io"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
_BACKSTOP_GRACE = 0.05
_CHECKPOINT_EVERY = 64


def _user_agent() -> str:
    python = ".".join(map(str, sys.version_info[:3]))
    return (
        f"baxcloud-python/{get_version()} httpx/{httpx.__version__} "
        f"{sys.implementation.name}/{python}"
    )


class AsyncAPIClient:
    """Configuration plus the request pipeline. `AsyncBaxCloud` adds namespaces."""

    _api_key: ApiKey
    _http: HTTPPools
    _attempts = 0

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        webhook_secret: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
        proxy: str | httpx.URL | httpx.Proxy | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("BAXCLOUD_API_KEY")
        if key is None:
            raise BaxCloudError(
                "no API key: pass api_key= or set the BAXCLOUD_API_KEY environment variable"
            )
        check_http_client(http_client, blocking_allowed=False)
        checked_proxy = check_proxy(proxy, http_client)
        self._api_key = parse_api_key(key)
        url = base_url if base_url is not None else os.environ.get("BAXCLOUD_BASE_URL")
        self._configure(
            base_url=str(url or DEFAULT_BASE_URL),
            timeout=timeout,
            max_retries=max_retries,
            max_response_bytes=max_response_bytes,
            default_headers=default_headers or {},
        )
        self.webhook_secret = (
            webhook_secret
            if webhook_secret is not None
            else os.environ.get("BAXCLOUD_WEBHOOK_SECRET")
        )
        self._http = HTTPPools(
            None if http_client is None else adapted_async_client(http_client), checked_proxy
        )

    def _configure(
        self,
        *,
        base_url: str,
        timeout: TimeoutTypes,
        max_retries: int,
        max_response_bytes: int,
        default_headers: Mapping[str, str],
    ) -> None:
        _check_max_retries(max_retries)
        self._timeout, self._attempt_limit = resolve_timeout(timeout)
        if (
            isinstance(max_response_bytes, bool)
            or not isinstance(max_response_bytes, int)
            or max_response_bytes < 1
        ):
            raise ValueError("max_response_bytes must be an int >= 1")
        _check_headers(default_headers, "default_headers")
        parsed = httpx.URL(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("base_url must be an absolute http(s) URL")
        if parsed.userinfo:
            raise ValueError("base_url must not contain credentials (user:password@)")
        # The SDK adds the /v1 of each path itself; a base URL copied with it still works.
        self.base_url = base_url.rstrip("/").removesuffix("/v1")
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_response_bytes = max_response_bytes
        self.default_headers = dict(default_headers)
        self._headers = _merge_headers(
            {
                "Accept": "application/json",
                "Accept-Encoding": ACCEPT_ENCODING,
                "User-Agent": _user_agent(),
            },
            self.default_headers,
        )
        self._headers["Authorization"] = Secret(f"Bearer {self._api_key.raw}")
        self._has_idempotency_key = "Idempotency-Key" in self._headers
        self._has_content_type = "Content-Type" in self._headers
        self._request_builder = RequestBuilder(self._headers)

    @property
    def api_key_id(self) -> str:
        """The id part of the API key (safe to show)."""
        return self._api_key.key_id

    def _copy(
        self,
        *,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        max_response_bytes: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        base_url: str | None = None,
    ) -> Any:
        clone = object.__new__(type(self))
        # Namespaces are cached per client; the copy builds its own on first use.
        cached = {
            name for name, attr in vars(type(self)).items() if isinstance(attr, cached_property)
        }
        clone.__dict__.update({k: v for k, v in self.__dict__.items() if k not in cached})
        clone._configure(
            base_url=base_url if base_url is not None else self.base_url,
            timeout=self.timeout if timeout is NOT_GIVEN else timeout,
            max_retries=self.max_retries if max_retries is None else max_retries,
            max_response_bytes=(
                self.max_response_bytes if max_response_bytes is None else max_response_bytes
            ),
            default_headers={**self.default_headers, **(default_headers or {})},
        )
        return clone

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={str(self._api_key)!r})"

    async def aclose(self) -> None:
        """Close the connection pool (a no-op for a client passed in as `http_client`)."""
        await self._http.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[T],
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
        parse: Callable[[Any], T] | None = None,
    ) -> T:
        """Send one logical call, with retries; return the structured response.

        `cast_to` is a model class, `dict` for a raw JSON object, or `type(None)`;
        `parse`, when given, turns the decoded JSON into the result instead.
        """
        opts: RequestOptions = options or {}
        timeout, attempt_limit = self._timeout, self._attempt_limit
        extra: dict[str, str] = {}
        if opts:
            _check_options(opts)
            if "timeout" in opts:
                timeout, attempt_limit = resolve_timeout(opts["timeout"])
            if opts.get("extra_headers"):
                extra = _merge_headers({}, opts["extra_headers"])
        if method != "GET":
            key = opts.get("idempotency_key")
            if key is not None or not ("Idempotency-Key" in extra or self._has_idempotency_key):
                extra["Idempotency-Key"] = key or str(uuid.uuid4())
        content: bytes | None = None
        if body is not None:
            content = compact_json(body).encode()
            if not ("Content-Type" in extra or self._has_content_type):
                extra["Content-Type"] = "application/json"
        query = {k: v for k, v in params.items() if v is not None} if params else None
        max_retries = opts.get("max_retries", self.max_retries)
        url = self.base_url + path

        retries = retry.Retries(max_retries, f"{method} {path}")
        while True:
            logger.debug("%s %s (attempt %d)", method, path, retries.used + 1)
            try:
                status, response, raw = await self._attempt(
                    method, url, content, query, extra, timeout, attempt_limit
                )
            except (httpx.TimeoutException, TimeoutError) as exc:
                if not retries.exhausted:
                    await retries.pause("timeout")
                    continue
                raise APITimeoutError(
                    f"request timed out: {method} {path}: {_timeout_cause(exc, attempt_limit)}"
                ) from exc
            except httpx.RequestError as exc:
                if not retries.exhausted:
                    await retries.pause(type(exc).__name__)
                    continue
                raise APIConnectionError(
                    f"{_connection_failure(exc, url, self._http.proxy)}: {method} {path}"
                ) from exc

            request_id = response.headers.get("x-request-id")
            if status < 300:
                tracing.response(status, request_id)
                logger.debug("%s %s -> %d (%s)", method, path, status, request_id)
                record_response(response, raw)  # for `with_raw_response` alone
                if cast_to is type(None) and parse is None:
                    return None
                return _parse_body(response, raw, cast_to, parse)

            error = make_status_error(response, request_id, raw)
            if not retries.exhausted and retry.should_retry(response, error.code):
                await retries.pause(f"{status} {error.code}", retry.parse_retry_after(response))
                continue
            logger.debug("%s %s -> %d %s (%s)", method, path, status, error.code, request_id)
            raise error

    async def _attempt(
        self,
        method: str,
        url: str,
        content: bytes | None,
        query: Mapping[str, Any] | None,
        extra_headers: dict[str, str],
        timeout: httpx.Timeout,  # noqa: ASYNC109 (httpx's per-phase limits)
        attempt_limit: float | None,
    ) -> tuple[int, httpx.Response, bytes]:
        """One HTTP exchange, body included, within `attempt_limit` seconds."""
        pool = self._http.get()
        extensions: dict[str, Any] = {}
        if attempt_limit is not None:
            extensions[DEADLINE] = time.monotonic() + attempt_limit
        request = self._request_builder.build(
            pool,
            method,
            url,
            extra=extra_headers,
            content=content,
            params=query,
            timeout=timeout,
            extensions=extensions,
        )
        if attempt_limit is None or pool in SELF_TIMED:
            response, raw = await self._exchange(pool, request)
        else:
            # httpx's own per-phase timeouts (each at most `attempt_limit`) end a wait
            # for the pool first: httpcore can lose a connection slot when a request
            # is cancelled just as a connection is handed to it (encode/httpcore#1093),
            # so this deadline is the backstop for what they cannot see (a trickled
            # body or head), a moment later.
            limit = attempt_limit + _BACKSTOP_GRACE
            task = running_asyncio_task()
            if task is not None and not task.cancelling():
                # asyncio's own timeout: the same cancellation as anyio's on asyncio
                # (a caller's anyio scopes and asyncio timeouts nest with it) at about
                # half the cost, which was most of the SDK's own time per call. Not in
                # a task with a cancel pending (cleanup after task.cancel()): before
                # 3.11.3 asyncio.timeout lets its own CancelledError through there.
                async with sys.modules["asyncio"].timeout(limit) as deadline:
                    response, raw = await self._exchange(pool, request, deadline)
            else:
                with anyio.move_on_after(limit) as scope:
                    response, raw = await self._exchange(pool, request)
                if scope.cancelled_caught:
                    raise TimeoutError
            self._attempts += 1
            if not self._attempts % _CHECKPOINT_EVERY:
                # Each deadline leaves a cancelled timer that asyncio drops only while
                # its loop runs; calls that never suspend (a mock transport) would
                # pile them up.
                await anyio.lowlevel.checkpoint()
        await response.aclose()  # the body is read: this only returns the connection
        return response.status_code, response, raw

    async def _exchange(
        self,
        pool: httpx.AsyncClient,
        request: httpx.Request,
        deadline: asyncio.Timeout | None = None,
    ) -> tuple[httpx.Response, bytes]:
        """Send `request` and read its body whole."""
        try:
            response = await pool.send(request, stream=True)
        except BaseException:
            reclaim_orphaned_connections(pool)
            raise
        try:
            raw = await read_limited(response, self.max_response_bytes)
        except BaseException as exc:
            # Shielded: a close cut short by the deadline would never give the
            # connection back to the pool. anyio's shield does not stop a native
            # cancel, so an asyncio deadline that has not fired yet is disarmed.
            if deadline is not None and not deadline.expired():
                deadline.reschedule(None)
            with anyio.CancelScope(shield=True):
                await response.aclose()
            if isinstance(exc, BodyError):
                raise self._body_error(response, exc) from None
            raise
        return response, raw

    def _body_error(self, response: httpx.Response, exc: BodyError) -> APIResponseValidationError:
        message = str(exc)
        if message == "too large":
            message = f"response body exceeds max_response_bytes={self.max_response_bytes}"
        return _invalid(response, b"", message)


_IDEMPOTENCY_KEY_RE = re.compile(r"[\x20-\x7e]{1,255}")


def _check_max_retries(max_retries: object) -> None:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError("max_retries must be an int >= 0")


def _check_options(opts: Mapping[str, Any]) -> None:
    """Per-call options fail clearly before any request (not deep inside httpx)."""
    unknown = sorted(set(opts) - OPTION_NAMES)
    if unknown:
        raise TypeError(f"unknown request option(s): {', '.join(unknown)}")
    _check_max_retries(opts.get("max_retries", 0))
    extra = opts.get("extra_headers")
    if extra is not None:
        _check_headers(extra, "extra_headers")
    key = opts.get("idempotency_key")
    if key is not None:
        if not isinstance(key, str):
            raise TypeError("idempotency_key must be a str")
        if _IDEMPOTENCY_KEY_RE.fullmatch(key) is None:
            raise ValueError("idempotency_key must be 1-255 printable ASCII characters")


def _connection_failure(exc: httpx.RequestError, url: str, proxy: httpx.Proxy | None) -> str:
    """Where the request went and why it got no answer, in words (never the proxy's password)."""
    address = _host_and_port(httpx.URL(url))
    if proxy is not None:
        address += f" through the proxy {_host_and_port(proxy.url)}"
    cause = _cause(exc)
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {address} ({cause})"
    return f"connection to {address} failed ({type(exc).__name__}: {cause})"


def _host_and_port(url: httpx.URL) -> str:
    return f"{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"


def _cause(exc: BaseException) -> str:
    """The root cause of a transport error: refused, not resolved, TLS, reset..."""
    for error in _errors_behind(exc):
        if isinstance(error, ssl.SSLCertVerificationError):
            return f"TLS certificate not trusted: {error.verify_message}"
        if isinstance(error, ssl.SSLError):
            return f"TLS failure: {error.reason or error}"
        if isinstance(error, socket.gaierror):
            return "host name not resolved"
        if isinstance(error, ConnectionRefusedError):
            return "connection refused"
        if isinstance(error, ConnectionResetError):
            return "connection reset by the server"
    text = str(exc).lower()
    for needle, words in _CAUSE_WORDS:
        if needle in text:
            return words
    return redact(str(exc))[:200] or type(exc).__name__


def _errors_behind(exc: BaseException) -> list[BaseException]:
    """`exc` and the errors behind it: its causes, and the members of a group (trio
    reports a failed connect as a group of one error per address tried)."""
    found: list[BaseException] = []
    pending = [exc]
    while pending:
        error = pending.pop(0)
        if any(error is seen for seen in found):
            continue
        found.append(error)
        following = error.__cause__ or error.__context__
        if following is not None:
            pending.append(following)
        if isinstance(error, BaseExceptionGroup):
            pending.extend(error.exceptions)
    return found


# httpx keeps the OS error's text but not always the error itself.
_CAUSE_WORDS = (
    ("connection refused", "connection refused"),
    ("name or service not known", "host name not resolved"),
    ("nodename nor servname", "host name not resolved"),
    ("temporary failure in name resolution", "host name not resolved"),
    ("certificate verify failed", "TLS certificate not trusted"),
    ("ssl", "TLS failure"),
    ("connection reset", "connection reset by the server"),
    ("network is unreachable", "network unreachable"),
)


def _timeout_cause(exc: Exception, attempt_limit: float | None) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return type(exc).__name__  # which phase: ConnectTimeout, ReadTimeout, PoolTimeout...
    return f"the attempt took longer than its timeout of {attempt_limit:g} s"


def _check_headers(headers: object, what: str) -> None:
    if not (
        isinstance(headers, Mapping)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
    ):
        raise TypeError(f"{what} must be a mapping of str to str")


def _merge_headers(base: Mapping[str, str], overrides: Mapping[str, str]) -> dict[str, str]:
    """`base` with `overrides` applied, names compared in any letter case.

    An override replaces every header of the same name; Authorization is never
    replaced. The result keeps the SDK's spelling of the names it sets itself, so
    that later lookups (`"Idempotency-Key" in headers`) need no case folding.
    """
    replaced = {name.lower(): (name, value) for name, value in overrides.items()}
    replaced.pop("authorization", None)
    merged = {k: v for k, v in base.items() if k.lower() not in replaced}
    for lower, (name, value) in replaced.items():
        merged[_CANONICAL.get(lower, name)] = value
    return merged


_CANONICAL = {
    name.lower(): name for name in ("Idempotency-Key", "Content-Type", "Accept", "User-Agent")
}
_EXCERPT_CHARS = 200
_REDACT_CHARS = 8192


def _excerpt(raw: bytes) -> str:
    """The start of a body for an error message: redacted first, then cut short."""
    text = raw[:_REDACT_CHARS].decode("utf-8", "replace")
    excerpt = redact(text)[:_EXCERPT_CHARS]
    return excerpt + ("..." if len(raw) > len(excerpt) else "")


def _invalid(response: httpx.Response, raw: bytes, message: str) -> APIResponseValidationError:
    return APIResponseValidationError(
        message,
        status_code=response.status_code,
        request_id=response.headers.get("x-request-id"),
        body_excerpt=_excerpt(raw),
        response=response,
    )


def _parse_body(
    response: httpx.Response, raw: bytes, cast_to: type[T], parse: Callable[[Any], T] | None
) -> T:
    """Decode and structure a 2xx body; anything unexpected is an `APIResponseValidationError`."""
    if not raw:
        raise _invalid(response, raw, f"expected a JSON body, got an empty {response.status_code}")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise _invalid(response, raw, "response is not valid JSON") from None
    try:
        if parse is not None:
            return parse(data)
        if cast_to is dict:
            if not isinstance(data, dict):
                raise TypeError(f"expected a JSON object, got {type(data).__name__}")
            return data  # type: ignore[return-value]
        return structure(data, cast_to)
    except Exception as exc:
        what = getattr(cast_to, "__name__", "the result")
        raise _invalid(response, raw, f"response is not a valid {what}: {_describe(exc)}") from None


def _describe(exc: BaseException) -> str:
    """A short reason from a (possibly nested) cattrs validation error."""
    while isinstance(inner := getattr(exc, "exceptions", None), tuple) and inner:
        exc = inner[0]
    notes = getattr(exc, "__notes__", None)
    where = f" ({notes[-1]})" if notes else ""
    return redact(f"{type(exc).__name__}: {exc}"[:160] + where)


def make_status_error(
    response: httpx.Response, request_id: str | None, raw: bytes | None = None
) -> APIStatusError:
    code, message = f"http_{response.status_code}", response.reason_phrase
    details: tuple[ErrorDetail, ...] = ()
    try:
        payload = json.loads(response.content if raw is None else raw)
    except (ValueError, RecursionError):
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or code)
        message = redact(str(error.get("message") or message))
        request_id = str(error.get("requestId") or request_id or "") or None
        raw_details = error.get("details")
        if isinstance(raw_details, list):
            details = tuple(
                ErrorDetail(
                    field=None if d.get("field") is None else str(d["field"]),
                    message=redact(str(d.get("message", ""))),
                )
                for d in raw_details
                if isinstance(d, dict)
            )
    cls = status_error_class(response.status_code)
    kwargs: dict[str, Any] = {
        "response": response,
        "code": code,
        "request_id": request_id,
        "details": details,
    }
    if cls is RateLimitError:
        kwargs["retry_after"] = retry.parse_retry_after(response)
    return cls(message, **kwargs)
