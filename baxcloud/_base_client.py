"""The request pipeline, written once and async (contract B.1, B.5, B.6).

Every API call goes through `AsyncAPIClient._request`: build headers, send,
retry what is safe to retry (mutations carry one Idempotency-Key for all their
attempts), map failures to typed errors and structure the JSON into models.
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
from collections.abc import Mapping
from functools import cached_property
from typing import Any, TypeVar, cast

import anyio
import httpx

from . import _retry
from ._api_key import ApiKey, parse_api_key
from ._converter import structure
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BaxCloudError,
    ErrorDetail,
    RateLimitError,
    status_error_class,
)
from ._http import HTTPPools
from ._logging import logger, redact
from ._options import RequestOptions, TimeoutTypes
from ._version import get_version

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.baxcloud.io"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
_NOT_GIVEN: Any = object()


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

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        webhook_secret: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("BAXCLOUD_API_KEY")
        if key is None:
            raise BaxCloudError(
                "no API key: pass api_key= or set the BAXCLOUD_API_KEY environment variable"
            )
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise TypeError("http_client must be an httpx.AsyncClient")
        self._api_key = parse_api_key(key)
        url = base_url if base_url is not None else os.environ.get("BAXCLOUD_BASE_URL")
        self._configure(
            base_url=str(url or DEFAULT_BASE_URL),
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers or {},
        )
        self.webhook_secret = (
            webhook_secret
            if webhook_secret is not None
            else os.environ.get("BAXCLOUD_WEBHOOK_SECRET")
        )
        self._http = HTTPPools(http_client)

    def _configure(
        self,
        *,
        base_url: str,
        timeout: TimeoutTypes,
        max_retries: int,
        default_headers: Mapping[str, str],
    ) -> None:
        _check_max_retries(max_retries)
        _check_timeout(timeout)
        parsed = httpx.URL(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("base_url must be an absolute http(s) URL")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.default_headers = dict(default_headers)
        self._headers = {
            "Accept": "application/json",
            "User-Agent": _user_agent(),
            **self.default_headers,
            "Authorization": f"Bearer {self._api_key.raw}",
        }

    @property
    def api_key_id(self) -> str:
        """The id part of the API key (safe to show)."""
        return self._api_key.key_id

    def _copy(
        self,
        *,
        timeout: TimeoutTypes = _NOT_GIVEN,
        max_retries: int | None = None,
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
            timeout=self.timeout if timeout is _NOT_GIVEN else timeout,
            max_retries=self.max_retries if max_retries is None else max_retries,
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
    ) -> T:
        """Send one logical call, with retries; return the structured response.

        `cast_to` is a model class, `dict` for the raw JSON, or `type(None)`.
        """
        opts: RequestOptions = options or {}
        if opts:
            _check_options(opts)
        headers = dict(self._headers)
        extra = opts.get("extra_headers")
        if extra:
            headers.update({k: v for k, v in extra.items() if k.lower() != "authorization"})
        if method != "GET":
            key = opts.get("idempotency_key") or str(uuid.uuid4())
            headers["Idempotency-Key"] = key
        content: bytes | None = None
        if body is not None:
            content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        query = {k: v for k, v in params.items() if v is not None} if params else None
        timeout = opts.get("timeout", self.timeout)
        max_retries = opts.get("max_retries", self.max_retries)
        url = self.base_url + path

        retries_done = 0
        while True:
            logger.debug("%s %s (attempt %d)", method, path, retries_done + 1)
            try:
                response = await self._http.get().request(
                    method, url, content=content, params=query, headers=headers, timeout=timeout
                )
            except httpx.TimeoutException as exc:
                if retries_done < max_retries:
                    retries_done = await self._pause(method, path, retries_done, "timeout")
                    continue
                raise APITimeoutError(f"request timed out: {method} {path}") from exc
            except httpx.TransportError as exc:
                if retries_done < max_retries:
                    retries_done = await self._pause(method, path, retries_done, type(exc).__name__)
                    continue
                raise APIConnectionError(
                    f"connection error: {method} {path}: {type(exc).__name__}"
                ) from exc

            status = response.status_code
            request_id = response.headers.get("x-request-id")
            if status < 300:
                logger.debug("%s %s -> %d (%s)", method, path, status, request_id)
                if cast_to is type(None) or status == 204:
                    return cast(T, None)
                try:
                    data = response.json()
                except ValueError as exc:
                    raise APIStatusError(
                        "response is not valid JSON",
                        response=response,
                        code="invalid_response",
                        request_id=request_id,
                    ) from exc
                return data if cast_to is dict else structure(data, cast_to)

            error = make_status_error(response, request_id)
            if retries_done < max_retries and _retry.should_retry(response, error.code):
                retries_done = await self._pause(
                    method,
                    path,
                    retries_done,
                    f"{status} {error.code}",
                    _retry.parse_retry_after(response),
                )
                continue
            logger.debug("%s %s -> %d %s (%s)", method, path, status, error.code, request_id)
            raise error

    async def _pause(
        self,
        method: str,
        path: str,
        retries_done: int,
        reason: str,
        retry_after: float | None = None,
    ) -> int:
        delay = _retry.backoff_delay(retries_done, retry_after)
        logger.info("retrying %s %s in %.2fs after %s", method, path, delay, reason)
        await anyio.sleep(delay)
        return retries_done + 1


_OPTION_NAMES = frozenset(RequestOptions.__annotations__)
_IDEMPOTENCY_KEY_RE = re.compile(r"[\x20-\x7e]{1,255}")


def _check_timeout(timeout: object) -> None:
    if isinstance(timeout, bool) or not (
        timeout is None or isinstance(timeout, (int, float, httpx.Timeout))
    ):
        raise TypeError("timeout must be seconds (float), an httpx.Timeout, or None")


def _check_max_retries(max_retries: object) -> None:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError("max_retries must be an int >= 0")


def _check_options(opts: Mapping[str, Any]) -> None:
    """Per-call options fail clearly before any request (not deep inside httpx)."""
    unknown = sorted(set(opts) - _OPTION_NAMES)
    if unknown:
        raise TypeError(f"unknown request option(s): {', '.join(unknown)}")
    if "timeout" in opts:
        _check_timeout(opts["timeout"])
    _check_max_retries(opts.get("max_retries", 0))
    extra = opts.get("extra_headers")
    if extra is not None and not (
        isinstance(extra, Mapping)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in extra.items())
    ):
        raise TypeError("extra_headers must be a mapping of str to str")
    key = opts.get("idempotency_key")
    if key is not None:
        if not isinstance(key, str):
            raise TypeError("idempotency_key must be a str")
        if _IDEMPOTENCY_KEY_RE.fullmatch(key) is None:
            raise ValueError("idempotency_key must be 1-255 printable ASCII characters")


def make_status_error(response: httpx.Response, request_id: str | None) -> APIStatusError:
    code, message = f"http_{response.status_code}", response.reason_phrase
    details: tuple[ErrorDetail, ...] = ()
    try:
        payload = response.json()
    except ValueError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or code)
        message = redact(str(error.get("message") or message))
        request_id = str(error.get("requestId") or request_id or "") or None
        raw_details = error.get("details")
        if isinstance(raw_details, list):
            details = tuple(
                ErrorDetail(field=d.get("field"), message=str(d.get("message", "")))
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
        kwargs["retry_after"] = _retry.parse_retry_after(response)
    return cls(message, **kwargs)
