"""The ASGI application: the request pipeline around the handlers.

Per request: request id -> route on the raw path -> auth (`/v1`, `/_dev`) ->
body (<= 1 MiB, JSON) -> what fell due meanwhile (see `_scheduler`) ->
idempotency -> hooks (fault injection first, see `_faults`) -> handler in one
SQLite transaction -> JSON answer with the common headers. All SQLite work
happens synchronously on the event loop thread; no await ever happens inside
a transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import attrs
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from .._core.api_key import parse_api_key
from .._core.errors import BaxCloudError
from . import _storage
from ._clock import MANUAL_CLOCK_META, Clock
from ._config import WEBHOOK_SECRET_META, ServerConfig, load_credentials
from ._context import MediaSettings, Reply, RequestContext, Services
from ._errors import ApiError, invalid_request
from ._faults import DropConnection, FaultInjector, drop_connection
from ._files import RecordingFiles
from ._idempotency import MUTATING_METHODS, IdempotencyStore, check_key, fingerprint
from ._ids import request_id as new_request_id
from ._json import json_bytes
from ._request_input import MAX_BODY_BYTES, canonical_json, decode_json
from ._routing import Match, split_raw_path
from ._scheduler import Scheduler
from ._webhooks import WebhookDelivery
from .handlers import build_router

logger = logging.getLogger("baxcloud.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

AUTHENTICATED_PREFIXES = frozenset({"v1", "_dev"})
READ_METHODS = frozenset({"GET", "HEAD"})
DOWNLOAD_KEY_META = "download_signing_key"
# What a reset keeps of the meta table: the credentials and the schema version.
RESET_KEEPS_META = ("api_key", WEBHOOK_SECRET_META, DOWNLOAD_KEY_META, "schema_version")
# Routes that discard the whole state: no catching up first (nor waiting for a
# recording file being written), and no Idempotency-Key record (it would survive
# the reset it records, and a replay would not reset).
RESET_ROUTES = frozenset({"/_dev/reset"})
RATE_LIMIT_HEADERS = {
    # The local server does not rate limit; these static values are documented.
    "X-RateLimit-Limit": "10000",
    "X-RateLimit-Remaining": "10000",
    "X-RateLimit-Reset": "60",
}
_RATE_LIMIT_RAW = [(k.lower().encode(), v.encode()) for k, v in RATE_LIMIT_HEADERS.items()]
_JSON_CONTENT_TYPE = (b"content-type", b"application/json")

# An answer: status, JSON body (or b""), extra headers. Sent without a Response object.
Answer = tuple[int, bytes, Mapping[str, str]]


@attrs.frozen(kw_only=True)
class RequestInfo:
    """What a request hook sees (used for fault injection and latency simulation)."""

    method: str
    path: tuple[str, ...]
    route: str
    idempotency_key: str | None


RequestHook = Callable[[RequestInfo], Awaitable[None]]


class LocalBaxCloudApp:
    """The local BaxCloud server as an ASGI application (`app.asgi` is the app itself)."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._storage = _storage.Storage(config.data_dir)
        db = self._storage.db
        try:
            with self._storage.transaction():
                self._credentials, webhook_secret = load_credentials(db, config)
                self._start_secret = webhook_secret
                download_key = _storage.get_meta(db, DOWNLOAD_KEY_META)
                if download_key is None:
                    download_key = secrets.token_hex(32)
                    _storage.set_meta(db, DOWNLOAD_KEY_META, download_key)
                start = config.start_time
                if start is None and config.manual_clock:
                    persisted = _storage.get_meta(db, MANUAL_CLOCK_META)
                    start = float(persisted) if persisted is not None else None
                self.clock = Clock(manual=config.manual_clock, start=start)
                if config.manual_clock:
                    _storage.set_meta(db, MANUAL_CLOCK_META, repr(self.clock.now()))
                self.webhooks = WebhookDelivery(
                    self._storage,
                    self.clock,
                    retry_schedule=config.webhook_retry_schedule,
                    timeout=config.webhook_timeout,
                    grace_period=config.webhook_secret_grace_period,
                )
                self.webhooks.setup(db, self.clock.now(), webhook_secret, config.webhook_urls)
        except BaseException:
            self._storage.close()
            raise
        self.media = MediaSettings(
            egress_start_delay=config.egress_start_delay,
            egress_stop_delay=config.egress_stop_delay,
            recording_bytes_per_second=config.recording_bytes_per_second,
            recording_max_bytes=config.recording_max_bytes,
            files=RecordingFiles(config.data_dir),
            download_key=bytes.fromhex(download_key),
        )
        self.api_key: str = self._credentials.api_key
        self.idempotency = IdempotencyStore(db)
        # Fault injection (see _faults) is the first hook; off unless configured.
        self.faults = FaultInjector(config.faults)
        self.scheduler = Scheduler(
            self._storage, self.clock, self.media, self.idempotency, self.webhooks
        )
        self.services = Services(
            clock=self.clock,
            credentials=self._credentials,
            media=self.media,
            webhooks=self.webhooks,
            faults=self.faults,
            reset_server=self._reset,
        )
        self.router = build_router()
        # The one header that authenticates, compared in full before parsing anything.
        self._auth_header = ("Bearer " + self._credentials.api_key).encode()
        self._base_urls: dict[tuple[Any, ...], str] = {}
        self.request_hooks: list[RequestHook] = [self.faults.hook]
        self._closed = False

    def __repr__(self) -> str:
        return f"LocalBaxCloudApp(data_dir={self.config.data_dir!r}, manual={self.clock.manual})"

    @property
    def asgi(self) -> LocalBaxCloudApp:
        return self

    @property
    def webhook_secret(self) -> str:
        """The secret deliveries are signed with now (it changes when rotated)."""
        return self.webhooks.primary_secret

    def _reset(self, db: sqlite3.Connection) -> None:
        """Back to the just-started state, keeping the credentials (`POST /_dev/reset`).

        Runs on the loop thread inside the handler's transaction: no other
        request's handler can interleave, and one in flight runs wholly after it.
        """
        _storage.clear(db, RESET_KEEPS_META)
        now = self.clock.reset()
        if self.clock.manual:
            _storage.set_meta(db, MANUAL_CLOCK_META, repr(now))
        self.scheduler.reset()
        self.media.files.clear()
        self.faults.configure(self.config.faults)
        self.webhooks.reset(db, now, self._start_secret, self.config.webhook_urls)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._storage.close()
            self.media.files.cleanup()

    # ---- ASGI --------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":  # websockets are not served
            return
        request_id = new_request_id()
        pending_fault = self.faults.begin_request()
        answer: Answer | Response
        try:
            answer = await self._handle(scope, receive, request_id)
        except DropConnection:
            await drop_connection(send)
            return
        except ClientDisconnect:  # gone while its body was read: nobody to answer
            return
        except ApiError as exc:
            answer = _error_answer(exc, request_id)
        except Exception:
            logger.exception("internal error handling %s (%s)", scope.get("path"), request_id)
            answer = _error_answer(ApiError(500, "internal", "internal server error"), request_id)
        if pending_fault.after_commit is not None:  # committed, but the answer is lost
            replacement = self.faults.replacement(pending_fault)
            if replacement is None:
                await drop_connection(send)
                return
            answer = _error_answer(replacement, request_id)
        if isinstance(answer, Response):  # a file download
            answer.headers["X-Request-Id"] = request_id
            answer.headers.update(RATE_LIMIT_HEADERS)
            await answer(scope, receive, send)
            return
        await _send_answer(send, request_id, *answer)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        sweeper: asyncio.Task[None] | None = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if not self.clock.manual:
                    sweeper = asyncio.create_task(self.scheduler.run_forever())
                await self.webhooks.start()  # delivers what is queued, and what comes
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if sweeper is not None:
                    sweeper.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await sweeper
                await self.webhooks.stop()  # undelivered events stay queued in SQLite
                await self.scheduler.finish_writes()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # ---- pipeline ------------------------------------------------------------------

    async def _handle(self, scope: Scope, receive: Receive, request_id: str) -> Answer | Response:
        request = Request(scope, receive)
        # The few headers the pipeline reads, first occurrence of each (as Starlette's
        # `Headers.get` answers), without a KeyError for every absent one.
        head: dict[bytes, bytes] = dict(reversed(list(scope["headers"])))
        method: str = scope["method"]
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        raw_path = raw_path.split(b"?", 1)[0]
        parts = split_raw_path(raw_path)
        key_id = ""
        if parts[0] in AUTHENTICATED_PREFIXES:
            key_id = self._authenticate(head.get(b"authorization"))
        match = self.router.resolve(method, parts)
        body: Any = None
        if method != "GET":
            raw_body = await _read_body(receive, head.get(b"content-length"))
            if raw_body.strip():
                _check_content_type(head.get(b"content-type"))
            body = decode_json(raw_body)
        # A read does not queue behind another request's file write (it sees the
        # state before that recording completes); a change does, to keep the order.
        reads = method in READ_METHODS
        resets = match.route.template in RESET_ROUTES
        if not resets:
            await self.scheduler.catch_up(wait_for_other_writes=not reads)
        raw_idem_key = head.get(b"idempotency-key")
        host = head.get(b"host")
        if raw_idem_key is None or method not in MUTATING_METHODS or resets:
            await self._run_hooks(method, parts, match, None)
            result = self._run(match, request, host, method, body, request_id, raw_path)
            if not reads:
                await self.scheduler.catch_up()  # e.g. a clock jump: its files, before answering
            return result
        idem_key = check_key(raw_idem_key.decode("latin-1"))
        canonical = canonical_json(body) if body is not None else b""
        print_ = fingerprint(method, raw_path, canonical)
        stored = self.idempotency.begin(key_id, idem_key, print_, self.clock.now())
        if stored is not None:
            return stored.status, stored.body, {"Idempotent-Replayed": "true"}
        try:
            await self._run_hooks(method, parts, match, idem_key)
            result = self._run(
                match,
                request,
                host,
                method,
                body,
                request_id,
                raw_path,
                idem=(key_id, idem_key, print_),
            )
        finally:
            self.idempotency.finish(key_id, idem_key)
        await self.scheduler.catch_up()
        return result

    async def _run_hooks(
        self, method: str, parts: tuple[str, ...], match: Match, idem_key: str | None
    ) -> None:
        hooks = self.request_hooks
        if not hooks or (
            len(hooks) == 1 and not self.faults.active and hooks[0] == self.faults.hook
        ):
            return  # fault injection is off and nothing else listens
        info = RequestInfo(
            method=method, path=parts, route=match.route.template, idempotency_key=idem_key
        )
        for hook in list(self.request_hooks):
            await hook(info)

    def _run(
        self,
        match: Match,
        request: Request,
        host: bytes | None,
        method: str,
        body: Any,
        request_id: str,
        raw_path: bytes,
        *,
        idem: tuple[str, str, str] | None = None,
    ) -> Answer | Response:
        """Run the handler (synchronously, in one transaction); errors become answers."""
        db = self._storage.db
        now = self.clock.now()
        raw_query: bytes = request.scope.get("query_string", b"")
        ctx = RequestContext(
            services=self.services,
            method=method,
            params=match.params,
            query=dict(parse_qsl(raw_query.decode("latin-1"), True)) if raw_query else {},
            body=body,
            db=db,
            now=now,
            base_url=self._base_url(request, host),
            headers=request.headers,
            raw_path=raw_path,
            raw_query=raw_query,
        )
        if method in ("GET", "HEAD"):  # reads need no transaction
            try:
                reply = match.handler(ctx)
            except ApiError as exc:
                return _error_answer(exc, request_id)
            if reply.response is not None:
                response: Response = reply.response
                return response
            return self._encode(reply)
        answer: Answer
        if idem is None:  # a refused change leaves nothing behind: roll it all back
            try:
                with self._storage.transaction():
                    answer = self._encode(match.handler(ctx))
            except ApiError as exc:
                return _error_answer(exc, request_id)
        else:  # stored for replay with the change, or alone once a refusal rolled it back
            try:
                with self._storage.transaction():
                    answer = self._encode(match.handler(ctx))
                    self.idempotency.save(*idem, now, answer[0], answer[1])
            except ApiError as exc:
                answer = _error_answer(exc, request_id)
                with self._storage.transaction():
                    self.idempotency.save(*idem, now, answer[0], answer[1])
        self.webhooks.wake()  # committed: deliver any event it recorded
        return answer

    @staticmethod
    def _encode(reply: Reply) -> Answer:
        content = b"" if reply.body is None else json_bytes(reply.body)
        return reply.status, content, _NO_HEADERS

    def _base_url(self, request: Request, host: bytes | None) -> str:
        """scheme://host[:port] the request was sent to (remembered: it rarely varies)."""
        scope = request.scope
        server = scope.get("server")  # a tuple or a list (host, port), or None
        key = (scope.get("scheme"), host, server and tuple(server), scope.get("root_path"))
        url = self._base_urls.get(key)
        if url is None:
            url = str(request.base_url).rstrip("/")
            if len(self._base_urls) < 64:  # the Host header is the client's to choose
                self._base_urls[key] = url
        return url

    def _authenticate(self, raw_header: bytes | None) -> str:
        """Return the caller's key id; 401/403 otherwise. Never echoes the key."""
        if raw_header is None:
            raise _unauthenticated("missing API key: send 'Authorization: Bearer <api key>'")
        if hmac.compare_digest(raw_header, self._auth_header):
            return self._credentials.key_id  # exactly `Bearer <our key>`: the usual case
        header = raw_header.decode("latin-1")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthenticated("the Authorization header must be 'Bearer <api key>'")
        try:
            key = parse_api_key(token)
        except BaxCloudError:
            raise _unauthenticated("the API key is malformed") from None
        if key.kind != "sk":
            raise ApiError(
                403,
                "permission_denied",
                "client keys (bax_pk_...) cannot call the server API; use a secret key",
            )
        if not hmac.compare_digest(key.raw.encode(), self._credentials.api_key.encode()):
            raise _unauthenticated("unknown API key")
        return key.key_id


async def _read_body(receive: Receive, declared: bytes | None) -> bytes:
    """The whole body (as `Request.stream()` reads it); 413 past `MAX_BODY_BYTES`."""
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        if message["type"] != "http.request":
            continue
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _check_content_type(raw: bytes | None) -> None:
    if raw is None:
        return
    media = raw.decode("latin-1").split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise invalid_request("Content-Type must be application/json")


_NO_HEADERS: Mapping[str, str] = {}


def _error_answer(exc: ApiError, request_id: str) -> Answer:
    return exc.status, json_bytes(exc.body(request_id)), exc.headers


async def _send_answer(
    send: Send, request_id: str, status: int, content: bytes, headers: Mapping[str, str]
) -> None:
    """The answer as two ASGI messages, with the headers a Starlette `Response` would set."""
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    if status != 204 and content:
        raw += ((b"content-length", str(len(content)).encode()), _JSON_CONTENT_TYPE)
    elif status >= 200 and status not in (204, 304):
        content = b""
        raw.append((b"content-length", b"0"))
    else:
        content = b""
    raw.append((b"x-request-id", request_id.encode()))
    raw += _RATE_LIMIT_RAW
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, "unauthenticated", message, headers={"WWW-Authenticate": "Bearer"})


def _too_large() -> ApiError:
    return ApiError(413, "payload_too_large", f"request body exceeds {MAX_BODY_BYTES} bytes")
