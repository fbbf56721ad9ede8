"""Standard Webhooks signing and verification (https://www.standardwebhooks.com;
docs/webhooks.md).

Signed content is `{webhook-id}.{webhook-timestamp}.{raw body}`, signed with
HMAC-SHA256 under the bytes a `whsec_<base64>` secret decodes to; the
`webhook-signature` header holds space-separated `v1,<base64 signature>`
entries. Nothing here ever puts a secret or a signature into an error message
or a log record.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import re
import secrets as _random
import time
from collections.abc import AsyncIterable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from .._core.errors import WebhookVerificationError
from .._core.hmac_sha256 import hmac_sha256
from ._body import WebhookPayloadTooLargeError, aread_capped, check_declared_length, read_capped
from ._events import WebhookEvent, parse_event

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TOLERANCE",
    "ENV_SECRET",
    "Receiver",
    "load_keys",
    "sign",
    "verify",
    "verify_with_keys",
]

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
DEFAULT_TOLERANCE = 300
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
ENV_SECRET = "BAXCLOUD_WEBHOOK_SECRET"  # noqa: S105 (a variable name, not a secret)

MAX_ID_LENGTH = 256
MAX_TIMESTAMP_DIGITS = 12
MAX_SIGNATURE_HEADER_LENGTH = 8192

_ID = "webhook-id"
_TIMESTAMP = "webhook-timestamp"
_SIGNATURE = "webhook-signature"
_NAMES = frozenset((_ID, _TIMESTAMP, _SIGNATURE))

_SEPARATORS = re.compile(r"[\s,]+")
_BAD_SECRET = (
    "webhook secret must be 'whsec_' followed by standard base64 of "
    f"{MIN_SECRET_BYTES}-{MAX_SECRET_BYTES} bytes"
)

Secret = str | Sequence[str]

_compare = hmac.compare_digest
_now = time.time
_b64 = binascii.b2a_base64
_json = json.JSONDecoder().decode
# The decoder's scanner (set in its __init__, unknown to the stubs), without its two
# whitespace checks (`verify_with_keys`).
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


# -- secrets ----------------------------------------------------------------


def _decode_one(text: str) -> bytes:
    if not text.startswith(SECRET_PREFIX):
        raise WebhookVerificationError(_BAD_SECRET + " (it does not start with 'whsec_')")
    try:
        key = base64.b64decode(text[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError(_BAD_SECRET + " (it is not valid base64)") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise WebhookVerificationError(
            _BAD_SECRET + f" (it decodes to {len(key)} bytes)",
        )
    return key


_CACHED_SECRETS = 64
_decoded: dict[str, tuple[bytes, ...]] = {}  # a dict: cheaper to look up than an lru_cache


def _decode(text: str) -> tuple[bytes, ...]:
    keys = _decoded.get(text)
    if keys is not None:
        return keys
    # One string may list several secrets separated by whitespace or commas
    # (neither occurs in base64), so an environment variable can carry a rotation.
    parts = [p for p in _SEPARATORS.split(text) if p]
    if not parts:
        raise WebhookVerificationError("webhook secret is empty")
    keys = tuple(_decode_one(p) for p in parts)
    if len(_decoded) >= _CACHED_SECRETS:
        _decoded.clear()
    _decoded[text] = keys
    return keys


def load_keys(secret: Secret | Iterable[str] | None) -> tuple[bytes, ...]:
    """The HMAC keys of one secret or several (rotation); cached per secret string.

    Raises:
        WebhookVerificationError: a secret is missing or malformed (the message
            never contains it).
    """
    if isinstance(secret, str):
        return _decode(secret)
    if secret is None:
        raise WebhookVerificationError(
            f"no webhook secret: pass secret= or set the {ENV_SECRET} environment variable"
        )
    if isinstance(secret, bytes | bytearray | memoryview) or not isinstance(secret, Iterable):
        raise WebhookVerificationError(
            f"webhook secret must be a 'whsec_...' string or a list of them, "
            f"not {type(secret).__name__}"
        )
    keys: list[bytes] = []
    for item in secret:
        if not isinstance(item, str):
            raise WebhookVerificationError(
                f"webhook secrets must be strings, not {type(item).__name__}"
            )
        keys += _decode(item)
    if not keys:
        raise WebhookVerificationError("no webhook secret given (the list is empty)")
    return tuple(keys)


def env_secret() -> str | None:
    value = os.environ.get(ENV_SECRET)
    return value if value and value.strip() else None


# -- verification -----------------------------------------------------------


def _text(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    raise WebhookVerificationError(f"{name} header must be a string")


def _headers(headers: Any, msg_id: Any, timestamp: Any, signature: Any) -> tuple[str, str, str]:
    """(id, timestamp, signature) as text, given what `headers.get` found for each name."""
    if msg_id is None or timestamp is None or signature is None:
        # Not case-insensitive (a plain dict), or something is really missing.
        found: dict[str, Any] = {}
        try:
            for key, value in headers.items():
                if isinstance(key, bytes):
                    key = key.decode("latin-1")
                if isinstance(key, str):
                    key = key.lower()
                    if key in _NAMES and key not in found:
                        found[key] = value
        except (AttributeError, TypeError, ValueError):
            raise WebhookVerificationError(
                "headers must be a mapping of header names to values"
            ) from None
        msg_id = found.get(_ID) if msg_id is None else msg_id
        timestamp = found.get(_TIMESTAMP) if timestamp is None else timestamp
        signature = found.get(_SIGNATURE) if signature is None else signature
    missing = [
        name
        for name, value in ((_ID, msg_id), (_TIMESTAMP, timestamp), (_SIGNATURE, signature))
        if value is None or value == "" or value == b""
    ]
    if missing:
        raise WebhookVerificationError(f"missing header(s): {', '.join(missing)}")
    return _text(_ID, msg_id), _text(_TIMESTAMP, timestamp), _text(_SIGNATURE, signature)


def _body(payload: Any, max_body_bytes: int) -> bytes:
    if isinstance(payload, bytes):
        body = payload
    elif isinstance(payload, str):
        if len(payload) > max_body_bytes:
            raise WebhookPayloadTooLargeError(max_body_bytes)
        try:
            body = payload.encode("utf-8")
        except UnicodeEncodeError:
            raise WebhookVerificationError("payload text cannot be encoded as UTF-8") from None
    elif isinstance(payload, bytearray | memoryview):
        body = bytes(payload)
    else:
        raise WebhookVerificationError(
            f"payload must be the raw body as bytes or str, not {type(payload).__name__}"
        )
    if len(body) > max_body_bytes:
        raise WebhookPayloadTooLargeError(max_body_bytes)
    return body


def _check_options(tolerance: Any, max_body_bytes: Any) -> None:
    if type(tolerance) is not int or tolerance < 0:
        raise ValueError("tolerance must be a non-negative int (seconds)")
    if type(max_body_bytes) is not int or max_body_bytes < 1:
        raise ValueError("max_body_bytes must be a positive int")


def verify_with_keys(
    payload: Any,
    headers: Any,
    keys: tuple[bytes, ...],
    tolerance: int,
    max_body_bytes: int,
) -> WebhookEvent:
    """`verify` with the secret already decoded by `load_keys`."""
    try:
        get = headers.get
        msg_id = get(_ID)
        timestamp = get(_TIMESTAMP)
        signature = get(_SIGNATURE)
    except (AttributeError, TypeError, KeyError, ValueError):
        msg_id = timestamp = signature = None
    if not (
        type(msg_id) is str
        and type(timestamp) is str
        and type(signature) is str
        and msg_id
        and timestamp
        and signature
    ):
        # Not case-insensitive (a plain dict), bytes, or something is really missing.
        msg_id, timestamp, signature = _headers(headers, msg_id, timestamp, signature)
    if type(payload) is bytes and len(payload) <= max_body_bytes:
        body = payload
    else:
        body = _body(payload, max_body_bytes)
    # The usual delivery passes every check in one condition; `_reject` says which failed.
    if (
        len(msg_id) > MAX_ID_LENGTH
        or len(timestamp) > MAX_TIMESTAMP_DIGITS
        or not timestamp.isdigit()
        or not timestamp.isascii()
        or len(signature) > MAX_SIGNATURE_HEADER_LENGTH
        or not signature.isascii()
        or not msg_id.isascii()
    ):
        _reject(msg_id, timestamp, signature, tolerance)
    # In whole seconds (int(now) - timestamp) that is: more than `tolerance` either way.
    age = _now() - int(timestamp)
    if age >= tolerance + 1 or age < -tolerance:
        _reject(msg_id, timestamp, signature, tolerance)
    prefix = f"{msg_id}.{timestamp}.".encode()
    entries = signature.split()  # ASCII, checked above: compare_digest takes it as text
    signed = False
    for key in keys:
        # A whole `v1,<base64>` entry: any other scheme (v1a, ...) differs, so it is not ours.
        expected = "v1," + _b64(hmac_sha256(key, prefix, body), newline=False).decode()
        for entry in entries:
            if _compare(entry, expected):
                signed = True
    if not signed:
        if any(entry[:3] == "v1," for entry in entries):
            raise WebhookVerificationError("no signature matches the payload")
        raise WebhookVerificationError("webhook-signature header has no v1 signature")
    try:
        text = body.decode()
        try:
            document, end = _scan(text, 0)
        except (StopIteration, ValueError, RecursionError):
            end = -1
        if end != len(text):
            # Whitespace around the document, or no valid document: the full decoder decides.
            document = _json(text)
    except UnicodeDecodeError:
        raise WebhookVerificationError("payload is not UTF-8") from None
    except (ValueError, RecursionError):
        raise WebhookVerificationError("payload is not valid JSON") from None
    event = parse_event(document)
    if event.id != msg_id:
        raise WebhookVerificationError("webhook-id header does not match the payload's id")
    return event


def _reject(msg_id: str, timestamp: str, signature: str, tolerance: int) -> None:
    """Raise the error for the first header check that fails, if one does."""
    if len(msg_id) > MAX_ID_LENGTH:
        raise WebhookVerificationError("webhook-id header is too long")
    if not (len(timestamp) <= MAX_TIMESTAMP_DIGITS and timestamp.isascii() and timestamp.isdigit()):
        raise WebhookVerificationError("webhook-timestamp header must be integer Unix seconds")
    age = int(_now()) - int(timestamp)
    if age > tolerance:
        raise WebhookVerificationError(
            f"webhook-timestamp is too old ({age} s, tolerance {tolerance} s)"
        )
    if -age > tolerance:
        raise WebhookVerificationError(
            f"webhook-timestamp is in the future ({-age} s, tolerance {tolerance} s)"
        )
    if len(signature) > MAX_SIGNATURE_HEADER_LENGTH or not signature.isascii():
        raise WebhookVerificationError("webhook-signature header is malformed")
    try:
        msg_id.encode()
    except UnicodeEncodeError:
        raise WebhookVerificationError("webhook-id header is not valid text") from None


def verify(
    payload: bytes | str,
    headers: Any,
    secret: Secret,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> WebhookEvent:
    """Verify a webhook delivery and return its typed event.

    Args:
        payload: the raw request body, exactly as received (`bytes`, or `str`
            which is encoded as UTF-8). Read it before anything parses it.
        headers: the request headers: any mapping or object with `.get` /
            `.items` (Starlette, Django, Flask, aiohttp headers, a dict...);
            names in any case.
        secret: the endpoint's `whsec_...` secret, or a list of them while one
            is being rotated (any may match). A string may also list several
            secrets separated by whitespace or commas.
        tolerance: how many seconds `webhook-timestamp` may be in the past or the
            future (default 300).
        max_body_bytes: bodies larger than this fail with
            `WebhookPayloadTooLargeError` (default 1 MiB).

    Returns:
        One of the event classes (`ParticipantJoinedEvent`, ...) or
        `UnknownWebhookEvent` for an event name this version does not know.

    Raises:
        WebhookVerificationError: any problem with the secret, the headers
            (missing, malformed, stale or future timestamp, no matching `v1`
            signature), the body (too large, not JSON, not an event) or a
            `webhook-id` that differs from the body's `id`. Nothing else is raised
            for bad input, and no message contains the secret or a signature.
        ValueError: `tolerance` or `max_body_bytes` is not a valid number.
    """
    if tolerance is not DEFAULT_TOLERANCE or max_body_bytes is not DEFAULT_MAX_BODY_BYTES:
        _check_options(tolerance, max_body_bytes)
    keys = _decoded.get(secret) if type(secret) is str else None
    if keys is None:
        keys = load_keys(secret)
    return verify_with_keys(payload, headers, keys, tolerance, max_body_bytes)


# -- signing ----------------------------------------------------------------


def _timestamp(value: int | float | datetime | None) -> int:
    if value is None:
        return int(time.time())
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("timestamp must be Unix seconds or a datetime")
    return int(value)


def _default_id(body: bytes) -> str:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        document = None
    if isinstance(document, dict):
        value = document.get("id")
        if isinstance(value, str) and value:
            return value
    return "msg_" + _random.token_hex(12)


def sign(
    payload: bytes | str,
    secret: Secret,
    *,
    msg_id: str | None = None,
    timestamp: int | float | datetime | None = None,
) -> dict[str, str]:
    """Standard Webhooks headers that make `payload` verify under `secret`.

    For receivers' own tests: send the exact same `payload` bytes with these
    headers. With a list of secrets there is one `v1,` entry per secret.

    Args:
        payload: the body (`str` is encoded as UTF-8).
        secret: a `whsec_...` secret or a list of them.
        msg_id: the `webhook-id`; default the body's `id` if it is a JSON object
            with one, else a random `msg_...`.
        timestamp: Unix seconds or a datetime; default now.

    Returns:
        `webhook-id`, `webhook-timestamp`, `webhook-signature` and
        `content-type` headers.
    """
    keys = load_keys(secret)
    body = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    ident = _default_id(body) if msg_id is None else msg_id
    ts = str(_timestamp(timestamp))
    signed = b"%s.%s.%s" % (ident.encode("utf-8"), ts.encode("ascii"), body)
    signatures = " ".join(
        "v1," + base64.b64encode(hmac.digest(key, signed, "sha256")).decode("ascii") for key in keys
    )
    return {
        "webhook-id": ident,
        "webhook-timestamp": ts,
        "webhook-signature": signatures,
        "content-type": "application/json",
    }


# -- framework helpers' shared part ------------------------------------------


class Receiver:
    """What every framework helper does, minus the framework.

    The secret is the argument if given (checked now, so a bad one fails at
    start-up), else BAXCLOUD_WEBHOOK_SECRET read at each request.
    """

    __slots__ = ("_secret", "max_body_bytes", "tolerance")

    def __init__(
        self,
        secret: Secret | None,
        tolerance: int,
        max_body_bytes: int,
    ) -> None:
        if callable(secret):
            raise TypeError(
                "the webhook decorator takes options, not the view: write @decorator() "
                "with parentheses"
            )
        _check_options(tolerance, max_body_bytes)
        if secret is not None:
            load_keys(secret)
        self._secret = secret
        self.tolerance = tolerance
        self.max_body_bytes = max_body_bytes

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(secret={'<set>' if self._secret else '<env>'}, "
            f"tolerance={self.tolerance})"
        )

    def keys(self) -> tuple[bytes, ...]:
        """The HMAC keys; raises WebhookVerificationError if none is configured."""
        return load_keys(self._secret if self._secret is not None else env_secret())

    def _limit(self, framework_limit: int | None) -> int:
        if framework_limit is None:
            return self.max_body_bytes
        return min(self.max_body_bytes, framework_limit)

    def read_body(
        self, content_length: Any, chunks: Iterable[bytes], framework_limit: int | None = None
    ) -> bytes:
        """The body from `chunks`, refused (413) once it passes the cap.

        The cap is `max_body_bytes`, or the framework's own body limit when that
        is smaller. A declared Content-Length above it is refused before reading.
        """
        limit = self._limit(framework_limit)
        check_declared_length(content_length, limit)
        return read_capped(chunks, limit)

    async def aread_body(
        self,
        content_length: Any,
        chunks: AsyncIterable[bytes],
        framework_limit: int | None = None,
    ) -> bytes:
        """`read_body` for an async source of chunks."""
        limit = self._limit(framework_limit)
        check_declared_length(content_length, limit)
        return await aread_capped(chunks, limit)

    def verify(self, body: bytes, headers: Any, keys: tuple[bytes, ...]) -> WebhookEvent:
        return verify_with_keys(body, headers, keys, self.tolerance, self.max_body_bytes)


ERROR_CODE = "webhook_verification_failed"
TOO_LARGE_CODE = "webhook_payload_too_large"
CONFIG_ERROR_CODE = "webhook_receiver_misconfigured"


def error_status(exc: WebhookVerificationError) -> int:
    """413 for a body over the cap, else 400."""
    return 413 if isinstance(exc, WebhookPayloadTooLargeError) else 400


def error_body(exc: WebhookVerificationError) -> dict[str, str]:
    """The small JSON body of a 400 or 413 answer (messages never hold secrets)."""
    code = TOO_LARGE_CODE if isinstance(exc, WebhookPayloadTooLargeError) else ERROR_CODE
    return {"error": code, "message": str(exc)}


CONFIG_ERROR_BODY = {
    "error": CONFIG_ERROR_CODE,
    "message": "the webhook receiver has no valid secret configured",
}
